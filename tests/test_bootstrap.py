"""evalkit.bootstrap: over tasks (exact small cases, analytic probabilities) and over examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evalkit import ConfigError, DataError, Metric
from evalkit.aggregation import create_aggregators
from evalkit.bootstrap import bootstrap_examples, bootstrap_tasks
from evalkit.cli import build_cli
from evalkit.plugins import Host
from evalkit.results import RunResult


@pytest.fixture(scope="module")
def host() -> Host:
    return Host(autoload=False)


def by_system(frame: pd.DataFrame, rule: str) -> pd.DataFrame:
    return frame[frame["rule"] == rule].set_index("system")


def test_probability_of_beating_the_reference_matches_the_exact_resampling_distribution(
    host: Host,
) -> None:
    # Two tasks; A is far ahead on t1 and slightly behind on t2. Of the 4 equally likely
    # resamples (t1,t1), (t1,t2), (t2,t1), (t2,t2), A's mean beats H's in the first three.
    table = pd.DataFrame({"t1": [90.0, 70.0], "t2": [78.0, 80.0]}, index=["A", "H"])
    out = bootstrap_tasks(
        table, create_aggregators(host, ["mean"]), reference="H", n_resamples=4000, seed=1
    )
    mean = by_system(out, "mean")
    assert mean.at["A", "p_beat_reference"] == pytest.approx(0.75, abs=0.025)  # 3.6 sd
    assert np.isnan(mean.at["H", "p_beat_reference"])
    assert (mean.at["A", "rank_low"], mean.at["A", "rank_high"]) == (1, 2)
    assert mean.at["A", "value_low"] == 78.0 and mean.at["A", "value_high"] == 90.0


def test_dominance_and_ties(host: Host) -> None:
    table = pd.DataFrame(
        {"t1": [9.0, 5.0, 5.0], "t2": [8.0, 4.0, 4.0], "t3": [7.0, 6.0, 6.0]}, index=["A", "B", "C"]
    )
    out = bootstrap_tasks(
        table,
        create_aggregators(host, ["mean", "borda", "win_rate"]),
        reference="B",
        n_resamples=300,
        seed=0,
    )
    for rule in ("mean", "borda", "win_rate"):
        r = by_system(out, rule)
        assert (r.at["A", "rank_low"], r.at["A", "rank_high"]) == (1, 1)
        assert (r.at["B", "rank_low"], r.at["B", "rank_high"]) == (2, 2)  # B and C always tie
        assert (r.at["C", "rank_low"], r.at["C", "rank_high"]) == (2, 2)
        assert r.at["A", "p_beat_reference"] == 1.0
        assert r.at["C", "p_beat_reference"] == 0.5  # ties count half
        assert (r["n_ranked"] == 300).all()


def test_same_seed_same_result_and_rows_unscored_on_the_full_table_stay_out(host: Host) -> None:
    table = pd.DataFrame({"t1": [3.0, 0.0, 2.0], "t2": [1.0, 5.0, np.nan]}, index=["A", "B", "C"])
    aggs = create_aggregators(host, ["geometric"], nonpositive="skip")
    one = bootstrap_tasks(table, aggs, n_resamples=50, seed=7)
    two = bootstrap_tasks(table, aggs, n_resamples=50, seed=7)
    pd.testing.assert_frame_equal(one, two)
    gm = by_system(one, "geometric")
    assert np.isnan(gm.at["B", "rank_low"]) and np.isnan(gm.at["C", "rank_low"])
    assert gm.at["A", "rank_low"] == gm.at["A", "rank_high"] == 1


def test_bootstrap_tasks_argument_errors(host: Host) -> None:
    table = pd.DataFrame({"t1": [1.0]}, index=["A"])
    aggs = create_aggregators(host, ["mean"])
    with pytest.raises(ConfigError):
        bootstrap_tasks(table, aggs, n_resamples=0)
    with pytest.raises(ConfigError):
        bootstrap_tasks(table, aggs, confidence=1.0)
    with pytest.raises(ConfigError, match="reference"):
        bootstrap_tasks(table, aggs, reference="Z")


# -- over examples -------------------------------------------------------------------------------
class MeanScore(Metric):
    """The mean of the predictions: decomposes per example, so its bootstrap has a known spread."""

    name = "mean_score"
    task_types = ("sts",)

    def compute(self, *, predictions: Any, references: Any) -> float:
        return float(np.mean(predictions))


class Corr(Metric):
    name = "corr"
    task_types = ("sts",)

    def compute(self, *, predictions: Any, references: Any) -> float:
        pred, ref = np.asarray(predictions), np.asarray(references)
        if np.all(pred == pred[0]) or np.all(ref == ref[0]):
            raise DataError("constant input")
        return float(np.corrcoef(pred, ref)[0, 1])


def make_run(
    preds: dict[str, np.ndarray], refs: np.ndarray, metric: Metric, dataset: str = "d"
) -> RunResult:
    rows, results = [], []
    for method, p in preds.items():
        rows.append(
            pd.DataFrame(
                {
                    "method": method,
                    "dataset": dataset,
                    "split": "test",
                    "row": np.arange(len(p)),
                    "prediction": p,
                    "reference": refs,
                }
            )
        )
        results.append(
            {
                "method": method,
                "dataset": dataset,
                "split": "test",
                "metric": metric.name,
                "value": metric.compute(predictions=p, references=refs),
                "n": len(p),
            }
        )
    return RunResult(pd.DataFrame(results), pd.concat(rows, ignore_index=True), {})


def test_example_bootstrap_interval_matches_normal_theory(host: Host) -> None:
    rng = np.random.default_rng(0)
    n = 2000
    x = rng.normal(0.0, 1.0, n)
    run = make_run({"m": x}, np.zeros(n), MeanScore())
    boot = bootstrap_examples(
        run,
        {"mean_score": MeanScore()},
        create_aggregators(host, ["mean"]),
        n_resamples=2000,
        seed=3,
    )
    cell = boot.cells.iloc[0]
    half = 1.959964 * x.std(ddof=1) / np.sqrt(n)  # percentile CI of a mean ~ mean +- z * se
    assert cell["ci_low"] == pytest.approx(x.mean() - half, abs=0.15 * half)
    assert cell["ci_high"] == pytest.approx(x.mean() + half, abs=0.15 * half)
    assert cell["n_ok"] == 2000


def test_example_bootstrap_is_paired_across_methods(host: Host) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, 300)
    run = make_run({"a": x, "same": x.copy(), "b": x + 0.01}, np.zeros(300), MeanScore())
    boot = bootstrap_examples(
        run,
        {"mean_score": MeanScore()},
        create_aggregators(host, ["mean"]),
        n_resamples=200,
        seed=0,
    )
    agg = boot.aggregates.set_index("method")
    # b is ahead on every resample (same rows for all methods); a and "same" always tie
    assert (agg.at["b", "rank_low"], agg.at["b", "rank_high"]) == (1, 1)
    assert (agg.at["a", "rank_low"], agg.at["a", "rank_high"]) == (2, 2)
    assert (agg.at["same", "rank_low"], agg.at["same", "rank_high"]) == (2, 2)


def test_undefined_resamples_are_counted_not_hidden(host: Host) -> None:
    refs = np.array([0.0, 0.0, 0.0, 1.0])
    run = make_run({"m": np.array([0.1, 0.2, 0.3, 0.9])}, refs, Corr())
    boot = bootstrap_examples(
        run, {"corr": Corr()}, create_aggregators(host, ["mean"]), n_resamples=400, seed=0
    )
    # a resample of the 3 zero references only: P = (3/4)^4 = 0.316
    failed = boot.failures["corr on m/d/test"]
    assert failed == pytest.approx(400 * 0.75**4, abs=40)
    assert boot.cells.iloc[0]["n_ok"] == 400 - failed


def test_example_bootstrap_errors(host: Host) -> None:
    run = make_run({"m": np.arange(5.0)}, np.zeros(5), MeanScore())
    with pytest.raises(ConfigError, match="no results"):
        bootstrap_examples(run, {"other": MeanScore()}, create_aggregators(host, ["mean"]))
    run.predictions = run.predictions.iloc[0:0]
    with pytest.raises(DataError, match="per-example predictions"):
        bootstrap_examples(run, {"mean_score": MeanScore()}, create_aggregators(host, ["mean"]))


def test_compare_bootstrap_cli(data_dir: Path) -> None:
    result = CliRunner().invoke(
        build_cli(),
        [
            "compare",
            "--datasets",
            "stsb,sts13",
            "--methods",
            "tfidf-cosine",
            "--metrics",
            "spearman",
            "--aggregate",
            "mean,geometric",
            "--bootstrap",
            "40",
            "--seed",
            "5",
            "--format",
            "json",
            "--no-save",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["bootstrap"]["n_resamples"] == 40 and doc["bootstrap"]["seed"] == 5
    for rec in doc["results"]:
        assert rec["ci_low"] < rec["value"] < rec["ci_high"]
        assert rec["ci_high"] - rec["ci_low"] < 0.1  # n >= 1379 pairs: a narrow interval
    aggs = {a["aggregator"]: a for a in doc["bootstrap"]["aggregates"]}
    assert aggs["geometric"]["rank_low"] == aggs["geometric"]["rank_high"] == 1
    table = (
        CliRunner()
        .invoke(
            build_cli(),
            [
                "compare",
                "--datasets",
                "stsb",
                "--methods",
                "tfidf-cosine",
                "--metrics",
                "spearman",
                "--bootstrap",
                "20",
                "--no-save",
            ],
            catch_exceptions=False,
        )
        .stdout
    )
    assert "95% bootstrap intervals" in table and "paired bootstrap over examples" in table
