"""Exact checks of the existing bootstrap statistics (evalkit.stats, evalkit.bootstrap).

- BCa intervals equal ``scipy.stats.bootstrap(method="BCa", paired=True)`` given the same
  resamples (the same ``numpy.random.default_rng(seed)`` draws ``(B, n)`` indices in both);
  an injected sign flip of the acceleration, or a different bias correction, fails.
- For ``n <= 6`` all ``n ** n`` equally likely ordered resamples are enumerated: the exact
  bootstrap distribution of ``delta*``. The Monte Carlo distribution must match its CDF within
  the Dvoretzky-Kiefer-Wolfowitz bound (false failure probability < 1e-4), the percentile
  interval's ends must be quantiles of it, and the p-value its exact tail share. An off-by-one in
  the resampling (never drawing the last row, or drawing ``n - 1`` rows) fails.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from evalkit.bootstrap import bootstrap_examples
from evalkit.plugins import get_host
from evalkit.results import RunResult
from evalkit.stats import paired_bootstrap


def PEARSON(p: np.ndarray, r: np.ndarray) -> float:
    with np.errstate(invalid="ignore", divide="ignore"):  # constant resamples: NaN (undefined)
        return float(np.corrcoef(p, r)[0, 1])


ABS_ERR = lambda p, r: np.abs(np.asarray(p) - np.asarray(r))  # noqa: E731
MAE = lambda p, r: float(ABS_ERR(p, r).mean())  # noqa: E731


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ref = rng.normal(size=n)
    return ref + rng.normal(0, 0.8, n), ref + rng.normal(0, 0.5, n), ref


@pytest.mark.parametrize("per_example", [False, True])
def test_bca_equals_scipy_given_the_same_resamples(per_example: bool) -> None:
    a, b, r = _data(40, 1)
    metric, pe = (MAE, ABS_ERR) if per_example else (PEARSON, None)
    ours = paired_bootstrap(metric, a, b, r, per_example=pe, n_resamples=2000, ci_method="bca",
                            confidence=0.9, seed=11)

    def statistic(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
        return metric(y, z) - metric(x, z)

    ref = sps.bootstrap((a, b, r), statistic, paired=True, vectorized=False, n_resamples=2000,
                        confidence_level=0.9, method="BCa", rng=np.random.default_rng(11))
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, rel=1e-10, abs=1e-12)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, rel=1e-10, abs=1e-12)
    assert ours.standard_error == pytest.approx(ref.standard_error, rel=1e-10)


def _exact(metric: Any, a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``delta*`` of every ordered resample of the n rows (each of probability n ** -n); NaN where
    the metric is undefined."""
    n = len(r)
    out = []
    for idx in itertools.product(range(n), repeat=n):
        i = np.array(idx)
        try:
            with np.errstate(all="ignore"):
                v = metric(b[i], r[i]) - metric(a[i], r[i])
        except Exception:
            v = math.nan
        out.append(v)
    return np.array(out)


def _check_against_exact(test: Any, exact: np.ndarray, delta: float, confidence: float) -> None:
    # Snap to 1e-9: the two computations may round the same resample's value differently, and the
    # distribution has atoms (repeated resamples give equal values).
    ok = np.round(exact[np.isfinite(exact)], 9)
    dist = np.round(test.distribution, 9)
    b = dist.size
    eps = math.sqrt(math.log(2 / 1e-4) / (2 * b))  # DKW: P(sup |F_B - F| > eps) <= 1e-4
    support = np.unique(ok)
    f_exact = np.searchsorted(np.sort(ok), support, side="right") / ok.size
    f_mc = np.searchsorted(np.sort(dist), support, side="right") / b
    assert np.max(np.abs(f_mc - f_exact)) < eps
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    for end, q in ((test.ci_low, lo_q), (test.ci_high, hi_q)):
        below = np.mean(ok < end - 1e-9)
        at_or_below = np.mean(ok <= end + 1e-9)
        assert below - eps <= q <= at_or_below + eps
    exact_p = np.mean(np.abs(ok - delta) >= abs(delta) - 1e-9)
    assert test.p_value == pytest.approx(exact_p, abs=eps + 1 / b)


@pytest.mark.parametrize("n", [5, 6])
def test_percentile_bootstrap_and_p_value_match_exhaustive_enumeration_per_example(n: int) -> None:
    a, b, r = _data(n, n)
    exact = _exact(MAE, a, b, r)
    test = paired_bootstrap(MAE, a, b, r, per_example=ABS_ERR, n_resamples=60_000, seed=3)
    assert test.delta == pytest.approx(MAE(b, r) - MAE(a, r))
    _check_against_exact(test, exact, test.delta, 0.95)


def test_percentile_bootstrap_and_p_value_match_exhaustive_enumeration_corpus_level() -> None:
    a, b, r = _data(5, 9)
    exact = _exact(PEARSON, a, b, r)  # constant resamples (one distinct row) are undefined: NaN
    test = paired_bootstrap(PEARSON, a, b, r, n_resamples=12_000, seed=4)
    _check_against_exact(test, exact, test.delta, 0.95)
    share_undefined = np.mean(~np.isfinite(exact))
    assert test.n_failed / test.n_resamples == pytest.approx(share_undefined, abs=0.02)


def test_example_bootstrap_cells_match_exhaustive_enumeration() -> None:
    """evalkit.bootstrap.bootstrap_examples' per-cell percentile interval on a 5-row dataset."""
    rng = np.random.default_rng(6)
    ref = rng.normal(size=5)
    pred = ref + rng.normal(0, 0.7, 5)
    results = pd.DataFrame([{"method": "m", "dataset": "d", "split": "test", "metric": "pearson",
                             "value": PEARSON(pred, ref), "n": 5}])
    preds = pd.DataFrame({"method": "m", "dataset": "d", "split": "test", "row": np.arange(5),
                          "prediction": pred, "reference": ref})
    run = RunResult(results, preds, {}, Path("x"))
    boot = bootstrap_examples(run, {"pearson": get_host().metrics.create("pearson")}, [], n_resamples=20_000, seed=2)
    cell = boot.cells.iloc[0]
    exact = []
    for idx in itertools.product(range(5), repeat=5):
        i = np.array(idx)
        if np.ptp(pred[i]) > 0 and np.ptp(ref[i]) > 0:
            exact.append(PEARSON(pred[i], ref[i]))
    ok = np.array(exact)
    eps = math.sqrt(math.log(2 / 1e-4) / (2 * int(cell["n_ok"])))
    assert int(cell["n_ok"]) / 20_000 == pytest.approx(ok.size / 5**5, abs=0.02)
    for end, q in ((cell["ci_low"], 0.025), (cell["ci_high"], 0.975)):
        assert np.mean(ok < end - 1e-12) - eps <= q <= np.mean(ok <= end + 1e-12) + eps
