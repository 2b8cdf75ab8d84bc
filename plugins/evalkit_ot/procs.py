"""Exact WMD/WRD of many pairs across worker processes.

Threads do not scale the exact path: POT's network simplex (``emd_c``) releases the GIL, but the
per-pair Python and small-NumPy work around it holds it. Processes do not share a GIL, so
:func:`solve_processes` splits the work in two stages that run at the same time:

- the calling process computes each pair's cost matrix (one BLAS product per pair, written in
  place into a chunk's contiguous buffer) and packs the chunk: the cost matrices, the two mass
  vectors and the pair shapes, each one contiguous float64 or int64 array with offsets;
- worker processes of loky's persistent executor (:func:`executor`, the pool joblib also uses)
  run a tight loop over a chunk: a view per pair, POT's ``emd_c`` called directly (the routine
  ``ot.emd2`` calls, so the same values), the shared-mass reduction of WMD
  (:func:`~evalkit_ot.solver.drop_shared_mass`) where a cost is 0.

Only the packed cost matrices travel (``n x m`` floats per pair), never the token vectors: for
contextual embeddings a pair's vectors are ~100 times larger than its cost matrix, and copying
them costs about as much as the matrix product itself. Chunks are cut from the pairs sorted by
size, largest first, so the last chunks are small and the workers finish together. The pool
is started once per process (with POT's torch/jax/tensorflow/cupy backends disabled and BLAS on
one thread in the workers) and reused by later calls; :func:`shutdown` stops it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from evalkit import DataError
from evalkit_ot.solver import (
    RECOMPUTE,
    Doc,
    emd_value,
    finish,
    same_doc,
)

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
    """loky's reusable process pool with ``workers`` processes (started on first use, then
    kept: later calls with the same arguments reuse it; idle workers exit after 10 minutes)."""
    from joblib.externals.loky import get_reusable_executor

    ex = get_reusable_executor(max_workers=workers, timeout=600, env=WORKER_ENV)
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


Packed = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _costs(px: list[Doc], py: list[Doc], n: np.ndarray,
           m: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[list[int], list[int]]]]:
    """The pairs' cost matrices concatenated (the same bits as
    :func:`~evalkit_ot.solver.cost_and_flag`: one BLAS product per pair, the elementwise steps
    once over the chunk), their starts, and per WMD pair with zero costs their rows and
    columns (row-major order)."""
    nm = n * m
    ends = np.cumsum(nm)
    starts = ends - nm
    buf = np.empty(int(ends[-1]))
    for x, y, s, e in zip(px, py, starts.tolist(), ends.tolist(), strict=True):
        np.matmul(x.points, y.points.T, out=buf[s:e].reshape(x.size, y.size))
    if px[0].kind == "wrd":
        np.subtract(1.0, buf, out=buf)
        np.clip(buf, 0.0, 2.0, out=buf)
        return buf, starts, {}
    # d2 = -2 x.y + |x|^2 + |y|^2, in the order solver._euclidean adds them.
    xsq = np.repeat(np.concatenate([x.sqnorm for x in px]), np.repeat(m, n))
    local = np.arange(buf.size) - np.repeat(starts, nm)
    col = local % np.repeat(m, nm)
    ysq = np.concatenate([y.sqnorm for y in py])[np.repeat(np.cumsum(m) - m, nm) + col]
    buf *= -2.0
    buf += xsq
    buf += ysq
    # Entries that may have lost digits to cancellation: recomputed from the difference vector.
    close = np.flatnonzero(buf <= RECOMPUTE * (xsq + ysq))
    zeros: dict[int, tuple[list[int], list[int]]] = {}
    if close.size:
        pair = np.searchsorted(starts, close, side="right") - 1
        cuts = np.flatnonzero(np.diff(pair)) + 1
        for p, e in zip(pair[np.r_[0, cuts]].tolist(), np.split(close, cuts), strict=True):
            i, j = np.divmod(local[e], m[p])
            diff = px[p].points[i] - py[p].points[j]
            d2 = np.einsum("ij,ij->i", diff, diff)
            buf[e] = d2
            if not d2.all():
                zero = d2 == 0.0
                zeros[p] = (i[zero].tolist(), j[zero].tolist())
        np.maximum(buf, 0.0, out=buf)
    np.sqrt(buf, out=buf)
    return buf, starts, zeros


def _drop_shared(a: np.ndarray, b: np.ndarray, c: np.ndarray, zi: list[int],
                 zj: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~evalkit_ot.solver.drop_shared_mass` given the zero costs ``c[zi, zj]`` (row-major
    order), then ``b`` rescaled as ``ot.emd2`` does: the same operations, so the same bits."""
    al, bl = a.tolist(), b.tolist()
    for i, j in zip(zi, zj, strict=True):
        moved = min(al[i], bl[j])
        al[i] -= moved
        bl[j] -= moved
    rows = [i for i, v in enumerate(al) if v > 0]
    cols = [j for j, v in enumerate(bl) if v > 0]
    ra, rb = np.array([al[i] for i in rows]), np.array([bl[j] for j in cols])
    if rows and cols:
        sa, sb = ra.sum(), rb.sum()
        if sa != 1.0 or sb != 1.0:
            rb = rb * sa / sb
    return ra, rb, c[rows][:, cols].reshape(-1)


