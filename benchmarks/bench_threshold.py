"""Best-F1 threshold search: evalkit vs scikit-learn's precision_recall_curve vs a bare argsort.

For n = 1e4 .. 1e7 scored pairs (float64 similarity scores, 0/1 labels, 35% positive, scores
shifted up for positives and rounded to 1e-6 so that ties occur), times in one run, each the
best of several repeats taken in turn:

- evalkit: ``evalkit_pairclass.threshold.best_threshold(scores, labels, objective="f1")``
  (validation, the exact sweep and the guarded midpoint threshold);
- sklearn: ``precision_recall_curve(labels, scores)``, then F1 = 2PR / (P + R) and its argmax;
- argsort: ``numpy.argsort(scores)``, the floor of any method that orders the scores.

Both searches must find the same best F1. Targets at n = 1e7: evalkit at most 1.5x the bare
sort and at least 1.5x faster than the scikit-learn route. The last line is machine-readable:
``ratio_vs_sort=<evalkit / argsort> speedup_vs_sklearn=<sklearn / evalkit>`` (at the largest n).

    python benchmarks/bench_threshold.py [--sizes 1e4,1e5,1e6,1e7] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from evalkit_pairclass.threshold import best_threshold
from sklearn.metrics import precision_recall_curve


def sklearn_best_f1(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    p, r, t = precision_recall_curve(labels, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    i = int(np.argmax(f1))
    return float(f1[i]), float(t[min(i, t.size - 1)])


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1e4,1e5,1e6,1e7")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    print(f"# numpy {np.__version__}, python {platform.python_version()}, {platform.machine()}")
    print(f"{'n':>10} {'evalkit_s':>10} {'sklearn_s':>10} {'argsort_s':>10} {'ratio_vs_sort':>14} "
          f"{'speedup_vs_sklearn':>19}")
    ratio = speedup = float("nan")
    for n in sizes:
        rng = np.random.default_rng(n)
        y = rng.random(n) < 0.35
        s = np.round(rng.normal(size=n) + 1.0 * y, 6)
        ours = best_threshold(s, y, objective="f1")
        ref, _ = sklearn_best_f1(s, y)
        assert abs(ours.value - ref) < 1e-12, (n, ours.value, ref)
        reps = args.repeats if n < 10**7 else max(2, args.repeats - 1)
        reps = reps if n >= 10**6 else 10 * reps
        best = {"evalkit": np.inf, "sklearn": np.inf, "argsort": np.inf}
        for _ in range(reps):
            best["argsort"] = min(best["argsort"], timed(np.argsort, s))
            best["evalkit"] = min(best["evalkit"], timed(best_threshold, s, y))
            best["sklearn"] = min(best["sklearn"], timed(sklearn_best_f1, s, y))
        ratio = best["evalkit"] / best["argsort"]
        speedup = best["sklearn"] / best["evalkit"]
        print(f"{n:>10} {best['evalkit']:>10.4f} {best['sklearn']:>10.4f} {best['argsort']:>10.4f} "
              f"{ratio:>14.2f} {speedup:>19.2f}", flush=True)
    print(f"ratio_vs_sort={ratio:.2f} speedup_vs_sklearn={speedup:.2f}")


if __name__ == "__main__":
    main()
