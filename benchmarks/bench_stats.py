"""Speed of the statistics ``evalkit compare`` and ``evalkit leaderboard`` add (issue 13).

1. Cross-dataset tests (:func:`evalkit.ranktests.cross_dataset_tests`) on a 50 systems x 50
   datasets table with ties, all four post-hocs (Wilcoxon-Holm, Nemenyi, Holm, Bonferroni-Dunn),
   against the peer scikit-posthocs doing the pairwise part (``posthoc_wilcoxon`` with Holm and
   ``posthoc_nemenyi_friedman``) plus ``scipy.stats.friedmanchisquare``.
2. Within-dataset marks (:func:`evalkit.marks.significance_marks`) plus the cross-dataset tests
   at the size of the default suite: 5 methods on 7 datasets of the STS suite's sizes (23,850
   pairs), Spearman's rho and Pearson's r (Williams' test), and a per-example metric (absolute
   error: the vectorised paired bootstrap, B = 1000). Target: under 1 s for the two correlation
   metrics together (what ``compare`` adds to the default suite), measured against the machine
   floor of scoring the 70 cells once.

Run: ``python benchmarks/bench_stats.py``; the last line is JSON.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.marks import significance_marks
from evalkit.plugins import get_host
from evalkit.ranktests import cross_dataset_tests
from evalkit.results import RunResult

SIZES = {"stsb": 1379, "sickr": 9927, "sts12": 3108, "sts13": 1500, "sts14": 3750, "sts15": 3000, "sts16": 1186}
METHODS = ["minilm-cosine", "minilm-whitening", "minilm-wmd", "minilm-wrd", "tfidf-cosine"]


def best_of(fn: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def table_50x50() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    skill = np.linspace(0, 1, 50)[:, None]
    values = np.round(60 + 10 * skill + rng.normal(0, 4, (50, 50)), 0)  # whole points: many ties
    return pd.DataFrame(values, index=[f"s{i}" for i in range(50)], columns=[f"t{j}" for j in range(50)])


def bench_tests() -> dict[str, float]:
    table = table_50x50()
    ours = best_of(lambda: cross_dataset_tests(
        table, posthoc=["wilcoxon-holm", "nemenyi", "holm", "bonferroni-dunn"]))
    out = {"tests_50x50_s": ours}
    try:
        import scikit_posthocs as sp
        from scipy.stats import friedmanchisquare
    except ImportError:  # the peer is a dev dependency
        return out

    def peer() -> None:
        friedmanchisquare(*table.to_numpy())
        sp.posthoc_nemenyi_friedman(table.T.to_numpy())
        sp.posthoc_wilcoxon(list(table.to_numpy()), zero_method="zsplit", method="approx", p_adjust="holm")

    out["peer_50x50_s"] = best_of(peer)
    return out


def default_suite_run() -> tuple[RunResult, dict[str, Any]]:
    rng = np.random.default_rng(1)
    host = get_host()
    metrics = {m: host.metrics.create(m) for m in ("spearman", "pearson")}
    frames, rows = [], []
    for ds, n in SIZES.items():
        ref = rng.uniform(0, 5, n)
        for k, method in enumerate(METHODS):
            pred = ref + rng.normal(0, 1.0 + 0.15 * k, n)
            frames.append(pd.DataFrame({"method": method, "dataset": ds, "split": "test", "row": np.arange(n),
                                        "prediction": pred, "reference": ref}))
            for label, m in metrics.items():
                rows.append({"method": method, "dataset": ds, "split": "test", "metric": label,
                             "value": m.compute(predictions=pred, references=ref), "n": n})
    return RunResult(pd.DataFrame(rows), pd.concat(frames, ignore_index=True), {}, Path("bench")), metrics


def bench_marks() -> dict[str, float]:
    from evalkit.aggregation import pivot

    run, metrics = default_suite_run()
    preds = run.predictions

    def score_cells() -> None:  # the floor: every (method, dataset) scored once by both metrics
        for (_, _), g in preds.groupby(["method", "dataset"], sort=False):
            p, r = g["prediction"].to_numpy(), g["reference"].to_numpy()
            for m in metrics.values():
                m.compute(predictions=p, references=r)

    def stats() -> None:
        for label, m in metrics.items():
            table = pivot(run.results, label)
            cross_dataset_tests(table)
            significance_marks(run, label, m, table)

    floor = best_of(score_cells)
    ours = best_of(stats)

    class AbsError:
        name, higher_is_better = "abs_error", False

        def per_example(self, *, predictions: Any, references: Any) -> np.ndarray:
            return np.abs(np.asarray(predictions) - np.asarray(references))

        def compute(self, *, predictions: Any, references: Any) -> float:
            return float(self.per_example(predictions=predictions, references=references).mean())

    mae = AbsError()
    res = run.results[run.results["metric"] == "spearman"].copy()
    res["metric"] = "mae"
    res["value"] = [mae.compute(predictions=g["prediction"].to_numpy(), references=g["reference"].to_numpy())
                    for _, g in preds.groupby(["method", "dataset"], sort=False)]
    run_mae = RunResult(res, preds, {}, Path("bench"))
    table = pivot(run_mae.results, "mae")
    boot = best_of(lambda: significance_marks(run_mae, "mae", mae, table), repeat=2)  # type: ignore[arg-type]
    return {"marks_default_suite_s": ours, "score_cells_floor_s": floor, "marks_bootstrap_mae_s": boot}


def main() -> None:
    tests = bench_tests()
    peer = tests.get("peer_50x50_s")
    print(f"cross-dataset tests, 50 x 50 table, 4 post-hocs: evalkit {tests['tests_50x50_s']:.3f}s"
          + (f"; scikit-posthocs + scipy (Friedman, Nemenyi, Wilcoxon-Holm) {peer:.3f}s" if peer else ""))
    marks = bench_marks()
    print(f"default-suite size (5 methods x 7 datasets, {sum(SIZES.values())} pairs), Spearman + Pearson: "
          f"tests + marks {marks['marks_default_suite_s']:.3f}s; scoring the 70 cells once "
          f"{marks['score_cells_floor_s']:.3f}s; marks by the vectorised paired bootstrap (absolute error, "
          f"B=1000) {marks['marks_bootstrap_mae_s']:.3f}s")
    result = {"bench": "stats", **tests, **marks, "target_s": 1.0,
              "ratio_peer_over_ours": (peer / tests["tests_50x50_s"]) if peer else None,
              "ratio_marks_over_floor": marks["marks_default_suite_s"] / marks["score_cells_floor_s"],
              "meets_target": marks["marks_default_suite_s"] < 1.0 and tests["tests_50x50_s"] < 1.0}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
