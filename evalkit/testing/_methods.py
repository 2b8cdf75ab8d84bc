"""Conformance checks of methods (:class:`evalkit.Method`).

Methods get the ten English sentence pairs of :func:`evalkit.testing.samples.sample_pairs`, so a
check runs in milliseconds for a lexical method and in well under a second for a small encoder
(after the model is loaded once). Encoders share an in-memory cache across checks, never the
user's disk cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.classification import ClassificationMethod, as_probabilities
from evalkit.errors import EvalkitError
from evalkit.interfaces import Method
from evalkit.testing._base import (
    CheckSkipped,
    check,
    common_metadata,
    describe_exception,
    expect_evalkit_error,
    fresh_cache,
    roundtrip,
    values_equal,
)
from evalkit.testing.samples import IDENTICAL_ROW, SAMPLE_CLASSES, sample_labelled, sample_pairs

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def _clone(method: Method) -> Method:
    return type(method)(**method.get_params())


def _fit(method: Method, pairs: pd.DataFrame) -> Method:
    """``fit(pairs)``, and for a classification method ``fit_labelled(sample_labelled())`` too."""
    fitted = method.fit(pairs)
    assert fitted is method, f"fit() returned {fitted!r}; it must return self (as scikit-learn's fit does)"
    if isinstance(method, ClassificationMethod):
        fitted = method.fit_labelled(sample_labelled())
        assert fitted is method, f"fit_labelled() returned {fitted!r}; it must return self"
    return method


def _scores(method: Method, pairs: pd.DataFrame, where: str = "predict(pairs)") -> np.ndarray:
    """Fit ``method`` on ``pairs`` and predict them, asserting the output's type and shape.

    Classification methods (fitted on :func:`~evalkit.testing.samples.sample_labelled` too) must
    return class probabilities ``(n, 3)`` that :func:`evalkit.classification.as_probabilities` accepts.
    """
    import numpy as np

    out = _fit(method, pairs).predict(pairs)
    assert isinstance(out, np.ndarray), f"{where} returned {type(out).__name__}; return a numpy array"
    if isinstance(method, ClassificationMethod):
        k = len(SAMPLE_CLASSES)
        assert out.shape == (len(pairs), k), f"{where} returned shape {out.shape}, expected ({len(pairs)}, {k})"
        try:
            as_probabilities(out, what=where)
        except EvalkitError as exc:
            raise AssertionError(str(exc)) from None
        return out
    assert out.shape == (len(pairs),), f"{where} returned shape {out.shape}, expected ({len(pairs)},)"
    assert out.dtype.kind == "f", f"{where} returned dtype {out.dtype}; return float64 scores"
    bad = np.flatnonzero(~np.isfinite(out))
    assert bad.size == 0, f"{where} returned non-finite scores at rows {bad.tolist()}"
    return out


def _allclose(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    import numpy as np

    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


@check("method")
def check_metadata(method: Method) -> None:
    """``name``, docstring, ``task_types`` and ``order_invariant``."""
    common_metadata(method)
    cls = type(method)
    assert isinstance(method.task_types, tuple) and method.task_types, (
        f"{cls.__name__}.task_types must be a non-empty tuple such as ('sts', 'pair_classification')"
    )
    assert all(isinstance(t, str) and t for t in method.task_types), "task_types must be strings"
    assert isinstance(method.order_invariant, bool), f"{cls.__name__}.order_invariant must be a bool"


@check("method")
def check_predictions(method: Method) -> None:
    """``fit`` returns self and ``predict`` gives one finite float64 score per pair."""
    _scores(_clone(method), sample_pairs())


@check("method")
def check_params_unchanged_by_fit(method: Method) -> None:
    """``fit`` and ``predict`` leave ``get_params()`` unchanged (learned state goes in ``attr_``)."""
    m = _clone(method)
    before = m.get_params()
    _scores(m, sample_pairs())
    after = m.get_params()
    assert values_equal(before, after), (
        f"get_params() changed from {before} to {after} during fit/predict: store learned state "
        "in attributes ending in '_' (scikit-learn's convention), never in the parameters"
    )


@check("method")
def check_identical_pair_scores_highest(method: Method) -> None:
    """A sentence paired with itself scores at least as high as any other pair (the optimum)."""
    if isinstance(method, ClassificationMethod):
        raise CheckSkipped("a classification method returns class probabilities, not similarities")
    scores = _scores(_clone(method), sample_pairs())
    top = scores[IDENTICAL_ROW]
    worse = [i for i, s in enumerate(scores) if s > top + 1e-6 * max(1.0, abs(top))]
    assert not worse, (
        f"identical sentences score {top!r}, below rows {worse} ({scores[worse].tolist()}): scores "
        "must mean 'higher is more similar' (negate a distance)"
    )


@check("method")
def check_deterministic(method: Method) -> None:
    """Two fresh instances fitted on the same pairs give the same scores."""
    pairs = sample_pairs()
    with fresh_cache():
        a = _scores(_clone(method), pairs)
    with fresh_cache():
        b = _scores(_clone(method), pairs)
    assert _allclose(a, b, 1e-7, 1e-9), f"two runs differ: {a.tolist()} vs {b.tolist()}"


@check("method")
def check_order_invariant(method: Method) -> None:
    """Reordering the pairs only reorders the scores (also with a non-default index)."""
    import numpy as np

    if not method.order_invariant:
        raise CheckSkipped("the method declares order_invariant = False")
    pairs = sample_pairs()
    base = _scores(_clone(method), pairs)
    perm = np.random.default_rng(1).permutation(len(pairs))
    permuted = pairs.iloc[perm]
    got = _scores(_clone(method), permuted, "predict(permuted pairs)")
    assert _allclose(got, base[perm], 1e-6, 1e-7), (
        f"permuting the pairs changes their scores: {got.tolist()} vs {base[perm].tolist()}; "
        "if that is intended, set order_invariant = False and say why in the docstring"
    )
    relabelled = pairs.set_axis([f"row{i}" for i in range(len(pairs))])
    got = _scores(_clone(method), relabelled, "predict(pairs with string index)")
    assert _allclose(got, base, 1e-6, 1e-7), "scores depend on the DataFrame's index labels; use positions"


def state_snapshot(obj: Any) -> dict[str, Any]:
    """A copy of ``vars(obj)`` to compare with :func:`changed_attributes`: numpy arrays, pandas
    objects, numbers, strings and (nested) lists, tuples, dicts and sets of them by value; any
    other object by identity (it must stay the same object)."""
    return {name: _snap(value, 0) for name, value in vars(obj).items()}


def _snap(value: Any, depth: int) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return ("ndarray", value.copy())
    if value is None or isinstance(value, (str, bytes, bool, int, float, complex)):
        return value
    if depth < 8 and isinstance(value, (list, tuple)):
        return (type(value).__name__, [_snap(v, depth + 1) for v in value])
    if depth < 8 and isinstance(value, dict):
        return ("dict", {k: _snap(v, depth + 1) for k, v in value.items()})
    if depth < 8 and isinstance(value, (set, frozenset)):
        return (type(value).__name__, set(value))
    if hasattr(value, "equals") and hasattr(value, "copy"):  # pandas objects
        return ("pandas", value.copy(deep=True))
    return ("object", id(value))


def changed_attributes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Names of the attributes added, removed or changed between two :func:`state_snapshot` s."""
    names = sorted(set(before) | set(after))
    return [n for n in names if n not in before or n not in after or not values_equal(before[n], after[n])]


