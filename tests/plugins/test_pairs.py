"""The generic ``pairs`` dataset: CSV, TSV and JSONL with a column mapping; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.errors import ConfigError, DataError
from evalkit.plugins import Host


@pytest.fixture(scope="module")
def host() -> Host:
    return Host(autoload=False)


def test_csv_with_mapping_and_quotes(host: Host, tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text('a,b,gold\n"Hello, world",hi,4.5\nx,"say ""y""",0\n', encoding="utf-8")
    df = host.datasets.create("pairs", path=str(f), sentence1="a", sentence2="b", target="gold").load("test", tmp_path)
    assert list(df["sentence1"]) == ["Hello, world", "x"]
    assert list(df["sentence2"]) == ["hi", 'say "y"']
    assert list(df["score"]) == [4.5, 0.0]


def test_tsv_keeps_quote_characters(host: Host, tmp_path: Path) -> None:
    f = tmp_path / "p.tsv"
    f.write_text('sentence1\tsentence2\tscore\n"open quote\tclosed\t1\nb\tc\t2\n', encoding="utf-8")
    df = host.datasets.create("pairs", path="p.tsv").load("test", tmp_path)  # relative to the data dir
    assert list(df["sentence1"]) == ['"open quote', "b"]


def test_jsonl_classification_with_splits(host: Host, tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    rows = [{"sentence1": "a", "sentence2": "b", "label": 1, "split": "dev"},
            {"sentence1": "c", "sentence2": "d", "label": 0, "split": "test"}]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    ds = host.datasets.create("pairs", path=str(f), task_type="pair_classification", split_column="split")
    test = ds.load("test", tmp_path)
    assert list(test["label"]) == [0] and test["label"].dtype == "int64"


def test_errors_name_file_and_line(host: Host, tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text('{"sentence1": "a", "sentence2": "b", "score": 1}\n{"sentence1": "a",\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"p\.jsonl:2:\d+: invalid JSON"):
        host.datasets.create("pairs", path=str(f)).load("test", tmp_path)
    g = tmp_path / "q.csv"
    g.write_text("sentence1,sentence2,score\na,b,1\nc,d,n/a\ne,f,inf\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"column 'score' is not a finite number at line\(s\) \[3, 4\]"):
        host.datasets.create("pairs", path=str(g)).load("test", tmp_path)
    h = tmp_path / "r.csv"
    h.write_text("text_a,text_b,score\na,b,1\n", encoding="utf-8")
    msg = r"missing column\(s\) \['sentence1', 'sentence2'\]; the file has \['text_a', 'text_b', 'score'\]"
    with pytest.raises(DataError, match=msg):
        host.datasets.create("pairs", path=str(h)).load("test", tmp_path)


def test_bad_parameters(host: Host) -> None:
    with pytest.raises(ConfigError, match=r"needs params\.path"):
        host.datasets.create("pairs")
    with pytest.raises(ConfigError, match="cannot tell the format"):
        host.datasets.create("pairs", path="x.parquet")


def test_mapped_gold_column_runs_in_a_comparison(host: Host, tmp_path: Path) -> None:
    """The loaded frame calls the gold column 'score' whatever the file calls it (target=...)."""
    from evalkit.runner import run_suite
    from evalkit.suite import suite_from_dict

    f = tmp_path / "p.csv"
    f.write_text("a,b,gold\nthe cat sat,the cat sat down,4\nthe dog ran,a bird sang,0\nrain falls,rain fell,3\n",
                 encoding="utf-8")
    suite = suite_from_dict({
        "datasets": [{"name": "mine", "dataset": "pairs",
                      "params": {"path": str(f), "sentence1": "a", "sentence2": "b", "target": "gold"}}],
        "methods": ["tfidf-cosine"], "metrics": ["spearman"],
    }, name="t", source="test")
    run = run_suite(suite, host=host, data_dir=tmp_path, cache_dir=None)
    assert run.results["n"].tolist() == [3]
    ds = host.datasets.create("pairs", path=str(f), target="gold")
    assert (ds.target, ds.get_params()["target"]) == ("score", "gold")


def test_relative_path_in_working_directory_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from evalkit.cli import build_cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.tsv").write_text(
        "sentence1\tsentence2\tscore\nred fox\tred fox runs\t3\nblue sky\tgreen tea\t0\nhot sun\thot day\t2\n")
    (tmp_path / "suite.toml").write_text(
        'metrics = ["spearman"]\nmethods = ["tfidf-cosine"]\n'
        '[[datasets]]\nname = "mine"\ndataset = "pairs"\nparams = { path = "mine.tsv" }\n')
    result = CliRunner().invoke(build_cli(), ["compare", "--suite", "suite.toml", "--format", "json", "--no-save",
                                              "--data-dir", str(tmp_path / "elsewhere")])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["results"][0]["n"] == 3
    assert str(tmp_path / "mine.tsv") in doc["provenance"]["datasets"]["mine"]["files"]
