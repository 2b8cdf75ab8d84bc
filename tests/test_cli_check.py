"""``evalkit check``, ``diff``, ``runs`` and ``rescore`` through the CLI on real saved STS-B runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from evalkit.cli import build_cli


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def saved(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two real runs of TF-IDF cosine on STS-B test: plain, and with sublinear tf under the same label."""
    root = tmp_path_factory.mktemp("cli_check")
    runs = root / "runs"
    code, _, err = cli("compare", "--datasets", "stsb", "--methods", "tfidf-cosine", "--metrics",
                       "spearman,pearson", "--runs-dir", str(runs), "--format", "json")
    assert code == 0, err
    plain = next(runs.iterdir())
    suite = root / "sublinear.toml"
    suite.write_text('datasets = ["stsb"]\nmetrics = ["spearman", "pearson"]\n[[methods]]\n'
                     'name = "tfidf-cosine"\nmethod = "tfidf"\nparams = { sublinear_tf = true }\n', encoding="utf-8")
    code, _, err = cli("compare", "--suite", str(suite), "--runs-dir", str(runs), "--format", "json")
    assert code == 0, err
    sublinear = next(p for p in runs.iterdir() if p != plain)
    return {"root": root, "runs": runs, "plain": plain, "sublinear": sublinear}


def shifted_copy(run: Path, dest: Path, metric: str, delta: float) -> Path:
    """A copy of a run folder whose stored ``metric`` value is moved by ``delta``."""
    shutil.copytree(run, dest)
    res = pd.read_csv(dest / "results.csv")
    res.loc[res["metric"] == metric, "value"] += delta
    res.to_csv(dest / "results.csv", index=False)
    return dest


def test_spearman_drop_beyond_tolerance_exits_1_and_junit_names_the_cell(saved: dict[str, Path]) -> None:
    # The baseline is 0.01 higher than the run: the run is a 0.01 Spearman drop.
    base = shifted_copy(saved["plain"], saved["root"] / "base_higher", "spearman", +0.01)
    junit = saved["root"] / "check.xml"
    code, out, err = cli("check", str(saved["plain"]), "--baseline", str(base), "--tolerance", "0.005",
                         "--junit-xml", str(junit))
    assert code == 1, err
    assert "evalkit check: FAIL: 1 regression" in err
    assert "regression" in out and "-0.0100" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["tfidf-cosine stsb/test spearman"]
    # The same change upward passes.
    lower = shifted_copy(saved["plain"], saved["root"] / "base_lower", "spearman", -0.01)
    code, out, err = cli("check", str(saved["plain"]), "--baseline", str(lower), "--tolerance", "0.005",
                         "--format", "github")
    assert code == 0, err
    assert "::error" not in out and "PASS" in out


