"""`evalkit compare` prints the cross-dataset tests and marks the cells (needs the benchmark data)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from evalkit.cli import build_cli

ARGS = ["compare", "--datasets", "stsb,sts13,sts15", "--methods", "tfidf-cosine,tfidf-char",
        "--metrics", "spearman,pearson", "--no-save", "--no-progress"]


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_compare_json_carries_tests_and_marks(data_dir: Path) -> None:
    code, out, err = _invoke(*ARGS, "--format", "json", "--posthoc", "nemenyi,holm", "--alpha", "0.1")
    assert code == 0, err
    doc = json.loads(out)
    for label in ("spearman", "pearson"):
        tests = doc["tests"][label]
        values = doc["tables"][label]["values"]
        rows = [[values[m][d] for d in ("stsb", "sts13", "sts15")] for m in ("tfidf-cosine", "tfidf-char")]
        assert tests["n_datasets"] == 3 and tests["n_methods"] == 2 and tests["alpha"] == 0.1
        assert tests["posthoc"] == ["nemenyi", "holm"] and tests["alternative"] == "two-sided"
        assert {"chi2", "chi2_tie_corrected", "iman_davenport_f", "df1", "df2", "p_value"} <= set(tests["friedman"])
        wins = sum(a > b for a, b in zip(rows[0], rows[1], strict=True))  # no ties on these data
        assert tests["mean_ranks"]["tfidf-cosine"] == 1 + (3 - wins) / 3
        marks = doc["tables"][label]["marks"]
        for d in ("stsb", "sts13", "sts15"):
            winner = max(values, key=lambda m, d=d: values[m][d])
            assert marks["best"][winner][d] is True and marks["indistinct"][winner][d] is True
            assert marks["columns"][d]["test"] == "Williams' t for dependent correlations"
        assert marks["alternative"] == "two-sided" and marks["correction"] == "holm"


def test_compare_table_prints_summary_and_marks(data_dir: Path) -> None:
    code, out, err = _invoke(*ARGS, "--metrics", "spearman")
    assert code == 0, err
    assert "Friedman test (2 systems, 3 datasets)" in out
    assert "summary: at alpha=0.05 over 3 datasets (two-sided" in out
    assert "marks: trailing *: best in its column" in out
    assert out.count("*") >= 3


def test_compare_rejects_an_unknown_posthoc_before_running(data_dir: Path) -> None:
    code, _, err = _invoke(*ARGS, "--posthoc", "tukey")
    assert code == 2 and "unknown post-hoc test 'tukey'" in err
