"""Many pairs at once: exact WMD/WRD across cores, and the optional entropic (Sinkhorn) solver.

:func:`ot_distances` takes two equally long lists of prepared texts
(:class:`~evalkit_ot.solver.Doc`, see :func:`~evalkit_ot.solver.prepare`) and returns one
distance per pair. Pairs are sorted by size and cut into chunks; a chunk is a tight loop of cost
matrix (one BLAS product with precomputed norms, six NumPy calls) and POT's network simplex
called directly, so the per-pair Python overhead is a few small array operations. Chunks run on a persistent thread
pool (``n_jobs`` as in joblib): the matrix products and the simplex release the GIL, and
threads need no copies of the token vectors. WMD pairs first drop the mass both texts hold at
the same vector (:func:`~evalkit_ot.solver.drop_shared_mass`), a smaller problem with the same
optimum.

``solver="sinkhorn"`` replaces the exact solve by log-domain Sinkhorn iterations (entropic
regularisation ``reg * max(C)`` per pair; POT's ``sinkhorn_log``, or the batched torch version of
:mod:`evalkit_ot.torch_sinkhorn` where torch sees a GPU). Its value is the transport cost
``<T, C>`` of the entropic plan after rounding it onto the transport polytope (:func:`round_plan`),
so it approximates the exact value from above. It is never substituted silently:
the result always carries a :class:`GapReport` measured against exact solves of a random sample
of the pairs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np

from evalkit import ConfigError, DataError
from evalkit_ot.solver import MAX_ITER, Doc, cost_and_flag, exact_distance, finish, same_doc

log = logging.getLogger("evalkit.ot")

SOLVERS = ("exact", "sinkhorn")
ON_EMPTY = ("error", "nan")
PARALLEL = ("auto", "threads", "processes")
#: ``parallel="auto"`` solves exact pairs on worker processes from this many pairs on, once the
#: pool runs (``bench_ot.py --crossover`` on 2 cores, texts prepared into shared memory:
#: processes 1.08x the threads at 100 STS-B pairs, 0.86x at 50, 1.62x at 200) ...
PROCESS_MIN_PAIRS = 100
#: ... and from this many when the pool would have to start first (a worker imports NumPy, SciPy
#: and POT: about a second of start-up).
PROCESS_MIN_PAIRS_COLD = 20_000


@dataclass
class GapReport:
    """How far the entropic values are from the exact ones, on ``n_checked`` sampled pairs.

    ``gap = sinkhorn - exact`` in the distance's units (>= 0 up to round-off: the entropic value
    is the cost of a feasible plan).
    """

    n_checked: int
    mean_gap: float
    max_abs_gap: float
    mean_rel_gap: float

    def describe(self) -> str:
        return (f"entropic gap to exact on {self.n_checked} pairs: mean {self.mean_gap:.3g}, "
                f"max |gap| {self.max_abs_gap:.3g}, mean relative {self.mean_rel_gap:.3g}")


@dataclass
class OTResult:
    """Distances of many pairs.

    Attributes:
        values: float64 ``(n,)``; NaN only for pairs with an empty text under ``on_empty="nan"``.
        kind: ``"wmd"`` or ``"wrd"``.
        solver: ``"exact"`` or ``"sinkhorn"``.
        backend: what computed ``values``: ``"pot-emd"``, ``"pot-sinkhorn-log"`` or
            ``"torch-sinkhorn-log:<device>"``.
        n_exact: exact solves performed (including those for the gap report).
        gap: the entropic solver's measured gap (``None`` for the exact solver).
        seconds: wall time.
        parallel: where the exact solves ran: ``"processes"``, ``"threads"`` or ``"serial"``.
    """

    values: np.ndarray
    kind: str
    solver: str
    backend: str
    n_exact: int
    gap: GapReport | None
    seconds: float
    parallel: str = "serial"


def _chunks(xs: Sequence[Doc], ys: Sequence[Doc], idx: np.ndarray,
            n_workers: int) -> list[np.ndarray]:
    """Pair indices sorted by size, cut into about 4 chunks per worker (at most 256 pairs)."""
    if idx.size == 0:
        return []
    n1 = np.array([xs[i].size for i in idx])
    n2 = np.array([ys[i].size for i in idx])
    order = idx[np.argsort(n1 + n2, kind="stable")]
    target = max(8, min(256, -(-idx.size // (4 * max(n_workers, 1)))))
    return [order[s : s + target] for s in range(0, order.size, target)]


#: ``solve(x, y, C, may_share) -> distance`` for one pair of prepared texts, their cost matrix
#: and whether a cost may be exactly 0.
Solve = Callable[[Doc, Doc, np.ndarray, bool], float]


def _solve_chunk(xs: Sequence[Doc], ys: Sequence[Doc], chunk: np.ndarray,
                 solve: Solve) -> np.ndarray:
    out = np.zeros(len(chunk))
    for pos, i in enumerate(chunk):
        x, y = xs[i], ys[i]
        if same_doc(x, y):
            continue
        out[pos] = solve(x, y, *cost_and_flag(x, y))
    return out


def n_workers(n_jobs: int | None) -> int:
    """joblib's meaning of ``n_jobs`` (None = 1, -1 = all cores, -2 = all but one; never fewer
    than 1) as a count of workers.

    Raises:
        ConfigError: ``n_jobs`` is 0 or not an integer.
    """
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)):
        raise ConfigError(f"n_jobs must be an integer (joblib convention), not {n_jobs!r}")
    if n_jobs == 0:
        raise ConfigError("n_jobs must not be 0 (use 1 for serial, -1 for all cores)")
    return max(1, n_jobs if n_jobs > 0 else _cores() + 1 + n_jobs)


#: ``(time.monotonic() when read, joblib.cpu_count())``: :func:`_cores`.
_CORES: list[tuple[float, int]] = []


def _cores() -> int:
    """``joblib.cpu_count()`` (the cores this process may use: affinity, cgroup quota), read again
    after a second: it reads the cgroup's files each time, 0.2 ms per call."""
    import joblib

    now = time.monotonic()
    if not _CORES or now - _CORES[0][0] > 1.0:
        _CORES[:] = [(now, joblib.cpu_count())]
    return _CORES[0][1]


