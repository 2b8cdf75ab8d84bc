"""Exact WMD/WRD of many pairs across worker processes.

Threads do not scale the exact path: POT's network simplex (``emd_c``) releases the GIL, but the
per-pair Python and small-NumPy work around it holds it. Processes do not share a GIL, so
:func:`solve_processes` hands the whole per-pair work to ``workers - 1`` processes of loky's
persistent executor (:func:`executor`, the pool joblib also uses) and the calling process:

- texts that :func:`~evalkit_ot.solver.prepare` placed in shared memory (:mod:`evalkit_ot.store`,
  the default) are read where they lie: the call writes a plan of token ranges, and every
  process claims chunks of it until none is left, the pool from the front (the largest
  problems), the caller from the back (:mod:`evalkit_ot.claim`). Nothing is copied per call and
  no process waits to be handed its next chunk. The workers are submitted first (for the slab
  of the call's first text), and the first 1/16 of the pairs (a head, :data:`HEAD`) is
  published to them as soon as it is planned, while the caller plans the rest; between the
  steps of planning the caller lets go of the GIL for a moment, which loky's threads in this
  process need to hand the call over (otherwise they wait up to the interpreter's 5 ms switch
  interval);
- texts with private arrays are copied chunk by chunk into a shared file as they are handed over
  (:mod:`evalkit_ot.handover`, :func:`run_shared`).

Either way each chunk's cost matrices come from :func:`evalkit_ot.pack.pack_pairs` (the
operations of :func:`~evalkit_ot.solver.cost_and_flag` in the same order, so the same bits; WMD's
shared-mass reduction where a cost is 0), then a tight loop over the chunk calls POT's ``emd_c``
directly (the routine ``ot.emd2`` calls, so the same values) (:func:`solve_packed`). The caller
working too means no core waits on a process that only hands over work.

Chunks are cut from the pairs sorted by size, largest first, in about equal work
(:func:`chunks`), so the processes finish together. The pool is started once per process (with
POT's torch/jax/tensorflow/cupy backends disabled, BLAS on one thread and loky's leak guard off in
the workers) and reused by later calls; :func:`shutdown` stops it and removes the shared file.
The k-NN search (:mod:`evalkit_ot.knn_pool`) shares its corpus through the same file.
"""

from __future__ import annotations

import contextlib
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np

from evalkit_ot.arena import ARENA, PLANS
from evalkit_ot.pack import pack_pairs
from evalkit_ot.solver import Doc, emd_value, finish, same_doc
from evalkit_ot.store import Slab

#: Environment of the worker processes: POT skips importing torch, jax, tensorflow and cupy
#: (seconds per worker), and BLAS runs on one thread (the workers already fill the cores).
WORKER_ENV = {
    "POT_BACKEND_DISABLE_PYTORCH": "1", "POT_BACKEND_DISABLE_JAX": "1",
    "POT_BACKEND_DISABLE_TENSORFLOW": "1", "POT_BACKEND_DISABLE_CUPY": "1",
    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
}
#: Workers that have been started in this process (their pool is warm).
_STARTED: set[int] = set()
#: The worker count of the pool loky runs now (it keeps one pool, resized on demand).
_LAST: list[int] = []
#: Largest and smallest chunk, in pairs, and the smallest chunk's work as a fraction of all:
#: ``1 / (4 CHUNKS_PER_WORKER workers)`` (:func:`chunks`).
MAX_CHUNK, MIN_CHUNK, CHUNKS_PER_WORKER = 256, 4, 8
#: A chunk's work is its distance (in work) to where the two sides meet over this (:func:`chunks`).
SHRINK = 3
#: The fixed work of one pair (its Python loop step and BLAS call) in cost-matrix entries, for
#: cutting chunks of equal work (:func:`pair_work`).
PAIR_WORK = 64
#: Most cost-matrix entries in one chunk (bounds the caller's buffers: 2**21 entries, 16 MiB).
MAX_ENTRIES = 2**21


def executor(workers: int) -> Any:
    """loky's reusable process pool for ``workers`` workers: ``workers - 1`` processes (at
    least one), the calling process being the last worker (:func:`run_shared`). Started on
    first use, then kept: later calls with the same arguments reuse it; idle workers exit after
    10 minutes."""
    from joblib.externals.loky import get_reusable_executor

    ex = get_reusable_executor(max_workers=max(1, workers - 1), timeout=600, env=WORKER_ENV,
                               initializer=_worker_init)
    _STARTED.add(workers)
    _LAST[:] = [workers]
    return ex