def pack_chunk(xs: Sequence[Doc], ys: Sequence[Doc], pairs: np.ndarray) -> tuple[Packed, dict[int, float]]:
    """The exact problems of ``pairs`` (indices into ``xs``/``ys``; documents of one kind and
    dimension, no identical pair) packed for :func:`solve_chunk`, and the values already known
    (pairs whose mass is all shared: 0). As :func:`~evalkit_ot.solver.exact_distance`: WMD pairs
    with a zero cost first drop their shared mass, and ``b`` is rescaled as ``ot.emd2`` does."""
    px = [xs[i] for i in pairs.tolist()]
    py = [ys[i] for i in pairs.tolist()]
    n = np.fromiter((d.size for d in px), np.int64, len(px))
    m = np.fromiter((d.size for d in py), np.int64, len(py))
    if len({d.dim for d in px} | {d.dim for d in py}) > 1:
        raise DataError(f"token vectors of different sizes: {sorted({d.dim for d in px + py})}")
    buf, starts, zeros = _costs(px, py, n, m)
    top = np.maximum.reduceat(buf, starts)
    b = [y.mass if x.mass_sum == 1.0 and y.mass_sum == 1.0 else y.mass * x.mass_sum / y.mass_sum
         for x, y in zip(px, py, strict=True)]
    if not zeros:
        return (buf, np.stack([n, m], axis=1), np.concatenate([x.mass for x in px]),
                np.concatenate(b), top), {}
    a = [x.mass for x in px]
    costs = [buf[s : s + k] for s, k in zip(starts.tolist(), (n * m).tolist(), strict=True)]
    for p, (zi, zj) in zeros.items():
        a[p], b[p], costs[p] = _drop_shared(px[p].mass, py[p].mass, costs[p].reshape(n[p], m[p]),
                                            zi, zj)
        n[p], m[p] = a[p].size, b[p].size
    known = {p: 0.0 for p in zeros if n[p] == 0 or m[p] == 0}
    keep = (n > 0) & (m > 0)
    return (np.concatenate(costs), np.stack([n, m], axis=1)[keep], np.concatenate(a),
            np.concatenate(b), top[keep]), known


