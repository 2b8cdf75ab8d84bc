"""Provenance: git commit read without running git (a hostile core.fsmonitor never executes),
'latest' is the run saved last, ad-hoc runs are not recorded under the suite's name, machine and
library versions."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evalkit.history import resolve_run, run_infos
from evalkit.provenance import Provenance, git_head
from evalkit.results import RunResult
from evalkit.runner import run_suite
from evalkit.suite import ComponentSpec, Suite

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
PAIRS = "sentence1\tsentence2\tscore\n" + "".join(f"the cat {i}\tthe cat {'sat ' * i}\t{i}\n" for i in range(8))
SAFE = ["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null"]


def git(repo: Path, *args: str) -> str:
    """Run git for the test's own setup and reference values (never with the hostile config)."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    out = subprocess.run(["git", *SAFE, *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.fixture
def hostile_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A repository with two commits whose config runs a marker-writing command as core.fsmonitor
    (what any ``git status`` would execute)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for i in range(2):
        (repo / "a.txt").write_text(f"v{i}\n")
        git(repo, "add", "a.txt")
        git(repo, "commit", "-q", "-m", f"c{i}")
    marker = tmp_path / "FSMONITOR-RAN"
    hook = tmp_path / "fsmonitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    with open(repo / ".git" / "config", "a", encoding="utf-8") as fh:
        fh.write(f"[core]\n\tfsmonitor = {hook}\n")
    (repo / "a.txt").write_text("modified\n")  # a dirty tree: what status would inspect
    return repo, marker


@needs_git
def test_git_commit_is_read_without_running_repository_commands(hostile_repo: tuple[Path, Path]) -> None:
    repo, marker = hostile_repo
    head = git_head(repo / "a.txt")
    assert head is not None
    assert head["commit"] == git(repo, "rev-parse", "HEAD") and head["branch"] == "main"
    # The same after the refs are packed, and on a detached HEAD.
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert git_head(repo)["commit"] == git(repo, "rev-parse", "HEAD")  # type: ignore[index]
    first = git(repo, "rev-parse", "HEAD~1")
    git(repo, "update-ref", "--no-deref", "HEAD", first)  # detach without touching the tree
    assert git_head(repo) == {"commit": first, "branch": None, "repository": str(repo.resolve()), "modified": True}
    assert not marker.exists()


@needs_git
def test_modified_tracked_files_are_found_without_git(hostile_repo: tuple[Path, Path]) -> None:
    repo, marker = hostile_repo
    head = git_head(repo)
    assert head is not None and head["modified"] is True  # a.txt differs from the index
    git(repo, "checkout", "--", "a.txt")
    assert git(repo, "diff", "--quiet") == ""  # the reference: git agrees the tree is clean
    assert git_head(repo)["modified"] is False  # type: ignore[index]
    os.utime(repo / "a.txt", (1_000_000, 1_000_000))  # touched, same content: hashed, still clean
    assert git_head(repo)["modified"] is False  # type: ignore[index]
    (repo / "a.txt").unlink()
    assert git_head(repo)["modified"] is True  # type: ignore[index]
    git(repo, "checkout", "--", "a.txt")
    # A version-3 index (extended flags): a skip-worktree file is not compared, as in git.
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-q", "-m", "b")
    git(repo, "update-index", "--skip-worktree", "a.txt")
    assert (repo / ".git" / "index").read_bytes()[4:8] == (3).to_bytes(4, "big")
    (repo / "a.txt").write_text("changed but skipped\n")
    assert git(repo, "diff", "--quiet") == ""
    assert git_head(repo)["modified"] is False  # type: ignore[index]
    (repo / "b.txt").write_text("bb\n")
    assert git_head(repo)["modified"] is True  # type: ignore[index]
    assert not marker.exists()


@needs_git
def test_git_commit_of_a_linked_worktree(hostile_repo: tuple[Path, Path], tmp_path: Path) -> None:
    repo, marker = hostile_repo
    git(repo, "branch", "side", "HEAD~1")
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "side")
    head = git_head(tmp_path / "wt")
    assert head is not None and head["branch"] == "side"
    assert head["commit"] == git(repo, "rev-parse", "side")
    assert not marker.exists()