def _worker_init() -> None:
    """In each worker, at start: turn off loky's leak guard, which restarts a worker whose
    resident memory grew by 300 MB after its first call (a second of imports to start the new
    one, and a warning). The shared files a worker maps (:mod:`evalkit_ot.store`,
    :mod:`evalkit_ot.arena`) count in its resident memory, so reading a large corpus would set
    it off; without it, loky collects garbage once a second instead (``gc.collect()`` between
    two calls). Then import what the workers run, collect once, and move every object left out of
    the collector's reach (``gc.freeze()``: later collections ignore them): a full collection
    otherwise walks the ~150,000 objects of NumPy and POT, 140 to 170 ms that a call would wait
    for its worker once a second (measured on the STS-B test pairs); after it, about 10 us."""
    import gc

    with contextlib.suppress(ImportError):
        from joblib.externals.loky import process_executor

        process_executor._USE_PSUTIL = False
    from evalkit_ot import claim, handover, knn_pool  # noqa: F401  (imported for the freeze)

    _emd_c()
    gc.collect()  # (garbage frozen now would never be freed)
    gc.freeze()


def is_warm(workers: int) -> bool:
    """Whether this process already started a pool of ``workers`` processes."""
    return workers in _STARTED


def shutdown() -> None:
    """Stop the worker processes (a later call starts new ones) and remove the shared files of
    the copy path and of the plans (the texts' slabs stay with the texts, :mod:`evalkit_ot.store`)."""
    if _LAST:  # the same arguments, so loky returns the running pool rather than a new one
        executor(_LAST[0]).shutdown(wait=True)
    _STARTED.clear()
    _LAST.clear()
    ARENA.release()
    PLANS.release()


#: Calls kept in flight per worker process by :func:`run_shared`: each finished call hands its
#: process the next one at once (a done-callback), and a second one waiting hides the hand-over
#: (0.3 ms with an idle caller, several when the caller's own work holds its GIL).
DEPTH = 2


def run_shared(count: int, submit: Callable[[int], Any], local: Callable[[int], Any],
               processes: int) -> list[Any]:
    """Run calls ``0 .. count - 1`` (sorted from the largest to the smallest) on a pool of
    ``processes`` processes and in the calling process; their results in call order.

    The pool takes calls from the front: ``submit(i)`` (called for ``i = 0, 1, ...`` in turn,
    under a lock; it returns the call's future) keeps :data:`DEPTH` calls in flight per
    process, each finished call submitting the next from its done-callback (loky's result
    thread), so that a process never waits on the caller. Meanwhile the caller runs
    ``local(i)`` on calls from the back (the smallest), with BLAS on one thread, until the two
    ends meet: all finish together and no core waits on a caller that only hands over work.

    The first exception (from a process, a submit or the caller) is raised after every
    submitted call has stopped (the pool may still be reading the shared file).
    """
    from concurrent.futures import wait

    from evalkit_ot.batch import _blas_one_thread

    out: list[Any] = [None] * count
    sent: list[tuple[int, Any]] = []
    failed: list[BaseException] = []
    lock = threading.Lock()
    ends = [0, count]  # the next call from the front; one past the next call from the back

    def feed(_done: object = None) -> None:
        with lock:
            if ends[0] >= ends[1] or failed:
                return
            i = ends[0]
            ends[0] += 1
            try:
                future = submit(i)
            except BaseException as exc:  # raised in the caller below (a callback cannot raise)
                failed.append(exc)
                return
            sent.append((i, future))
        future.add_done_callback(feed)

    def take_back() -> int | None:
        with lock:
            if ends[0] >= ends[1] or failed:
                return None
            ends[1] -= 1
            return ends[1]

    try:
        for _ in range(DEPTH * processes):
            feed()
        with _blas_one_thread():
            while (i := take_back()) is not None:
                out[i] = local(i)
        with lock:  # no submit in progress; none will follow
            ends[0] = ends[1]
            calls = list(sent)
        if failed:
            raise failed[0]
        for pos, future in calls:
            out[pos] = future.result()
    finally:
        with lock:
            ends[0] = ends[1]
            calls = list(sent)
        for _, future in calls:
            future.cancel()
        wait([f for _, f in calls])
    return out


def _emd_c() -> Any:
    try:
        from ot.lp.emd_wrap import emd_c
    except ImportError:  # pragma: no cover - POT moved its private routine
        return None
    return emd_c


