"""Speed of evalkit's paired bootstrap against scipy.stats.bootstrap(paired=True), same data, same B.

Two cases at the size of STS-B test (n = 1379 pairs):

- Spearman's rho difference (corpus-level: recomputed per resample, both libraries loop in Python;
  evalkit calls the registered ``spearman`` metric with its input validation, scipy a bare
  ``spearmanr``);
- a decomposable metric (squared error): evalkit averages per-example differences over index
  matrices, scipy's vectorized statistic does the same.

Prints seconds and the ratio scipy / evalkit (> 1: evalkit is faster). Run:
``python benchmarks/bench_paired.py``.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import stats

from evalkit.plugins import Host
from evalkit.runner import score_predictions
from evalkit.stats import paired_bootstrap


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    rng = np.random.default_rng(0)
    n = 1379
    y = rng.uniform(0, 5, n)
    e = rng.normal(0, 1.5, n)
    a, b = y + e, y + 0.9 * e + rng.normal(0, 0.3, n)
    metric = Host(autoload=False).metrics.create("spearman")

    def rho(p: np.ndarray, r: np.ndarray) -> float:
        return score_predictions(metric, "spearman", p, r)[0]

    B = 1000
    ours, t_ours = timed(lambda: paired_bootstrap(rho, a, b, y, n_resamples=B, seed=0))
    ref, t_ref = timed(lambda: stats.bootstrap(
        (a, b, y), lambda a, b, y: stats.spearmanr(b, y).statistic - stats.spearmanr(a, y).statistic,
        paired=True, vectorized=False, n_resamples=B, method="percentile", rng=np.random.default_rng(1)))
    print(f"spearman difference, n={n}, B={B}: evalkit {t_ours:.2f}s, scipy {t_ref:.2f}s, "
          f"ratio scipy/evalkit {t_ref / t_ours:.2f}; CI evalkit [{ours.ci_low:.4f}, {ours.ci_high:.4f}] "
          f"scipy [{ref.confidence_interval.low:.4f}, {ref.confidence_interval.high:.4f}]")

    def sq(p: np.ndarray, r: np.ndarray) -> np.ndarray:
        return (p - r) ** 2

    B = 10000
    d = sq(b, y) - sq(a, y)
    ours, t_ours = timed(lambda: paired_bootstrap(lambda p, r: float(sq(p, r).mean()), a, b, y, per_example=sq,
                                                  n_resamples=B, seed=0))
    ref, t_ref = timed(lambda: stats.bootstrap((d,), np.mean, n_resamples=B, method="percentile",
                                               rng=np.random.default_rng(1)))
    print(f"squared error difference, n={n}, B={B}: evalkit {t_ours:.2f}s, scipy {t_ref:.2f}s, "
          f"ratio scipy/evalkit {t_ref / t_ours:.2f}; CI evalkit [{ours.ci_low:.4f}, {ours.ci_high:.4f}] "
          f"scipy [{ref.confidence_interval.low:.4f}, {ref.confidence_interval.high:.4f}]")


if __name__ == "__main__":
    main()
