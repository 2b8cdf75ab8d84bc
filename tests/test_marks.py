"""Within-dataset marks (evalkit.marks): Williams' test, the vectorised paired bootstrap, the frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import evalkit
from evalkit.marks import bootstrap_p_values, significance_marks, williams_test
from evalkit.plugins import get_host
from evalkit.results import RunResult
from evalkit.stats import paired_bootstrap


class AbsError(evalkit.Metric):
    """Mean absolute error (lower is better), decomposable."""

    name = "abs_error"
    higher_is_better = False

    def compute(self, *, predictions: Any, references: Any) -> float:
        return float(np.mean(np.abs(np.asarray(predictions) - np.asarray(references))))

    def per_example(self, *, predictions: Any, references: Any) -> np.ndarray:
        return np.abs(np.asarray(predictions, dtype=float) - np.asarray(references, dtype=float))


def _false(v: Any) -> bool:
    """A definite "significantly worse" mark (not NaN, not True)."""
    return not pd.isna(v) and not bool(v)


def test_williams_test_is_calibrated_under_the_null() -> None:
    """Two systems equally correlated with the gold: about alpha of the tests reject (Monte Carlo)."""
    rng = np.random.default_rng(0)
    n, sims = 60, 2000
    p = np.empty(sims)
    for s in range(sims):
        y = rng.normal(size=n)
        shared = rng.normal(size=n)
        a = y + 0.8 * shared + rng.normal(size=n)
        b = y + 0.8 * shared + rng.normal(size=n)
        r = np.corrcoef(np.vstack([y, a, b]))
        p[s] = williams_test(r[0, 1], r[0, 2], r[1, 2], n)[1]
    assert 0.035 < np.mean(p <= 0.05) < 0.065
    assert sps.kstest(p, "uniform").pvalue > 1e-3


def test_williams_test_direction_and_degenerate_cases() -> None:
    t, p = williams_test(0.8, 0.6, 0.5, 100)
    assert t > 0 and p < 0.01
    t2, p2 = williams_test(0.6, 0.8, 0.5, 100)
    assert t2 == pytest.approx(-t) and p2 == pytest.approx(p)
    assert williams_test(0.7, 0.7, 0.9, 50) == (0.0, 1.0)


def test_vectorised_bootstrap_equals_the_paired_bootstrap_of_evalkit_stats() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(size=300)
    best = ref + rng.normal(0, 0.5, 300)
    others = np.column_stack([ref + rng.normal(0, 0.55, 300), ref + rng.normal(0, 0.9, 300)])
    metric = AbsError()
    diffs = np.column_stack([metric.per_example(predictions=best, references=ref)
                             - metric.per_example(predictions=others[:, j], references=ref) for j in range(2)])
    ours = bootstrap_p_values(diffs, 500, seed=7)
    for j in range(2):
        ref_test = paired_bootstrap(lambda p, r: metric.compute(predictions=p, references=r), others[:, j], best,
                                    ref, per_example=lambda p, r: metric.per_example(predictions=p, references=r),
                                    n_resamples=500, seed=7)
        assert ours[j] == pytest.approx(ref_test.p_value, abs=1e-12)


def _run(metric_name: str, preds: dict[str, dict[str, np.ndarray]], refs: dict[str, np.ndarray],
         metric: evalkit.Metric) -> tuple[RunResult, pd.DataFrame]:
    rows, frames = [], []
    for method, by_ds in preds.items():
        for ds, p in by_ds.items():
            frames.append(pd.DataFrame({"method": method, "dataset": ds, "split": "test",
                                        "row": np.arange(len(p)), "prediction": p, "reference": refs[ds]}))
            rows.append({"method": method, "dataset": ds, "split": "test", "metric": metric_name,
                         "value": float(metric.compute(predictions=p, references=refs[ds])), "n": len(p)})
    run = RunResult(pd.DataFrame(rows), pd.concat(frames, ignore_index=True), {}, Path("x"))
    table = run.results.pivot(index="method", columns="dataset", values="value").reindex(list(preds))
    return run, table


def test_marks_on_a_correlation_metric() -> None:
    rng = np.random.default_rng(2)
    refs = {d: rng.normal(size=500) for d in ("d1", "d2")}
    preds = {
        "good": {d: r + rng.normal(0, 0.6, 500) for d, r in refs.items()},
        "twin": {d: r + rng.normal(0, 0.6, 500) for d, r in refs.items()},
        "bad": {d: r + rng.normal(0, 2.0, 500) for d, r in refs.items()},
    }
    metric = get_host().metrics.create("spearman")
    run, table = _run("spearman", preds, refs, metric)
    marks = significance_marks(run, "spearman", metric, table, alpha=0.05)
    for col in ("d1", "d2"):
        best = [m for m in table.index if marks.best.at[m, col]]
        assert best == [table[col].idxmax()]
        assert _false(marks.indistinct.at["bad", col])
        assert bool(marks.indistinct.at[best[0], col])
        detail = marks.details[col]
        assert detail["test"] == "Williams' t for dependent correlations"
        for c in detail["comparisons"]:
            assert c["against"] == best[0]
    assert "two-sided, Holm-corrected" in marks.legend and "alpha=0.05" in marks.legend


def test_marks_on_a_per_example_metric_with_a_missing_cell() -> None:
    rng = np.random.default_rng(3)
    refs = {d: rng.normal(size=200) for d in ("d1", "d2")}
    preds = {
        "good": {d: r + rng.normal(0, 0.5, 200) for d, r in refs.items()},
        "bad": {d: r + rng.normal(0, 1.5, 200) for d, r in refs.items()},
        "partial": {"d1": refs["d1"] + rng.normal(0, 0.5, 200)},
    }
    metric = AbsError()
    run, table = _run("mae", preds, refs, metric)
    marks = significance_marks(run, "mae", metric, table, alpha=0.05, n_resamples=300)
    assert bool(marks.best.at["good", "d2"]) and not bool(marks.best.at["bad", "d2"])
    assert _false(marks.indistinct.at["bad", "d2"])
    assert pd.isna(marks.best.at["partial", "d2"]) and pd.isna(marks.indistinct.at["partial", "d2"])
    assert marks.details["d1"]["test"] == "paired bootstrap (300 resamples)"
    p = [c["p_value"] for c in marks.details["d1"]["comparisons"]]
    adj = [c["p_adjusted"] for c in marks.details["d1"]["comparisons"]]
    assert adj == pytest.approx(list(np.minimum(1, np.maximum.accumulate(
        np.sort(p) * np.arange(len(p), 0, -1)))[np.argsort(np.argsort(p))]))
