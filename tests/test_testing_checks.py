"""The metric and method conformance checks: a correct component passes every check, and each
check fails on a component with exactly the defect it is meant to catch."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evalkit import DataError, Method, Metric, MetricResult, TunedMetric, as_1d_float, check_finite, check_pairs
from evalkit.testing import ConformanceError, check_method, check_metric, check_names, checks_for


def run_check(component: Any, name: str) -> None:
    (chk,) = [c for c in checks_for(component) if c.name == name]
    chk.func(component)


def assert_fails(component: Any, name: str, match: str = "") -> None:
    with pytest.raises(AssertionError, match=match or None):
        run_check(component, name)


# -- metrics -----------------------------------------------------------------------------------------
class MeanAbsoluteError(Metric):
    """Mean absolute error between scores and gold (sklearn.metrics.mean_absolute_error), >= 0."""

    name = "mean_absolute_error"
    higher_is_better = False
    task_types = ("sts", "pair_classification")
    optimum = 0.0

    def __init__(self, *, power: float = 1.0) -> None:
        self.power = power

    def _arrays(self, predictions: Any, references: Any) -> tuple[np.ndarray, np.ndarray]:
        pred = as_1d_float(predictions, what="predictions")
        ref = as_1d_float(references, what="references")
        if pred.shape != ref.shape or pred.size == 0:
            raise DataError(f"need equal, non-zero lengths, got {pred.size} and {ref.size}")
        check_finite(pred, what="predictions")
        return pred, ref

    def per_example(self, *, predictions: Any, references: Any) -> np.ndarray:
        pred, ref = self._arrays(predictions, references)
        return np.abs(pred - ref) ** self.power

    def compute(self, *, predictions: Any, references: Any) -> float:
        return float(self.per_example(predictions=predictions, references=references).mean())


class BadName(MeanAbsoluteError):
    """Uses a name that is no slug."""

    name = "Mean Absolute Error"


class WrongDirection(MeanAbsoluteError):
    """Claims higher is better for an error (so its name breaks the convention too)."""

    higher_is_better = True


class Kwargs(MeanAbsoluteError):
    """Swallows unknown arguments."""

    def compute(self, *, predictions: Any, references: Any, **kwargs: Any) -> float:
        return super().compute(predictions=predictions, references=references)


class Positional(MeanAbsoluteError):
    """Takes predictions and references positionally."""

    def compute(self, predictions: Any, references: Any) -> float:  # type: ignore[override]
        return super().compute(predictions=predictions, references=references)


class Unstored(MeanAbsoluteError):
    """Keeps its parameter under another name."""

    def __init__(self, *, power: float = 1.0) -> None:
        self._power = power


class Unseeded(MeanAbsoluteError):
    """Adds noise from an unseeded generator."""

    optimum = None

    def per_example(self, *, predictions: Any, references: Any) -> None:
        return None

    def compute(self, *, predictions: Any, references: Any) -> float:
        err = MeanAbsoluteError.per_example(self, predictions=predictions, references=references)
        return float(err.mean()) + np.random.default_rng().random()


class PositionWeighted(MeanAbsoluteError):
    """Weights later examples more."""

    def per_example(self, *, predictions: Any, references: Any) -> None:
        return None

    def compute(self, *, predictions: Any, references: Any) -> float:
        err = MeanAbsoluteError.per_example(self, predictions=predictions, references=references)
        return float(np.average(err, weights=np.arange(1, err.size + 1)))


class DeclaredOrderDependent(PositionWeighted):
    """As PositionWeighted, but says so."""

    order_invariant = False


class WrongOptimum(MeanAbsoluteError):
    """Declares an optimum perfect predictions do not reach."""

    optimum = 1.0


class Unguarded(MeanAbsoluteError):
    """No input validation: numpy's nan for empty input, broadcasting errors for mismatches."""

    def per_example(self, *, predictions: Any, references: Any) -> np.ndarray:
        return np.abs(np.asarray(predictions, dtype=float) - np.asarray(references, dtype=float))

    def compute(self, *, predictions: Any, references: Any) -> float:
        return float(np.mean(self.per_example(predictions=predictions, references=references)))