def solve_chunk(kind: str, max_iter: int, costs: np.ndarray, shapes: np.ndarray, a: np.ndarray,
                b: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Exact distances of one packed chunk (runs in a worker): float64 ``(k,)``.

    Args:
        kind: ``"wmd"`` or ``"wrd"``.
        costs: the ``k`` cost matrices, each C-order, concatenated (float64).
        shapes: int64 ``(k, 2)``: ``(n, m)`` of each problem.
        a, b: the problems' masses concatenated, ``b`` already scaled to ``a``'s total as
            ``ot.emd2`` does.
        top: float64 ``(k,)``: each pair's largest cost (for :func:`~evalkit_ot.solver.finish`).

    Raises:
        SolverError: a problem's simplex did not reach optimality.
    """
    emd = _emd_c()
    out = np.empty(len(shapes))
    co = ao = bo = 0
    wrd = kind == "wrd"
    for p, (n, m) in enumerate(shapes.tolist()):
        c = costs[co : co + n * m].reshape(n, m)
        x, y = a[ao : ao + n], b[bo : bo + m]
        co, ao, bo = co + n * m, ao + n, bo + m
        if emd is None:  # pragma: no cover - POT moved its private routine
            value = emd_value(x, y, c, max_iter=max_iter, sums=(1.0, 1.0))
        else:
            res = emd(x, y, c, max_iter, 1)
            value = res[1]
            if res[-1] != 1:
                value = emd_value(x, y, c, max_iter=max_iter, sums=(1.0, 1.0))  # raises
        out[p] = finish(value, kind, float(top[p])) if value < 0.0 or (wrd and value > 2.0) else value
    return out


def solve_packed(points: np.ndarray, sqnorm: np.ndarray, mass: np.ndarray, kind: str, max_iter: int,
                 rows: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """Exact distances of one chunk of pairs given as token ranges ``rows`` into packed arrays
    (:func:`evalkit_ot.pack.pack_pairs`): float64 ``(k,)``.

    Raises:
        SolverError: a problem's simplex did not reach optimality.
    """
    packed, known = pack_pairs(points, sqnorm, mass, kind, rows, sums)
    out = np.zeros(len(rows))
    keep = np.ones(len(rows), dtype=bool)
    keep[list(known)] = False
    out[keep] = solve_chunk(kind, max_iter, *packed)
    return out


def chunks(n: np.ndarray, m: np.ndarray, workers: int, dim: int = 0, ahead: float = 0.0) -> list[np.ndarray]:
    """Positions of the pairs of sizes ``n x m`` (token vectors of size ``dim``) sorted by
    problem size, largest first, cut into chunks for ``workers - 1`` processes taking them from
    the front and the caller from the back.

    Guided self-scheduling (Polychronopoulos & Kuck 1987) from both ends: by estimated work
    (:func:`pair_work`), the two sides meet where the front has ``(workers - 1) / workers`` of it,
    and a chunk's work is its distance to that point over :data:`SHRINK` (over ``SHRINK *
    (workers - 1)`` on the front, which that many processes share), so chunks are large at the
    ends and small where the sides meet: the processes finish within a small chunk of each
    other. At least ``1 / (4 * CHUNKS_PER_WORKER * workers)`` of the work and :data:`MIN_CHUNK`
    pairs, at most :data:`MAX_CHUNK` pairs and :data:`MAX_ENTRIES` cost entries (unless one pair
    has more). ``ahead``: work (:func:`pair_work`) the front has been given before these pairs
    (a head), which moves the meeting point towards the front."""
    order = np.argsort(-(n * m + n + m), kind="stable")
    cum_work = np.cumsum(pair_work(n, m, dim)[order])
    cum_entries = np.cumsum((n * m)[order])
    total = float(cum_work[-1]) if order.size else 0.0
    front = max(1, workers - 1)
    meet = max(0.0, (total + ahead) * front / (front + 1) - ahead)
    smallest = total / (4 * CHUNKS_PER_WORKER * workers)
    works, entries = cum_work.tolist(), cum_entries.tolist()  # (bisect on lists: no NumPy call per chunk)
    out, s = [], 0
    while s < order.size:
        w0, e0 = (works[s - 1], entries[s - 1]) if s else (0.0, 0)
        target = max(smallest, (meet - w0) / (SHRINK * front) if w0 < meet else (w0 - meet) / SHRINK)
        if w0 < meet:
            target = min(target, meet - w0)  # a front chunk stops at the meeting point
        end = max(s + MIN_CHUNK, bisect_right(works, w0 + target))
        end = max(s + 1, min(end, s + MAX_CHUNK, bisect_right(entries, e0 + MAX_ENTRIES)))
        out.append(order[s:end])
        s = end
    return out


def pair_work(n: np.ndarray, m: np.ndarray, dim: int) -> np.ndarray:
    """The estimated time of each ``n x m`` pair in cost-matrix entries: ``n m`` (the simplex
    and the elementwise steps), ``(n + m) dim / 32`` (reading the token vectors) and
    :data:`PAIR_WORK` (the fixed cost). Fitted to per-chunk times on the STS-B test pairs
    (MiniLM, ``dim`` 384): about 0.15 us per entry, 1.8 us per token, 10 us per pair."""
    return n * m + (n + m) * (dim / 32) + PAIR_WORK


def in_one_slab(px: list[Doc], py: list[Doc]) -> tuple[Slab, np.ndarray, np.ndarray] | None:
    """The slab holding every text of the pairs ``(px[i], py[i])`` and each text's number there
    (int64 ``(k,)`` each), when :func:`~evalkit_ot.solver.prepare` placed them all in one;
    ``None`` otherwise (a text with private arrays, or texts of different vector sizes)."""
    k = len(px)
    homes = list(map(attrgetter("home"), px + py))
    try:
        if not k or len(set(map(itemgetter(0), homes))) != 1:
            return None
    except TypeError:  # a home is None
        return None
    number = np.fromiter(map(itemgetter(1), homes), np.int64, 2 * k)
    return homes[0][0], number[:k], number[k:]


def differing(px: list[Doc], py: list[Doc], keys: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Which pairs ``(px[i], py[i])`` hold two different texts (``not same_doc``): bool ``(k,)``.
    Only pairs that agree on size, mass sum and largest squared norm are compared in full.
    ``keys`` may pass those three per text, float64 ``(k, 3)`` for ``px`` and for ``py``."""
    k = len(px)
    if keys is None:

        def key(docs: list[Doc]) -> np.ndarray:
            return np.stack([np.fromiter(map(len, map(attrgetter("mass"), docs)), np.float64, k),
                             np.fromiter(map(attrgetter("mass_sum"), docs), np.float64, k),
                             np.fromiter(map(attrgetter("sqnorm_max"), docs), np.float64, k)], axis=1)

        keys = key(px), key(py)
    alike = np.flatnonzero((keys[0] == keys[1]).all(axis=1))
    out = np.ones(k, dtype=bool)
    for i in alike.tolist():
        out[i] = not same_doc(px[i], py[i])
    return out


