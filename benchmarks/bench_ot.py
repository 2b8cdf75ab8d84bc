"""Throughput of exact WMD against the naive loop and the machine's floor, and solves saved by
prefetch-and-prune k-NN, in one run.

On the same inputs, pairs per second of:

- evalkit's batched exact solver (:func:`evalkit_ot.batch.ot_distances`): ``parallel="auto"``
  (worker processes for batches this size, :mod:`evalkit_ot.procs`) and ``parallel="threads"``,
- the naive per-pair loop ``ot.emd2(a, b, ot.dist(x, y, metric="euclidean"))`` (POT's default
  cost, fast but with ~1e-8 cancellation error for near-identical vectors) and the same loop with
  the exact cost ``ot.dist(..., backend="scipy")`` (scipy's cdist),
- gensim's ``KeyedVectors.wmdistance`` in a loop (float64 vectors, ``norm=False``),
- the single-core floor, in CPU seconds with BLAS on one thread: what the worker processes run
  (:func:`evalkit_ot.pack.pack_pairs` then :func:`evalkit_ot.procs.solve_chunk` per chunk, on the
  same packed token arrays), run in this process on all pairs; also the cost matrices alone
  (shared-mass reduction included) and POT's network simplex alone (``emd_c`` in a bare loop
  over the packed problems),

on (1) STS-B test pairs with all-MiniLM-L6-v2 contextual token embeddings (special tokens
dropped; each token its own vector, uniform weights) and (2) all 1225 pairs of the Lee corpus
(``lee.cor``) with gensim's own static test vectors (``euclidean_vectors.bin``), tokenised with
scikit-learn's pattern and English stop words removed (as Kusner et al. 2015 remove stop words).
Efficiency = evalkit's pairs/s / (workers x single-core pairs/s). Each of ``--repeats`` rounds
times every implementation once, interleaved, between two timings of the floor (the faster of the
two is the round's floor), so that all see about the same load; every ratio (speedup,
efficiency, ceiling) is taken within each round and the median over the rounds is reported: the
rounds are seconds apart, so each ratio compares measurements taken in the same phase of a
machine whose single-core speed drifts by a third over minutes (STS-B's floor: about 70 ms in
some minutes, 100 ms in others). The ratios of the best rounds (the best time of each
implementation, whichever round it came from) are printed too. The CPU time of evalkit's call
(this process and the workers, with psutil) against the floor's is printed as well: it says how
much work the parallel path adds, which the load distorts much less than the wall-clock figures.

Then k-NN with k = 10: exact solves of :func:`evalkit_ot.knn.knn` (prefetch and prune) against
the exhaustive search, with identical neighbours required, on the STS-B test sentences and on
the 300 ``lee_background.cor`` documents.

The last line is ``speedup_vs_naive=<x> efficiency=<e> knn_solve_reduction=<y>
cpu_efficiency=<c> machine_ceiling=<m> efficiency_vs_ceiling=<r> best_rounds_speedup=<x>
best_rounds_efficiency=<e> best_rounds_ceiling=<m> host_ceiling=<h>``: the smaller of the two datasets' values
(evalkit against the faster naive loop; efficiency; exhaustive solves over pruned solves; the
floor's CPU time over evalkit's; the speed of one core running the floor's work while every core
runs it, against alone: the most the efficiency can reach on this machine; the efficiency over
that; then the speedup, efficiency and ceiling of the best rounds; then the host's own ceiling:
one core's speed on pure-Python arithmetic, which shares no memory traffic, while every core
runs it, against alone, :func:`host_ceiling`, measured in every round: where it is below 1.0 the
host, not the solver's reads, slows busy cores down).
The load average is printed at the start and the end: on a shared machine the wall-clock
figures mean little.

Run: ``python benchmarks/bench_ot.py`` (needs EVALKIT_DATA_DIR, gensim and the offline MiniLM;
the first run encodes the STS-B test sentences into evalkit's cache).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def best_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


Chunks = list[tuple[np.ndarray, np.ndarray]]


def shared_copy(xs: list, ys: list, workers: int) -> tuple[tuple, Chunks, Callable[[], None]]:
    """The pairs' token arrays packed into a shared file of the benchmark's own (the process
    path keeps its own file between calls), cut into the chunks evalkit's call cuts: the layout,
    the chunks ``(rows, sums)`` and a function that removes the file. The floor and the ceiling
    both run on it."""
    from evalkit_ot import arena, handover

    idx = np.array([i for i in range(len(xs)) if xs[i] is not ys[i]], dtype=np.int64)
    own = arena.Arena()
    layout, parts = handover.share(xs, ys, idx, workers, own)
    return layout, [(rows, sums) for _, rows, sums in parts], own.release


def floor_job(layout: tuple, kind: str, chunks: Chunks, start_at: float = 0.0) -> float:
    """The floor's work (pack and solve every chunk, as a worker does) on the shared file
    ``layout``, in this process or a worker, started at ``start_at`` on the system's monotonic
    clock (:func:`time.perf_counter`; at once if past); returns its wall seconds."""
    from evalkit_ot.handover import solve_shared

    while time.perf_counter() < start_at:
        pass
    t0 = time.perf_counter()
    for rows, sums in chunks:
        solve_shared(layout, kind, 1_000_000, rows, sums)  # a worker's call on copied texts
    return time.perf_counter() - t0


def floors(layout: tuple, kind: str, chunks: Chunks) -> Callable[[], tuple[float, float, float]]:
    """A timer of the single-core floor: with BLAS on one thread, the CPU seconds of what the
    workers run, in this process, on the packed token arrays and chunks of :func:`shared_copy`:
    the cost matrices alone (:func:`evalkit_ot.pack.pack_pairs`, shared-mass reduction
    included), POT's network simplex alone (``emd_c`` in a bare loop over the packed problems),
    and the two together (:func:`floor_job`)."""
    from evalkit_ot import arena
    from evalkit_ot.pack import pack_pairs
    from ot.lp.emd_wrap import emd_c
    from threadpoolctl import threadpool_limits

    arr = arena.views(layout)
    pts, sq, mass = arr["points"], arr["sqnorm"], arr["mass"]

    def cpu(fn: Callable[[], object]) -> tuple[float, object]:
        t0 = time.process_time()
        out = fn()
        return time.process_time() - t0, out

    def timer() -> tuple[float, float, float]:
        with threadpool_limits(1):
            t_cost, packs = cpu(lambda: [pack_pairs(pts, sq, mass, kind, r, s)[0] for r, s in chunks])
            problems = []
            for costs, shapes, a, b, _ in packs:  # type: ignore[attr-defined]
                co = ao = bo = 0
                for n, m in shapes.tolist():
                    problems.append((a[ao : ao + n], b[bo : bo + m], costs[co : co + n * m].reshape(n, m)))
                    co, ao, bo = co + n * m, ao + n, bo + m
            t_emd, _ = cpu(lambda: [emd_c(a, b, c, 1_000_000, 1) for a, b, c in problems])
            t_all, _ = cpu(lambda: floor_job(layout, kind, chunks))
        return t_cost, t_emd, t_all

    return timer


def ceiling(layout: tuple, kind: str, chunks: Chunks, workers: int) -> Callable[[], float]:
    """A timer of the machine's parallel ceiling: the floor's whole work (:func:`floor_job`) run
    by ``workers`` processes at once (this one and evalkit's pool of ``workers - 1``, BLAS on one
    thread, all started at the same instant), on the same shared token arrays. Returns the
    slowest process's own wall seconds: the floor's time alone over it is the speed of one core
    while every core works (1.0 for cores that do not slow each other down: shared caches,
    memory bandwidth, SMT siblings or turbo limits of the host), the most the efficiency can
    reach with nothing lost to handing work over or waiting."""
    return lambda: at_once(workers, floor_job, layout, kind, chunks)


def at_once(workers: int, job: Callable[..., float], *args: object) -> float:
    """``job(*args, start_at)`` run by ``workers`` processes started at the same instant
    ``start_at`` (this one with BLAS on one thread, and ``workers - 1`` of evalkit's pool, whose
    BLAS runs on one thread); returns the slowest process's own wall seconds."""
    from evalkit_ot import procs
    from threadpoolctl import threadpool_limits

    ex = procs.executor(workers)
    start_at = time.perf_counter() + 0.05  # after the pool has received its calls
    jobs = [ex.submit(job, *args, start_at) for _ in range(workers - 1)]
    with threadpool_limits(1):
        mine = job(*args, start_at)
    return max([mine, *(j.result() for j in jobs)])