@needs_git
def test_a_run_in_a_hostile_repository_records_the_commit_and_runs_nothing(
    hostile_repo: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, marker = hostile_repo
    pairs = repo / "pairs.tsv"
    pairs.write_text(PAIRS)
    monkeypatch.chdir(repo)
    suite = Suite("t", [ComponentSpec("toy", "pairs", {"path": str(pairs)})], [ComponentSpec("tfidf", "tfidf")],
                  [ComponentSpec("spearman", "spearman")])
    prov = run_suite(suite, cache_dir=None).provenance
    assert prov["git_commit"] == git(repo, "rev-parse", "HEAD") + "-dirty"  # a.txt is modified
    assert prov["git"]["branch"] == "main"
    json.dumps(prov.to_dict())  # JSON-ready
    assert not marker.exists()


def _save(root: Path, run_id: str, started: str) -> Path:
    res = pd.DataFrame([{"method": "m", "dataset": "d", "split": "test", "metric": "spearman", "value": 0.5, "n": 3}])
    preds = pd.DataFrame({"method": "m", "dataset": "d", "split": "test", "row": [0, 1, 2],
                          "prediction": [0.1, 0.3, 0.2], "reference": [1.0, 2.0, 3.0]})
    return RunResult(res, preds, {"started": started, "suite": "s"}).save(root, run_id)


def test_latest_is_the_run_saved_last_not_the_newest_declared_date(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    _save(root, "zzz-first", "2099-01-01T00:00:00+00:00")  # a clock in the future, a later-sorting id
    _save(root, "aaa-second", "2001-01-01T00:00:00+00:00")
    assert resolve_run("latest", root).name == "aaa-second"
    _save(root, "mmm-third", "2050-01-01T00:00:00+00:00")
    assert [i.run_id for i in run_infos(root)] == ["mmm-third", "aaa-second", "zzz-first"]
    shutil.rmtree(root / "mmm-third")  # a deleted run is skipped
    assert resolve_run("latest", root).name == "aaa-second"
    # Editing a run.json's dates changes nothing.
    doc = json.loads((root / "zzz-first" / "run.json").read_text())
    doc["provenance"]["started"] = "2199-01-01T00:00:00+00:00"
    (root / "zzz-first" / "run.json").write_text(json.dumps(doc))
    assert resolve_run("latest", root).name == "aaa-second"


def test_provenance_records_machine_and_libraries_without_importing_torch() -> None:
    code = (
        "import json, sys\n"
        "from evalkit.provenance import Provenance\n"
        "p = Provenance(evalkit_version='x', suite='s', suite_source='', tune_on='dev', methods={}, metrics={},\n"
        "               datasets={}, data_dir='', started='', finished='', seconds=0.0, execution={}, cells={},\n"
        "               texts_encoded=0)\n"
        "print(json.dumps({'prov': p.to_dict(), 'torch': 'torch' in sys.modules}))\n"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    prov: dict[str, Any] = out["prov"]
    assert out["torch"] is False
    assert prov["python"] == ".".join(map(str, sys.version_info[:3]))
    assert prov["machine"]["cpu_count"] == os.cpu_count() and prov["machine"]["gpus"] is None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if ln.startswith("model name")]
        if names:
            assert prov["machine"]["cpu"] == names[0]


def test_run_provenance_lists_library_versions_and_fingerprints(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(PAIRS)
    suite = Suite("t", [ComponentSpec("toy", "pairs", {"path": str(pairs)})], [ComponentSpec("tfidf", "tfidf")],
                  [ComponentSpec("spearman", "spearman")])
    prov = run_suite(suite, cache_dir=tmp_path / "cache").provenance
    for dist in ("numpy", "scipy", "pandas", "scikit-learn"):
        assert prov["libraries"][dist] == md.version(dist)
    fp = prov["methods"]["tfidf"]["fingerprint"]
    assert fp["libraries"]["scikit-learn"] == md.version("scikit-learn")
    assert fp["code"]["evalkit_tfidf"].startswith("sha256:")
    assert prov["datasets"]["toy"]["fingerprint"]["paths"]["params.path"].startswith("file:")
    assert Provenance.__dataclass_fields__.keys() - {"extra", "loaded_keys"} <= prov.keys()


@pytest.mark.data
def test_ad_hoc_run_is_not_recorded_as_the_suite(data_dir: Path, evalkit_cli: Any, tmp_path: Path) -> None:
    evalkit_cli("compare", "--datasets", "stsb", "--methods", "tfidf-cosine", "--format", "json",
                "--runs-dir", str(tmp_path / "runs"))
    info = run_infos(tmp_path / "runs")[0]
    prov = json.loads((info.path / "run.json").read_text())["provenance"]
    assert prov["suite"] == "ad-hoc" and "sts" in prov["suite_source"] and "--datasets" in prov["suite_source"]
    assert list(prov["datasets"]) == ["stsb"] and list(prov["methods"]) == ["tfidf-cosine"]
    assert list(prov["metrics"]) == ["spearman", "pearson"]
