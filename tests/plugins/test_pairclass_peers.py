"""Best F1 and accuracy tuned on the same rows equal sentence-transformers and scikit-learn.

References: ``BinaryClassificationEvaluator.find_best_f1_and_threshold`` /
``find_best_acc_and_threshold`` (sentence-transformers >= 6.2, which keeps tied scores together),
and the optimum over the points of scikit-learn's ``precision_recall_curve``.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
import pytest
from evalkit_pairclass.metrics import AutoThresholdAccuracy, AutoThresholdF1
from evalkit_pairclass.threshold import best_threshold

st_eval = pytest.importorskip(
    "sentence_transformers.sentence_transformer.evaluation.binary_classification"
)
BCE = st_eval.BinaryClassificationEvaluator


@functools.lru_cache(maxsize=1)
def cases():
    rng = np.random.default_rng(20240601)
    out = []
    for i in range(60):
        n = int(rng.integers(2, 400))
        y = (rng.random(n) < rng.uniform(0.1, 0.9)).astype(int)
        s = rng.normal(size=n) + y * rng.uniform(0, 2)
        if i % 3 == 1:
            s = s.round(1)  # many ties with mixed labels
        elif i % 3 == 2:
            s = np.tanh(s).astype(np.float32).astype(np.float64)  # cosine-like, float32 precision
        out.append((s, y))
    return out


def n_maximisers(s, y, objective):
    """How many distinct decisions reach the optimum (exact fractions)."""
    vals = []
    for t in [np.inf, *np.unique(s)]:
        d = s >= t
        tp = int((d & (y == 1)).sum())
        fp = int(d.sum()) - tp
        fn = int(y.sum()) - tp
        vals.append(Fraction(2 * tp, 2 * tp + fp + fn) if objective == "f1" else
                    Fraction(len(y) - fp - fn, len(y)))
    return vals.count(max(vals))


@pytest.mark.parametrize("case", range(60))
def test_equals_sentence_transformers(case):
    s, y = cases()[case]
    f1, precision, recall, f1_thr = BCE.find_best_f1_and_threshold(s, y, True)
    acc, acc_thr = BCE.find_best_acc_and_threshold(s, y, True)
    ours_f1 = best_threshold(s, y, objective="f1")
    ours_acc = best_threshold(s, y, objective="accuracy")
    assert ours_f1.value == pytest.approx(f1, abs=1e-12)
    assert ours_acc.value == pytest.approx(acc, abs=1e-12)
    # sentence-transformers compares floating F1 values, so among exactly tied optima its pick
    # depends on rounding; where the optimum is unique the thresholds must agree exactly.
    if n_maximisers(s, y, "f1") == 1:
        assert ours_f1.threshold == f1_thr
        assert ours_f1.confusion.precision == pytest.approx(precision, abs=1e-12)
        assert ours_f1.confusion.recall == pytest.approx(recall, abs=1e-12)
    if n_maximisers(s, y, "accuracy") == 1:
        assert ours_acc.threshold == acc_thr


@pytest.mark.parametrize("case", range(0, 60, 5))
def test_equals_sentence_transformers_for_distances(case):
    s, y = cases()[case]
    d = 1.0 - s  # a distance: lower = more similar
    f1, _, _, f1_thr = BCE.find_best_f1_and_threshold(d, y, False)
    acc, acc_thr = BCE.find_best_acc_and_threshold(d, y, False)
    ours_f1 = best_threshold(d, y, objective="f1", distance=True)
    ours_acc = best_threshold(d, y, objective="accuracy", distance=True)
    assert ours_f1.value == pytest.approx(f1, abs=1e-12)
    assert ours_acc.value == pytest.approx(acc, abs=1e-12)
    if n_maximisers(-d, y, "f1") == 1:
        assert ours_f1.threshold == f1_thr
    if n_maximisers(-d, y, "accuracy") == 1:
        assert ours_acc.threshold == acc_thr


def sklearn_optimum(s, y):
    """Best F1 and accuracy over the operating points of ``precision_recall_curve``."""
    from sklearn.metrics import precision_recall_curve

    p, r, _ = precision_recall_curve(y, s)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
        tp = np.rint(r * n_pos)
        fp = np.where(tp > 0, np.rint(tp / p - tp), 0.0)  # the last point is (p=1, r=0): no positives
    acc = (tp + n_neg - fp) / len(y)
    return f1.max(), acc.max()


@pytest.mark.parametrize("case", range(60))
def test_equals_sklearn_precision_recall_curve(case):
    s, y = cases()[case]
    f1, acc = sklearn_optimum(s, y)
    assert best_threshold(s, y, objective="f1").value == pytest.approx(f1, abs=1e-12)
    assert best_threshold(s, y, objective="accuracy").value == pytest.approx(acc, abs=1e-12)


def test_metrics_tuned_on_same_rows_equal_peers():
    """The registered metrics under the oracle protocol (fit and apply on the same rows)."""
    s, y = cases()[4]
    f1, *_ = BCE.find_best_f1_and_threshold(s, y, True)
    acc, _ = BCE.find_best_acc_and_threshold(s, y, True)
    for metric, expected in ((AutoThresholdF1(), f1), (AutoThresholdAccuracy(), acc)):
        fitted = metric.fit(predictions=s, references=y)
        out = metric.apply(predictions=s, references=y, fitted=fitted)
        assert out.value == pytest.approx(expected, abs=1e-12)
        assert out.extras["threshold"] == fitted["threshold"]
