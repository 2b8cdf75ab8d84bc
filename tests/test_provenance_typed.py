"""The typed Provenance: saved runs of main load and save back byte for byte; dict-like reading."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evalkit.cells import Cell, cell_key_inputs
from evalkit.provenance import Provenance
from evalkit.results import RunResult, load_run
from evalkit.suite import ComponentSpec

RUNJSON = Path(__file__).parent / "fixtures" / "main_results" / "runjson"


def dump(doc: dict) -> str:
    """How main's ``RunResult.save`` wrote ``run.json``."""
    return json.dumps(doc, indent=2, default=str) + "\n"


@pytest.mark.parametrize("name", ["sts", "pairclass"])
def test_main_run_json_round_trips_byte_for_byte(name: str) -> None:
    text = (RUNJSON / f"{name}.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    prov = Provenance.from_dict(doc["provenance"])
    assert dump({**doc, "provenance": prov.to_dict()}) == text
    # Typed access to what main wrote.
    assert prov.suite == name
    assert prov.cells["total"] == doc["provenance"]["cells"]["total"]
    assert prov.git_commit == doc["provenance"]["git_commit"]
    assert prov.limit is None and "limit" not in prov  # main wrote no limit


@pytest.mark.parametrize("name", ["sts", "pairclass"])
def test_saving_a_loaded_main_run_writes_the_same_provenance(name: str, tmp_path: Path) -> None:
    doc = json.loads((RUNJSON / f"{name}.json").read_text(encoding="utf-8"))
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_text(dump(doc), encoding="utf-8")
    pd.DataFrame.from_records(doc["results"]).to_csv(folder / "results.csv", index=False)
    run = load_run(folder)
    assert isinstance(run.provenance, Provenance)
    saved = run.save(tmp_path / "runs", "copy")
    again = json.loads((saved / "run.json").read_text(encoding="utf-8"))
    assert dump(again["provenance"]) == dump(doc["provenance"])
    assert list(again["provenance"]) == list(doc["provenance"])


def test_fresh_record_keeps_mains_key_order_with_limit_added() -> None:
    main_keys = list(json.loads((RUNJSON / "sts.json").read_text(encoding="utf-8"))["provenance"])
    fresh = Provenance(evalkit_version="x", limit=5).to_dict()
    assert [k for k in fresh if k != "limit"] == main_keys
    assert fresh["limit"] == 5


def test_reads_like_a_dict_and_records_extras_without_touching_the_original() -> None:
    prov = Provenance.from_dict({"suite": "s", "cells": {"total": 2}, "custom": [1]})
    assert dict(prov) == {"suite": "s", "cells": {"total": 2}, "custom": [1]}
    assert prov.get("rescore") is None and prov["custom"] == [1]
    with pytest.raises(KeyError):
        prov["missing"]
    marked = prov.with_record("baseline", {"at": "now"})
    assert "baseline" not in prov and marked["baseline"] == {"at": "now"}
    assert list(marked.to_dict()) == ["suite", "cells", "custom", "baseline"]
    assert Provenance.from_dict({}).to_dict() == {}


def test_run_result_types_a_plain_dict() -> None:
    run = RunResult(pd.DataFrame(), pd.DataFrame(), {"suite": "s"})
    assert isinstance(run.provenance, Provenance) and run.provenance.suite == "s"
    run.provenance = {"tune_on": "cv"}
    assert run.provenance.tune_on == "cv"


def test_limit_is_part_of_the_cell_key_only_when_set() -> None:
    cell = Cell(ComponentSpec("m", "tfidf"), ComponentSpec("d", "pairs"), "test")
    args = {"method_params": {}, "dataset_params": {}, "file_sha256": {}, "versions": {}}
    # Without a limit the document is the one main hashed (no new key), so stored cells stay valid.
    assert "limit" not in cell_key_inputs(cell, **args)
    assert cell_key_inputs(cell, **args, limit=10)["limit"] == 10
