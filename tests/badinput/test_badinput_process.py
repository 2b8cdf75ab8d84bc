"""Exit codes that need a real process: Ctrl-C (SIGINT), worker processes (--jobs 2, Dask), exit 4.

Each test runs ``evalkit`` through its console entry point (:func:`evalkit.cli.main`) in a fresh
Python process; where the faulty plugin is needed, the process registers it on an isolated host.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
STS = ("sentence1,sentence2,score\n"
       "A cat sits on the mat.,A cat is on the mat.,4.5\n"
       "A dog runs.,A man sings a song.,0.5\n"
       "Two kids play.,Children are playing.,3.8\n"
       "The sky is blue.,Stocks fell sharply today.,0.2\n")

RUN_WITH_FAULTY = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
import faulty
from evalkit.plugins import Host, use_host
from evalkit.cli import main
with use_host(Host(autoload=False, strict=True, blocked=(), extra_plugins=[("faulty", faulty.PLUGIN)])):
    main(sys.argv[1:])
"""


def _suite(tmp: Path, methods: str) -> Path:
    (tmp / "pairs.csv").write_text(STS, encoding="utf-8")
    path = tmp / "suite.toml"
    path.write_text(f'name = "p"\nmetrics = ["spearman"]\n{methods}\n[[datasets]]\nname = "mine"\n'
                    f'dataset = "pairs"\nparams = {{ path = "{tmp / "pairs.csv"}" }}\n', encoding="utf-8")
    return path


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "EVALKIT_CACHE_DIR": str(tmp / "cache"), "EVALKIT_RUNS_DIR": str(tmp / "runs"),
            "EVALKIT_LOG_DIR": str(tmp / "logs"), "EVALKIT_DISABLE_PLUGIN_AUTOLOAD": "1"}


def _evalkit(tmp: Path, *args: str, script: str = RUN_WITH_FAULTY,
             timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=_env(tmp),
                          timeout=timeout, cwd=tmp)


def test_ctrl_c_exits_130_and_keeps_finished_cells(tmp_path: Path) -> None:
    """SIGINT while the second cell runs: exit 130, the first cell stored and reused by the next run."""
    suite = _suite(tmp_path, 'methods = ["faulty-ok", "faulty-slow"]')
    proc = subprocess.Popen([sys.executable, "-c", RUN_WITH_FAULTY, "compare", "--suite", str(suite), "--no-save"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path),
                            cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "cache").glob("cells/*/*.npz")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Interrupted" in err and "finished cells are kept" in err and "Traceback" not in err
    assert len(list((tmp_path / "cache").glob("cells/*/*.npz"))) == 1
    again = _evalkit(tmp_path, "compare", "--suite", str(_suite(tmp_path, 'methods = ["faulty-ok"]')), "--no-save")
    assert again.returncode == 0, again.stderr
    assert "0 computed, 1 reused" in again.stderr


BAD_TFIDF = '[[methods]]\nname = "bad-tfidf"\nmethod = "tfidf-cosine"\nparams = { ngram_range = [1] }'


@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_plugin_failure_in_a_worker_is_exit_3_without_traceback(backend: str, tmp_path: Path) -> None:
    """A plugin raising in a worker process (joblib or Dask): exit 3, its name, no traceback; -v shows it."""
    if backend == "dask":
        pytest.importorskip("distributed")
    suite = _suite(tmp_path, BAD_TFIDF)
    args = ["compare", "--suite", str(suite), "--no-save", "--jobs", "2", "--backend", backend]
    result = _evalkit(tmp_path, *args, script="from evalkit.cli import main; main()")
    assert result.returncode == 3, result.stderr
    assert "plugin 'tfidf' (distribution evalkit" in result.stderr and "method 'bad-tfidf'" in result.stderr
    assert "cell bad-tfidf on mine/test" in result.stderr and "fit raised ValueError" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if backend == "processes":
        verbose = _evalkit(tmp_path, "-v", *args, script="from evalkit.cli import main; main()")
        assert verbose.returncode == 3 and "Traceback" in verbose.stderr and "ngram_range" in verbose.stderr


def test_internal_error_through_main_is_exit_4_with_log(tmp_path: Path) -> None:
    """A bug in evalkit under the real entry point: exit 4, log path printed, traceback in the log."""
    script = ("import evalkit.report as r\n"
              "def broken(*a, **k):\n    raise RuntimeError('evalkit bug')\n"
              "r.comparison_report = broken\n"
              "from evalkit.cli import main\nmain()\n")
    suite = _suite(tmp_path, 'methods = ["tfidf-cosine"]')
    result = _evalkit(tmp_path, "compare", "--suite", str(suite), "--no-save", script=script)
    assert result.returncode == 4, result.stderr
    (log,) = (tmp_path / "logs").glob("crash-*.log")
    assert str(log) in result.stderr and "Traceback" not in result.stderr
    assert "RuntimeError: evalkit bug" in log.read_text()
