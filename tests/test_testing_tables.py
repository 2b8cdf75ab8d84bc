"""The dataset, aggregator and reporter conformance checks: a correct component passes every
check, and each check fails on a component with the defect it is meant to catch."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evalkit import (
    Aggregator,
    ConfigError,
    DataError,
    DataFile,
    Dataset,
    Report,
    Reporter,
    as_score_table,
)
from evalkit.testing import check_aggregator, check_dataset, check_names, check_reporter, checks_for


def run_check(component: Any, name: str) -> None:
    (chk,) = [c for c in checks_for(component) if c.name == name]
    chk.func(component)


def assert_fails(component: Any, name: str, match: str) -> None:
    with pytest.raises(AssertionError, match=match):
        run_check(component, name)


# -- datasets ----------------------------------------------------------------------------------------
class TinyPairs(Dataset):
    """Tab-separated pairs with a header (sentence1, sentence2, score) in tiny/<split>.tsv, 0-5."""

    name = "tiny"
    task_type = "sts"
    splits = ("dev", "test")
    eval_splits = ("test",)
    dev_split = "dev"
    target_scale = "0-5"

    def files(self, split: str | None = None) -> list[DataFile]:
        return [DataFile(f"tiny/{s}.tsv", rows=3) for s in (self.splits if split is None else (split,))]

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        self.check_split(split)
        path = Path(data_dir) / f"tiny/{split}.tsv"
        if not path.is_file():
            raise DataError(f"dataset 'tiny' needs {path}")
        frame = pd.read_csv(path, sep="\t", dtype={"sentence1": str, "sentence2": str, "score": "float64"})
        return frame[["sentence1", "sentence2", "score"]]


@pytest.fixture
def tiny_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for split in ("dev", "test"):
        (tmp_path / "tiny").mkdir(exist_ok=True)
        (tmp_path / "tiny" / f"{split}.tsv").write_text(
            "sentence1\tsentence2\tscore\nA cat.\tA cat.\t5.0\nA dog.\tA cat.\t1.5\nRain.\tSun.\t0.0\n")
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(tmp_path))
    return tmp_path


class BadSplits(TinyPairs):
    """Evaluates a split it does not have."""

    eval_splits = ("validation",)


class ClassificationWithScore(TinyPairs):
    """A classification set whose gold column is not 'label'."""

    task_type = "pair_classification"


class ShortSha(TinyPairs):
    """Declares a truncated checksum and a parent-folder path."""

    def files(self, split: str | None = None) -> list[DataFile]:
        return [DataFile("../tiny/test.tsv", sha256="abc123")]


class KeyErrorSplit(TinyPairs):
    """Looks splits up in a dict without checking."""

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        return super().load({"dev": "dev", "test": "test"}[split], data_dir)


class RawOpen(TinyPairs):
    """Opens the file without checking it exists."""

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        self.check_split(split)
        return pd.read_csv(Path(data_dir) / f"tiny/{split}.tsv", sep="\t")


class VagueError(TinyPairs):
    """Raises the right error without naming the file."""

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        self.check_split(split)
        raise DataError("data not found")


class TextScores(TinyPairs):
    """Leaves the scores as strings."""

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        frame = super().load(split, data_dir)
        return frame.assign(score=frame["score"].astype(str))


class Shuffled(TinyPairs):
    """Returns the rows in a new random order each time."""

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        return super().load(split, data_dir).sample(frac=1.0, random_state=int(time.perf_counter_ns()) % 2**31)


DATASET_DEFECTS = [
    (BadSplits(), "metadata", "not in splits"),
    (ClassificationWithScore(), "metadata", "'label'"),
    (ShortSha(), "files", "relative to the data directory"),
    (KeyErrorSplit(), "unknown_split", "KeyError"),
    (RawOpen(), "missing_files", "FileNotFoundError"),
    (VagueError(), "missing_files", "does not name a missing file"),
    (TextScores(), "load", "float64"),
]


def test_a_correct_dataset_passes_every_check(tiny_data: Path) -> None:
    outcomes = check_dataset(TinyPairs())
    assert [o.name for o in outcomes] == check_names("dataset")
    assert {o.status for o in outcomes} == {"passed"}


def test_loading_checks_skip_without_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(tmp_path))
    outcomes = {o.name: o for o in check_dataset(TinyPairs())}
    assert outcomes["load"].status == outcomes["deterministic"].status == "skipped"
    assert "tiny/test.tsv" in outcomes["load"].message
    assert outcomes["files"].status == "passed"


@pytest.mark.parametrize(("dataset", "check", "match"), DATASET_DEFECTS,
                         ids=[f"{type(d).__name__}-{c}" for d, c, _ in DATASET_DEFECTS])
def test_each_dataset_check_catches_its_defect(tiny_data: Path, dataset: Dataset, check: str, match: str) -> None:
    run_check(TinyPairs(), check)
    assert_fails(dataset, check, match)


def test_the_dataset_determinism_check_catches_reordering(tiny_data: Path) -> None:
    for _ in range(5):  # the shuffles could coincide; five in a row cannot (p = 6**-5)
        try:
            run_check(Shuffled(), "deterministic")
        except AssertionError as exc:
            assert "differ" in str(exc)
            return
    pytest.fail("five loads in a row came back in the same order")


# -- aggregators -------------------------------------------------------------------------------------
class Median(Aggregator):
    """Median across datasets; a method missing any cell gets no value."""

    name = "median"

    @property
    def rule(self) -> str:
        return "median over datasets; a method with a missing cell gets none; any real value allowed"

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        return as_score_table(table, what="median").median(axis=1, skipna=False)


class NoRule(Median):
    """States no rule."""

    @property
    def rule(self) -> str:
        return ""


class ReturnsArray(Median):
    """Returns a bare array."""

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> Any:
        return super().aggregate(table).to_numpy()


class FirstColumn(Median):
    """Takes the first task only."""

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        return as_score_table(table).iloc[:, 0].astype(float)


class Inverted(Median):
    """Claims higher is better for a value where lower is better."""

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        return -super().aggregate(table)


class Filling(Median):
    """Fills missing cells in the caller's table."""

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        table.fillna(0.0, inplace=True)
        return super().aggregate(table)


