"""Paired bootstrap and permutation tests, checked against scipy.stats and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from evalkit.errors import ConfigError, DataError
from evalkit.stats import cell_seed, paired_bootstrap, paired_permutation, paired_test


def spearman(p: np.ndarray, r: np.ndarray) -> float:
    return float(stats.spearmanr(p, r).statistic)


def sq_err(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    return (p - r) ** 2


def mse(p: np.ndarray, r: np.ndarray) -> float:
    return float(np.mean(sq_err(p, r)))


@pytest.fixture(scope="module")
def shared_noise() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two systems whose large errors are shared, b slightly better: a small paired difference."""
    rng = np.random.default_rng(12345)
    n = 300
    y = rng.uniform(0, 5, n)
    e = rng.normal(0, 1.5, n)
    return y + e, y + 0.85 * e + rng.normal(0, 0.3, n), y


def quantile_mc_tolerance(se: float, n_resamples: int) -> float:
    """4 standard deviations of the difference of two independent bootstrap estimates of the
    2.5 % quantile: sd(q) = sqrt(p(1-p)/B) / f(q), with f the normal density at z=1.96 for a
    distribution of standard deviation ``se`` (Hall 1992, Sec. 3.5)."""
    sd_one = se * np.sqrt(0.025 * 0.975 / n_resamples) / stats.norm.pdf(1.96)
    return 4 * np.sqrt(2) * sd_one


def test_bootstrap_of_spearman_difference_agrees_with_scipy(shared_noise) -> None:
    a, b, y = shared_noise
    B = 1000
    ours = paired_bootstrap(spearman, a, b, y, n_resamples=B, seed=1)
    ref = stats.bootstrap((a, b, y), lambda a, b, y: spearman(b, y) - spearman(a, y), paired=True,
                          vectorized=False, n_resamples=B, method="percentile", rng=np.random.default_rng(2))
    assert ours.delta == pytest.approx(spearman(b, y) - spearman(a, y), abs=1e-15)
    # Standard error: sd of a sample sd is about sd / sqrt(2(B-1)) per estimate; allow 4 sd of the difference.
    assert ours.standard_error == pytest.approx(ref.standard_error, rel=4 * np.sqrt(2) / np.sqrt(2 * (B - 1)))
    tol = quantile_mc_tolerance(ref.standard_error, B)
    assert abs(ours.ci_low - ref.confidence_interval.low) < tol
    assert abs(ours.ci_high - ref.confidence_interval.high) < tol


def test_bca_interval_agrees_with_scipy(shared_noise) -> None:
    a, b, y = shared_noise
    B = 1000
    ours = paired_bootstrap(spearman, a, b, y, n_resamples=B, seed=3, ci_method="bca")
    ref = stats.bootstrap((a, b, y), lambda a, b, y: spearman(b, y) - spearman(a, y), paired=True,
                          vectorized=False, n_resamples=B, method="BCa", rng=np.random.default_rng(4))
    # BCa also estimates the bias correction z0 from the resamples: 25 % more slack than percentile.
    tol = 1.25 * quantile_mc_tolerance(ref.standard_error, B)
    assert abs(ours.ci_low - ref.confidence_interval.low) < tol
    assert abs(ours.ci_high - ref.confidence_interval.high) < tol


@pytest.mark.parametrize("ci_method", ["percentile", "bca"])
def test_per_example_path_agrees_with_scipy(ci_method: str) -> None:
    rng = np.random.default_rng(5)
    y = rng.uniform(0, 5, 500)
    a = y + rng.normal(0, 1.0, 500)
    b = y + rng.normal(0, 0.9, 500)
    B = 20000
    ours = paired_bootstrap(mse, a, b, y, per_example=sq_err, n_resamples=B, seed=6, ci_method=ci_method)
    d = sq_err(b, y) - sq_err(a, y)
    ref = stats.bootstrap((d,), np.mean, n_resamples=B, method="BCa" if ci_method == "bca" else "percentile",
                          rng=np.random.default_rng(7))
    assert ours.delta == pytest.approx(mse(b, y) - mse(a, y), rel=1e-12)
    tol = 1.25 * quantile_mc_tolerance(ref.standard_error, B)
    assert abs(ours.ci_low - ref.confidence_interval.low) < tol
    assert abs(ours.ci_high - ref.confidence_interval.high) < tol


def test_paired_bootstrap_detects_a_small_difference_an_unpaired_test_misses(shared_noise) -> None:
    a, b, y = shared_noise
    delta = spearman(b, y) - spearman(a, y)
    # Unpaired: each system's rho gets its own bootstrap standard error, as when two leaderboard
    # entries with stderr are compared (lm-evaluation-harness); z-test on the difference.
    se = [stats.bootstrap((p, y), spearman, paired=True, vectorized=False, n_resamples=500,
                          rng=np.random.default_rng(s)).standard_error for p, s in ((a, 8), (b, 9))]
    p_unpaired = 2 * stats.norm.sf(abs(delta) / np.hypot(*se))
    assert p_unpaired > 0.05
    ours = paired_bootstrap(spearman, a, b, y, n_resamples=500, seed=10)
    assert ours.p_value < 0.01
    assert ours.ci_low > 0


def test_per_example_paired_detection_matches_paired_t_test() -> None:
    rng = np.random.default_rng(11)
    n = 400
    y = rng.uniform(0, 5, n)
    e = rng.normal(0, 1.0, n)
    a, b = y + e, y + 0.97 * e
    sa, sb = sq_err(a, y), sq_err(b, y)
    assert stats.ttest_ind(sa, sb).pvalue > 0.05  # unpaired misses it
    assert stats.ttest_rel(sa, sb).pvalue < 0.01  # paired reference finds it
    ours = paired_bootstrap(mse, a, b, y, per_example=sq_err, n_resamples=2000, seed=12)
    assert ours.p_value < 0.01 and ours.ci_high < 0