def spin(n: int, start_at: float = 0.0) -> float:
    """Pure-Python integer arithmetic, ``n`` steps, started at ``start_at`` (as
    :func:`floor_job`): work that touches no memory beyond the core's own L1 cache. Returns its
    wall seconds."""
    while time.perf_counter() < start_at:
        pass
    t0 = time.perf_counter()
    total = 0
    for i in range(n):
        total += i * i
    return time.perf_counter() - t0


def host_ceiling(workers: int, n: int = 1_500_000) -> Callable[[], float]:
    """A timer of the host's own ceiling: :func:`spin` (about 50 ms) alone in this process, then
    on ``workers`` processes at once (:func:`at_once`, as :func:`ceiling`), then alone again;
    returns the faster lone time over the slowest process's time. Below 1.0 when busy cores slow each other down
    with no memory traffic to share: the hypervisor, SMT siblings or turbo limits of the host,
    not the solver's reads."""

    def timer() -> float:
        before = spin(n)
        together = at_once(workers, spin, n)
        return min(before, spin(n)) / together

    return timer


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its live children (the worker processes),
    or NaN without psutil."""
    try:
        import psutil
    except ImportError:
        return float("nan")
    me = psutil.Process()
    procs = [me, *me.children(recursive=True)]
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


Rounds = dict[str, list[float]]


def timings(runs: dict[str, Callable[[], object]], floor: Callable[[], tuple[float, float, float]],
            repeats: int, host: Callable[[], float] | None = None,
            ) -> tuple[dict[str, float], dict[str, object], float, tuple[float, ...], Rounds]:
    """Best wall seconds of each run over ``repeats`` rounds, the runs interleaved with the floor
    in every round (so all see the same load), their last outputs, the best CPU seconds (this
    process and the workers) of the first run, the best floor CPU seconds, and every round's
    seconds (runs by name, the floor's whole work as ``"floor"``, and the ratio of ``host``
    (:func:`host_ceiling`) as ``"host"``, measured after the floor). A run named ``"ceiling"``
    returns its own seconds (:func:`ceiling`).

    Every round measures the floor twice, just before its runs and just after them, and keeps
    the faster of the two as that round's floor: a ratio to it then never gains from the
    machine slowing down between the floor and a run (the lower floor time, the lower
    efficiency)."""
    best = dict.fromkeys(runs, np.inf)
    outs: dict[str, object] = {}
    rounds: Rounds = {key: [] for key in [*runs, "floor", "host"]}
    cpu_best, floor_best = np.inf, (np.inf, np.inf, np.inf)
    for _ in range(repeats):
        before = floor()
        for i, (key, fn) in enumerate(runs.items()):
            c0, t0 = cpu_seconds(), time.perf_counter()
            outs[key] = fn()
            took = float(outs[key]) if key == "ceiling" else time.perf_counter() - t0  # type: ignore[arg-type]
            best[key] = min(best[key], took)
            rounds[key].append(took)
            if i == 0:
                cpu_best = min(cpu_best, cpu_seconds() - c0)
        after = floor()
        rounds["floor"].append(min(before[2], after[2]))
        if host is not None:
            rounds["host"].append(host())
        floor_best = tuple(min(x, y, z) for x, y, z in zip(floor_best, before, after, strict=True))  # type: ignore[assignment]
    return best, outs, cpu_best, floor_best, rounds


def throughput(name: str, xs: list, ys: list, weights: tuple[list, list], gensim_docs: tuple,
               kv: object, repeats: int, n_jobs: int) -> tuple[float, ...]:
    """Print pairs/s of the implementations, the floor and the parallel ceiling on one dataset;
    return evalkit / fastest naive, the efficiency, the CPU-time efficiency (floor / evalkit's
    CPU time), the machine's ceiling (:func:`ceiling`: one core's speed while all work) and the
    efficiency as a fraction of it."""
    import ot
    from evalkit_ot.batch import n_workers, ot_distances

    n = len(xs)
    workers = n_workers(n_jobs)
    wx, wy = weights
    pts = [(x.points, y.points, a, b) for x, y, a, b in zip(xs, ys, wx, wy, strict=True)]
    t0 = time.perf_counter()
    ot_distances(xs[:500], ys[:500], n_jobs=n_jobs, parallel="processes")  # warm-up: imports, pools
    start = time.perf_counter() - t0
    ot_distances(xs[:500], ys[:500], n_jobs=n_jobs, parallel="threads")

    def naive(backend: str) -> np.ndarray:
        return np.array([ot.emd2(a, b, ot.dist(x, y, metric="euclidean", backend=backend))
                         for x, y, a, b in pts])

    runs: dict[str, Callable[[], object]] = {
        "auto": lambda: ot_distances(xs, ys, n_jobs=n_jobs),
        "threads": lambda: ot_distances(xs, ys, n_jobs=n_jobs, parallel="threads").values,
        "naive": lambda: naive("auto"), "exact": lambda: naive("scipy")}
    layout, chunks, release = shared_copy(xs, ys, workers)
    runs["ceiling"] = ceiling(layout, xs[0].kind, chunks, workers)
    best, outs, cpu_ev, (t_cost, t_emd, t_all), rounds = timings(runs, floors(layout, xs[0].kind, chunks),
                                                                  repeats, host_ceiling(workers))
    release()
    g1, g2 = gensim_docs
    t_gensim, v_gensim = best_time(
        lambda: np.array([kv.wmdistance(d1, d2, norm=False)  # type: ignore[attr-defined]
                          for d1, d2 in zip(g1, g2, strict=True)]), 1)
    out = outs["auto"]
    ev = np.asarray(out.values)  # type: ignore[attr-defined]
    print(f"[{name}] {n} pairs, mean tokens per text "
          f"{np.mean([x.size for x in xs] + [y.size for y in ys]):.1f}, dim {xs[0].dim}")
    print(f"  warm-up call on worker processes (includes the pool start-up the first time): {start:.2f} s")
    rows = [(f"evalkit exact, auto: {out.parallel}", best["auto"], ev),  # type: ignore[attr-defined]
            ("evalkit exact, threads", best["threads"], outs["threads"]),
            ("naive ot.dist+ot.emd2", best["naive"], outs["naive"]),
            ("naive, scipy cdist cost", best["exact"], outs["exact"]),
            ("gensim wmdistance loop", t_gensim, v_gensim)]
    for label, t, v in rows:
        diff = float(np.max(np.abs(np.asarray(v) - ev)))
        print(f"  {label:30s} {n / t:10.1f} pairs/s   max |diff to evalkit| {diff:.2e}")
    print(f"  floor, 1 core (CPU time): cost matrices alone {n / t_cost:.1f} pairs/s, simplex (emd_c) "
          f"alone {n / t_emd:.1f} pairs/s, together {n / t_all:.1f} pairs/s")
    # Each ratio within each round (seconds apart, so in the same phase of the machine), then
    # its median over the rounds; and the ratio of the best rounds, for comparison.
    r = {key: np.array(v) for key, v in rounds.items()}
    speed = float(np.median(np.minimum(r["naive"], r["exact"]) / r["auto"]))
    eff = float(np.median(r["floor"] / (workers * r["auto"])))
    machine = float(np.median(r["floor"] / r["ceiling"]))  # one core's speed while all work / alone
    host = float(np.median(r["host"]))
    best_speed = min(best["naive"], best["exact"]) / best["auto"]
    best_eff = (n / best["auto"]) / (workers * n / t_all)
    best_machine = t_all / best["ceiling"]
    print(f"  parallel ceiling: the floor's work on {workers} processes at once, each at {machine:.2f} of one "
          f"core's speed alone ({workers * machine:.2f}x one core in all); evalkit's efficiency is "
          f"{eff / machine:.2f} of it")
    print(f"  host ceiling: pure-Python arithmetic (no memory traffic) on {workers} processes at once, each "
          f"at {host:.2f} of one core's speed alone (median over the rounds)")
    print(f"  speedup vs the faster naive loop: {speed:.2f}x; efficiency on {workers} workers: {eff:.2f} "
          f"(medians over {len(r['auto'])} rounds of each round's ratio); the best rounds' ratios: "
          f"speedup {best_speed:.2f}x, efficiency {best_eff:.2f}, ceiling {best_machine:.2f}")
    print(f"  vs gensim: {t_gensim / best['auto']:.2f}x; CPU time of the floor / CPU time of evalkit "
          f"(caller and workers): {t_all / cpu_ev:.2f}; threads vs naive: "
          f"{min(best['naive'], best['exact']) / best['threads']:.2f}x")
    if float(np.max(np.abs(ev - np.asarray(outs["exact"])))) > 1e-12:
        raise SystemExit(f"{name}: evalkit differs from the per-pair ot.emd2 loop by more than 1e-12")
    return speed, eff, t_all / cpu_ev, machine, eff / machine, best_speed, best_eff, best_machine, host


def crossover(xs: list, ys: list, n_jobs: int, repeats: int) -> None:
    """Print the best wall time of ``parallel="threads"`` and ``"processes"`` (warm pool) on the
    first N pairs, for growing N, interleaved in every round: where processes start to pay."""
    from evalkit_ot.batch import ot_distances

    ot_distances(xs, ys, n_jobs=n_jobs, parallel="processes")  # start the pool, size the file
    for n in [25, 50, 100, 200, 400, 800, len(xs)]:
        best = {"threads": np.inf, "processes": np.inf}
        for _ in range(repeats):
            for mode in best:
                t0 = time.perf_counter()
                ot_distances(xs[:n], ys[:n], n_jobs=n_jobs, parallel=mode)
                best[mode] = min(best[mode], time.perf_counter() - t0)
        print(f"  crossover: {n:5d} pairs: threads {1e3 * best['threads']:7.1f} ms, processes "
              f"{1e3 * best['processes']:7.1f} ms ({best['threads'] / best['processes']:.2f}x)")


def knn_check(name: str, corpus: list, queries: list[int], k: int, n_jobs: int) -> float:
    from evalkit_ot.knn import knn, knn_exhaustive

    qd = [corpus[i] for i in queries]
    knn(qd[:2], corpus, k, exclude=queries[:2], n_jobs=n_jobs)  # warm-up (imports)
    pruned = knn(qd, corpus, k, exclude=queries, n_jobs=n_jobs)
    full = knn_exhaustive(qd, corpus, k, exclude=queries, n_jobs=n_jobs)
    same = (np.array_equal(pruned.indices, full.indices)
            and np.array_equal(pruned.distances, full.distances))
    print(f"[{name} kNN] k={k}, {len(queries)} queries over {len(corpus)} texts: exact solves "
          f"{int(pruned.n_exact.sum())} (prefetch and prune) vs {int(full.n_exact.sum())} "
          f"(exhaustive) = {pruned.solve_reduction:.1f}x fewer; identical neighbours and "
          f"distances: {same}; {pruned.seconds:.2f}s vs {full.seconds:.2f}s")
    if not same:
        raise SystemExit(f"{name}: pruned k-NN differs from the exhaustive search")
    return pruned.solve_reduction


def gensim_kv(vectors: list[np.ndarray]) -> tuple[object, list[list[str]]]:
    """A float64 KeyedVectors with one key per token occurrence (contextual vectors)."""
    from gensim.models import KeyedVectors

    keys = [[f"t{d}_{i}" for i in range(len(v))] for d, v in enumerate(vectors)]
    kv = KeyedVectors(vectors[0].shape[1], count=sum(len(k) for k in keys), dtype=np.float64)
    kv.add_vectors([k for ks in keys for k in ks], np.concatenate(vectors).astype(np.float64))
    return kv, keys


def stsb(data: Path, limit: int | None) -> tuple[dict, list[np.ndarray], list[np.ndarray]]:
    """STS-B test: the MiniLM token bags of the distinct sentences and each pair's float64
    token vectors."""
    from evalkit_ot.embeddings import ContextualEmbedder

    from evalkit.plugins import get_host

    pairs = get_host().datasets.create("stsb").load("test", data)
    if limit:
        pairs = pairs.iloc[:limit]
    s1, s2 = list(pairs.sentence1), list(pairs.sentence2)
    texts = list(dict.fromkeys(s1 + s2))
    bags = dict(zip(texts, ContextualEmbedder("all-MiniLM-L6-v2").bags(texts), strict=True))
    return (bags, [bags[t].vectors.astype(np.float64) for t in s1],
            [bags[t].vectors.astype(np.float64) for t in s2])


def lee_pairs(data: Path, repeats: int, n_jobs: int) -> tuple[float, ...]:
    """:func:`throughput` on all pairs of the Lee corpus with gensim's test vectors."""
    from evalkit_ot.embeddings import StaticEmbedder, load_vectors, to_docs
    from gensim.models import KeyedVectors
    from gensim.test.utils import datapath

    path = Path(datapath("euclidean_vectors.bin"))
    emb = StaticEmbedder(load_vectors(path), stop_words="english")
    lee = (data / "lee" / "lee.cor").read_text(encoding="latin-1").splitlines()
    iu = np.triu_indices(len(lee), 1)
    docs = to_docs(lee, emb, kind="wmd")
    lbags = [emb.bag(t) for t in lee]
    kv64 = KeyedVectors.load_word2vec_format(str(path), binary=True, datatype=np.float64)
    toks = [emb.tokenize(t) for t in lee]
    return throughput(
        "Lee corpus, gensim test vectors", [docs[i] for i in iu[0]], [docs[j] for j in iu[1]],
        ([lbags[i].counts / lbags[i].counts.sum() for i in iu[0]],
         [lbags[j].counts / lbags[j].counts.sum() for j in iu[1]]),
        ([toks[i] for i in iu[0]], [toks[j] for j in iu[1]]), kv64, repeats, n_jobs)


