"""evalkit.aggregation: specs, ranks, directions, and the aggregators in comparison reports."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import evalkit
from evalkit import ConfigError, DataError, UnknownNameError
from evalkit.aggregation import aggregate, create_aggregators, parse_aggregator_spec, rank
from evalkit.cli import build_cli
from evalkit.plugins import Host, get_host
from evalkit.report import comparison_report
from evalkit.results import RunResult


@pytest.fixture(scope="module")
def host() -> Host:
    return Host(autoload=False)


def test_parse_aggregator_spec() -> None:
    assert parse_aggregator_spec("mean") == ("mean", {})
    assert parse_aggregator_spec("power:p=2") == ("power", {"p": 2})
    assert parse_aggregator_spec(" power:p=-0.5:nonpositive=skip ") == (
        "power",
        {"p": -0.5, "nonpositive": "skip"},
    )
    for bad in ("", ":p=2", "power:p", "power:=2"):
        with pytest.raises(ConfigError):
            parse_aggregator_spec(bad)


def test_rank_ties_share_the_best_rank_and_ignore_float_noise() -> None:
    values = pd.Series([87.05, 87.05000000000001, 90.0, np.nan, 80.0], index=list("abcde"))
    r = rank(values)
    assert r.tolist()[:3] == [2, 2, 1] and math.isnan(r["d"]) and r["e"] == 4
    assert rank(values, higher_is_better=False).tolist()[:3] == [2, 2, 4]
    assert rank(pd.Series([0.0, -0.0, 1e-300])).tolist() == [2, 2, 1]


def test_aggregate_ranks_follow_the_cells_for_means_and_the_rule_for_rank_rules(host: Host) -> None:
    errors = pd.DataFrame({"d1": [0.1, 0.3], "d2": [0.2, 0.4]}, index=["good", "bad"])
    out = aggregate(
        errors, create_aggregators(host, ["mean", "avg_rank", "borda"]), higher_is_better=False
    )
    # lower error is better: "good" is first under every rule
    assert out["mean_rank"].tolist() == [1, 2]
    assert out["avg_rank"].tolist() == [1.0, 2.0] and out["avg_rank_rank"].tolist() == [1, 2]
    assert out["borda"].tolist() == [2.0, 0.0] and out["borda_rank"].tolist() == [1, 2]


def test_create_aggregators_errors(host: Host) -> None:
    with pytest.raises(UnknownNameError, match="geometric"):
        create_aggregators(host, ["geometrc"])
    with pytest.raises(ConfigError, match="twice"):
        create_aggregators(host, ["mean", "mean"])
    with pytest.raises(ConfigError, match="no parameter"):
        create_aggregators(host, ["mean:p=2"])
    with pytest.raises(ConfigError, match="applies to none"):
        create_aggregators(host, ["avg_rank"], missing="skip")
    aggs = create_aggregators(host, ["geometric:nonpositive=skip"], nonpositive="error")
    assert aggs[0][1].get_params()["nonpositive"] == "skip"  # the spec's own setting wins


def test_label_collisions_are_refused(host: Host) -> None:
    class Fake:
        higher_is_better = None
        rule = ""

        def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
            return table.mean(axis=1)

    t = pd.DataFrame({"a": [1.0]}, index=["x"])
    with pytest.raises(ConfigError, match="collide"):
        aggregate(t, [("mean", Fake()), ("mean_rank", Fake())])  # type: ignore[list-item]


def _run(values: dict[tuple[str, str], float]) -> RunResult:
    rows = [
        {"method": m, "dataset": d, "split": "test", "metric": "spearman", "value": v, "n": 10}
        for (m, d), v in values.items()
    ]
    return RunResult(pd.DataFrame(rows), pd.DataFrame(), {})


def test_comparison_report_applies_policies_and_prints_rules() -> None:
    run = _run({("a", "d1"): 0.5, ("a", "d2"): 0.3, ("b", "d1"): -0.1, ("b", "d2"): 0.9})
    metrics = {"spearman": get_host().metrics.create("spearman")}
    gm = create_aggregators(get_host(), ["geometric"])
    with pytest.raises(DataError, match=r"b \(d1 = -0.1\)"):
        comparison_report(run, metrics, gm)
    aggs = create_aggregators(get_host(), ["mean", "geometric", "avg_rank"], nonpositive="skip")
    report = comparison_report(run, metrics, aggs)
    table = report.tables[0]
    assert table.frame.loc["a", "geometric"] == pytest.approx(100 * math.sqrt(0.5 * 0.3))
    assert math.isnan(table.frame.loc["b", "geometric"])
    # rank rules are not scaled x 100 like the metric's cells
    assert table.frame.loc["a", "avg_rank"] == 1.5 and table.frame.loc["a", "avg_rank rank"] == 1
    notes = "\n".join(table.notes)
    assert "geometric: geometric mean" in notes and "nonpositive=skip" in notes
    assert "geometric: no value for b (cell not > 0: d1 = -0.1)" in notes
    text = get_host().reporters.create("table").render(report)
    assert " 1.50 " in text  # the mean rank keeps its decimals, its rank column is an integer


def test_compare_cli_with_new_aggregators(data_dir: Path, tmp_path: Path) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text(
        'datasets = ["stsb", "sts13"]\nmetrics = ["spearman"]\n'
        'aggregate = ["mean", "geometric", "harmonic", "win_rate", "copeland"]\n'
        '[[methods]]\nname = "tfidf-cosine"\n'
        '[[methods]]\nname = "tfidf-char"\nmethod = "tfidf"\n'
        'params = { analyzer = "char_wb", ngram_range = [2, 4] }\n'
    )
    result = CliRunner().invoke(
        build_cli(),
        ["compare", "--suite", str(suite), "--format", "json", "--no-save"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    values = doc["tables"]["spearman"]["values"]
    aggs = doc["tables"]["spearman"]["aggregates"]
    for method, cells in values.items():
        xs = np.array(list(cells.values()))
        assert aggs[method]["geometric"] == pytest.approx(float(np.exp(np.log(xs).mean())))
        assert aggs[method]["harmonic"] == pytest.approx(float(len(xs) / (1 / xs).sum()))
    # win rate and Copeland from their definitions, for the two methods
    (m1, c1), (m2, c2) = values.items()
    wins = [1.0 if c1[d] > c2[d] else 0.5 if c1[d] == c2[d] else 0.0 for d in c1]
    assert aggs[m1]["win_rate"] == pytest.approx(sum(wins) / len(wins))
    assert aggs[m2]["win_rate"] == pytest.approx(1 - sum(wins) / len(wins))
    expected = 1.0 if sum(wins) > len(wins) / 2 else 0.5 if sum(wins) == len(wins) / 2 else 0.0
    assert aggs[m1]["copeland"] == expected and aggs[m2]["copeland"] == 1 - expected


class TrimmedMean:
    """Mean of each row after dropping its ``trim`` lowest and highest cells (third-party style)."""

    name = "trimmed"
    higher_is_better = None
    rule = "trimmed mean"

    def __init__(self, *, trim: int = 0, missing: str = "exclude") -> None:
        self.trim, self.missing = trim, missing

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        def row(values: pd.Series) -> float:
            cells = values.dropna() if self.missing == "skip" else values
            kept = sorted(cells)[self.trim:len(cells) - self.trim]
            return float(np.mean(kept)) if kept else math.nan

        return table.apply(row, axis=1)


class TrimmedPlugin:
    @evalkit.hookimpl
    def register_aggregators(self, register: Any) -> None:
        register(TrimmedMean)


def test_shared_parameters_reach_any_aggregator_declaring_them() -> None:
    """The core knows no policy names: a third-party aggregator's ``trim`` and ``missing`` are
    passed like the built-ins' ``nonpositive``, and ``--missing`` reaches it on the command line."""
    host = Host(autoload=False, extra_plugins=[("trimmed", TrimmedPlugin())])
    aggs = dict(create_aggregators(host, ["trimmed", "mean", "avg_rank"], trim=1, missing="skip"))
    assert (aggs["trimmed"].trim, aggs["trimmed"].missing, aggs["mean"].get_params()["missing"]) == (1, "skip", "skip")
    table = pd.DataFrame({"a": [1.0, 2.0], "b": [5.0, np.nan], "c": [9.0, 4.0], "d": [2.0, 8.0]}, index=["x", "y"])
    # trimmed mean by hand: x keeps (2, 5) -> 3.5; y skips the gap, keeps (4) -> 4.0
    assert aggs["trimmed"].aggregate(table).tolist() == [3.5, 4.0]
    with pytest.raises(ConfigError, match="--trim 1 applies to none of the aggregators mean; it is taken by trimmed"):
        create_aggregators(host, ["mean"], trim=1)
    with pytest.raises(ConfigError, match="missing='sometimes' is not one of exclude, skip"):
        create_aggregators(host, ["mean"], missing="sometimes")
    from evalkit.plugins import use_host

    with use_host(host):
        res = CliRunner().invoke(build_cli(), ["compare", "--aggregate", "avg_rank", "--missing", "skip",
                                               "--no-save"])
    assert res.exit_code == 2
    assert "--missing skip applies to none of the aggregators avg_rank; it is taken by" in res.stderr
    assert "trimmed" in res.stderr.split("taken by")[1]
