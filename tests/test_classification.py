"""The classification task type: probability validation, metrics, logit adjustment, CAN, McNemar.

References are independent of the code under test: scikit-learn's metrics, scipy's softmax,
statsmodels' McNemar test, a brute-force CAN written here with plain Python loops, and values
computed by hand.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from evalkit_classification.metrics import (
    Accuracy,
    BalancedAccuracy,
    ExpectedCalibrationError,
    LogLoss,
    MacroF1,
)
from evalkit_classification.postprocess import can, logit_adjust, top_k_entropy

from evalkit import DataError, as_labels, as_probabilities
from evalkit.results import prediction_frame, prediction_values
from evalkit.stats import mcnemar_exact, paired_test


def random_case(n: int = 200, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    logits = 1.2 * np.eye(k)[labels] + rng.normal(0, 1, (n, k))
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True), labels


# ------------------------------------------------------------------------------------------------
# Probability validation
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("values", "message"), [
    (np.array([0.2, 0.8]), "2-D array"),
    (np.array([[0.2, 0.8], [0.5, np.nan]]), r"non-finite values in 1 rows, e.g. \[1\]"),
    (np.array([[1.2, -0.2], [0.5, 0.5]]), r"negative probabilities in 1 rows, e.g. \[0\]"),
    (np.array([[0.5, 0.5], [0.3, 0.3], [0.9, 0.2]]), r"rows must sum to 1 .* 2 rows, e.g. \[1, 2\]"),
    ([["a", "b"]], "must be numbers"),
])
def test_as_probabilities_rejects_invalid_rows(values: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        as_probabilities(values, what="method 'x' on sick-e/test")


def test_as_probabilities_checks_shape_and_names_the_method() -> None:
    p = np.full((4, 3), 1 / 3)
    with pytest.raises(DataError, match=r"method .x.* has 4 rows, expected one per example \(5\)"):
        as_probabilities(p, n_rows=5, what="method 'x'")
    with pytest.raises(DataError, match="has 3 columns, expected one per class \\(2\\)"):
        as_probabilities(p, n_classes=2)
    # Row labels from an index, and a float32 softmax within the tolerance passes.
    with pytest.raises(DataError, match=r"\['b'\]"):
        as_probabilities([[0.5, 0.5], [0.9, 0.3]], index=["a", "b"])
    ok = as_probabilities(np.array([[0.1, 0.2, 0.7]], dtype=np.float32))
    assert ok.dtype == np.float64


def test_as_labels() -> None:
    assert as_labels(np.array([0.0, 2.0, 1.0]), n_classes=3).tolist() == [0, 2, 1]
    with pytest.raises(DataError, match=r"class indices in 0..2; 2 rows are not, e.g. rows \[1, 2\]"):
        as_labels([0, 3, 1.5], n_classes=3)


def test_stored_probabilities_round_trip() -> None:
    p, y = random_case(7, 4)
    frame = prediction_frame(p, method="m", row=np.arange(7), reference=y)
    assert frame["prediction"].tolist() == p.argmax(axis=1).tolist()
    assert np.array_equal(prediction_values(frame), p)
    # 1-D scores keep the single prediction column.
    scores = prediction_frame(np.array([0.1, 0.2]), method="m")
    assert np.array_equal(prediction_values(scores), [0.1, 0.2])


# ------------------------------------------------------------------------------------------------
# Metrics equal scikit-learn's
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_sklearn(seed: int) -> None:
    from sklearn import metrics as skm

    p, y = random_case(150, 4, seed)
    pred = p.argmax(axis=1)
    assert Accuracy().compute(predictions=p, references=y) == pytest.approx(skm.accuracy_score(y, pred), abs=1e-15)
    assert MacroF1().compute(predictions=p, references=y) == pytest.approx(
        skm.f1_score(y, pred, average="macro", labels=[0, 1, 2, 3], zero_division=0), abs=1e-15)
    assert BalancedAccuracy().compute(predictions=p, references=y) == pytest.approx(
        skm.balanced_accuracy_score(y, pred), abs=1e-15)
    assert LogLoss().compute(predictions=p, references=y) == pytest.approx(
        skm.log_loss(y, p, labels=[0, 1, 2, 3]), rel=1e-12)
    assert Accuracy().per_example(predictions=p, references=y).tolist() == (pred == y).astype(float).tolist()


def test_macro_f1_counts_a_class_never_predicted_or_present() -> None:
    from sklearn.metrics import f1_score

    p = np.eye(3)[[0, 0, 1, 1]]
    y = np.array([0, 1, 1, 1])
    expected = f1_score(y, [0, 0, 1, 1], labels=[0, 1, 2], average="macro", zero_division=0)
    assert MacroF1().compute(predictions=p, references=y) == pytest.approx(expected)
    assert expected == pytest.approx((2 / 3 + 0.8 + 0) / 3)


def test_log_loss_of_a_zero_probability_is_finite_as_in_sklearn() -> None:
    from sklearn.metrics import log_loss

    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    y = np.array([1, 0])
    assert LogLoss().compute(predictions=p, references=y) == pytest.approx(log_loss(y, p, labels=[0, 1]))


def brute_force_ece(p: np.ndarray, y: np.ndarray, n_bins: int) -> float:
    """Guo et al. (2017) Eq. 3 with explicit bins (lo, hi]; confidence 0 in the first bin."""
    total = 0.0
    for b in range(n_bins):
        lo, hi = Fraction(b, n_bins), Fraction(b + 1, n_bins)
        members = [i for i in range(len(y))
                   if (lo < Fraction(float(p[i].max())) <= hi) or (b == 0 and p[i].max() == 0)]
        if not members:
            continue
        acc = sum(1.0 for i in members if int(np.argmax(p[i])) == y[i]) / len(members)
        conf = sum(float(p[i].max()) for i in members) / len(members)
        total += len(members) / len(y) * abs(acc - conf)
    return total


@pytest.mark.parametrize("n_bins", [1, 10, 15])
def test_ece_equals_brute_force_binning(n_bins: int) -> None:
    p, y = random_case(120, 3, seed=n_bins)
    # Put confidences exactly on bin edges too: 2/3 and 1/3 on a three-class row.
    p[:3] = [[2 / 3, 1 / 3, 0.0], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]]
    got = ExpectedCalibrationError(n_bins=n_bins).compute(predictions=p, references=y)
    assert got == pytest.approx(brute_force_ece(p, y, n_bins), abs=1e-12)


def test_ece_hand_computed() -> None:
    # Two bins: conf 0.9 (right) and 0.6 (wrong) in (0.5, 1] -> |0.5 - 0.75| * 2/4; conf 0.4 (right)
    # and 0.45 (wrong) in (0, 0.5] -> |0.5 - 0.425| * 2/4. ECE = 0.125 + 0.0375.
    p = np.array([[0.9, 0.05, 0.05], [0.6, 0.2, 0.2], [0.4, 0.35, 0.25], [0.45, 0.3, 0.25]])
    y = np.array([0, 1, 0, 1])
    assert ExpectedCalibrationError(n_bins=2).compute(predictions=p, references=y) == pytest.approx(0.1625)


# ------------------------------------------------------------------------------------------------
# Logit adjustment
# ------------------------------------------------------------------------------------------------
def test_logit_adjustment_identities() -> None:
    p, _ = random_case(50, 3)
    prior = np.array([0.57, 0.29, 0.14])
    assert np.array_equal(logit_adjust(p, prior, 0.0), p)
    for tau in (0.5, 1.0, 2.0):
        assert np.allclose(logit_adjust(p, np.full(3, 1 / 3), tau), p, atol=1e-15)


def test_logit_adjustment_equals_scipy_softmax() -> None:
    from scipy.special import softmax

    p, _ = random_case(50, 3)
    prior = np.array([0.57, 0.29, 0.14])
    expected = softmax(np.log(p) - 1.3 * np.log(prior), axis=1)
    assert np.allclose(logit_adjust(p, prior, 1.3), expected, atol=1e-15)
    # A rare class wins a close call: [0.5, 0.45, 0.05] with tau = 1 -> 0.5/0.57 < 0.45/0.29.
    assert logit_adjust(np.array([[0.5, 0.45, 0.05]]), prior, 1.0).argmax() == 1


# ------------------------------------------------------------------------------------------------
# CAN against a step-by-step brute force
# ------------------------------------------------------------------------------------------------
def brute_force_can(p: list[list[float]], prior: list[float], k: int, threshold: float, alpha: float,
                    iterations: int) -> list[list[float]]:
    """Jia et al. (2021) Algorithm 1 written out with Python loops, one uncertain row at a time."""
    m = len(prior)

    def topk_entropy(row: list[float]) -> float:
        kk = min(k, m)
        top = sorted(row, reverse=True)[:kk]
        s = sum(top)
        q = [t / s for t in top]
        return -sum(x * math.log(x) for x in q if x > 0) / math.log(kk)

    uncertain = [topk_entropy(row) >= threshold for row in p]
    confident = [row for row, u in zip(p, uncertain, strict=True) if not u]
    out = []
    for row, u in zip(p, uncertain, strict=True):
        if not u:
            out.append(list(row))
            continue
        L = [list(r) for r in confident] + [list(row)]
        for _ in range(iterations):
            S = [[x ** alpha for x in r] for r in L]
            cols = [sum(S[i][j] for i in range(len(S))) for j in range(m)]
            S = [[S[i][j] / cols[j] * prior[j] for j in range(m)] for i in range(len(S))]
            L = [[x / sum(r) for x in r] for r in S]
        out.append(L[-1])
    return out


def test_can_hand_computed_case() -> None:
    # Two confident rows and one uncertain one (top-3 entropy of [0.4, 0.3, 0.3] is 0.985 >= 0.9).
    # Column sums 1.35, 1.25, 0.40; b scaled: 0.4*0.5/1.35 = 4/27, 0.3*0.3/1.25 = 0.072,
    # 0.3*0.2/0.4 = 0.15; normalised, class 2 overtakes class 0.
    p = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.4, 0.3, 0.3]])
    prior = np.array([0.5, 0.3, 0.2])
    raw = [Fraction(4, 27), Fraction(72, 1000), Fraction(15, 100)]
    expected = [float(x / sum(raw)) for x in raw]
    got = can(p, prior)
    assert np.allclose(got[2], expected, atol=1e-15)
    assert np.array_equal(got[:2], p[:2])
    assert got[2].argmax() == 2 and p[2].argmax() == 0


@pytest.mark.parametrize(("seed", "k", "threshold", "alpha", "iterations"), [
    (0, 3, 0.9, 1.0, 1), (1, 2, 0.8, 1.0, 3), (2, 3, 0.7, 2.0, 2), (3, 2, 0.95, 0.5, 5),
])
def test_can_equals_brute_force(seed: int, k: int, threshold: float, alpha: float, iterations: int) -> None:
    p, _ = random_case(40, 3, seed)
    prior = [0.57, 0.29, 0.14]
    got = can(p, np.array(prior), k=k, threshold=threshold, alpha=alpha, iterations=iterations)
    expected = brute_force_can(p.tolist(), prior, k, threshold, alpha, iterations)
    assert np.allclose(got, np.array(expected), atol=1e-12)
    assert (top_k_entropy(p, k) >= threshold).any()  # the case adjusts something


def test_can_with_every_prediction_confident_changes_nothing() -> None:
    p = np.array([[0.98, 0.01, 0.01], [0.01, 0.97, 0.02], [0.02, 0.02, 0.96]])
    assert (top_k_entropy(p, 3) < 0.9).all()
    assert np.array_equal(can(p, np.array([0.57, 0.29, 0.14])), p)


def test_top_k_entropy_hand_values() -> None:
    # Su's example: [0.5, 0.25, 0.25] vs [0.5, 0.5, 0]: with k = 2 the second is the more uncertain.
    h = top_k_entropy(np.array([[0.5, 0.25, 0.25], [0.5, 0.5, 0.0]]), 2)
    assert h[1] == pytest.approx(1.0)
    assert h[0] == pytest.approx(-(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)) / math.log(2))


def test_post_processors_validate_inputs() -> None:
    with pytest.raises(DataError, match="rows must sum to 1"):
        can(np.array([[0.5, 0.6]]), np.array([0.5, 0.5]))
    with pytest.raises(DataError, match="positive prior"):
        logit_adjust(np.array([[0.5, 0.5]]), np.array([1.0, 0.0]), 1.0)


# ------------------------------------------------------------------------------------------------
# McNemar's exact test
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("n01", "n10", "both", "neither"), [(7, 5, 80, 8), (20, 5, 50, 25), (0, 3, 10, 1)])
def test_mcnemar_equals_statsmodels(n01: int, n10: int, both: int, neither: int) -> None:
    from statsmodels.stats.contingency_tables import mcnemar

    a = np.array([1] * n01 + [0] * n10 + [1] * both + [0] * neither, dtype=float)
    b = np.array([0] * n01 + [1] * n10 + [1] * both + [0] * neither, dtype=float)
    table = [[both, n01], [n10, neither]]
    t = mcnemar_exact(a, b)
    assert t.p_value == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-12)
    assert t.delta == pytest.approx((n10 - n01) / a.size)
    assert t.distribution.tolist() == [n01, n10]


def test_mcnemar_through_paired_test_and_one_sided() -> None:
    from scipy.stats import binomtest

    p, y = random_case(300, 3, 5)
    q = p.copy()
    q[:40] = np.eye(3)[y[:40]]  # b is right on the first 40 rows
    per = Accuracy().per_example
    t = paired_test("mcnemar", lambda a, r: 0.0, p, q, y, per_example=lambda a, r: per(predictions=a, references=r),
                    alternative="greater")
    ca, cb = per(predictions=p, references=y), per(predictions=q, references=y)
    n10 = int(((ca == 0) & (cb == 1)).sum())
    n01 = int(((ca == 1) & (cb == 0)).sum())
    assert t.p_value == pytest.approx(binomtest(n10, n01 + n10, 0.5, alternative="greater").pvalue)
    with pytest.raises(DataError, match="0/1"):
        mcnemar_exact(np.array([0.5, 1.0]), np.array([1.0, 0.0]))

