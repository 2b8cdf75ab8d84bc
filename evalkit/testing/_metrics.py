"""Conformance checks of metrics (:class:`evalkit.Metric`).

Metrics get synthetic predictions for each task type they declare that
:func:`evalkit.testing.samples.sample_predictions` knows (``sts``, ``pair_classification``,
``generation``): float scores against float gold, float scores against 0/1 labels, texts against
texts.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from evalkit.interfaces import Metric, MetricResult
from evalkit.testing._base import (
    CheckSkipped,
    check,
    common_metadata,
    expect_evalkit_error,
    roundtrip,
    values_equal,
)
from evalkit.testing.samples import (
    SAMPLE_TASK_TYPES,
    perfect_predictions,
    sample_predictions,
    worse_predictions,
)

_RESERVED = {"method", "dataset", "split", "metric", "value", "n"}


def _task_types(metric: Metric) -> list[str]:
    types = [t for t in metric.task_types if t in SAMPLE_TASK_TYPES]
    if not types:
        raise CheckSkipped(
            f"task types {list(metric.task_types)} have no sample data in evalkit.testing "
            f"(known: {', '.join(SAMPLE_TASK_TYPES)}); test this metric's values in your own tests"
        )
    return types


def _value(out: Any, where: str) -> float:
    """The float value of ``compute``'s result, asserting the result's type."""
    value = out.value if isinstance(out, MetricResult) else out
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # a numpy scalar
        value = value.item()
    assert isinstance(value, (int, float)) and not isinstance(value, bool), (
        f"{where}: compute() returned {out!r}; return a float or an evalkit.MetricResult"
    )
    return float(value)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@check("metric")
def check_metadata(metric: Metric) -> None:
    """``name``, docstring, ``higher_is_better``, ``task_types``, ``optimum`` and naming rules."""
    common_metadata(metric)
    cls = type(metric)
    assert isinstance(metric.higher_is_better, bool), f"{cls.__name__}.higher_is_better must be True or False"
    assert isinstance(metric.task_types, tuple) and metric.task_types, (
        f"{cls.__name__}.task_types must be a non-empty tuple such as ('sts', 'pair_classification')"
    )
    assert all(isinstance(t, str) and t for t in metric.task_types), "task_types must be strings"
    for attr in ("scale", "title"):
        assert isinstance(getattr(metric, attr), str), f"{cls.__name__}.{attr} must be a string"
    assert isinstance(metric.percent, bool), f"{cls.__name__}.percent must be True or False"
    assert isinstance(metric.order_invariant, bool), f"{cls.__name__}.order_invariant must be a bool"
    opt = metric.optimum
    assert opt is None or (isinstance(opt, (int, float)) and math.isfinite(opt)), (
        f"{cls.__name__}.optimum must be None or a finite number, got {opt!r}"
    )
    if metric.name.endswith(("_distance", "_error", "_loss")):
        assert not metric.higher_is_better, (
            f"{metric.name!r}: by scikit-learn's convention *_distance/*_error/*_loss names are lower-is-better"
        )
    if metric.name.endswith("_score"):
        assert metric.higher_is_better, f"{metric.name!r}: *_score names are higher-is-better"


@check("metric")
def check_compute_signature(metric: Metric) -> None:
    """``compute`` and ``per_example`` take keyword-only ``predictions`` and ``references``."""
    import inspect

    for meth in ("compute", "per_example"):
        params = inspect.signature(getattr(type(metric), meth)).parameters
        for name in ("predictions", "references"):
            assert name in params and params[name].kind == params[name].KEYWORD_ONLY, (
                f"{type(metric).__name__}.{meth} must take keyword-only '{name}' "
                f"(def {meth}(self, *, predictions, references)); it has {list(params)}"
            )


@check("metric")
def check_result(metric: Metric) -> None:
    """``compute`` gives a finite float (or MetricResult) with JSON-serialisable extras."""
    for task in _task_types(metric):
        pred, ref = sample_predictions(task)
        out = metric.compute(predictions=pred, references=ref)
        value = _value(out, task)
        assert math.isfinite(value), f"{task}: compute() returned {value}, not a finite number"
        if isinstance(out, MetricResult):
            assert isinstance(out.extras, dict), "MetricResult.extras must be a dict"
            clash = sorted(_RESERVED & set(out.extras))
            assert not clash, f"MetricResult.extras uses the reserved result column(s) {clash}"
            for k, v in out.extras.items():
                v = v.item() if hasattr(v, "item") else v
                assert isinstance(k, str), f"extras key {k!r} must be a string"
                assert v is None or isinstance(v, (str, bool, int, float)), (
                    f"extras[{k!r}] = {v!r}: extras become result columns, so use JSON scalars"
                )
                try:
                    json.dumps(v, allow_nan=False)
                except ValueError:
                    raise AssertionError(f"extras[{k!r}] = {v!r} is not finite") from None


@check("metric")
def check_per_example(metric: Metric) -> None:
    """``per_example`` is ``None`` or one finite float per example whose mean is ``compute``."""
    import numpy as np

    for task in _task_types(metric):
        pred, ref = sample_predictions(task)
        per = metric.per_example(predictions=pred, references=ref)
        if per is None:
            continue
        arr = np.asarray(per)
        assert arr.shape == (len(ref),), f"{task}: per_example() has shape {arr.shape}, expected ({len(ref)},)"
        assert arr.dtype.kind == "f" and np.isfinite(arr).all(), f"{task}: per_example() must be finite floats"
        value = _value(metric.compute(predictions=pred, references=ref), task)
        assert math.isclose(float(arr.mean()), value, rel_tol=1e-9, abs_tol=1e-12), (
            f"{task}: the mean of per_example() is {arr.mean()!r} but compute() is {value!r}"
        )


@check("metric")
def check_deterministic(metric: Metric) -> None:
    """The same inputs give the same value, also from a fresh instance."""
    for task in _task_types(metric):
        pred, ref = sample_predictions(task)
        first = _value(metric.compute(predictions=pred, references=ref), task)
        second = _value(metric.compute(predictions=pred, references=ref), task)
        other = type(metric)(**metric.get_params())
        third = _value(other.compute(predictions=pred, references=ref), task)
        assert _close(first, second) and _close(first, third), (
            f"{task}: compute() gave {first!r}, then {second!r}, and {third!r} from a fresh instance"
        )


@check("metric")
def check_order_invariant(metric: Metric) -> None:
    """Permuting the (prediction, reference) pairs together leaves the value unchanged."""
    import numpy as np

    if not metric.order_invariant:
        raise CheckSkipped("the metric declares order_invariant = False")
    for task in _task_types(metric):
        pred, ref = sample_predictions(task)
        perm = np.random.default_rng(1).permutation(len(ref))
        if task == "generation":
            p_pred, p_ref = [pred[i] for i in perm], [ref[i] for i in perm]
        else:
            p_pred, p_ref = pred[perm], ref[perm]
        a = _value(metric.compute(predictions=pred, references=ref), task)
        b = _value(metric.compute(predictions=p_pred, references=p_ref), task)
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (
            f"{task}: value {a!r} becomes {b!r} when the examples are permuted; if the metric "
            "depends on example order, set order_invariant = False and say why in its docstring"
        )


@check("metric")
def check_perfect_predictions(metric: Metric) -> None:
    """Perfect predictions score at least as well as imperfect ones and reach ``optimum``."""
    for task in _task_types(metric):
        pred, ref = sample_predictions(task)
        best = _value(metric.compute(predictions=perfect_predictions(task, ref), references=ref), task)
        assert math.isfinite(best), f"{task}: perfect predictions give {best}"
        if metric.optimum is not None:
            assert math.isclose(best, float(metric.optimum), rel_tol=1e-9, abs_tol=1e-9), (
                f"{task}: perfect predictions give {best!r}, but optimum = {metric.optimum!r}"
            )
        for i, worse in enumerate(worse_predictions(task, pred, ref)):
            other = _value(metric.compute(predictions=worse, references=ref), task)
            ok = best >= other - 1e-12 if metric.higher_is_better else best <= other + 1e-12
            direction = "higher" if metric.higher_is_better else "lower"
            assert ok, (f"{task}: imperfect predictions #{i} score {other!r}, better than perfect "
                        f"predictions ({best!r}) although {direction} is better")


@check("metric")
def check_no_input_mutation(metric: Metric) -> None:
    """``compute`` and ``per_example`` leave their input arrays unchanged."""
    for task in _task_types(metric):
        pred, ref = sample_predictions(task)
        p0, r0 = copy.deepcopy(pred), copy.deepcopy(ref)
        metric.compute(predictions=pred, references=ref)
        metric.per_example(predictions=pred, references=ref)
        assert values_equal(pred, p0) and values_equal(ref, r0), f"{task}: the metric modified its inputs"


@check("metric")
def check_empty_input(metric: Metric) -> None:
    """No examples at all raise an evalkit error (a value of nothing is undefined)."""
    import numpy as np

    for task in _task_types(metric):
        empty: Any = [] if task == "generation" else np.zeros(0)
        with expect_evalkit_error(f"{task}: compute(predictions=<empty>, references=<empty>)"):
            metric.compute(predictions=empty, references=empty)


@check("metric")
def check_mismatched_input(metric: Metric) -> None:
    """Predictions and references of different lengths raise an evalkit error, also in per_example."""
    for task in _task_types(metric):
        pred, ref = sample_predictions(task)
        decomposes = metric.per_example(predictions=pred, references=ref) is not None
        for meth in ("compute", "per_example") if decomposes else ("compute",):
            with expect_evalkit_error(f"{task}: {meth}() with {len(pred)} predictions and {len(ref) - 1} references"):
                getattr(metric, meth)(predictions=pred, references=ref[:-1])
        with expect_evalkit_error(f"{task}: compute() with 2-D predictions"):
            metric.compute(predictions=[pred[:2], pred[2:4]], references=ref[:2])


@check("metric")
def check_invalid_values(metric: Metric) -> None:
    """A NaN score (or a missing text) raises an evalkit error instead of giving NaN."""
    import numpy as np

    for task in _task_types(metric):
        pred, ref = sample_predictions(task)
        if task == "generation":
            bad: Any = list(pred)
            bad[2] = None
        else:
            bad = np.array(pred, dtype=np.float64)
            bad[2] = np.nan
        with expect_evalkit_error(f"{task}: compute() with an invalid prediction at row 2"):
            metric.compute(predictions=bad, references=ref)


@check("metric")
def check_pickle(metric: Metric) -> None:
    """The metric pickles, and the copy computes the same value."""
    clone = roundtrip(metric)
    assert values_equal(clone.get_params(), metric.get_params()), "the unpickled copy has other params"
    for task in _task_types(metric):
        pred, ref = sample_predictions(task)
        a = _value(metric.compute(predictions=pred, references=ref), task)
        b = _value(clone.compute(predictions=pred, references=ref), task)
        assert _close(a, b), f"{task}: the unpickled metric computes {b!r} instead of {a!r}"


@check("metric")
def check_tuning(metric: Metric) -> None:
    """TunedMetric: ``fit`` gives JSON, ``apply``/``cross_fit`` finite results, optimum when fit on perfect data.

    Parameters fitted on perfect predictions must reach ``optimum`` on them; a length mismatch in
    ``fit`` is an evalkit error. Skipped for metrics that fit nothing.
    """
    from evalkit.interfaces import TunedMetric

    if not isinstance(metric, TunedMetric):
        raise CheckSkipped("not a TunedMetric: nothing is fitted")
    for task in _task_types(metric):
        pred, ref = sample_predictions(task)
        fitted = metric.fit(predictions=pred, references=ref)
        assert isinstance(fitted, dict), f"{task}: fit() returned {type(fitted).__name__}, not a dict"
        try:
            json.dumps(fitted, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise AssertionError(f"{task}: fit() returned {fitted!r}, not finite JSON ({exc})") from None
        for label, out in (("apply", metric.apply(predictions=pred, references=ref, fitted=fitted)),
                           ("cross_fit", metric.cross_fit(predictions=pred, references=ref))):
            assert isinstance(out, MetricResult), f"{task}: {label}() must return a MetricResult"
            assert math.isfinite(_value(out, task)), f"{task}: {label}() gave {out.value}"
        again = metric.apply(predictions=pred, references=ref, fitted=metric.fit(predictions=pred, references=ref))
        assert _close(_value(again, task), _value(metric.apply(predictions=pred, references=ref, fitted=fitted), task))
        perfect = perfect_predictions(task, ref)
        best = _value(metric.apply(predictions=perfect, references=ref,
                                   fitted=metric.fit(predictions=perfect, references=ref)), task)
        if metric.optimum is not None:
            assert math.isclose(best, float(metric.optimum), rel_tol=1e-9, abs_tol=1e-9), (
                f"{task}: parameters fitted on perfect predictions give {best!r} on them, not {metric.optimum!r}"
            )
        with expect_evalkit_error(f"{task}: fit() with {len(pred)} predictions and {len(ref) - 1} references"):
            metric.fit(predictions=pred, references=ref[:-1])
