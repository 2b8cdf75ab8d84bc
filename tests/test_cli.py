"""The command line: JSON output shape, errors without tracebacks, listings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import build_cli


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_compare_json_shape(data_dir: Path) -> None:
    code, out, err = run_cli(
        "compare", "--datasets", "stsb,sts13", "--methods", "tfidf-cosine",
        "--metrics", "spearman,pearson", "--format", "json", "--no-save",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert {"results", "tables", "provenance", "suite"} <= set(doc)
    recs = doc["results"]
    assert len(recs) == 4
    for rec in recs:
        assert {"method", "dataset", "split", "metric", "value", "n"} <= set(rec)
        assert -1.0 <= rec["value"] <= 1.0  # correlations on the 0-1 scale, not x 100
    by = {(r["dataset"], r["metric"]): r for r in recs}
    assert by[("stsb", "spearman")]["split"] == "test" and by[("stsb", "spearman")]["n"] == 1379
    assert by[("sts13", "pearson")]["n"] == 1500
    assert doc["provenance"]["datasets"]["stsb"]["files"]["stsbenchmark/sts-test.csv"]["official"] is True
    assert set(doc["tables"]["spearman"]["values"]["tfidf-cosine"]) == {"stsb", "sts13"}


def test_compare_table_has_mean_column_and_rule(data_dir: Path) -> None:
    code, out, _ = run_cli("compare", "--datasets", "stsb,sts13", "--methods", "tfidf-cosine",
                           "--metrics", "spearman", "--no-save")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Spearman's rho x 100")
    header = lines[1].split()
    assert header == ["method", "stsb", "sts13", "mean", "mean", "rank"]
    row = next(line for line in lines if line.startswith("tfidf-cosine")).split()
    stsb, sts13, mean = (float(x) for x in row[1:4])
    assert mean == pytest.approx((stsb + sts13) / 2, abs=0.006)
    assert any("arithmetic mean" in line for line in lines)


def test_unknown_method_is_a_clear_error_without_traceback(data_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from evalkit.cli import main; main()", "compare", "--methods", "tfidf-cosin",
         "--datasets", "stsb", "--no-save"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "Did you mean 'tfidf-cosine'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_format_lists_reporters() -> None:
    code, _, err = run_cli("compare", "--format", "yaml")
    assert code == 2 and "Known reporters: csv, html, json, latex, markdown, table" in err


def test_missing_data_names_expected_files(tmp_path: Path) -> None:
    code, _, err = run_cli("compare", "--datasets", "sts13", "--methods", "tfidf-cosine",
                           "--data-dir", str(tmp_path), "--no-save")
    assert code == 2
    assert "sts12-16/STS13-en-test/STS.input.headlines.txt" in err
    assert "STS2013-en-test.zip" in err  # where to get it


def test_list_and_plugins_json() -> None:
    code, out, _ = run_cli("list", "metrics", "--json")
    assert code == 0
    metrics = {m["name"]: m for m in json.loads(out)}
    assert metrics["spearman"]["higher_is_better"] is True
    assert metrics["spearman"]["plugin"] == "correlation"
    code, out, _ = run_cli("plugins", "--json")
    doc = json.loads(out)
    sts = next(p for p in doc["plugins"] if p["name"] == "sts")
    assert sts["distribution"] == "evalkit" and sts["version"]
    assert sts["hooks"] == ["register_datasets", "register_suites"]
    assert "stsb" in sts["components"]["dataset"]
    assert sts["components"]["suite"] == ["sts"]


def test_suite_file(tmp_path: Path, data_dir: Path) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text(
        'datasets = ["sts13"]\nmetrics = ["spearman"]\n'
        '[[methods]]\nname = "char-tfidf"\nmethod = "tfidf"\nparams = { analyzer = "char_wb", ngram_range = [2, 4] }\n'
        '[[methods]]\nname = "tfidf-cosine"\n',
        encoding="utf-8",
    )
    code, out, err = run_cli("compare", "--suite", str(suite), "--format", "json", "--no-save")
    assert code == 0, err
    doc = json.loads(out)
    assert {r["method"] for r in doc["results"]} == {"char-tfidf", "tfidf-cosine"}
    assert doc["provenance"]["methods"]["char-tfidf"]["params"]["ngram_range"] == [2, 4]


def test_bad_suite_file_names_line(tmp_path: Path) -> None:
    suite = tmp_path / "bad.toml"
    suite.write_text('datasets = ["stsb"\nmetrics = 3\n', encoding="utf-8")
    code, _, err = run_cli("compare", "--suite", str(suite))
    assert code == 2 and "bad.toml: invalid TOML" in err and "line 2" in err


def test_output_file_is_written_atomically(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "table.md"
    code, _, _ = run_cli("compare", "--datasets", "sts13", "--methods", "tfidf-cosine", "--metrics",
                         "spearman", "--format", "markdown", "--output", str(out), "--no-save")
    assert code == 0
    text = out.read_text()
    assert text.startswith("**Spearman's rho x 100") and "| tfidf-cosine |" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.md"]


def test_a_reader_closing_the_pipe_ends_the_command_quietly_with_141() -> None:
    """``evalkit hooks | head -0``: the command stops as a Unix tool stopped by SIGPIPE would
    (exit 128 + 13), with nothing on stderr: no internal-error message, no crash log."""
    proc = subprocess.Popen([sys.executable, "-c", "from evalkit.cli import main; main()", "hooks"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the command writes its first line
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert err == b""