def test_missing_cell_fails_unless_allowed(saved: dict[str, Path], tmp_path: Path) -> None:
    code, out, err = cli("compare", "--datasets", "stsb", "--methods", "tfidf-cosine", "--metrics", "spearman",
                         "--runs-dir", str(tmp_path), "--format", "json")
    assert code == 0, err
    only_spearman = next(tmp_path.iterdir())
    code, out, err = cli("check", str(only_spearman), "--baseline", str(saved["plain"]), "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    missing = [c for c in doc["cells"] if c["status"] == "missing in current"]
    assert [(c["metric"], c["failed"]) for c in missing] == [("pearson", True)]
    code, out, err = cli("check", str(only_spearman), "--baseline", str(saved["plain"]), "--allow-missing")
    assert code == 0, err
    assert "1 missing (allowed)" in err


def test_malformed_baseline_exits_2_naming_the_file(saved: dict[str, Path]) -> None:
    bad = saved["root"] / "bad_baseline.json"
    bad.write_text('{"results": [\n  {"method": "tfidf-cosine", "value": }\n]}\n', encoding="utf-8")
    code, _, err = cli("check", str(saved["plain"]), "--baseline", str(bad))
    assert code == 2
    assert f"{bad}:2:" in err and "invalid JSON" in err and "Traceback" not in err
    bad.write_text('{"results": [{"method": "tfidf-cosine", "dataset": "stsb", "split": "test", '
                   '"metric": "spearman", "value": "0.8x"}]}', encoding="utf-8")
    code, _, err = cli("check", str(saved["plain"]), "--baseline", str(bad))
    assert code == 2 and f"{bad}: results[0]: 'value' must be a finite number, got '0.8x'" in err
    folder = shutil.copytree(saved["plain"], saved["root"] / "bad_folder")
    (folder / "results.csv").write_text("method,dataset,value\nx,y,1\n", encoding="utf-8")
    code, _, err = cli("check", str(saved["plain"]), "--baseline", str(folder))
    assert code == 2 and "results.csv: missing columns" in err
    code, _, err = cli("check", str(saved["plain"]), "--baseline", str(saved["root"] / "nothing-here"))
    assert code == 2 and "nothing-here" in err and "--update-baseline" in err
    code, _, err = cli("check", str(saved["plain"]), "--baseline", str(saved["plain"]), "--tolerance", "abc")
    assert code == 2 and "--tolerance 'abc'" in err


def test_error_exit_code_from_a_real_process(saved: dict[str, Path]) -> None:
    bad = saved["root"] / "proc_bad.json"
    bad.write_text("[]", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", "from evalkit.cli import main; main()", "check", str(saved["plain"]),
         "--baseline", str(bad)], capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith(f"Error: {bad}: no 'results' list") and "Traceback" not in proc.stderr


def test_significance_on_a_real_change_and_update_baseline(saved: dict[str, Path]) -> None:
    # Sublinear tf scores higher on STS-B; checking the plain run against it is a real drop.
    code, out, err = cli("check", str(saved["plain"]), "--baseline", str(saved["sublinear"]),
                         "--tolerance", "0.001", "--significance", "0.05", "--n-resamples", "300", "--format", "json")
    assert code == 1, err
    cells = {c["metric"]: c for c in json.loads(out)["cells"]}
    assert cells["spearman"]["status"] == "regression" and cells["spearman"]["p_value"] < 0.05
    # Accept the plain run as the new baseline (a JSON file), then it passes.
    target = saved["root"] / "accepted.json"
    code, _, err = cli("check", str(saved["plain"]), "--baseline", str(target), "--update-baseline")
    assert code == 0 and target.is_file(), err
    code, _, err = cli("check", str(saved["plain"]), "--baseline", str(target))
    assert code == 0, err
    assert json.loads(target.read_text(encoding="utf-8"))["provenance"]["baseline"]["source"] == str(saved["plain"])


def test_diff_runs_and_rescore(saved: dict[str, Path]) -> None:
    runs = str(saved["runs"])
    code, out, err = cli("diff", saved["plain"].name, saved["sublinear"].name, "--runs-dir", runs,
                         "--n-resamples", "300", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    rho = next(c for c in doc["cells"] if c["metric"] == "spearman")
    assert rho["ci_low"] < rho["delta"] < rho["ci_high"] and 0 < rho["p_value"] <= 1
    code, out, err = cli("runs", "--runs-dir", runs, "--format", "json")
    assert code == 0, err
    listed = json.loads(out)["runs"]
    assert {r["run"] for r in listed} >= {saved["plain"].name, saved["sublinear"].name}
    code, out, err = cli("rescore", saved["plain"].name, "--runs-dir", runs, "--metrics", "pearson,spearman",
                         "--format", "json", "--no-save")
    assert code == 0, err
    stored = pd.read_csv(saved["plain"] / "results.csv").set_index("metric")["value"]
    again = {r["metric"]: r["value"] for r in json.loads(out)["results"]}
    assert again == {"pearson": stored["pearson"], "spearman": stored["spearman"]}