class Sorting(MeanAbsoluteError):
    """Sorts its input in place."""

    def compute(self, *, predictions: Any, references: Any) -> float:
        if isinstance(predictions, np.ndarray):
            predictions.sort()
        return 0.0


class MeanMismatch(MeanAbsoluteError):
    """Per-example scores whose mean is not the corpus value."""

    def compute(self, *, predictions: Any, references: Any) -> float:
        return 2 * super().compute(predictions=predictions, references=references)


class ListExtras(MeanAbsoluteError):
    """Returns extras that cannot be a result column."""

    def compute(self, *, predictions: Any, references: Any) -> Any:
        from evalkit import MetricResult

        return MetricResult(super().compute(predictions=predictions, references=references), {"errors": [1, 2]})


class Unpicklable(MeanAbsoluteError):
    """Holds a lock."""

    def __init__(self, *, power: float = 1.0) -> None:
        self.power = power
        self.lock = threading.Lock()


class ThresholdAccuracy(TunedMetric):
    """Accuracy of 'positive iff score >= threshold', the threshold fitted on labelled rows, 0-1."""

    name = "threshold_accuracy"
    task_types = ("pair_classification",)
    optimum = 1.0

    def _arrays(self, predictions: Any, references: Any) -> tuple[np.ndarray, np.ndarray]:
        pred, ref = as_1d_float(predictions), as_1d_float(references)
        if pred.shape != ref.shape or pred.size < 2:
            raise DataError(f"need equal lengths >= 2, got {pred.size} and {ref.size}")
        check_finite(pred, what="predictions")
        return pred, ref

    def fit(self, *, predictions: Any, references: Any) -> dict[str, Any]:
        pred, ref = self._arrays(predictions, references)
        candidates = np.unique(np.concatenate([pred, [np.inf]]))  # brute force over every cut
        accuracy = [np.mean((pred >= t) == (ref == 1)) for t in candidates]
        return {"threshold": float(candidates[int(np.argmax(accuracy))])}

    def apply(self, *, predictions: Any, references: Any, fitted: Any) -> MetricResult:
        pred, ref = self._arrays(predictions, references)
        return MetricResult(float(np.mean((pred >= fitted["threshold"]) == (ref == 1))), dict(fitted))

    def cross_fit(self, *, predictions: Any, references: Any) -> MetricResult:
        pred, ref = self._arrays(predictions, references)
        half = np.argsort(np.lexsort((ref, pred))) % 2 == 0  # folds by rank: independent of row order
        right = 0.0
        for train in (half, ~half):
            t = self.fit(predictions=pred[train], references=ref[train])["threshold"]
            right += float(np.sum((pred[~train] >= t) == (ref[~train] == 1)))
        return MetricResult(right / pred.size)


class ArrayThreshold(ThresholdAccuracy):
    """Returns its threshold as an array."""

    def fit(self, *, predictions: Any, references: Any) -> dict[str, Any]:
        return {"threshold": np.array([super().fit(predictions=predictions, references=references)["threshold"]])}


METRIC_DEFECTS = [
    (ArrayThreshold(), "tuning", "not finite JSON"),
    (BadName(), "metadata", "slug"),
    (WrongDirection(), "metadata", "lower-is-better"),
    (Kwargs(), "signatures", "kwargs"),
    (Positional(), "compute_signature", "keyword-only"),
    (Unstored(power=2.0), "get_params", "does not store"),
    (Unseeded(), "deterministic", "fresh instance"),
    (PositionWeighted(), "order_invariant", "permuted"),
    (WrongOptimum(), "perfect_predictions", "optimum"),
    (WrongDirection(), "perfect_predictions", "better than perfect"),
    (Unguarded(), "empty_input", "no error was raised"),
    (Unguarded(), "mismatched_input", "ValueError"),
    (Unguarded(), "invalid_values", "no error was raised"),
    (Sorting(), "no_input_mutation", "modified"),
    (MeanMismatch(), "per_example", "mean of per_example"),
    (ListExtras(), "result", "JSON scalars"),
    (Unpicklable(), "pickle", "does not pickle"),
]


