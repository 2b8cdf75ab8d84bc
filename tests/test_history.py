"""Run history: listing and resolving runs, reading results sources, re-scoring stored runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import evalkit
from evalkit import execute, plan
from evalkit.errors import ConfigError, DataError
from evalkit.history import load_source, rescore, resolve_run, run_infos
from evalkit.plugins import Host
from evalkit.results import RunResult
from evalkit.runner import run_suite
from evalkit.suite import ComponentSpec, Suite


class Kendall(evalkit.Metric):
    """Kendall's tau-b (scipy.stats.kendalltau): a metric the stored run was not scored with."""

    name = "kendall"
    task_types = ("sts",)

    def compute(self, *, predictions: Any, references: Any) -> float:
        return float(stats.kendalltau(predictions, references).statistic)


class KendallPlugin:
    @evalkit.hookimpl
    def register_metrics(self, register: Any) -> None:
        register(Kendall)


class Trap(evalkit.Method):
    """Registered as 'tfidf-cosine' while re-scoring: any use of the method fails the test."""

    name = "tfidf-cosine"

    def __init__(self) -> None:
        raise AssertionError("a method was created while re-scoring")

    def fit(self, pairs: pd.DataFrame) -> Trap:
        raise AssertionError("a method was fitted while re-scoring")

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        raise AssertionError("a method was called while re-scoring")


class TrapPlugin:
    @evalkit.hookimpl
    def register_methods(self, register: Any) -> None:
        register(Trap)


def sts_suite(metrics: list[str]) -> Suite:
    return Suite("t", [ComponentSpec("stsb", "stsb", splits=("test", "dev"))],
                 [ComponentSpec("tfidf-cosine", "tfidf-cosine")], [ComponentSpec(m, m) for m in metrics])


