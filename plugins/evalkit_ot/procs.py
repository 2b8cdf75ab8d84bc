"""Exact WMD/WRD of many pairs across worker processes.

Threads do not scale the exact path: POT's network simplex (``emd_c``) releases the GIL, but the
per-pair Python and small-NumPy work around it holds it. Processes do not share a GIL, so
:func:`solve_processes` hands the whole per-pair work to them:

- ``workers - 1`` worker processes of loky's persistent executor (:func:`executor`, the pool
  joblib also uses) take chunks from the front, kept :data:`DEPTH` deep per process. The caller
  copies the token vectors, squared norms and masses of a chunk's texts into one shared-memory
  file (:mod:`evalkit_ot.arena`, kept and rewritten in place between calls) just before handing
  the chunk over, as index ranges: per pair ``(x start, n, y start, m)`` and the two mass sums;
- the caller itself takes chunks from the back (the smallest) and solves them from its own
  memory (:func:`solve_local`), so texts only it uses are never copied (:func:`run_shared`);
- both compute each chunk's cost matrices (:func:`evalkit_ot.pack.pack_pairs`: the operations of
  :func:`~evalkit_ot.solver.cost_and_flag` in the same order, so the same bits; WMD's
  shared-mass reduction where a cost is 0) and run a tight loop over the chunk calling POT's
  ``emd_c`` directly (the routine ``ot.emd2`` calls, so the same values). The caller working
  too means no core waits on a process that only hands over work, and one process fewer
  competes for the cores.

Chunks are cut from the pairs sorted by size, largest first, so the last chunks are small and
the workers finish together. The pool is started once per process (with POT's torch/jax/
tensorflow/cupy backends disabled and BLAS on one thread in the workers) and reused by later
calls; :func:`shutdown` stops it and removes the shared file. The k-NN search
(:func:`knn_processes`) shares its corpus through the same file.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from evalkit import DataError
from evalkit_ot.arena import ARENA, Arena, Layout, views
from evalkit_ot.pack import pack_pairs
from evalkit_ot.solver import Doc, emd_value, finish, same_doc

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
#: Largest and smallest chunk, in pairs, and chunks per worker (more balance the load better,
#: fewer cost less hand-over between processes).
MAX_CHUNK, MIN_CHUNK, CHUNKS_PER_WORKER = 256, 16, 8
#: Most cost-matrix entries in one chunk (bounds the caller's buffers: 2**21 entries, 16 MiB).
MAX_ENTRIES = 2**21


def executor(workers: int) -> Any:
    """loky's reusable process pool for ``workers`` workers: ``workers - 1`` processes (at
    least one), the calling process being the last worker (:func:`run_shared`). Started on
    first use, then kept: later calls with the same arguments reuse it; idle workers exit after
    10 minutes."""
    from joblib.externals.loky import get_reusable_executor

    ex = get_reusable_executor(max_workers=max(1, workers - 1), timeout=600, env=WORKER_ENV)
    _STARTED.add(workers)
    _LAST[:] = [workers]
    return ex


def is_warm(workers: int) -> bool:
    """Whether this process already started a pool of ``workers`` processes."""
    return workers in _STARTED


def shutdown() -> None:
    """Stop the worker processes (a later call starts new ones)."""
    if _LAST:  # the same arguments, so loky returns the running pool rather than a new one
        executor(_LAST[0]).shutdown(wait=True)
    _STARTED.clear()
    _LAST.clear()
    ARENA.release()


#: Calls kept queued per worker process, so that a process finds its next chunk waiting while the
#: caller is busy with one of its own.
DEPTH = 2


def run_shared(count: int, submit: Callable[[int], Any], local: Callable[[int], Any],
               processes: int) -> list[Any]:
    """Run calls ``0 .. count - 1`` (sorted from the largest to the smallest) on a pool of
    ``processes`` processes and in the calling process; their results in call order.

    The pool takes calls from the front, ``submit(i)`` (called for ``i = 0, 1, ...`` in turn;
    it returns the call's future), and is kept :data:`DEPTH` calls deep per process; meanwhile
    the caller runs ``local(i)`` on calls from the back (the smallest), with BLAS on one thread,
    so that all finish together and no core waits on a caller that only hands over work.

    The first exception (from a process or the caller) is raised after every submitted call
    has stopped (the pool may still be reading the shared file).
    """
    from concurrent.futures import wait

    from evalkit_ot.batch import _blas_one_thread

    out: list[Any] = [None] * count
    sent: list[tuple[int, Any]] = []
    live: list[Any] = []
    front, back = 0, count

    def top_up() -> None:
        nonlocal front
        live[:] = [f for f in live if not f.done()]
        while front < back and len(live) < DEPTH * processes:
            sent.append((front, submit(front)))
            live.append(sent[-1][1])
            front += 1

    try:
        top_up()
        with _blas_one_thread():
            while front < back:
                back -= 1
                out[back] = local(back)
                top_up()
        for pos, future in sent:
            out[pos] = future.result()
    finally:
        for _, future in sent:
            future.cancel()
        wait([f for _, f in sent])
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


def solve_shared(layout: Layout, kind: str, max_iter: int, rows: np.ndarray,
                 sums: np.ndarray) -> np.ndarray:
    """Exact distances of one chunk of pairs whose token arrays are in the shared file
    ``layout`` (runs in a worker): float64 ``(k,)``. ``rows``, ``sums``: as
    :func:`evalkit_ot.pack.pack_pairs`.

    Raises:
        SolverError: a problem's simplex did not reach optimality.
    """
    arr = views(layout)
    return solve_packed(arr["points"], arr["sqnorm"], arr["mass"], kind, max_iter, rows, sums)


def solve_local(px: list[Doc], py: list[Doc], max_iter: int) -> np.ndarray:
    """Exact distances of the pairs ``(px[i], py[i])`` (none identical) in this process, from a
    private packed copy of their documents (small: it stays in the CPU cache for the solve):
    the same operations as a worker's, so the same values. float64 ``(k,)``."""
    docs, ix, iy = _distinct(px, py)
    size = np.fromiter((d.size for d in docs), np.int64, len(docs))
    start = np.cumsum(size) - size
    rows = np.stack([start[ix], size[ix], start[iy], size[iy]], axis=1)
    msum = np.fromiter((d.mass_sum for d in docs), np.float64, len(docs))
    points, sqnorm, mass = (np.concatenate([getattr(d, name) for d in docs]) for name in ("points", "sqnorm", "mass"))
    return solve_packed(points, sqnorm, mass, px[0].kind, max_iter, rows, np.stack([msum[ix], msum[iy]], axis=1))


def _distinct(px: list[Doc], py: list[Doc]) -> tuple[list[Doc], np.ndarray, np.ndarray]:
    """The distinct documents (by identity: a :class:`Doc` hashes by identity) of the pairs and
    each pair's two indices into them.

    Raises:
        DataError: token vectors of different sizes.
    """
    docs = list(dict.fromkeys(px + py))
    slot = {d: i for i, d in enumerate(docs)}
    dims = {d.points.shape[1] for d in docs}
    if len(dims) > 1:
        raise DataError(f"token vectors of different sizes: {sorted(dims)}")
    ix = np.fromiter(map(slot.__getitem__, px), np.int64, len(px))
    iy = np.fromiter(map(slot.__getitem__, py), np.int64, len(py))
    return docs, ix, iy


Part = tuple[np.ndarray, np.ndarray, np.ndarray]


def share(xs: Sequence[Doc], ys: Sequence[Doc], todo: np.ndarray, workers: int,
          arena: Arena = ARENA) -> tuple[Layout, Iterator[Part]]:
    """:func:`share_plan` without the chunk list."""
    layout, _, parts = share_plan(xs, ys, todo, workers, arena)
    return layout, parts


def share_plan(xs: Sequence[Doc], ys: Sequence[Doc], todo: np.ndarray, workers: int,
               arena: Arena = ARENA) -> tuple[Layout, list[np.ndarray], Iterator[Part]]:
    """Copy every distinct document of the pairs ``todo`` once into ``arena`` (hold its lock),
    chunk by chunk.

    Returns the layout, the chunks (:func:`chunks`: positions in ``todo``) and an iterator over
    them that copies the documents a chunk needs before yielding it (the documents are laid out in order of first
    use, so each chunk adds a range): ``(positions in todo, rows, sums)``, ``rows`` int64
    ``(k, 4)`` ``(x start, n, y start, m)`` in token rows and ``sums`` float64 ``(k, 2)`` (the
    texts' ``mass_sum``). Handing each chunk to the workers as it is yielded overlaps the copy
    with their work.

    Raises:
        DataError: token vectors of different sizes.
    """
    docs, ix, iy = _distinct([xs[i] for i in todo.tolist()], [ys[i] for i in todo.tolist()])
    size = np.fromiter((d.points.shape[0] for d in docs), np.int64, len(docs))
    parts = chunks(size[ix], size[iy], workers)
    uses = np.concatenate([np.stack([ix[c], iy[c]], axis=1).ravel() for c in parts])
    ids, first = np.unique(uses, return_index=True)
    order = ids[np.argsort(first, kind="stable")]  # documents by first use
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    ends = np.cumsum(size[order])
    start = (ends - size[order])[rank]
    rows = np.stack([start[ix], size[ix], start[iy], size[iy]], axis=1)
    msum = np.fromiter((d.mass_sum for d in docs), np.float64, len(docs))
    sums = np.stack([msum[ix], msum[iy]], axis=1)
    need = np.maximum.accumulate([int(rank[np.r_[ix[c], iy[c]]].max()) + 1 for c in parts])
    tokens = int(ends[-1])
    layout, out = arena.allocate({"points": ((tokens, docs[0].dim), "f8"), "sqnorm": ((tokens,), "f8"),
                                  "mass": ((tokens,), "f8")})

    def fill() -> Iterator[Part]:
        done = 0
        for c, upto in zip(parts, need.tolist(), strict=True):
            if upto > done:
                new = [docs[i] for i in order[done:upto].tolist()]
                lo, hi = int(ends[done - 1]) if done else 0, int(ends[upto - 1])
                np.concatenate([d.points for d in new], out=out["points"][lo:hi])
                np.concatenate([d.sqnorm for d in new], out=out["sqnorm"][lo:hi])
                np.concatenate([d.mass for d in new], out=out["mass"][lo:hi])
                done = upto
            yield c, rows[c], sums[c]

    return layout, parts, fill()


def chunks(n: np.ndarray, m: np.ndarray, workers: int) -> list[np.ndarray]:
    """Positions of the pairs of sizes ``n x m`` sorted by problem size, largest first, cut
    into chunks: about :data:`CHUNKS_PER_WORKER` per worker (between :data:`MIN_CHUNK` and
    :data:`MAX_CHUNK` pairs, and at most :data:`MAX_ENTRIES` cost entries unless one pair has
    more)."""
    order = np.argsort(-(n * m + n + m), kind="stable")
    cum = np.cumsum((n * m)[order])
    size = max(MIN_CHUNK, min(MAX_CHUNK, -(-n.size // (CHUNKS_PER_WORKER * workers))))
    out, s = [], 0
    while s < order.size:
        base = int(cum[s - 1]) if s else 0
        end = max(s + 1, min(s + size, int(np.searchsorted(cum, base + MAX_ENTRIES, side="right"))))
        out.append(order[s:end])
        s = end
    return out


def solve_processes(xs: Sequence[Doc], ys: Sequence[Doc], idx: np.ndarray, *, max_iter: int,
                    workers: int) -> np.ndarray:
    """Exact WMD/WRD of the pairs ``(xs[i], ys[i])`` for ``i`` in ``idx`` on ``workers`` workers
    (the caller and ``workers - 1`` processes, :func:`run_shared`): float64 ``(len(idx),)`` in ``idx`` order, equal to
    :func:`~evalkit_ot.solver.distance` of each pair.

    Raises:
        DataError: token vectors of different sizes.
        SolverError: a pair's simplex did not reach optimality.
    """
    values = np.zeros(len(xs))
    todo = np.array([i for i in idx.tolist() if not same_doc(xs[i], ys[i])], dtype=np.int64)
    if todo.size:
        ex = executor(workers)
        with ARENA.lock:  # held until every worker is done with the shared file
            layout, cuts, parts = share_plan(xs, ys, todo, workers)
            kind = xs[int(todo[0])].kind

            def submit(i: int) -> Any:  # chunk i, the next one: its texts copied into the file first
                _, rows, sums = next(parts)
                return ex.submit(solve_shared, layout, kind, max_iter, rows, sums)

            def local(i: int) -> np.ndarray:  # from the caller's own memory: its texts never copied
                pos = todo[cuts[i]].tolist()
                return solve_local([xs[j] for j in pos], [ys[j] for j in pos], max_iter)

            done = run_shared(len(cuts), submit, local, max(1, workers - 1))
        for c, part in zip(cuts, done, strict=True):
            values[todo[c]] = part
    return values[idx]


# --- k-NN search: queries across processes, the corpus in the shared file ---

#: The corpus a worker has mapped: ``{(path, call): (documents, packed arrays)}``, one entry.
_CORPUS: dict[tuple[str, int], tuple[list[Doc], dict[str, np.ndarray]]] = {}


def _write_corpus(docs: Sequence[Doc]) -> Layout:
    """Copy the corpus into :data:`ARENA` (hold its lock): token arrays, offsets, centroids,
    per-document ``(mass_sum, sqnorm_max)``."""
    tokens, dim = sum(d.size for d in docs), docs[0].dim
    layout, out = ARENA.allocate({
        "points": ((tokens, dim), "f8"), "sqnorm": ((tokens,), "f8"), "mass": ((tokens,), "f8"),
        "offsets": ((len(docs) + 1,), "i8"), "centroid": ((len(docs), dim), "f8"),
        "sums": ((len(docs), 2), "f8")})
    for name in ("points", "sqnorm", "mass"):
        np.concatenate([getattr(d, name) for d in docs], out=out[name])
    out["offsets"][0] = 0
    np.cumsum([d.size for d in docs], out=out["offsets"][1:])
    np.stack([d.centroid for d in docs], out=out["centroid"])
    out["sums"][:] = [[d.mass_sum, d.sqnorm_max] for d in docs]
    return layout


def _read_corpus(layout: Layout, kind: str) -> tuple[list[Doc], dict[str, np.ndarray]]:
    """The documents of a shared corpus as views of the mapped arrays (cached per call)."""
    key = layout[:2]
    if key not in _CORPUS:
        _CORPUS.clear()
        arr = views(layout)
        off = arr["offsets"].tolist()
        docs = [Doc(kind, arr["points"][s:e], arr["mass"][s:e], arr["sqnorm"][s:e], arr["centroid"][i],
                    float(arr["sums"][i, 0]), float(arr["sums"][i, 1]))
                for i, (s, e) in enumerate(itertools.pairwise(off))]
        _CORPUS[key] = (docs, arr)
    return _CORPUS[key]


def knn_chunk(layout: Layout, kind: str, queries: list[Doc], k: int, exclude: list[int | None],
              max_iter: int) -> list[tuple[list[int], list[float], int, int]]:
    """Run :func:`evalkit_ot.knn` 's per-query search for ``queries`` against the corpus shared
    as ``layout`` (in a worker)."""
    from evalkit_ot.knn import _Corpus, _one

    docs, arr = _read_corpus(layout, kind)
    corpus = _Corpus(docs, arr)
    return [_one(q, corpus, k, e, max_iter) for q, e in zip(queries, exclude, strict=True)]


def knn_processes(queries: Sequence[Doc], corpus: Sequence[Doc], k: int,
                  exclude: Sequence[int | None], max_iter: int,
                  workers: int) -> list[tuple[list[int], list[float], int, int]]:
    """The k-NN search of each query on ``workers`` workers (the caller and ``workers - 1``
    processes, :func:`run_shared`), in query order. The corpus is copied once into the shared
    file (:mod:`evalkit_ot.arena`) that the workers map read-only; each worker computes its
    queries' cost matrices and exact solves from it."""
    kind = corpus[0].kind
    size = max(1, -(-len(queries) // (4 * workers)))
    ex = executor(workers)
    with ARENA.lock:  # held until every worker is done with the shared file
        layout = _write_corpus(corpus)
        calls = [(layout, kind, list(queries[s : s + size]), k, list(exclude[s : s + size]), max_iter)
                 for s in range(0, len(queries), size)]
        try:
            done = run_shared(len(calls), lambda i: ex.submit(knn_chunk, *calls[i]),
                              lambda i: knn_chunk(*calls[i]), max(1, workers - 1))
            return [row for part in done for row in part]
        finally:
            _CORPUS.clear()  # the caller's own views of the shared file
