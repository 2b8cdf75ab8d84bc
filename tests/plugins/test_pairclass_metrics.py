"""The pair-classification metrics under each tuning protocol, checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from evalkit_pairclass.crossfit import cross_fit, n_folds
from evalkit_pairclass.metrics import AutoThresholdAccuracy, AutoThresholdF1, AveragePrecision
from sklearn.metrics import accuracy_score, precision_score, recall_score
from sklearn.metrics import f1_score as _f1_score

from evalkit import ConfigError, DataError, TunedMetric
from evalkit.tuning import FitData, score_metric


def f1_score(y, pred):
    return _f1_score(y, pred, zero_division=0)


def data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    s = (rng.normal(size=n) + 1.2 * y).round(2)
    return s, y


def brute_best_threshold(s, y, score_fn):
    """The strictest threshold among the distinct scores (and above the top) maximising score_fn."""
    best_t, best_v = None, -1.0
    for t in [np.inf, *np.unique(s)[::-1]]:
        v = score_fn(y, (s >= t).astype(int))
        if v > best_v + 1e-15:
            best_t, best_v = t, v
    return best_t, best_v


@pytest.mark.parametrize("cls,score_fn", [(AutoThresholdF1, f1_score), (AutoThresholdAccuracy, accuracy_score)])
def test_dev_threshold_applied_unchanged_to_test(cls, score_fn):
    dev_s, dev_y = data(seed=1)
    test_s, test_y = data(seed=2)
    metric = cls()
    value, extras = score_metric(metric, metric.name, test_s, test_y, tune_on="dev",
                                 fit=FitData(dev_s, dev_y, "dev"))
    thr = extras["threshold"]
    # the threshold is optimal on dev ...
    _, dev_best = brute_best_threshold(dev_s, dev_y, score_fn)
    assert extras["fit_value"] == pytest.approx(dev_best, abs=1e-12)
    # ... and the test value is the metric of the decisions it makes, unchanged
    pred = (test_s >= thr).astype(int)
    assert value == pytest.approx(score_fn(test_y, pred), abs=1e-12)
    assert extras["precision"] == pytest.approx(precision_score(test_y, pred, zero_division=0), abs=1e-12)
    assert extras["recall"] == pytest.approx(recall_score(test_y, pred), abs=1e-12)
    assert extras["tuned_on"] == "dev" and extras["tuned_split"] == "dev" and extras["n_tune"] == 300
    assert "oracle" not in extras


def test_oracle_is_labelled_and_optimistic():
    s, y = data(seed=3)
    metric = AutoThresholdF1()
    oracle, extras = score_metric(metric, "f1", s, y, tune_on="self")
    assert extras["oracle"] is True and extras["tuned_on"] == "self"
    _, best = brute_best_threshold(s, y, f1_score)
    assert oracle == pytest.approx(best, abs=1e-12)
    cv, cv_extras = score_metric(metric, "f1", s, y, tune_on="cv")
    assert cv_extras["tuned_on"] == "cv" and "oracle" not in cv_extras
    assert cv <= oracle


def test_dev_without_fitting_rows_falls_back_to_cv():
    s, y = data(seed=4)
    metric = AutoThresholdAccuracy(folds=4, seed=3)
    value, extras = score_metric(metric, "acc", s, y, tune_on="dev", fit=None)
    cv_value, _ = score_metric(metric, "acc", s, y, tune_on="cv")
    assert extras["tuned_on"] == "cv" and value == cv_value
    assert extras["cv_folds"] == 4 and extras["cv_seed"] == 3


@pytest.mark.parametrize("objective,cls", [("f1", AutoThresholdF1), ("accuracy", AutoThresholdAccuracy)])
def test_cross_fit_matches_an_independent_out_of_fold_computation(objective, cls):
    from sklearn.model_selection import StratifiedKFold

    s, y = data(n=250, seed=5)
    fn = f1_score if objective == "f1" else accuracy_score
    decided = np.zeros_like(y)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=11).split(s, y):
        t, _ = brute_best_threshold(s[train], y[train], fn)
        decided[test] = s[test] >= t
    out = cls(folds=5, seed=11).cross_fit(predictions=s, references=y)
    assert out.value == pytest.approx(fn(y, decided), abs=1e-12)
    assert out.extras["threshold_min"] <= out.extras["threshold"] <= out.extras["threshold_max"]
    # compute() is the leakage-free cross-fit
    plain = cls(folds=5, seed=11).compute(predictions=s, references=y)
    assert plain.value == out.value and plain.extras["tuned_on"] == "cv"


def test_cross_fit_is_seeded_and_stratified_folds_shrink():
    s, y = data(n=60, seed=6)
    a = cross_fit(s, y, objective="f1", folds=5, seed=1)
    b = cross_fit(s, y, objective="f1", folds=5, seed=1)
    assert a.confusion == b.confusion and np.array_equal(a.thresholds, b.thresholds)
    assert n_folds(np.array([True] * 3 + [False] * 50), 5) == 3
    assert n_folds(np.array([True] * 10), 5) == 5
    with pytest.raises(DataError, match="1 positive and 5 negative"):
        cross_fit([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [1, 0, 0, 0, 0, 0], objective="f1")


def test_distance_metrics_read_lower_as_more_similar():
    s, y = data(seed=7)
    sim = AutoThresholdF1()
    dist = AutoThresholdF1(distance=True)
    f_sim = sim.fit(predictions=s, references=y)
    f_dist = dist.fit(predictions=10 - s, references=y)
    assert f_dist["fit_value"] == f_sim["fit_value"]
    assert f_dist["threshold"] == pytest.approx(10 - f_sim["threshold"])
    out = dist.apply(predictions=10 - s, references=y, fitted=f_dist)
    assert out.value == pytest.approx(f1_score(y, (10 - s) <= f_dist["threshold"]), abs=1e-12)


def brute_average_precision(s, y):
    """AP = sum over distinct thresholds (descending) of (R_k - R_{k-1}) * P_k."""
    ap, prev_r = 0.0, 0.0
    for t in np.unique(s)[::-1]:
        d = s >= t
        tp = (d & (y == 1)).sum()
        p, r = tp / d.sum(), tp / y.sum()
        ap += (r - prev_r) * p
        prev_r = r
    return ap


def test_average_precision_by_definition():
    s, y = data(seed=8)
    assert AveragePrecision().compute(predictions=s, references=y) == pytest.approx(brute_average_precision(s, y))
    assert AveragePrecision(distance=True).compute(predictions=-s, references=y) == pytest.approx(
        brute_average_precision(s, y))
    with pytest.raises(DataError, match="no positive"):
        AveragePrecision().compute(predictions=[0.1, 0.2], references=[0, 0])


def test_metric_contract_and_errors():
    assert issubclass(AutoThresholdF1, TunedMetric)
    m = AutoThresholdF1()
    assert m.get_params() == {"distance": False, "folds": 5, "seed": 0}
    with pytest.raises(ConfigError, match="folds"):
        AutoThresholdF1(folds=1)
    with pytest.raises(ConfigError, match="threshold"):
        m.apply(predictions=[0.1], references=[1], fitted={})
    with pytest.raises(DataError, match=r"rows \[1\]"):
        m.fit(predictions=[0.1, float("nan"), 0.3], references=[0, 1, 1])
    with pytest.raises(ConfigError, match="tune_on"):
        score_metric(m, "f1", [0.1, 0.2], [0, 1], tune_on="test")
