"""``--output`` infers the format from the extension; ``evalkit report`` merges runs that share
datasets and refuses those that cannot be merged (no benchmark data needed)."""

from __future__ import annotations

import json
from pathlib import Path

import html5lib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from evalkit.cli import build_cli
from evalkit.results import RunResult


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def two_results(tmp_path: Path) -> tuple[Path, Path]:
    out = []
    for name, value in (("a.json", 0.5), ("b.json", 0.6)):
        path = tmp_path / name
        recs = [{"method": "m", "dataset": "d", "split": "test", "metric": "spearman", "value": value, "n": 10}]
        path.write_text(json.dumps({"results": recs}), encoding="utf-8")
        out.append(path)
    return out[0], out[1]


@pytest.mark.parametrize(("suffix", "marker"), [
    (".md", "**paired comparison"), (".csv", "method,dataset"), (".json", '"cells"'), (".tex", r"\begin{tabular}"),
    (".txt", "paired comparison"), (".html", "<!DOCTYPE html>"), (".htm", "<!DOCTYPE html>"),
    (".out", "paired comparison"),
])
def test_output_extension_picks_the_format(two_results: tuple[Path, Path], tmp_path: Path, suffix: str,
                                           marker: str) -> None:
    a, b = two_results
    target = tmp_path / f"diff{suffix}"
    code, out = cli("diff", str(a), str(b), "--output", str(target))
    assert code == 0, out
    text = target.read_text(encoding="utf-8")
    assert marker in text
    if suffix == ".json":
        assert json.loads(text)["cells"][0]["delta"] == pytest.approx(0.1)
    if suffix in (".html", ".htm"):
        doc = html5lib.parse(text, namespaceHTMLElements=False)
        (td,) = [td for td in doc.iter("td") if td.text == "0.1000"]
        assert td.get("class") == "num"  # numbers right-aligned, not a bare pandas fragment


def test_a_format_contradicting_the_extension_is_an_error(two_results: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_results
    code, out = cli("diff", str(a), str(b), "--format", "json", "--output", str(tmp_path / "x.csv"))
    assert code == 2
    assert "--format json contradicts --output" in out and "csv" in out
    assert not (tmp_path / "x.csv").exists()
    code, out = cli("diff", str(a), str(b), "--format", "json", "--output", str(tmp_path / "x.json"))
    assert code == 0, out


def synthetic_run(runs: Path, run_id: str, methods: dict[str, float], dataset: str = "d",
                  gold_shift: float = 0.0) -> Path:
    """A saved STS run whose methods score gold + noise of the given scales (seeded)."""
    rng = np.random.default_rng(len(run_id))
    gold = np.round(np.linspace(0, 5, 60) + gold_shift, 2)
    rows, preds = [], []
    for k, (method, noise) in enumerate(methods.items()):
        pred = gold + np.random.default_rng(k + 7).normal(0, noise, gold.size)
        rows.append({"method": method, "dataset": dataset, "split": "test", "metric": "spearman",
                     "value": float(stats.spearmanr(pred, gold).statistic), "n": gold.size})
        preds.append(pd.DataFrame({"method": method, "dataset": dataset, "split": "test",
                                   "row": np.arange(gold.size), "prediction": pred, "reference": gold,
                                   "role": "eval"}))
    del rng
    prov = {"methods": {m: {"method": "tfidf-cosine", "params": {}} for m in methods},
            "metrics": {"spearman": {"metric": "spearman", "params": {}, "higher_is_better": True}},
            "datasets": {dataset: {"dataset": "pairs", "params": {"path": "/nonexistent.tsv"}, "task_type": "sts"}},
            "started": "2026-01-01T00:00:00+00:00", "evalkit_version": "0.1.0", "git_commit": "abc123"}
    return RunResult(pd.DataFrame(rows), pd.concat(preds, ignore_index=True), prov).save(runs, run_id)


def test_report_merges_runs_sharing_a_dataset(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    a = synthetic_run(runs, "run-a", {"alpha": 0.5, "beta": 1.5})
    b = synthetic_run(runs, "run-b", {"gamma": 1.0})
    out = tmp_path / "merged.html"
    code, text = cli("report", str(a), str(b), "-o", str(out), "--baseline", "gamma", "--resamples", "50")
    assert code == 0, text
    doc = html5lib.parse(out.read_text(encoding="utf-8"), namespaceHTMLElements=False)
    (script,) = [s for s in doc.iter("script") if s.get("id") == "evalkit-data"]
    data = json.loads(script.text)
    assert data["methods"] == ["alpha", "beta", "gamma"]
    assert [r["run_id"] for r in data["runs"]] == ["run-a", "run-b"]
    assert data["baseline"] == "gamma"
    assert {r["method"] for r in data["figures"]["forest-spearman"]["rows"]} == {"alpha", "beta"}
    # The sentences cannot be reloaded (the pairs file is gone): the table says why instead.
    assert "cannot reload" in data["disagreements"][0]["note"]


def test_report_refuses_runs_that_cannot_be_merged(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    a = synthetic_run(runs, "run-a", {"alpha": 0.5})
    other = synthetic_run(runs, "run-b", {"beta": 0.5}, dataset="e")
    code, out = cli("report", str(a), str(other), "-o", str(tmp_path / "x.html"))
    assert code == 2 and "share no dataset" in out
    shifted = synthetic_run(runs, "run-c", {"gamma": 0.5}, gold_shift=0.01)
    code, out = cli("report", str(a), str(shifted), "-o", str(tmp_path / "x.html"))
    assert code == 2 and "different examples" in out
    code, out = cli("report", str(a), "--baseline", "nope", "-o", str(tmp_path / "x.html"))
    assert code == 2 and "--baseline 'nope' is not a method" in out
    code, out = cli("report", str(a), "-o", str(tmp_path / "x.md"))
    assert code == 2 and "writes HTML" in out