def test_a_correct_metric_passes_every_check() -> None:
    outcomes = check_metric(MeanAbsoluteError(power=2.0))
    assert [o.name for o in outcomes] == check_names("metric")
    assert {o.name: o.status for o in outcomes if o.status != "passed"} == {"tuning": "skipped"}
    tuned = check_metric(ThresholdAccuracy())
    assert {o.status for o in tuned} == {"passed"}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy on the unguarded metric's empty input
@pytest.mark.parametrize(("metric", "check", "match"), METRIC_DEFECTS,
                         ids=[f"{type(m).__name__}-{c}" for m, c, _ in METRIC_DEFECTS])
def test_each_metric_check_catches_its_defect(metric: Metric, check: str, match: str) -> None:
    run_check(ThresholdAccuracy() if check == "tuning" else MeanAbsoluteError(), check)  # the correct one passes
    assert_fails(metric, check, match)


def test_every_metric_check_has_a_defect_it_catches() -> None:
    caught = {c for _, c, _ in METRIC_DEFECTS}
    assert caught == set(check_names("metric"))


def test_declared_order_dependence_skips_the_order_check() -> None:
    outcomes = {o.name: o for o in check_metric(DeclaredOrderDependent())}
    assert outcomes["order_invariant"].status == "skipped"
    assert "order_invariant = False" in outcomes["order_invariant"].message


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy on the unguarded metric's empty input
def test_check_metric_lists_every_failed_check() -> None:
    with pytest.raises(ConformanceError) as info:
        check_metric(Unguarded())
    failed = {o.name for o in info.value.outcomes if o.status == "failed"}
    assert failed == {"empty_input", "mismatched_input", "invalid_values"}
    assert "metric:mean_absolute_error fails 3 conformance check(s)" in str(info.value)


# -- methods -----------------------------------------------------------------------------------------
class Jaccard(Method):
    """Jaccard similarity of the two sentences' sets of words, 0..1."""

    name = "jaccard"

    def __init__(self, *, lowercase: bool = True) -> None:
        self.lowercase = lowercase

    def _words(self, text: str) -> set[str]:
        return set((text.lower() if self.lowercase else text).split())

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        check_pairs(pairs)
        out = [len(a & b) / max(1, len(a | b)) for a, b in
               ((self._words(x), self._words(y)) for x, y in zip(pairs["sentence1"], pairs["sentence2"], strict=True))]
        return np.asarray(out, dtype=np.float64)


class ReturnsList(Jaccard):
    """Returns a list."""

    def predict(self, pairs: pd.DataFrame) -> Any:
        return super().predict(pairs).tolist()


class Distance(Jaccard):
    """Returns a distance: identical sentences get the lowest score."""

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        return 1.0 - super().predict(pairs)


class Noisy(Jaccard):
    """Unseeded jitter."""

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        return super().predict(pairs) + np.random.default_rng().normal(0, 1e-3, len(pairs))


class RowBiased(Jaccard):
    """Adds the row position."""

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        return super().predict(pairs) + 0.01 * np.arange(len(pairs))


class IndexLookup(Jaccard):
    """Reads rows by index label, assuming a 0..n-1 index."""

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        check_pairs(pairs)
        words = [(self._words(pairs["sentence1"][i]), self._words(pairs["sentence2"][i])) for i in range(len(pairs))]
        return np.asarray([len(a & b) / max(1, len(a | b)) for a, b in words])


class Trusting(Jaccard):
    """No validation: a KeyError for a missing column."""

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        return np.asarray([float(a == b) for a, b in zip(pairs["sentence1"], pairs["sentence2"], strict=True)])


class Mutating(Jaccard):
    """Lower-cases the caller's frame in place."""

    def fit(self, pairs: pd.DataFrame) -> Mutating:
        pairs["sentence1"] = pairs["sentence1"].str.lower()
        return self


