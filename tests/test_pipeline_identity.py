"""The plan -> execute -> score pipeline gives bit-identical numbers to the runner it replaced.

The references under ``tests/fixtures/main_results/`` were written by evalkit's main branch before
the pipeline was split (``run_suite`` of one function): the default suite (``sts``) and the
``pairclass`` suite with every split loaded cut to its first 150 rows and no cache. Here the same
suites run through ``run_suite(limit=150, cache_dir=None)``; every value of ``results.csv`` and
``predictions.csv`` must be written identically (floats compared by their shortest round-trip
``repr``, the text pandas writes), the rows must be the same examples (row ids and gold values),
and each results row must announce the limit. ``make reproduce`` compares full runs
(``benchmarks/reproduce_pipeline.py``).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from evalkit.results import RunResult
from evalkit.runner import run_suite
from evalkit.scoring import limit_notes
from evalkit.suite import load_suite

REFERENCE = Path(__file__).parent / "fixtures" / "main_results"
LIMIT = 150


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as pandas writes it to CSV, read back as strings (floats by their ``repr``)."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    buf.seek(0)
    return pd.read_csv(buf, dtype=str, keep_default_na=False)


def reference(name: str, table: str) -> pd.DataFrame:
    path = REFERENCE / name / (f"{table}.csv.gz" if table == "predictions" else f"{table}.csv")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def assert_identical(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    assert list(got.columns[: len(want.columns)]) == list(want.columns), what
    assert len(got) == len(want), what
    for col in want.columns:
        diff = (got[col] != want[col]).to_numpy().nonzero()[0]
        assert diff.size == 0, (
            f"{what}: column {col!r} differs in {diff.size} rows, first at row {diff[0]}: "
            f"{got[col].iloc[diff[0]]!r} != {want[col].iloc[diff[0]]!r}")


@pytest.fixture(scope="module", params=["sts", "pairclass"])
def limited_run(request: pytest.FixtureRequest, data_dir: Path) -> tuple[str, RunResult]:
    suite = load_suite(request.param)
    return request.param, run_suite(suite, data_dir=data_dir, cache_dir=None, limit=LIMIT)


@pytest.mark.data
@pytest.mark.model
def test_results_are_bit_identical_to_main(limited_run: tuple[str, RunResult]) -> None:
    name, run = limited_run
    want = reference(f"{name}-{LIMIT}", "results")
    got = as_text(run.results)
    assert_identical(got, want, f"{name} results")
    # The one column main did not write: every row announces the limit.
    assert set(got.columns) - set(want.columns) == {"note"}
    assert set(got["note"]) == {limit_notes(LIMIT)[0]}
    assert set(got["n"]) == {str(LIMIT)}


@pytest.mark.data
@pytest.mark.model
def test_predictions_are_bit_identical_and_the_same_rows(limited_run: tuple[str, RunResult]) -> None:
    name, run = limited_run
    want = reference(f"{name}-{LIMIT}", "predictions")
    got = as_text(run.predictions)
    assert sorted(got.columns) == sorted(want.columns)
    assert_identical(got[list(want.columns)], want, f"{name} predictions")
    # The cut is the first LIMIT rows of every split, evaluated and tuning rows alike.
    sizes = run.predictions.groupby(["method", "dataset", "split", "role"]).size()
    assert set(sizes) == {LIMIT}
    assert (run.predictions.groupby(["method", "dataset", "split", "role"])["row"].max() == LIMIT - 1).all()


@pytest.mark.data
@pytest.mark.model
def test_limit_is_recorded_in_provenance(limited_run: tuple[str, RunResult]) -> None:
    _, run = limited_run
    assert run.provenance.limit == LIMIT
    assert run.provenance.to_dict()["limit"] == LIMIT


@pytest.mark.data
@pytest.mark.model
def test_processes_resume_and_rescore_match_main(data_dir: Path, tmp_path: Path) -> None:
    """The ``processes`` backend (workers rebuild components and cut their own splits), a resumed
    run (every cell read back from the store) and a re-scored saved run all give main's values."""
    from evalkit.history import load_source, rescore

    suite = load_suite("pairclass")
    want = reference(f"pairclass-{LIMIT}", "results")
    cache = tmp_path / "cache"
    parallel = run_suite(suite, data_dir=data_dir, cache_dir=cache, limit=LIMIT, backend="processes", jobs=2)
    assert parallel.provenance.cells["computed"] == parallel.provenance.cells["total"]
    assert_identical(as_text(parallel.results), want, "processes backend")
    resumed = run_suite(suite, data_dir=data_dir, cache_dir=cache, limit=LIMIT)
    assert resumed.provenance.cells["computed"] == 0
    assert_identical(as_text(resumed.results), want, "resumed run")
    assert_identical(as_text(resumed.predictions)[list(reference(f"pairclass-{LIMIT}", "predictions").columns)],
                     reference(f"pairclass-{LIMIT}", "predictions"), "resumed predictions")
    folder = resumed.save(tmp_path / "runs", "r")
    again = rescore(load_source(folder).run)
    assert_identical(as_text(again.results), want, "rescored run")
    assert set(as_text(again.results)["note"]) == {limit_notes(LIMIT)[0]}
