"""Shared fixtures: the benchmark data folder, an isolated cache and runs folder."""

from __future__ import annotations

import importlib.metadata as md
import os
from pathlib import Path

import pytest

# evalkit's own fixtures (evalkit_host, evalkit_plugin, evalkit_cli) come through the pytest11 entry
# point once evalkit is installed with this pyproject.toml; in an environment whose installed
# metadata predates it (PYTHONPATH pointing at a checkout), load the module here instead. Loading
# it both ways would register it twice, which pytest refuses.
_EP = any(ep.value == "evalkit.testing.pytest_plugin" for ep in md.entry_points(group="pytest11"))
pytest_plugins = ["pytester"] + ([] if _EP else ["evalkit.testing.pytest_plugin"])


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``$EVALKIT_DATA_DIR`` (the real benchmark files). Skips locally without it; fails in CI."""
    env = os.environ.get("EVALKIT_DATA_DIR")
    if env and Path(env).is_dir():
        return Path(env)
    msg = "EVALKIT_DATA_DIR is not set to the benchmark files (see README: Data)"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep each test away from the user's and other tests' cache and runs folders, so that no
    test reuses cells or embeddings another test computed (model weights are shared)."""
    base = tmp_path_factory.mktemp("evalkit-home")
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("EVALKIT_RUNS_DIR", str(base / "runs"))
    monkeypatch.setenv("EVALKIT_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