class ParamLearner(Jaccard):
    """Overwrites a parameter in fit."""

    def fit(self, pairs: pd.DataFrame) -> ParamLearner:
        self.lowercase = not self.lowercase
        return self


class FitReturnsNone(Jaccard):
    """Forgets to return self."""

    def fit(self, pairs: pd.DataFrame) -> Any:
        return None


class EmptyCrash(Jaccard):
    """Divides by the number of pairs."""

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        return super().predict(pairs) / (len(pairs) // len(pairs))


class HoldsLock(Jaccard):
    """Keeps a lock after fitting."""

    def fit(self, pairs: pd.DataFrame) -> HoldsLock:
        self.lock_ = threading.Lock()
        return self


class Memoising(Jaccard):
    """Keeps its last scores on self in predict."""

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        self.last_scores_ = super().predict(pairs)
        return self.last_scores_


class BadNameMethod(Jaccard):
    """Uses a name that is no slug."""

    name = "Jac card"


METHOD_DEFECTS = [
    (BadNameMethod(), "metadata", "slug"),
    (ReturnsList(), "predictions", "numpy array"),
    (FitReturnsNone(), "predictions", "return self"),
    (ParamLearner(), "params_unchanged_by_fit", "changed"),
    (Distance(), "identical_pair_scores_highest", "identical sentences"),
    (Noisy(), "deterministic", "differ"),
    (RowBiased(), "order_invariant", "permuting"),
    (IndexLookup(), "order_invariant", "permuting"),
    (Mutating(), "no_input_mutation", "modified"),
    (EmptyCrash(), "empty_input", "ZeroDivisionError"),
    (Trusting(), "bad_input", "KeyError"),
    (HoldsLock(), "pickle", "does not pickle"),
    (Memoising(), "predict_leaves_state_unchanged", r"changed the method's attribute\(s\) 'last_scores_'"),
]


def test_a_correct_method_passes_every_check() -> None:
    outcomes = check_method(Jaccard(lowercase=False))
    assert [o.name for o in outcomes] == check_names("method")
    assert {o.status for o in outcomes} == {"passed"}


@pytest.mark.parametrize(("method", "check", "match"), METHOD_DEFECTS,
                         ids=[f"{type(m).__name__}-{c}" for m, c, _ in METHOD_DEFECTS])
def test_each_method_check_catches_its_defect(method: Method, check: str, match: str) -> None:
    run_check(Jaccard(), check)
    assert_fails(method, check, match)


def test_every_method_check_has_a_defect_it_catches() -> None:
    caught = {c for _, c, _ in METHOD_DEFECTS} | {"signatures", "get_params"}  # shared: see metrics
    assert caught == set(check_names("method"))


def test_a_method_may_return_empty_scores_for_no_pairs() -> None:
    run_check(Jaccard(), "empty_input")  # Jaccard returns shape (0,) rather than raising


class _Marker:
    """Not a component."""


def test_check_functions_refuse_classes_and_foreign_objects() -> None:
    with pytest.raises(TypeError, match=r"Jaccard\(\)"):
        check_method(Jaccard)
    with pytest.raises(TypeError, match="not an evalkit component"):
        check_metric(_Marker())
    with pytest.raises(TypeError, match="needs a metric"):
        check_metric(Jaccard())


def test_expected_failures_tolerate_listed_checks_and_flag_fixed_ones() -> None:
    outcomes = {o.name: o.status for o in check_metric(Kwargs(), expected_failures={"signatures": "legacy API"})}
    assert outcomes["signatures"] == "xfailed"
    with pytest.raises(ConformanceError, match="passes, but expected_failures says: legacy API"):
        check_metric(MeanAbsoluteError(), expected_failures={"check_signatures": "legacy API"})
    with pytest.raises(ValueError, match="not a metric check"):
        check_metric(MeanAbsoluteError(), expected_failures={"signaturez": "typo"})
    with pytest.raises(ValueError, match="needs a reason"):
        check_metric(MeanAbsoluteError(), expected_failures={"signatures": " "})