def _chunks(xs: Sequence[Doc], ys: Sequence[Doc], idx: np.ndarray, workers: int) -> list[np.ndarray]:
    """``idx`` sorted by problem size, largest first, cut into chunks: about
    :data:`CHUNKS_PER_WORKER` per worker (between :data:`MIN_CHUNK` and :data:`MAX_CHUNK` pairs,
    and at most :data:`MAX_ENTRIES` cost entries unless one pair has more)."""
    n = np.fromiter((xs[i].size for i in idx.tolist()), np.int64, idx.size)
    m = np.fromiter((ys[i].size for i in idx.tolist()), np.int64, idx.size)
    sort = np.argsort(-(n * m + n + m), kind="stable")
    order, cum = idx[sort], np.cumsum((n * m)[sort])
    size = max(MIN_CHUNK, min(MAX_CHUNK, -(-idx.size // (CHUNKS_PER_WORKER * workers))))
    chunks, s = [], 0
    while s < order.size:
        base = int(cum[s - 1]) if s else 0
        end = max(s + 1, min(s + size, int(np.searchsorted(cum, base + MAX_ENTRIES, side="right"))))
        chunks.append(order[s:end])
        s = end
    return chunks


def solve_processes(xs: Sequence[Doc], ys: Sequence[Doc], idx: np.ndarray, *, max_iter: int,
                    workers: int) -> np.ndarray:
    """Exact WMD/WRD of the pairs ``(xs[i], ys[i])`` for ``i`` in ``idx`` on ``workers``
    processes: float64 ``(len(idx),)`` in ``idx`` order, equal to
    :func:`~evalkit_ot.solver.distance` of each pair.

    Raises:
        SolverError: a pair's simplex did not reach optimality.
    """
    values = np.zeros(len(xs))
    todo = np.array([i for i in idx.tolist() if not same_doc(xs[i], ys[i])], dtype=np.int64)
    if todo.size:
        kind = xs[int(todo[0])].kind
        ex = executor(workers)
        chunks = _chunks(xs, ys, todo, workers)
        jobs = []
        for c in chunks:
            packed, known = pack_chunk(xs, ys, c)
            rest = np.array([i for p, i in enumerate(c.tolist()) if p not in known], dtype=np.int64)
            values[[c[p] for p in known]] = list(known.values())
            jobs.append((rest, ex.submit(solve_chunk, kind, max_iter, *packed) if rest.size else None))
        for rest, future in jobs:
            if future is not None:
                values[rest] = future.result()
    return values[idx]


# --- k-NN search: queries across processes, the corpus shared through memory-mapped files ---

#: The corpus a worker has mapped: ``{folder: (documents, packed arrays)}``, one entry.
_CORPUS: dict[str, tuple[list[Doc], dict[str, np.ndarray]]] = {}
_FIELDS = ("points", "sqnorm", "mass", "offsets", "centroid", "sums")


def _temp_root() -> str | None:
    """Where the shared files go: ``JOBLIB_TEMP_FOLDER``, else ``/dev/shm`` (memory) where it
    exists, else the system's temporary folder."""
    import os

    root = os.environ.get("JOBLIB_TEMP_FOLDER")
    if root:
        return root
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _write_corpus(folder: str, docs: Sequence[Doc]) -> None:
    import os

    arrays = {
        "points": np.concatenate([d.points for d in docs]),
        "sqnorm": np.concatenate([d.sqnorm for d in docs]),
        "mass": np.concatenate([d.mass for d in docs]),
        "offsets": np.concatenate([[0], np.cumsum([d.size for d in docs])]).astype(np.int64),
        "centroid": np.stack([d.centroid for d in docs]),
        "sums": np.array([[d.mass_sum, d.sqnorm_max] for d in docs]),
    }
    for name, arr in arrays.items():
        np.save(os.path.join(folder, name + ".npy"), arr)


def _read_corpus(folder: str, kind: str) -> tuple[list[Doc], dict[str, np.ndarray]]:
    """The documents of a shared corpus as views of the memory-mapped arrays (cached)."""
    import os

    if folder not in _CORPUS:
        _CORPUS.clear()
        arr = {f: np.load(os.path.join(folder, f + ".npy"), mmap_mode="r") for f in _FIELDS}
        off = arr["offsets"].tolist()
        docs = [Doc(kind, arr["points"][s:e], arr["mass"][s:e], arr["sqnorm"][s:e], arr["centroid"][i],
                    float(arr["sums"][i, 0]), float(arr["sums"][i, 1]))
                for i, (s, e) in enumerate(itertools.pairwise(off))]
        _CORPUS[folder] = (docs, arr)
    return _CORPUS[folder]


def knn_chunk(folder: str, kind: str, queries: list[Doc], k: int, exclude: list[int | None],
              max_iter: int) -> list[tuple[list[int], list[float], int, int]]:
    """Run :func:`evalkit_ot.knn` 's per-query search for ``queries`` against the corpus shared
    in ``folder`` (in a worker)."""
    from evalkit_ot.knn import _Corpus, _one

    docs, arr = _read_corpus(folder, kind)
    corpus = _Corpus(docs, arr)
    return [_one(q, corpus, k, e, max_iter) for q, e in zip(queries, exclude, strict=True)]


def knn_processes(queries: Sequence[Doc], corpus: Sequence[Doc], k: int,
                  exclude: Sequence[int | None], max_iter: int,
                  workers: int) -> list[tuple[list[int], list[float], int, int]]:
    """The k-NN search of each query on ``workers`` processes, in query order. The corpus is
    written once to memory-mapped files (removed on return) that the workers map read-only."""
    import contextlib
    import tempfile

    kind = corpus[0].kind
    size = max(1, -(-len(queries) // (4 * workers)))
    root = _temp_root()
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="evalkit-ot-", dir=root))
        try:
            _write_corpus(folder, corpus)
        except OSError:  # /dev/shm too small (containers): the system's temporary folder
            if root is None:
                raise
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="evalkit-ot-"))
            _write_corpus(folder, corpus)
        ex = executor(workers)
        futures = [ex.submit(knn_chunk, folder, kind, list(queries[s : s + size]),
                             k, list(exclude[s : s + size]), max_iter)
                   for s in range(0, len(queries), size)]
        return [row for f in futures for row in f.result()]
