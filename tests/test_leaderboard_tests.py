"""`evalkit leaderboard FILE` reports cross-dataset tests (top-level "tests" in JSON, summary in tables)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import friedmanchisquare, rankdata

from evalkit.cli import build_cli

ROWS = {
    "alpha": [81.0, 77.5, 90.1, 66.0, 70.2, 88.0],
    "beta": [80.0, 75.0, 89.9, 64.0, 71.0, 86.5],
    "gamma": [70.0, 72.0, 85.0, 60.0, 65.0, 80.0],
    "delta": [70.0, 73.5, 84.0, 61.0, 64.0, 79.0],
}


def _board(tmp_path: Path) -> Path:
    path = tmp_path / "board.csv"
    lines = ["system," + ",".join(f"task{j}" for j in range(6))]
    lines += [f"{name}," + ",".join(str(v) for v in vals) for name, vals in ROWS.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_json_has_top_level_tests(tmp_path: Path) -> None:
    code, out, err = _invoke("leaderboard", str(_board(tmp_path)), "--format", "json",
                             "--posthoc", "nemenyi,wilcoxon-holm,holm", "--control", "gamma")
    assert code == 0, err
    tests = json.loads(out)["tests"]
    values = np.array(list(ROWS.values()))
    ranks = rankdata(-values, axis=0).mean(axis=1)  # 1 = best, ties averaged
    assert tests["mean_ranks"] == pytest.approx(dict(zip(ROWS, ranks, strict=True)))
    ref = friedmanchisquare(*values)
    assert tests["friedman"]["chi2_tie_corrected"] == pytest.approx(ref.statistic)
    assert {"chi2", "iman_davenport_f", "df1", "df2", "p_value"} <= set(tests["friedman"])
    assert (tests["friedman"]["df1"], tests["friedman"]["df2"]) == (3, 15)
    assert {"alpha", "q_alpha", "cd", "significant_pairs", "groups"} <= set(tests["nemenyi"])
    assert tests["holm"]["control"] == "gamma"
    assert {c["system"] for c in tests["holm"]["comparisons"]} == {"alpha", "beta", "delta"}
    assert len(tests["wilcoxon_holm"]["comparisons"]) == 6
    assert tests["summary"].startswith("at alpha=0.05 over 6 datasets (two-sided; Friedman")


def test_table_prints_the_summary(tmp_path: Path) -> None:
    code, out, _ = _invoke("leaderboard", str(_board(tmp_path)), "--posthoc", "nemenyi", "--alpha", "0.1")
    assert code == 0
    assert "Friedman test (4 systems, 6 datasets)" in out
    assert "summary: at alpha=0.1 over 6 datasets" in out


def test_unknown_posthoc_and_control_are_usage_errors(tmp_path: Path) -> None:
    board = str(_board(tmp_path))
    code, _, err = _invoke("leaderboard", board, "--posthoc", "tukey")
    assert code == 2 and "unknown post-hoc test 'tukey'" in err
    code, _, err = _invoke("leaderboard", board, "--posthoc", "holm", "--control", "omega")
    assert code == 2 and "control 'omega' is not a system" in err