def solve_processes(xs: Sequence[Doc], ys: Sequence[Doc], idx: np.ndarray, *, max_iter: int,
                    workers: int) -> np.ndarray:
    """Exact WMD/WRD of the pairs ``(xs[i], ys[i])`` for ``i`` in ``idx`` on ``workers`` workers
    (the caller and ``workers - 1`` processes): float64 ``(len(idx),)`` in ``idx`` order, equal
    to :func:`~evalkit_ot.solver.distance` of each pair.

    Texts that :func:`~evalkit_ot.solver.prepare` placed in one shared slab
    (:mod:`evalkit_ot.store`) are read there by every process, nothing copied, and the processes
    claim chunks themselves (:mod:`evalkit_ot.claim`); otherwise the call copies the texts it
    hands over into the shared file (:mod:`evalkit_ot.handover`).

    Raises:
        DataError: token vectors of different sizes.
        SolverError: a pair's simplex did not reach optimality.
    """
    values = np.zeros(len(xs))
    pos = idx.tolist()
    px, py = list(map(xs.__getitem__, pos)), list(map(ys.__getitem__, pos))
    left = np.arange(len(pos))  # positions in idx not solved in place: copied below
    with _started(px, max_iter, workers) as (home, plan):
        if plan is not None:
            solved, part, left = _solve_placed(plan, home, px, py, workers)  # type: ignore[arg-type]
            values[idx[solved]] = part
    if left.size:  # (after the plan has closed: its workers have left)
        from evalkit_ot.handover import solve_copied

        keep = differing([px[i] for i in left.tolist()], [py[i] for i in left.tolist()])
        todo = idx[left[keep]].astype(np.int64)
        for c, part in solve_copied(xs, ys, todo, max_iter, workers) if todo.size else []:
            values[todo[c]] = part
    return values[idx]