def knn_runs(data: Path, bags: dict, queries: int, n_jobs: int) -> list[float]:
    """:func:`knn_check` on the STS-B test sentences and the Lee background documents."""
    from evalkit_ot.embeddings import ContextualEmbedder, StaticEmbedder, load_vectors, to_docs
    from gensim.test.utils import datapath

    out = []
    corpus = to_docs(list(bags), ContextualEmbedder("all-MiniLM-L6-v2"), kind="wmd")
    step = max(1, len(corpus) // queries)
    out.append(knn_check("STS-B test sentences", corpus, list(range(0, len(corpus), step))[:queries],
                         10, n_jobs))
    emb = StaticEmbedder(load_vectors(Path(datapath("euclidean_vectors.bin"))), stop_words="english")
    bg = (data / "lee" / "lee_background.cor").read_text(encoding="latin-1").splitlines()
    bg_docs = to_docs(bg, emb, kind="wmd")
    step = max(1, len(bg_docs) // queries)
    out.append(knn_check("Lee background documents", bg_docs,
                         list(range(0, len(bg_docs), step))[:queries], 10, n_jobs))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stsb-pairs", type=int, default=None, help="first N STS-B test pairs (all)")
    ap.add_argument("--repeats", type=int, default=10, help="best of N interleaved rounds (gensim: 1)")
    ap.add_argument("--knn-queries", type=int, default=40)
    ap.add_argument("--n-jobs", type=int, default=-1)
    ap.add_argument("--crossover", action="store_true",
                    help="only time threads against processes on the first N STS-B pairs, N growing")
    args = ap.parse_args()

    from evalkit_ot.solver import prepare

    from evalkit.data import resolve_data_dir

    data = resolve_data_dir(None)
    print(f"cores: {os.cpu_count()}, n_jobs={args.n_jobs}, load average "
          f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min); POT "
          f"{__import__('ot').__version__}, gensim {__import__('gensim').__version__}")
    # (1) STS-B test, contextual token embeddings.
    bags, vec1, vec2 = stsb(data, args.stsb_pairs)
    xs = [prepare(v) for v in vec1]
    ys = [prepare(v) for v in vec2]
    if args.crossover:
        crossover(xs, ys, args.n_jobs, args.repeats)
        return 0
    kv, keys = gensim_kv(vec1 + vec2)
    results = [throughput(
        "STS-B test, MiniLM token embeddings", xs, ys,
        ([np.full(len(v), 1 / len(v)) for v in vec1], [np.full(len(v), 1 / len(v)) for v in vec2]),
        (keys[: len(vec1)], keys[len(vec1):]), kv, args.repeats, args.n_jobs)]
    # (2) Lee corpus, gensim's static test vectors.
    results.append(lee_pairs(data, args.repeats, args.n_jobs))
    # (3) k-NN, k = 10.
    reductions = knn_runs(data, bags, args.knn_queries, args.n_jobs)
    speed, eff, cpu_eff, machine, of_ceiling, best_speed, best_eff, best_machine, host = (
        min(r[i] for r in results) for i in range(9))
    print(f"load average at the end: {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"speedup_vs_naive={speed:.2f} efficiency={eff:.2f} "
          f"knn_solve_reduction={min(reductions):.1f} cpu_efficiency={cpu_eff:.2f} "
          f"machine_ceiling={machine:.2f} efficiency_vs_ceiling={of_ceiling:.2f} "
          f"best_rounds_speedup={best_speed:.2f} best_rounds_efficiency={best_eff:.2f} "
          f"best_rounds_ceiling={best_machine:.2f} host_ceiling={host:.2f}")
    return 0


if __name__ == "__main__":
    sys.path[:0] = [p for p in (str(Path(__file__).resolve().parents[1] / "plugins"),)
                    if p not in sys.path]
    sys.exit(main())