class Plain(Median):
    """pandas' median with no validation."""

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        return table.median(axis=1, skipna=False)


class Jittery(Median):
    """Adds unseeded noise below the display precision."""

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        return super().aggregate(table) + np.random.default_rng().normal(0, 1e-9, len(table))


class Centred(Median):
    """Subtracts the grand mean, so one missing cell makes every value NaN."""

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        t = as_score_table(table)
        return t.mean(axis=1) - t.to_numpy().mean()


AGGREGATOR_DEFECTS = [
    (NoRule(), "metadata", "rule"),
    (ReturnsArray(), "result", "not a pandas Series"),
    (Jittery(), "deterministic", "differ"),
    (FirstColumn(), "order_invariant", "reordering the task columns"),
    (Inverted(), "dominance", "better than all others"),
    (Filling(), "no_input_mutation", "modified"),
    (Plain(), "empty_input", "no error was raised"),
    (Plain(), "bad_input", "TypeError"),
    (Centred(), "missing_cell", "rows without missing cells"),
]


def test_a_correct_aggregator_passes_every_check() -> None:
    outcomes = check_aggregator(Median())
    assert [o.name for o in outcomes] == check_names("aggregator")
    assert {o.status for o in outcomes} == {"passed"}


@pytest.mark.parametrize(("aggregator", "check", "match"), AGGREGATOR_DEFECTS,
                         ids=[f"{type(a).__name__}-{c}" for a, c, _ in AGGREGATOR_DEFECTS])
def test_each_aggregator_check_catches_its_defect(aggregator: Aggregator, check: str, match: str) -> None:
    run_check(Median(), check)
    assert_fails(aggregator, check, match)


# -- reporters ---------------------------------------------------------------------------------------
class Tsv(Reporter):
    """Tab-separated values, one block per table, missing cells empty."""

    name = "tsv"
    extension = "tsv"

    def render(self, report: Report) -> str:
        return "".join(t.frame.to_csv(sep="\t", na_rep="", float_format="%.4f") for t in report.tables)


class DottedExtension(Tsv):
    """Writes the extension with a dot."""

    extension = ".tsv"


class RowsOnly(Tsv):
    """Drops the column names."""

    def render(self, report: Report) -> str:
        return "".join(t.frame.to_csv(sep="\t", header=False, na_rep="") for t in report.tables)


class NanText(Tsv):
    """Writes missing cells as pandas prints them ('NaN')."""

    def render(self, report: Report) -> str:
        return "".join(t.frame.to_string() + "\n" for t in report.tables)


class Stamped(Tsv):
    """Adds a timestamp."""

    def render(self, report: Report) -> str:
        return f"# {time.perf_counter_ns()}\n" + super().render(report)


class LaxJson(Reporter):
    """JSON with NaN for missing cells."""

    name = "laxjson"
    extension = "json"

    def render(self, report: Report) -> str:
        tables = {t.title: t.frame.to_dict() for t in report.tables}
        return json.dumps({"tables": tables, **report.payload}, ensure_ascii=False) + "\n"


class Rounding(Tsv):
    """Rounds the caller's frames in place."""

    def render(self, report: Report) -> str:
        for t in report.tables:
            t.frame.update(t.frame.round(1))
        return super().render(report)


class FirstTable(Tsv):
    """Indexes the first table without looking."""

    def render(self, report: Report) -> str:
        return report.tables[0].frame.to_csv(sep="\t", na_rep="")


REPORTER_DEFECTS = [
    (DottedExtension(), "metadata", "without dot"),
    (RowsOnly(), "render", "does not show"),
    (NanText(), "render", "'nan'"),
    (Stamped(), "deterministic", "differ"),
    (LaxJson(), "machine_readable", "not strict JSON"),
    (Rounding(), "no_input_mutation", "modified"),
    (FirstTable(), "empty_report", "IndexError"),
]


def test_a_correct_reporter_passes_every_check() -> None:
    outcomes = {o.name: o.status for o in check_reporter(Tsv())}
    assert list(outcomes) == check_names("reporter")
    assert outcomes.pop("machine_readable") == "skipped"  # no parser for .tsv
    assert set(outcomes.values()) == {"passed"}


@pytest.mark.parametrize(("reporter", "check", "match"), REPORTER_DEFECTS,
                         ids=[f"{type(r).__name__}-{c}" for r, c, _ in REPORTER_DEFECTS])
def test_each_reporter_check_catches_its_defect(reporter: Reporter, check: str, match: str) -> None:
    if check != "machine_readable":
        run_check(Tsv(), check)
    assert_fails(reporter, check, match)


def test_every_check_has_a_defect_it_catches() -> None:
    shared = {"signatures", "get_params", "pickle"}  # caught in tests/test_testing_checks.py
    for kind, defects in (("dataset", DATASET_DEFECTS), ("aggregator", AGGREGATOR_DEFECTS),
                          ("reporter", REPORTER_DEFECTS)):
        caught = {c for _, c, _ in defects} | shared | ({"deterministic"} if kind == "dataset" else set())
        assert caught == set(check_names(kind)), kind


def test_config_error_is_what_unknown_splits_raise() -> None:
    with pytest.raises(ConfigError, match="splits are dev, test"):
        TinyPairs().check_split("train")