def test_permutation_agrees_with_scipy_permutation_test() -> None:
    rng = np.random.default_rng(7)
    n = 200
    y = rng.uniform(0, 5, n)
    e = rng.normal(0, 1.5, n)
    a, b = y + e, y + e + rng.normal(0, 0.6, n)
    B = 1000
    ours = paired_permutation(spearman, a, b, y, n_resamples=B, seed=0, alternative="less")
    ref = stats.permutation_test((a, b), lambda x, z: spearman(z, y) - spearman(x, y), permutation_type="samples",
                                 vectorized=False, n_resamples=B, alternative="less", rng=np.random.default_rng(1))
    assert 0.1 < ref.pvalue < 0.6  # an informative p-value, not the floor
    sd = np.sqrt(ref.pvalue * (1 - ref.pvalue) / B)
    assert abs(ours.p_value - ref.pvalue) < 4 * np.sqrt(2) * sd
    assert np.isnan(ours.ci_low) and ours.method == "permutation"


def test_sign_flip_p_value_matches_exact_enumeration() -> None:
    rng = np.random.default_rng(3)
    n = 12
    y = rng.uniform(0, 5, n)
    a = y + rng.normal(0, 1, n)
    b = y + rng.normal(0, 0.7, n)
    d = sq_err(b, y) - sq_err(a, y)
    flips = np.array(list(itertools.product([-1, 1], repeat=n)))
    null = (flips * d).mean(axis=1)
    exact = np.mean(np.abs(null) >= abs(d.mean()) - 1e-12)
    B = 20000
    ours = paired_permutation(mse, a, b, y, per_example=sq_err, n_resamples=B, seed=4)
    assert abs(ours.p_value - exact) < 4 * np.sqrt(exact * (1 - exact) / B) + 1 / B


@pytest.mark.parametrize("test", ["bootstrap", "permutation"])
def test_false_positive_rate_under_the_null(test: str) -> None:
    """Exchangeable systems: rejections at alpha = 0.05 stay near 5 % (binomial 99.9 % bounds)."""
    rng = np.random.default_rng(21)
    reps, n, rejections = 400, 100, 0
    for i in range(reps):
        y = rng.uniform(0, 5, n)
        a = y + rng.normal(0, 1, n)
        b = y + rng.normal(0, 1, n)
        t = paired_test(test, mse, a, b, y, per_example=sq_err, n_resamples=400, seed=i)
        rejections += t.p_value < 0.05
    lo, hi = stats.binom.ppf([0.0005, 0.9995], reps, 0.05)
    assert lo <= rejections <= hi


def test_one_sided_alternatives() -> None:
    rng = np.random.default_rng(2)
    y = rng.uniform(0, 5, 300)
    a = y + rng.normal(0, 1, 300)
    b = y + rng.normal(0, 0.5, 300)  # b better: higher rho
    greater = paired_bootstrap(spearman, a, b, y, n_resamples=300, alternative="greater")
    less = paired_bootstrap(spearman, a, b, y, n_resamples=300, alternative="less")
    assert greater.p_value < 0.01 < 0.99 < less.p_value


def test_seeded_and_reproducible() -> None:
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 5, 50)
    a, b = y + rng.normal(0, 1, 50), y + rng.normal(0, 1, 50)
    one = paired_bootstrap(spearman, a, b, y, n_resamples=200, seed=5)
    two = paired_bootstrap(spearman, a, b, y, n_resamples=200, seed=5)
    other = paired_bootstrap(spearman, a, b, y, n_resamples=200, seed=6)
    assert np.array_equal(one.distribution, two.distribution)
    assert not np.array_equal(one.distribution, other.distribution)
    assert cell_seed(0, "m", "stsb") == cell_seed(0, "m", "stsb") != cell_seed(0, "m", "sickr")


def test_identical_systems_give_p_one() -> None:
    y = np.linspace(0, 5, 40)
    a = y + np.sin(np.arange(40))
    t = paired_bootstrap(spearman, a, a.copy(), y, n_resamples=100)
    assert t.delta == 0 and t.p_value == 1.0 and t.ci_low == t.ci_high == 0


def test_invalid_inputs() -> None:
    y = np.arange(5.0)
    with pytest.raises(DataError, match="equal length"):
        paired_bootstrap(spearman, y, y[:4], y)
    with pytest.raises(DataError, match="at least 2"):
        paired_bootstrap(spearman, y[:1], y[:1], y[:1])
    with pytest.raises(ConfigError, match="n_resamples"):
        paired_bootstrap(spearman, y, y, y, n_resamples=0)
    with pytest.raises(ConfigError, match="ci_method"):
        paired_bootstrap(spearman, y, y, y, ci_method="basic")
    with pytest.raises(ConfigError, match="alternative"):
        paired_permutation(spearman, y, y, y, alternative="bigger")
    with pytest.raises(ConfigError, match="unknown paired test"):
        paired_test("wilcoxon", spearman, y, y, y)


def test_metric_undefined_on_most_resamples_is_an_error() -> None:
    def strict(p: np.ndarray, r: np.ndarray) -> float:
        if np.unique(p).size < p.size:  # any repeated example makes it undefined
            raise DataError("undefined")
        return 0.0

    y = np.arange(30.0)
    with pytest.raises(DataError, match="undefined on"):
        paired_bootstrap(strict, y, y + 1, y, n_resamples=50)