def test_rescore_with_an_added_metric_equals_a_fresh_run_without_calling_methods(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = Host(autoload=False, extra_plugins=[("kendall", KendallPlugin())])
    stored = run_suite(sts_suite(["spearman"]), host=host, data_dir=data_dir, cache_dir=None)
    folder = stored.save(tmp_path / "runs", "r1")
    fresh = run_suite(sts_suite(["spearman", "pearson", "kendall"]), host=host, data_dir=data_dir, cache_dir=None)

    # While re-scoring, the only method named tfidf-cosine raises, and so does the runner's factory.
    trap_host = Host(autoload=False, blocked=["tfidf"], extra_plugins=[("kendall", KendallPlugin()),
                                                                        ("trap", TrapPlugin())])

    def no_methods(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("create_method was called while re-scoring")

    monkeypatch.setattr(plan, "create_method", no_methods)
    monkeypatch.setattr(execute, "create_method", no_methods)
    source = load_source(folder, runs_dir=tmp_path / "runs")
    specs = [ComponentSpec(m, m) for m in ("spearman", "pearson", "kendall")]
    again = rescore(source.run, specs, host=trap_host)

    key = ["method", "dataset", "split", "metric"]
    ours = again.results.set_index(key)["value"]
    ref = fresh.results.set_index(key)["value"]
    assert len(ref) == 6  # 2 splits x 3 metrics
    assert ours.index.tolist() == ref.index.tolist()  # same cells in the same order
    assert (ours == ref).all(), (ours - ref).abs().max()  # bit-identical values
    assert again.provenance["rescore"]["from_run"] == "r1"
    assert set(again.provenance["metrics"]) == {"spearman", "pearson", "kendall"}
    assert again.provenance["methods"] == source.run.provenance["methods"]  # how predictions were made
    # Default: re-score with the run's own metrics, which reproduces its stored values.
    same = rescore(source.run, host=trap_host)
    assert (same.results["value"].to_numpy() == stored.results["value"].to_numpy()).all()


def _save(root: Path, run_id: str, started: str, rescored_at: str | None = None) -> Path:
    res = pd.DataFrame([{"method": "m", "dataset": "d", "split": "test", "metric": "spearman", "value": 0.5, "n": 3}])
    preds = pd.DataFrame({"method": "m", "dataset": "d", "split": "test", "row": [0, 1, 2],
                          "prediction": [0.1, 0.3, 0.2], "reference": [1.0, 2.0, 3.0]})
    prov: dict[str, Any] = {"started": started, "suite": "s", "methods": {"m": {}}, "datasets": {"d": {}},
                            "metrics": {"spearman": {"metric": "spearman", "higher_is_better": True}}}
    if rescored_at:
        prov["rescore"] = {"from_run": "old", "at": rescored_at}
    return RunResult(res, preds, prov).save(root, run_id)


def test_run_listing_and_references(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    _save(root, "20240101-000000-aaaaaa", "2024-01-01T00:00:00+00:00")
    _save(root, "20240301-000000-bbbbbb", "2024-03-01T00:00:00+00:00")
    _save(root, "20240201-000000-cccccc", "2024-01-01T00:00:00+00:00", rescored_at="2024-04-01T00:00:00+00:00")
    (root / ".tmp-half-written").mkdir()
    broken = root / "broken"
    broken.mkdir()
    (broken / "run.json").write_text("{not json", encoding="utf-8")
    infos = run_infos(root)
    assert [i.run_id for i in infos] == ["20240201-000000-cccccc", "20240301-000000-bbbbbb",
                                         "20240101-000000-aaaaaa", "broken"]
    assert infos[0].rescored_from == "old" and infos[1].metrics == ["spearman"] and infos[1].scores == 1
    assert infos[-1].error is not None and "unreadable" in infos[-1].error
    assert resolve_run("latest", root).name == "20240201-000000-cccccc"
    assert resolve_run("20240301", root).name == "20240301-000000-bbbbbb"
    with pytest.raises(ConfigError, match="matches 3 runs"):
        resolve_run("2024", root)
    with pytest.raises(ConfigError, match="neither an existing file or folder nor a run id"):
        resolve_run("2023", root)
    with pytest.raises(ConfigError, match="no saved runs"):
        resolve_run("latest", tmp_path / "empty")
    assert run_infos(tmp_path / "missing") == []


@pytest.mark.parametrize(("text", "message"), [
    ('{"results": [\n  {"method": "m",}\n]}', r"b\.json:2:\d+: invalid JSON"),
    ('[1, 2]', r"b\.json: no 'results' list"),
    ('{"results": []}', r"'results' is empty"),
    ('{"results": [3]}', r"results\[0\] must be an object"),
    ('{"results": [{"method": "m", "dataset": "d", "split": "test", "value": 1}]}', r"results\[0\] lacks 'metric'"),
    ('{"results": [{"method": "m", "dataset": "d", "split": "test", "metric": "x", "value": "high"}]}',
     r"results\[0\]: 'value' must be a finite number, got 'high'"),
    ('{"results": [{"method": "m", "dataset": "d", "split": "test", "metric": "x", "value": NaN}]}',
     r"results\[0\]: 'value' must be a finite number"),
    ('{"results": [{"method": "", "dataset": "d", "split": "test", "metric": "x", "value": 1}]}',
     r"results\[0\]: 'method' must be a non-empty string"),
    ('{"results": [{"method": "m", "dataset": "d", "split": "t", "metric": "x", "value": 1},'
     ' {"method": "m", "dataset": "d", "split": "t", "metric": "x", "value": 2}]}',
     r"results\[1\]: cell m/d/t/x appears twice"),
])
def test_malformed_results_json(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_source(path, runs_dir=tmp_path)


def test_malformed_run_folder_names_file_and_line(tmp_path: Path) -> None:
    folder = _save(tmp_path, "r", "2024-01-01")
    csv = folder / "results.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("0.5", "oops"), encoding="utf-8")
    with pytest.raises(DataError, match=r"results\.csv:2: 'value' must be a finite number, got 'oops'"):
        load_source(folder, runs_dir=tmp_path)
    other = tmp_path / "notes.txt"
    other.write_text("hi", encoding="utf-8")
    with pytest.raises(DataError, match=r"notes\.txt: not a run folder or a \.json results file"):
        load_source(other, runs_dir=tmp_path)


def test_compare_json_is_a_source(tmp_path: Path) -> None:
    doc = {"results": [{"method": "m", "dataset": "d", "split": "test", "metric": "spearman", "value": 0.7}],
           "provenance": {"metrics": {"spearman": {"metric": "spearman", "higher_is_better": True}}}}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    src = load_source(path, runs_dir=tmp_path)
    assert src.kind == "json" and not src.has_predictions
    assert src.run.results["value"].tolist() == [0.7]


def test_rescore_errors(tmp_path: Path) -> None:
    host = Host(autoload=False)
    src = load_source(_save(tmp_path, "r", "2024-01-01"), runs_dir=tmp_path)
    empty = RunResult(src.run.results, src.run.predictions.iloc[0:0], src.run.provenance, src.path)
    with pytest.raises(DataError, match="no per-example predictions"):
        rescore(empty, host=host)
    with pytest.raises(ConfigError, match="unknown metric 'spearmn'"):
        rescore(src.run, [ComponentSpec("spearmn", "spearmn")], host=host)
    prov = {**src.run.provenance, "datasets": {"d": {"task_type": "generation"}}}
    gen = RunResult(src.run.results, src.run.predictions, prov, src.path)
    with pytest.raises(ConfigError, match="applies to task types"):
        rescore(gen, [ComponentSpec("pearson", "pearson")], host=host)
