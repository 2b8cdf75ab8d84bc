"""``benchmarks/bench_ot_gpu.py`` runs without a GPU: it says so and exits 0; with a device
(here the CPU, forced) it measures both paths and prints a machine-readable last line."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("ot")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ot_gpu.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_ot_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_a_gpu_it_measures_nothing_and_exits_0(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    bench = load()
    monkeypatch.setattr(bench, "pick_device", lambda requested: (None, "torch sees no CUDA device"))
    monkeypatch.setattr(sys, "argv", ["bench_ot_gpu.py"])
    assert bench.main() == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-2] == "no GPU: nothing measured" and out[-1] == "device=none"


def test_device_detection() -> None:
    torch = pytest.importorskip("torch")
    bench = load()
    device, why = bench.pick_device(None)
    assert (device == "cuda") == torch.cuda.is_available()
    assert bench.pick_device("no-such-device")[0] is None
    assert bench.pick_device("cpu") == ("cpu", f"device cpu (CPU), torch {torch.__version__}")
    assert why


def test_forced_cpu_run_measures_both_paths(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    bench = load()
    monkeypatch.setattr(sys, "argv", ["bench_ot_gpu.py", "--device", "cpu", "--data", "synthetic",
                                      "--pairs", "24", "--repeats", "1", "--iters", "200"])
    from evalkit_ot import procs

    try:
        assert bench.main() == 0
    finally:
        procs.shutdown()
    last = capsys.readouterr().out.strip().splitlines()[-1]
    fields = dict(kv.split("=") for kv in last.split())
    assert fields["device"] == "cpu"
    assert float(fields["exact_pairs_per_s"]) > 0 and float(fields["sinkhorn64_pairs_per_s"]) > 0
    # The entropic value is the cost of a feasible plan: never below the exact one.
    assert 0 <= float(fields["sinkhorn64_mean_rel_gap"]) < 0.2