@check("method")
def check_predict_leaves_state_unchanged(method: Method) -> None:
    """``predict`` leaves the fitted method's attributes unchanged, arrays compared by value (as
    scikit-learn's ``check_dict_unchanged``): no result cached on ``self``, no lazy fitting."""
    pairs = sample_pairs()
    m = _fit(_clone(method), pairs)
    before = state_snapshot(m)
    m.predict(pairs)
    changed = changed_attributes(before, state_snapshot(m))
    assert not changed, (
        f"predict() changed the method's attribute(s) {', '.join(map(repr, changed))}: predict must leave "
        "the method's state as fit left it (return extra results from another method instead)"
    )


@check("method")
def check_no_input_mutation(method: Method) -> None:
    """``fit`` and ``predict`` leave the pairs DataFrame unchanged."""
    pairs = sample_pairs()
    original = pairs.copy(deep=True)
    _scores(_clone(method), pairs)
    assert pairs.equals(original) and list(pairs.columns) == list(original.columns), (
        "fit/predict modified the pairs DataFrame they were given; work on a copy"
    )


@check("method")
def check_empty_input(method: Method) -> None:
    """No pairs: ``fit`` raises an evalkit error, or ``predict`` returns an empty array."""
    import numpy as np

    empty = sample_pairs().iloc[:0]
    m = _clone(method)
    try:
        out = _fit(m, empty).predict(empty)
    except Exception as exc:
        assert isinstance(exc, EvalkitError), (
            f"fit/predict on zero pairs raised {describe_exception(exc)}; raise an evalkit error "
            "(e.g. DataError) or return an empty array"
        )
        return
    arr = np.asarray(out)
    expected = (0, len(SAMPLE_CLASSES)) if isinstance(method, ClassificationMethod) else (0,)
    assert arr.shape in {(0,), expected}, f"predict on zero pairs returned shape {arr.shape}, expected {expected}"


@check("method")
def check_bad_input(method: Method) -> None:
    """A missing column, a missing sentence or a non-DataFrame raise evalkit errors (fit and predict)."""
    pairs = sample_pairs()
    no_col = pairs.drop(columns=["sentence2"])
    none_text = pairs.astype(object)
    none_text.iloc[3, 0] = None
    as_list = list(pairs.itertuples(index=False, name=None))
    cases: list[tuple[str, Any]] = [("without column sentence2", no_col),
                                    ("with None in sentence1, row 3", none_text), ("as a list of tuples", as_list)]
    for label, bad in cases:
        with expect_evalkit_error(f"fit(pairs {label})"):
            _clone(method).fit(bad)
        fitted = _fit(_clone(method), pairs)
        with expect_evalkit_error(f"predict(pairs {label}) after fitting"):
            fitted.predict(bad)


@check("method")
def check_pickle(method: Method) -> None:
    """A fitted method pickles, and the copy predicts the same scores."""
    pairs = sample_pairs()
    m = _clone(method)
    a = _scores(m, pairs)
    clone = roundtrip(m)
    b = clone.predict(pairs)
    assert _allclose(a, b, 1e-9, 1e-12), f"the unpickled method predicts {list(b)} instead of {a.tolist()}"