_POOLS: dict[int, Any] = {}
_BLAS: list[Any] = []


def _blas_one_thread() -> Any:
    """A context limiting BLAS to one thread (threadpoolctl; its library scan is done once)."""
    import contextlib

    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController())
        except Exception:  # pragma: no cover - threadpoolctl comes with scikit-learn
            _BLAS.append(None)
    ctl = _BLAS[0]
    return contextlib.nullcontext() if ctl is None else ctl.limit(limits=1, user_api="blas")


def run_threads(fn: Callable[..., Any], jobs: Sequence[tuple[object, ...]],
                workers: int) -> list[Any]:
    """``[fn(*job) for job in jobs]`` on a persistent pool of ``workers`` threads, with BLAS
    limited to one thread so that the workers do not oversubscribe the cores.

    Threads rather than processes: the network simplex and BLAS release the GIL, and threads
    share the token vectors instead of pickling them. The pool outlives the call, so a batch
    pays no start-up cost.
    """
    if workers == 1 or len(jobs) <= 1:
        return [fn(*job) for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    pool = _POOLS.get(workers)
    if pool is None:
        pool = _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="evalkit-ot")
    with _blas_one_thread():
        return [f.result() for f in [pool.submit(fn, *job) for job in jobs]]


def solve_many(xs: Sequence[Doc], ys: Sequence[Doc], idx: np.ndarray, solve: Solve,
               n_jobs: int | None) -> np.ndarray:
    """``solve(x, y, C, may_share)`` for the pairs ``idx``, in chunks across threads; values in
    idx order."""
    workers = n_workers(n_jobs)
    chunks = _chunks(xs, ys, idx, workers)
    parts = run_threads(_solve_chunk, [(xs, ys, c, solve) for c in chunks], workers)
    values = np.empty(len(xs))
    for c, p in zip(chunks, parts, strict=True):
        values[c] = p
    return values[idx]


def forced_backend(parallel: str, workers: int) -> bool | None:
    """Processes (``True``) or threads (``False``) when ``parallel`` and ``workers`` decide alone:
    ``"threads"`` or fewer than two workers -> threads, ``"processes"`` -> processes; ``None`` for
    ``"auto"``, where the caller weighs the batch against the pool's start-up.

    Raises:
        ConfigError: ``parallel`` is not one of :data:`PARALLEL`.
    """
    if parallel not in PARALLEL:
        raise ConfigError(f"parallel must be one of {', '.join(PARALLEL)}, not {parallel!r}")
    if workers < 2 or parallel == "threads":
        return False
    return True if parallel == "processes" else None


def use_processes(parallel: str, n_pairs: int, workers: int) -> bool:
    """Whether exact solves of ``n_pairs`` pairs go to worker processes (:mod:`evalkit_ot.procs`)
    rather than threads: ``parallel="processes"`` (with more than one worker), or ``"auto"`` and
    a batch large enough to pay for the processes (:data:`PROCESS_MIN_PAIRS`, or
    :data:`PROCESS_MIN_PAIRS_COLD` before the pool has started)."""
    forced = forced_backend(parallel, workers)
    if forced is not None:
        return forced
    from evalkit_ot.procs import is_warm

    return n_pairs >= (PROCESS_MIN_PAIRS if is_warm(workers) else PROCESS_MIN_PAIRS_COLD)


