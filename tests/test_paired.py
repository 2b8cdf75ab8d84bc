"""Paired comparison of two sources cell by cell (evalkit diff)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalkit.check_output import diff_report
from evalkit.errors import ConfigError
from evalkit.history import Source
from evalkit.paired import PairedSettings, diff_runs
from evalkit.plugins import Host
from evalkit.results import RunResult


def source(preds: dict[str, np.ndarray], y: np.ndarray, name: str, *, keep_preds: bool = True) -> Source:
    rows, frames = [], []
    for method, p in preds.items():
        for metric, fn in (("spearman", stats.spearmanr), ("pearson", stats.pearsonr)):
            rows.append({"method": method, "dataset": "d", "split": "test", "metric": metric,
                         "value": float(fn(p, y).statistic), "n": len(y)})
        frames.append(pd.DataFrame({"method": method, "dataset": "d", "split": "test", "row": np.arange(len(y)),
                                    "prediction": p, "reference": y}))
    preds_frame = pd.concat(frames, ignore_index=True)
    if not keep_preds:
        preds_frame = preds_frame.iloc[0:0]
    return Source(RunResult(pd.DataFrame(rows), preds_frame, {}), Path(name), "run" if keep_preds else "json")


@pytest.fixture(scope="module")
def runs() -> tuple[Source, Source]:
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 5, 300)
    e = rng.normal(0, 1.5, 300)
    a = source({"x": y + e, "same": y + e}, y, "a")
    b = source({"x": y + 0.8 * e, "same": y + e, "new": y}, y, "b")
    return a, b


def test_diff_cells_intervals_and_missing(runs: tuple[Source, Source]) -> None:
    a, b = runs
    settings = PairedSettings(n_resamples=300, seed=1)
    cells, missing = diff_runs(a, b, settings=settings, host=Host(autoload=False))
    assert len(cells) == 4 and len(missing) == 2
    assert set(missing["only_in"]) == {"b"} and set(missing["method"]) == {"new"}
    x = cells[(cells["method"] == "x") & (cells["metric"] == "spearman")].iloc[0]
    y = a.run.predictions.query("method == 'x'")["reference"].to_numpy()
    pa = a.run.predictions.query("method == 'x'")["prediction"].to_numpy()
    pb = b.run.predictions.query("method == 'x'")["prediction"].to_numpy()
    assert x["delta"] == pytest.approx(stats.spearmanr(pb, y).statistic - stats.spearmanr(pa, y).statistic)
    assert x["ci_low"] < x["delta"] < x["ci_high"] and x["ci_low"] > 0
    assert x["p_value"] < 0.01 and x["better"] == "b" and x["n"] == 300
    same = cells[cells["method"] == "same"]
    assert (same["delta"] == 0).all() and (same["p_value"] == 1).all() and (same["better"] == "=").all()
    report = diff_report(cells, missing, a="a", b="b", settings=settings, tested=True)
    assert any("only in b: new d/test spearman" in n for n in report.tables[0].notes)


def test_diff_two_methods_of_one_run(runs: tuple[Source, Source]) -> None:
    _, b = runs
    cells, missing = diff_runs(b, b, method_a="x", method_b="new", settings=PairedSettings(n_resamples=200),
                               host=Host(autoload=False))
    assert set(cells["method"]) == {"new"} and missing.empty
    assert (cells["better"] == "b").all()  # the gold itself beats any noisy system
    with pytest.raises(ConfigError, match="has no method 'nope'"):
        diff_runs(b, b, method_a="x", method_b="nope", host=Host(autoload=False))
    with pytest.raises(ConfigError, match="give both"):
        diff_runs(b, b, method_a="x", host=Host(autoload=False))


def test_diff_without_predictions_has_no_intervals(runs: tuple[Source, Source]) -> None:
    _, b = runs
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 5, 300)
    scores_only = source({"x": y}, y, "a.json", keep_preds=False)
    cells, _ = diff_runs(scores_only, b, host=Host(autoload=False))
    assert cells["ci_low"].isna().all() and cells["p_value"].isna().all()
    assert cells["delta"].notna().all()
