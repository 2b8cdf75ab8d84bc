"""Suite files: paths relative to the suite's folder; the ``pairs`` dataset's dev split for tuning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import f1_score

from evalkit.cli import build_cli
from evalkit.errors import ConfigError
from evalkit.plugins import Host
from evalkit.suite import load_suite

WORDS = ["red", "blue", "green", "cat", "dog", "sun", "moon", "rain", "snow", "tree"]


def write_pairs(path: Path, n_dev: int, n_test: int, seed: int) -> None:
    """Pairs whose label depends (noisily) on word overlap, with a split column."""
    rng = np.random.default_rng(seed)
    lines = ["sentence1\tsentence2\tlabel\tsplit"]
    for i in range(n_dev + n_test):
        a = list(rng.choice(WORDS, 4, replace=False))
        same = rng.integers(0, 5)
        b = a[:same] + list(rng.choice(WORDS, 4 - same))
        label = int(same + rng.integers(-1, 2) >= 2)
        lines.append(f"{' '.join(a)}\t{' '.join(b)}\t{label}\t{'dev' if i < n_dev else 'test'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def compare_json(*args: str) -> dict:
    result = CliRunner().invoke(build_cli(), ["compare", *args, "--format", "json", "--no-save"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_suite_paths_resolve_against_the_suite_folder_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite_dir, cwd = tmp_path / "suites", tmp_path / "work"
    suite_dir.mkdir()
    cwd.mkdir()
    write_pairs(suite_dir / "pairs.tsv", 0, 30, seed=1)  # next to the suite: 30 pairs
    write_pairs(cwd / "pairs.tsv", 0, 50, seed=2)  # same name in the working directory: 50 pairs
    write_pairs(cwd / "only-here.tsv", 0, 20, seed=3)  # only in the working directory
    (suite_dir / "suite.toml").write_text(
        'metrics = ["average_precision"]\nmethods = ["tfidf-cosine"]\n'
        '[[datasets]]\nname = "near"\ndataset = "pairs"\n'
        'params = { path = "pairs.tsv", task_type = "pair_classification" }\n'
        '[[datasets]]\nname = "far"\ndataset = "pairs"\n'
        'params = { path = "only-here.tsv", task_type = "pair_classification" }\n', encoding="utf-8")
    monkeypatch.chdir(cwd)
    suite = load_suite(str(suite_dir / "suite.toml"))
    assert suite.datasets[0].params["path"] == str((suite_dir / "pairs.tsv").resolve())
    assert suite.datasets[1].params["path"] == "only-here.tsv"  # left to the working directory
    doc = compare_json("--suite", str(suite_dir / "suite.toml"), "--data-dir", str(tmp_path))
    n = {r["dataset"]: r["n"] for r in doc["results"]}
    assert n == {"near": 30, "far": 20}


def test_pairs_dev_split_tunes_the_threshold(tmp_path: Path) -> None:
    f = tmp_path / "pairs.tsv"
    write_pairs(f, 60, 80, seed=4)
    spec = f"pairs@mine:path={f},task_type=pair_classification,split_column=split,dev_split=dev"
    doc = compare_json("--datasets", spec, "--methods", "tfidf-cosine", "--metrics", "auto_threshold_f1",
                       "--data-dir", str(tmp_path))
    (rec,) = doc["results"]
    assert rec["tuned_on"] == "dev" and rec["tuned_split"] == "dev" and rec["n_tune"] == 60 and rec["n"] == 80
    assert rec["tuned_rows"] == "the rows of pairs.tsv whose split is 'dev'"
    # Independent check with scikit-learn: the best threshold on the dev rows' scores (brute force
    # over every candidate), applied to the test rows.
    host = Host()
    ds = host.datasets.create("pairs", path=str(f), task_type="pair_classification", split_column="split")
    dev, test = ds.load("dev", tmp_path), ds.load("test", tmp_path)
    method = host.methods.create("tfidf-cosine").fit(test[["sentence1", "sentence2"]])
    s_dev, s_test = method.predict(dev), method.predict(test)
    best = max(f1_score(dev.label, s_dev >= t) for t in set(s_dev))
    assert f1_score(dev.label, s_dev >= rec["threshold"]) == pytest.approx(best)  # optimal on dev
    assert rec["value"] == pytest.approx(f1_score(test.label, s_test >= rec["threshold"]))  # applied to test
    table = CliRunner().invoke(build_cli(), ["compare", "--datasets", spec, "--methods", "tfidf-cosine",
                                             "--metrics", "auto_threshold_f1", "--data-dir", str(tmp_path),
                                             "--no-save"]).stdout
    assert "tuned on: mine: the rows of pairs.tsv whose split is 'dev' (60 pairs)" in table.replace("\n  ", " ")


def test_dev_split_needs_a_split_column() -> None:
    with pytest.raises(ConfigError, match="dev_split='dev' needs split_column"):
        Host().datasets.create("pairs", path="x.tsv", dev_split="dev")