def exact_many(xs: Sequence[Doc], ys: Sequence[Doc], idx: np.ndarray, *, max_iter: int,
               n_jobs: int | None, parallel: str = "auto") -> tuple[np.ndarray, str]:
    """Exact distances of the pairs ``idx`` (values in ``idx`` order) and where they were
    computed: ``"processes"``, ``"threads"`` or ``"serial"``."""
    workers = n_workers(n_jobs)
    if use_processes(parallel, int(idx.size), workers):
        from evalkit_ot.procs import solve_processes

        return solve_processes(xs, ys, idx, max_iter=max_iter, workers=workers), "processes"

    def exact(x: Doc, y: Doc, c: np.ndarray, may_share: bool) -> float:
        return exact_distance(x, y, c, max_iter=max_iter, may_share=may_share)

    return solve_many(xs, ys, idx, exact, n_jobs), "threads" if workers > 1 else "serial"


def round_plan(plan: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Project an approximate plan onto the transport polytope ``U(a, b)``.

    Altschuler, Weed & Rigollet 2017 ("Near-linear time approximation algorithms for optimal
    transport via Sinkhorn iteration", NeurIPS, Algorithm 2): scale rows down to ``a``, columns
    down to ``b``, then add the rank-one correction ``e_r e_c^T / |e_r|_1``. The result has
    marginals exactly ``a`` and ``b`` (up to round-off), so its cost is >= the exact optimum.
    """
    r = plan.sum(axis=1)
    plan = plan * np.minimum(np.divide(a, r, out=np.ones_like(a), where=r > 0), 1.0)[:, None]
    c = plan.sum(axis=0)
    plan = plan * np.minimum(np.divide(b, c, out=np.ones_like(b), where=c > 0), 1.0)[None, :]
    er = np.maximum(a - plan.sum(axis=1), 0.0)
    ec = np.maximum(b - plan.sum(axis=0), 0.0)
    total = er.sum()
    if total > 0:
        plan = plan + np.outer(er, ec) / total
    return plan


def _sinkhorn_pot(reg: float, n_iter: int, tol: float) -> Solve:
    def solve(x: Doc, y: Doc, c: np.ndarray, may_share: bool) -> float:
        import ot

        top = float(c.max())
        if top <= 0.0:
            return 0.0
        plan = ot.bregman.sinkhorn_log(x.mass, y.mass, c, reg * top, numItermax=n_iter,
                                       stopThr=tol, warn=False)
        return finish(float(np.sum(round_plan(plan, x.mass, y.mass) * c)), x.kind, c)

    return solve


def _use_torch(backend: str) -> bool:
    if backend == "pot":
        return False
    if backend == "torch":
        return True
    if backend != "auto":
        raise ConfigError(f"backend must be 'auto', 'pot' or 'torch', not {backend!r}")
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def ot_distances(
    xs: Sequence[Doc | None],
    ys: Sequence[Doc | None],
    *,
    solver: str = "exact",
    reg: float = 0.05,
    n_jobs: int | None = -1,
    max_iter: int = MAX_ITER,
    sinkhorn_iter: int = 2000,
    tol: float = 1e-9,
    gap_sample: int = 100,
    seed: int = 0,
    backend: str = "auto",
    device: str | None = None,
    on_empty: str = "error",
    parallel: str = "auto",
) -> OTResult:
    """WMD or WRD of each pair ``(xs[i], ys[i])``, exact by default.

    Args:
        xs, ys: prepared texts of one kind (``None`` for an empty text), equal lengths ``n``.
        solver: ``"exact"`` (network simplex, float64) or ``"sinkhorn"`` (entropic, approximate).
        reg: Sinkhorn only: entropic regularisation relative to each pair's largest cost.
        n_jobs: workers (joblib convention: -1 all cores, -2 all but one, ``None`` or 1 serial).
        parallel: where exact solves run with more than one worker: ``"processes"`` (loky's
            persistent pool, :mod:`evalkit_ot.procs`), ``"threads"``, or ``"auto"``: processes
            for batches large enough to pay for them (:func:`use_processes`). The Sinkhorn
            solver always uses threads. The values are the same either way.
        max_iter: simplex iteration limit per pair. sinkhorn_iter, tol: Sinkhorn iteration limit
            and marginal tolerance.
        gap_sample: Sinkhorn only: pairs (at random, ``seed``) also solved exactly to measure
            the gap (all pairs if ``n`` is smaller); at least 1.
        backend: Sinkhorn only: ``"auto"`` (torch if it sees a GPU, else POT), ``"pot"`` or
            ``"torch"``; ``device`` is the torch device (default ``cuda`` when available).
        on_empty: a pair with an empty text raises (``"error"``) or gets NaN (``"nan"``).

    Returns:
        :class:`OTResult` (values float64 ``(n,)``, non-negative; WRD within ``[0, 2]``).

    Raises:
        ConfigError: unknown ``solver``/``on_empty``/``backend``/``parallel``, mixed kinds, bad
            ``gap_sample``, ``n_jobs=0``.
        DataError: different lengths, an empty text under ``on_empty="error"`` (names the pair).
        SolverError: the exact solver did not converge.
    """
    t0 = time.perf_counter()
    if solver not in SOLVERS:
        raise ConfigError(f"solver must be one of {', '.join(SOLVERS)}, not {solver!r}")
    if on_empty not in ON_EMPTY:
        raise ConfigError(f"on_empty must be 'error' or 'nan', not {on_empty!r}")
    if len(xs) != len(ys):
        raise DataError(f"{len(xs)} first texts but {len(ys)} second texts")
    xs, ys = list(xs), list(ys)
    empty = _empty_pairs(xs, ys)
    if empty and on_empty == "error":
        more = f" (and {len(empty) - 10} more)" if len(empty) > 10 else ""
        raise DataError(
            f"pairs {empty[:10]}{more} have an empty text (no token with a vector); the distance "
            "is undefined. Remove them, or pass on_empty='nan' to get NaN for them")
    docs_x: list[Doc] = [d for d in xs if d is not None] if empty else xs  # type: ignore[assignment]
    docs_y: list[Doc] = [d for d in ys if d is not None] if empty else ys  # type: ignore[assignment]
    kinds = set(map(attrgetter("kind"), docs_x)) | set(map(attrgetter("kind"), docs_y))
    if len(kinds) > 1:
        raise ConfigError(f"one batch must hold one kind of document, got {sorted(kinds)}")
    kind = kinds.pop() if kinds else "wmd"
    idx = np.setdiff1d(np.arange(len(xs), dtype=np.int64), empty, assume_unique=True)
    values = np.full(len(xs), np.nan)
    px, py = docs_x, docs_y  # with empty texts, a text stands in for each None (never solved)
    if empty:
        px = [d if d is not None else docs_x[0] for d in xs] if docs_x else []
        py = [d if d is not None else px[0] for d in ys] if docs_x else []

    if parallel not in PARALLEL:
        raise ConfigError(f"parallel must be one of {', '.join(PARALLEL)}, not {parallel!r}")
    n_workers(n_jobs)  # validates n_jobs
    gap, where = None, "serial"
    if solver == "exact":
        values[idx], where = exact_many(px, py, idx, max_iter=max_iter, n_jobs=n_jobs,
                                        parallel=parallel)
        n_exact, used = int(idx.size), "pot-emd"
        log.debug("%s: %d exact solves on %s", kind, idx.size, where)
    else:
        if not (reg > 0):
            raise ConfigError(f"reg must be positive, got {reg}")
        if gap_sample < 1:
            raise ConfigError("gap_sample must be at least 1: the entropic gap is always reported")
        if _use_torch(backend):
            from evalkit_ot.torch_sinkhorn import sinkhorn_batch

            dev = device or _default_device()
            values[idx] = sinkhorn_batch([px[i] for i in idx], [py[i] for i in idx], reg=reg,
                                         n_iter=sinkhorn_iter, tol=tol, device=dev)
            used = f"torch-sinkhorn-log:{dev}"
        else:
            values[idx] = solve_many(px, py, idx, _sinkhorn_pot(reg, sinkhorn_iter, tol), n_jobs)
            used = "pot-sinkhorn-log"
        rng = np.random.default_rng(seed)
        check = (idx if idx.size <= gap_sample
                 else np.sort(rng.choice(idx, gap_sample, replace=False)))
        ref, where = exact_many(px, py, check, max_iter=max_iter, n_jobs=n_jobs, parallel=parallel)
        n_exact = int(check.size)
        if check.size:
            g = values[check] - ref
            rel = np.abs(g) / np.maximum(np.abs(ref), 1e-12)
            gap = GapReport(int(check.size), float(g.mean()), float(np.abs(g).max()),
                            float(rel.mean()))
            log.info("%s %s: %s", kind, used, gap.describe())
    return OTResult(values, kind, solver, used, n_exact, gap, time.perf_counter() - t0, where)


def _empty_pairs(xs: list[Doc | None], ys: list[Doc | None]) -> list[int]:
    """Positions of the pairs with an empty text (``None``), ascending."""
    if None not in xs and None not in ys:  # (a Doc never equals None)
        return []
    return [i for i, (x, y) in enumerate(zip(xs, ys, strict=True)) if x is None or y is None]


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
