"""WMD on a GPU: the batched torch Sinkhorn path against the exact path, in one run.

When torch sees a CUDA device (or ``--device`` names one that works), this measures on the same
pairs:

- the exact path (:func:`evalkit_ot.batch.ot_distances`, POT's network simplex on the CPU
  cores: worker processes, warm pool), pairs per second;
- the entropic path on the device (:func:`evalkit_ot.torch_sinkhorn.sinkhorn_batch`, float64
  and float32, ``reg`` relative to each pair's largest cost), pairs per second with the device
  synchronised, and its gap to the exact values (the Sinkhorn value is the cost of a rounded,
  feasible plan, so the gap is >= 0 up to round-off);
- the host-to-device copy and padding are included in the Sinkhorn timings.

Data: the STS-B test pairs with all-MiniLM-L6-v2 contextual token embeddings (``--data stsb``,
needs EVALKIT_DATA_DIR and the offline model; the embedding model itself is not timed), or random
texts (``--data synthetic``: 8-20 tokens of dimension 384).

Without a usable GPU it says so, measures nothing and exits 0 (``--device cpu`` runs the same
measurements on the CPU, to check the script). The last line is machine-readable:
``device=<d> exact_pairs_per_s=<x> sinkhorn64_pairs_per_s=<y> sinkhorn32_pairs_per_s=<z>
sinkhorn64_mean_rel_gap=<g>`` (or ``device=none``).

Run: ``python benchmarks/bench_ot_gpu.py`` on a machine with a GPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np


def pick_device(requested: str | None) -> tuple[str | None, str]:
    """The device to measure on (``None`` if there is none) and a line saying why."""
    try:
        import torch
    except ImportError:
        return None, "torch is not installed"
    if requested is None:
        if not torch.cuda.is_available():
            return None, f"torch {torch.__version__} sees no CUDA device"
        requested = "cuda"
    try:
        torch.zeros(1, device=requested)
    except Exception as exc:  # any failure means the device is not usable
        return None, f"device {requested!r} is not usable: {exc}"
    name = torch.cuda.get_device_name(requested) if requested.startswith("cuda") else "CPU"
    return requested, f"device {requested} ({name}), torch {torch.__version__}"


def synthetic(n: int, seed: int = 0) -> tuple[list, list]:
    from evalkit_ot.solver import prepare

    rng = np.random.default_rng(seed)
    docs = [prepare(rng.normal(size=(int(rng.integers(8, 21)), 384))) for _ in range(2 * n)]
    return docs[:n], docs[n:]


def stsb(n: int | None) -> tuple[list, list]:
    from evalkit_ot.embeddings import ContextualEmbedder
    from evalkit_ot.solver import prepare

    from evalkit.data import resolve_data_dir
    from evalkit.plugins import get_host

    pairs = get_host().datasets.create("stsb").load("test", resolve_data_dir(None))
    if n:
        pairs = pairs.iloc[:n]
    s1, s2 = list(pairs.sentence1), list(pairs.sentence2)
    texts = list(dict.fromkeys(s1 + s2))
    bags = dict(zip(texts, ContextualEmbedder("all-MiniLM-L6-v2").bags(texts), strict=True))
    return ([prepare(bags[t].vectors.astype(np.float64)) for t in s1],
            [prepare(bags[t].vectors.astype(np.float64)) for t in s2])


def timed(fn: Any, device: str, repeats: int) -> tuple[float, Any]:
    import torch

    best, out = np.inf, None
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        out = fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", choices=("stsb", "synthetic"), default="stsb")
    ap.add_argument("--pairs", type=int, default=None, help="first N pairs (STS-B: all; synthetic: 2000)")
    ap.add_argument("--device", default=None, help="torch device (default: cuda if available)")
    ap.add_argument("--reg", type=float, default=0.01, help="entropic regularisation, relative to max(C)")
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-jobs", type=int, default=-1, help="CPU workers of the exact path")
    args = ap.parse_args()

    device, why = pick_device(args.device)
    print(f"cores: {os.cpu_count()}, load average {'/'.join(f'{x:.2f}' for x in os.getloadavg())}; {why}")
    if device is None:
        print("no GPU: nothing measured")
        print("device=none")
        return 0

    from evalkit_ot.batch import ot_distances
    from evalkit_ot.torch_sinkhorn import sinkhorn_batch

    xs, ys = synthetic(args.pairs or 2000) if args.data == "synthetic" else stsb(args.pairs)
    n = len(xs)
    print(f"[{args.data}] {n} pairs, mean tokens per text "
          f"{np.mean([d.size for d in xs + ys]):.1f}, dim {xs[0].dim}")
    ot_distances(xs[:200], ys[:200], n_jobs=args.n_jobs, parallel="processes")  # warm the pool
    t_exact, res = timed(lambda: ot_distances(xs, ys, n_jobs=args.n_jobs), device, args.repeats)
    exact = res.values
    print(f"  exact (POT simplex, CPU {res.parallel})   {n / t_exact:10.1f} pairs/s")
    rates, gaps = {}, {}
    for dtype in ("float64", "float32"):
        sinkhorn_batch(xs[:64], ys[:64], reg=args.reg, n_iter=args.iters, device=device, dtype=dtype)
        run = partial(sinkhorn_batch, xs, ys, reg=args.reg, n_iter=args.iters, device=device, dtype=dtype)
        t, vals = timed(run, device, args.repeats)
        gap = np.asarray(vals) - exact
        rel = np.abs(gap) / np.maximum(np.abs(exact), 1e-12)
        rates[dtype], gaps[dtype] = n / t, float(rel.mean())
        print(f"  sinkhorn {dtype} on {device:10s} {n / t:10.1f} pairs/s   gap to exact: mean "
              f"{gap.mean():.3g}, max |gap| {np.abs(gap).max():.3g}, mean relative {rel.mean():.3g} "
              f"(reg {args.reg} x max C, at most {args.iters} iterations)")
    print(f"  sinkhorn float64 vs exact: {rates['float64'] / (n / t_exact):.2f}x the pairs/s")
    print(f"device={device} exact_pairs_per_s={n / t_exact:.1f} sinkhorn64_pairs_per_s={rates['float64']:.1f} "
          f"sinkhorn32_pairs_per_s={rates['float32']:.1f} sinkhorn64_mean_rel_gap={gaps['float64']:.3g}")
    return 0


if __name__ == "__main__":
    sys.path[:0] = [p for p in (str(Path(__file__).resolve().parents[1] / "plugins"),)
                    if p not in sys.path]
    sys.exit(main())
