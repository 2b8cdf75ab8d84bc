"""Run folders: atomic save, load round trip, provenance, malformed folders."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evalkit.errors import DataError
from evalkit.results import RunResult, load_run, records


def make_run() -> RunResult:
    results = pd.DataFrame([
        {"method": "m", "dataset": "d", "split": "test", "metric": "spearman", "value": 0.5, "n": 3},
        {"method": "m", "dataset": "d", "split": "test", "metric": "f1", "value": 0.9, "n": 3, "threshold": 0.3},
    ])
    preds = pd.DataFrame({"method": "m", "dataset": "d", "split": "test", "row": [0, 1, 2],
                          "prediction": [0.1, 0.2, 0.3], "reference": [1.0, 2.0, 3.0], "role": "eval"})
    return RunResult(results, preds, {"evalkit_version": "x", "git_commit": None})


def test_records_drop_empty_extras() -> None:
    recs = records(make_run().results)
    assert "threshold" not in recs[0] and recs[1]["threshold"] == 0.3
    assert json.dumps(recs)  # JSON-serialisable


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    run = make_run()
    folder = run.save(tmp_path, "r1")
    assert sorted(p.name for p in folder.iterdir()) == ["predictions.csv.gz", "results.csv", "run.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["r1"]  # no temporary folder left behind
    back = load_run(folder)
    pd.testing.assert_frame_equal(back.predictions, run.predictions)
    assert back.results["value"].tolist() == [0.5, 0.9]
    assert back.provenance == run.provenance
    with pytest.raises(DataError, match="already exists"):
        run.save(tmp_path, "r1")


def test_runs_saved_before_roles_load_as_evaluated_rows(tmp_path: Path) -> None:
    run = make_run()
    run.predictions = run.predictions.drop(columns="role")
    back = load_run(run.save(tmp_path, "old"))
    assert back.predictions["role"].tolist() == ["eval"] * 3


def test_malformed_run_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"run\.json is missing"):
        load_run(tmp_path)
    (tmp_path / "run.json").write_text('{"schema": 1,\n "results": [}', encoding="utf-8")
    with pytest.raises(DataError, match=r"run\.json:2:\d+: invalid JSON"):
        load_run(tmp_path)
