"""Resumable cells and execution backends: SIGKILL mid-grid, resume, Dask, --force, keys."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from evalkit.cells import CellStore
from evalkit.plugins import Host
from evalkit.runner import run_suite
from evalkit.suite import ComponentSpec, Suite, load_suite

SLOW_PLUGIN = '''
import time
import numpy as np
import evalkit

class Slow(evalkit.Method):
    """Deterministic toy scores, slowly (a stand-in for an expensive encoder)."""
    name = "slow"

    def __init__(self, *, seed: int = 0, delay: float = 0.4):
        self.seed = seed
        self.delay = delay

    def predict(self, pairs):
        time.sleep(self.delay)
        a = pairs["sentence1"].str.len().to_numpy()
        b = pairs["sentence2"].str.len().to_numpy()
        return ((a * (self.seed + 3)) % 7 - 0.1 * b).astype(float)

@evalkit.hookimpl
def register_methods(register):
    register(Slow)
'''


@pytest.fixture
def slow_env(tmp_path: Path) -> dict[str, str]:
    """An installed-looking plugin distribution (dist-info on PYTHONPATH) and a 12-cell suite."""
    site = tmp_path / "site"
    (site / "slowplug-0.1.dist-info").mkdir(parents=True)
    (site / "slowplug.py").write_text(textwrap.dedent(SLOW_PLUGIN), encoding="utf-8")
    (site / "slowplug-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: slowplug\nVersion: 0.1\n")
    (site / "slowplug-0.1.dist-info" / "entry_points.txt").write_text("[evalkit]\nslow = slowplug\n")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("sentence1\tsentence2\tscore\n" + "".join(
        f"sentence number {i}{'x' * (i % 5)}\tother {'y' * (i % 3)} {i}\t{i % 6}\n" for i in range(30)))
    methods = "".join(f'[[methods]]\nname = "slow{i}"\nmethod = "slow"\nparams = {{ seed = {i} }}\n' for i in range(12))
    (tmp_path / "suite.toml").write_text(
        f'metrics = ["spearman", "pearson"]\n[[datasets]]\nname = "toy"\ndataset = "pairs"\n'
        f'params = {{ path = "{pairs}" }}\n{methods}', encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    env["EVALKIT_CACHE_DIR"] = str(tmp_path / "cache")
    env.pop("EVALKIT_STRICT_PLUGINS", None)
    return env


def evalkit_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from evalkit.cli import main; main()", *args]


def test_sigkill_mid_grid_then_resume_computes_only_missing_cells(tmp_path: Path, slow_env: dict[str, str]) -> None:
    suite = str(tmp_path / "suite.toml")
    proc = subprocess.Popen(evalkit_cmd("compare", "--suite", suite, "--no-save", "--format", "json"),
                            env=slow_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    store = CellStore(tmp_path / "cache" / "cells")
    deadline = time.monotonic() + 120
    while store.count() < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = store.count()
    assert 4 <= finished < 12, f"kill came too late or too early: {finished} cells finished"

    resumed = subprocess.run(evalkit_cmd("compare", "--suite", suite, "--no-save", "--format", "json"),
                             env=slow_env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    doc = json.loads(resumed.stdout)
    assert doc["provenance"]["cells"]["computed"] == 12 - finished
    assert doc["provenance"]["cells"]["reused"] == finished

    fresh_env = dict(slow_env, EVALKIT_CACHE_DIR=str(tmp_path / "fresh"))
    fresh = subprocess.run(evalkit_cmd("compare", "--suite", suite, "--no-save", "--format", "json"),
                           env=fresh_env, capture_output=True, text=True, timeout=300)
    assert json.loads(fresh.stdout)["results"] == doc["results"]
    assert json.loads(fresh.stdout)["provenance"]["cells"]["computed"] == 12


def _tfidf_suite(tmp_path: Path) -> Suite:
    pairs = tmp_path / "p.tsv"
    pairs.write_text("sentence1\tsentence2\tscore\n" + "".join(
        f"the cat {i} sat on mat {i % 4}\ta cat {i % 3} sat on the mat\t{(i * 7) % 5}\n" for i in range(40)))
    return Suite(
        "t", [ComponentSpec("toy", "pairs", {"path": str(pairs)})],
        [ComponentSpec("word", "tfidf"),
         ComponentSpec("char", "tfidf", {"analyzer": "char_wb", "ngram_range": [2, 4]})],
        [ComponentSpec("spearman", "spearman")],
    )


def test_dask_local_cluster_gives_identical_results(tmp_path: Path) -> None:
    suite = _tfidf_suite(tmp_path)
    local = run_suite(suite, host=Host(autoload=False), data_dir=tmp_path, cache_dir=None)
    dask = run_suite(suite, host=Host(autoload=False), data_dir=tmp_path, cache_dir=None, backend="dask", jobs=2)
    assert dask.provenance["cells"]["computed"] == 2
    assert dask.results.equals(local.results)
    assert dask.predictions.equals(local.predictions)


def test_processes_backend_gives_identical_results(tmp_path: Path) -> None:
    suite = _tfidf_suite(tmp_path)
    local = run_suite(suite, host=Host(autoload=False), data_dir=tmp_path, cache_dir=None)
    procs = run_suite(suite, host=Host(autoload=False), data_dir=tmp_path, cache_dir=None, backend="processes", jobs=2)
    assert procs.results.equals(local.results)


def test_changing_a_parameter_recomputes_only_its_cells(tmp_path: Path) -> None:
    suite = _tfidf_suite(tmp_path)
    first = run_suite(suite, host=Host(autoload=False), data_dir=tmp_path, cache_dir=tmp_path / "c")
    assert first.provenance["cells"]["computed"] == 2
    suite.methods[1] = ComponentSpec("char", "tfidf", {"analyzer": "char_wb", "ngram_range": [2, 5]})
    second = run_suite(suite, host=Host(autoload=False), data_dir=tmp_path, cache_dir=tmp_path / "c")
    assert (second.provenance["cells"]["computed"], second.provenance["cells"]["reused"]) == (1, 1)
    forced = run_suite(suite, host=Host(autoload=False), data_dir=tmp_path, cache_dir=tmp_path / "c", force=True)
    assert forced.provenance["cells"]["computed"] == 2
    assert forced.results.equals(second.results)


def test_changed_data_file_changes_the_key(tmp_path: Path) -> None:
    suite = _tfidf_suite(tmp_path)
    run_suite(suite, host=Host(autoload=False), data_dir=tmp_path, cache_dir=tmp_path / "c")
    p = Path(suite.datasets[0].params["path"])
    p.write_text(p.read_text().replace("sat on mat 1", "sat on mat 9"))
    again = run_suite(suite, host=Host(autoload=False), data_dir=tmp_path, cache_dir=tmp_path / "c")
    assert again.provenance["cells"]["computed"] == 2


def test_default_suite_is_the_sts_grid() -> None:
    s = load_suite("sts")
    assert [d.label for d in s.datasets] == ["stsb", "sickr", "sts12", "sts13", "sts14", "sts15", "sts16"]
    assert [m.label for m in s.methods] == ["minilm-cosine", "minilm-whitening", "minilm-wmd", "minilm-wrd",
                                            "tfidf-cosine"]


def test_device_reaches_methods_that_take_one(tmp_path: Path) -> None:
    import evalkit

    seen: list[str | None] = []

    class OnDevice(evalkit.Method):
        """Records the device it was built for."""

        name = "on-device"

        def __init__(self, *, device: str | None = None) -> None:
            self.device = device

        def predict(self, pairs):
            seen.append(self.device)
            return pairs["sentence1"].str.len().to_numpy(dtype=float)

    class P:
        @evalkit.hookimpl
        def register_methods(self, register):
            register(OnDevice)
            register(OnDevice, "pinned", params={"device": "cuda:1"})

    suite = _tfidf_suite(tmp_path)
    suite.methods = [ComponentSpec("on-device", "on-device"), ComponentSpec("pinned", "pinned"),
                     ComponentSpec("word", "tfidf")]
    run = run_suite(suite, host=Host(autoload=False, extra_plugins=[("p", P())]), data_dir=tmp_path,
                    cache_dir=None, device="cpu")
    assert seen == ["cpu", "cuda:1"]  # an explicit preset device wins; tfidf takes none
    assert run.provenance["execution"]["device"] == "cpu"


def test_distributed_logs_follow_the_cli_verbosity_while_a_cluster_closes() -> None:
    """Closing a Dask cluster can log a closed connection at INFO with a traceback (distributed's
    own stderr handler): while evalkit closes it, distributed's loggers emit nothing below the
    root level, WARNING unless ``-v`` asked for INFO; their level is restored afterwards."""
    import logging

    from evalkit.backends import distributed_logs_at_our_level

    root, dist = logging.getLogger(), logging.getLogger("distributed")
    saved = root.level, dist.level
    try:
        dist.setLevel(logging.INFO)  # what distributed's default configuration sets
        for root_level, shown in ((logging.WARNING, False), (logging.INFO, True)):
            root.setLevel(root_level)
            with distributed_logs_at_our_level():
                assert logging.getLogger("distributed.batched").isEnabledFor(logging.INFO) is shown
                assert logging.getLogger("distributed.batched").isEnabledFor(logging.WARNING)
            assert dist.level == logging.INFO
    finally:
        root.setLevel(saved[0])
        dist.setLevel(saved[1])