#: The head: the first ``1 / HEAD`` of a call's pairs (from :data:`HEAD_MIN` pairs on), handed to
#: the workers as soon as it is planned, in :data:`HEAD_CHUNKS` chunks, while the caller plans the
#: rest (:func:`_solve_placed`).
HEAD, HEAD_MIN, HEAD_CHUNKS = 16, 256, 2


@contextlib.contextmanager
def _started(px: list[Doc], max_iter: int, workers: int) -> Iterator[tuple[Slab | None, Any]]:
    """The claimed path's workers, started before the call knows that it applies
    (:func:`evalkit_ot.claim.started`): for the slab holding the first text, the one every text
    must share. Yields ``(that slab, plan)``, or ``(None, None)`` when the first text has private
    arrays. Every text of the call was placed before it began, so a layout of the slab taken now
    covers them."""
    from evalkit_ot.claim import started

    home = px[0].home if px else None
    if home is None:
        yield None, None
        return
    slab = home[0]
    with started(slab.layout(), len(px), px[0].kind, max_iter, executor(workers), max(1, workers - 1)) as plan:
        time.sleep(0)  # (lets loky's threads in this process take the call on: they need the GIL)
        yield slab, plan


def _solve_placed(plan: Any, home: Slab, px: list[Doc], py: list[Doc],
                  workers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve in place (the plan's workers and the caller claiming chunks,
    :mod:`evalkit_ot.claim`) the pairs ``(px[i], py[i])`` whose texts all lie in the slab
    ``home``: the head (:data:`HEAD`) is published to the workers alone first, then the rest,
    cut for the workers' head start (:func:`chunks`, ``ahead``). Returns the positions solved,
    their values, and the positions left to copy (the part from the first one whose texts are
    not all in ``home``); pairs of identical texts are neither solved nor left (0)."""
    k = len(px)
    head = k // HEAD if k >= HEAD_MIN else 0
    solved: list[np.ndarray] = []
    ahead = 0.0
    for lo, hi in [(0, head), (head, k)] if head else [(0, k)]:
        found = in_one_slab(px[lo:hi], py[lo:hi])
        time.sleep(0)  # (as in _started, between the steps of planning)
        if found is None or found[0] is not home:
            return (*_finish(plan, solved), np.arange(lo, k))
        rows, sums, keep = _placed_rows(found, px[lo:hi], py[lo:hi])
        n, m = rows[:, 1], rows[:, 3]
        last = hi == k
        cuts = (chunks(n, m, workers, home.dim, ahead) if last
                else np.array_split(np.arange(n.size), min(HEAD_CHUNKS, n.size)) if n.size else [])
        ahead += float(pair_work(n, m, home.dim).sum())
        plan.publish(rows, sums, cuts, last=last)
        solved.append(lo + np.flatnonzero(keep))
        time.sleep(0)
    return (*_finish(plan, solved), np.empty(0, dtype=np.int64))


def _finish(plan: Any, solved: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Run the plan (closing it) and pair its values with the published positions."""
    values = plan.run()
    return (np.concatenate(solved) if solved else np.empty(0, dtype=np.int64)), values


def _placed_rows(found: tuple[Slab, np.ndarray, np.ndarray], px: list[Doc],
                 py: list[Doc]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The token ranges ``rows`` (int64 ``(k, 4)``) and mass sums (float64 ``(k, 2)``) of the
    pairs of different texts among ``(px[i], py[i])``, numbered ``found`` in one slab
    (:func:`in_one_slab`), and which pairs those are (bool, :func:`differing`)."""
    slab, ix, iy = found
    spans, sums = slab.spans, slab.sums  # (another thread's prepare may replace them)
    rows = np.empty((ix.size, 4), dtype=np.int64)
    rows[:, :2], rows[:, 2:] = spans[ix], spans[iy]  # (x start, n, y start, m)
    kx, ky = np.empty((ix.size, 3)), np.empty((ix.size, 3))  # size, mass sum, largest squared norm
    kx[:, 0], kx[:, 1:], ky[:, 0], ky[:, 1:] = rows[:, 1], sums[ix], rows[:, 3], sums[iy]
    keep = differing(px, py, (kx, ky))
    msum = np.column_stack([kx[:, 1], ky[:, 1]])
    return (rows, msum, keep) if keep.all() else (rows[keep], msum[keep], keep)


