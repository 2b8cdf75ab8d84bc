"""Exact k-nearest-neighbour search by WMD or WRD: prefetch and prune (Kusner et al. 2015, Sec. 4).

Per query:

1. *Order*: the centroid bound (WCD for WMD; :mod:`evalkit_ot.bounds`) to every corpus text, one
   matrix-vector product; candidates are taken in increasing order of it.
2. *Prefetch*: the ``4k`` first candidates get ``max(centroid bound, capped relaxation ICT)``
   (ICT is at least RWMD) and the ``k`` smallest of them are solved exactly. Their k-th distance
   bounds the final k-th distance from above; their optimal dual potentials on the query's
   tokens are kept.
3. *Prune*: a candidate whose centroid bound exceeds the current k-th distance can never enter.
   The others get, vectorised over the whole corpus (one cost matrix against all its tokens),
   ``max(centroid bound, RWMD, c-transform bound of the kept potentials)``; those within the
   k-th distance are visited in increasing order of that bound, checked against ICT, and solved
   exactly while the bound stays within the (shrinking) k-th distance.

Every skipped candidate has a lower bound above the final k-th distance (plus a round-off
margin), so the result equals the exhaustive search's: the ``k`` smallest distances, ties broken
by corpus index. The number of exact solves is reported per query.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evalkit import ConfigError
from evalkit_ot.batch import forced_backend, n_workers, ot_distances, run_threads
from evalkit_ot.bounds import capped_bound, centroid_bounds
from evalkit_ot.solver import (
    MAX_ITER,
    Doc,
    cosine_cost,
    cost_and_flag,
    cost_matrix,
    euclidean_cost,
    exact_distance,
    same_doc,
)

#: A bound prunes a candidate only if it exceeds the k-th distance by more than this margin
#: (relative to the k-th distance plus the query's largest vector norm), so that round-off in a
#: bound can never drop a true neighbour.
MARGIN = 1e-10
#: ``parallel="auto"`` searches on processes with at least this many queries per worker once the
#: pool runs (a query is milliseconds of work) ...
PROCESS_MIN_QUERIES = 2
#: ... or with this many queries before it has started (about a second of start-up per worker).
PROCESS_MIN_QUERIES_COLD = 64


@dataclass
class KnnResult:
    """Neighbours of each query.

    Attributes:
        indices: int64 ``(n_queries, k)``: corpus indices, nearest first (ties by index).
        distances: float64 ``(n_queries, k)``: their WMD or WRD.
        n_exact: int64 ``(n_queries,)``: exact transport problems solved per query.
        n_candidates: int64 ``(n_queries,)``: corpus documents eligible per query.
        seconds: wall time.
    """

    indices: np.ndarray
    distances: np.ndarray
    n_exact: np.ndarray
    n_candidates: np.ndarray
    seconds: float

    @property
    def solve_reduction(self) -> float:
        """Exhaustive solves divided by the solves performed (>= 1)."""
        return float(self.n_candidates.sum() / max(int(self.n_exact.sum()), 1))


def _check(corpus: Sequence[Doc], k: int, exclude: Sequence[int | None] | None,
           n_queries: int) -> list[int | None]:
    if k < 1:
        raise ConfigError(f"k must be at least 1, got {k}")
    ex: list[int | None] = list(exclude) if exclude is not None else [None] * n_queries
    if len(ex) != n_queries:
        raise ConfigError(f"exclude has {len(ex)} entries for {n_queries} queries")
    if k > len(corpus) - (1 if any(e is not None for e in ex) else 0):
        raise ConfigError(f"k={k} is larger than the corpus ({len(corpus)} documents)")
    return ex


class _Corpus:
    """The corpus's token points concatenated, for bounds against all texts at once."""

    #: Tokens per block of the vectorised bounds (bounds the (potentials, n, tokens) temporary).
    BLOCK_TOKENS = 4096

    def __init__(self, docs: Sequence[Doc], packed: dict[str, np.ndarray] | None = None) -> None:
        self.docs = docs
        if packed is None:
            packed = {
                "points": np.concatenate([d.points for d in docs]),
                "sqnorm": np.concatenate([d.sqnorm for d in docs]),
                "mass": np.concatenate([d.mass for d in docs]),
                "offsets": np.concatenate([[0], np.cumsum([d.size for d in docs])]).astype(np.int64),
            }
        self.points, self.sqnorm = packed["points"], packed["sqnorm"]
        self.mass, self.offsets = packed["mass"], np.asarray(packed["offsets"])
        blocks, start = [], 0
        for end in range(1, len(docs) + 1):
            if self.offsets[end] - self.offsets[start] >= self.BLOCK_TOKENS or end == len(docs):
                blocks.append((start, end))
                start = end
        self.blocks = blocks

    def bounds(self, query: Doc, potentials: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        """``max(RWMD, c-transform bounds)`` of ``query`` to the texts where ``wanted`` is True
        (elsewhere 0): float64 ``(n_docs,)``."""
        out = np.zeros(len(self.docs))
        for start, end in self.blocks:
            if not wanted[start:end].any():
                continue
            lo, hi = self.offsets[start], self.offsets[end]
            if query.kind == "wmd":
                c = euclidean_cost(query.points, self.points[lo:hi], query.sqnorm,
                                   self.sqnorm[lo:hi])
            else:
                c = cosine_cost(query.points, self.points[lo:hi])
            seg = self.offsets[start:end] - lo
            mass = self.mass[lo:hi]
            l1 = query.mass @ np.minimum.reduceat(c, seg, axis=1)
            l2 = np.add.reduceat(c.min(axis=0) * mass, seg)
            lb = np.maximum(l1, l2)
            if potentials.size:
                v = (c[None, :, :] - potentials[:, :, None]).min(axis=1)  # (p, tokens)
                u = np.minimum.reduceat(c[None, :, :] - v[:, None, :], seg, axis=2)  # (p, n, docs)
                dual = np.einsum("pid,i->pd", u, query.mass) + np.add.reduceat(v * mass, seg, axis=1)
                lb = np.maximum(lb, dual.max(axis=0))
            out[start:end] = lb
        return out


def _one(query: Doc, corpus: _Corpus, k: int, exclude: int | None,
         max_iter: int) -> tuple[list[int], list[float], int, int]:
    docs = corpus.docs
    wcd = centroid_bounds(query, docs)
    cand = np.array([i for i in np.argsort(wcd, kind="stable").tolist() if i != exclude],
                    dtype=np.int64)
    scale = 1.0 if query.kind == "wrd" else float(np.sqrt(query.sqnorm.max()))
    heap: list[tuple[float, int]] = []  # the current top k as (-distance, -index)
    limit = np.inf  # prune above this: the k-th distance plus a margin, once k are known
    solves = 0
    duals: list[np.ndarray] = []

    def solve(i: int, c: np.ndarray | None, keep_duals: bool) -> None:
        nonlocal limit, solves
        doc = docs[i]
        if same_doc(query, doc):
            d = 0.0
        else:
            c, may_share = cost_and_flag(query, doc) if c is None else (c, True)
            d = exact_distance(query, doc, c, max_iter=max_iter, may_share=may_share,
                               duals=duals if keep_duals else None)
            solves += 1
        item = (-d, -i)
        if len(heap) < k:
            heapq.heappush(heap, item)
        elif item > heap[0]:  # smaller distance, or equal distance and smaller index
            heapq.heapreplace(heap, item)
        if len(heap) == k:
            kth = -heap[0][0]
            limit = kth + MARGIN * (kth + scale)

    def ict(i: int) -> tuple[float, np.ndarray | None]:
        doc = docs[i]
        if same_doc(query, doc):
            return 0.0, None
        c = cost_matrix(query, doc)
        return max(float(wcd[i]), capped_bound(query, doc, c)), c

    # 2. Prefetch.
    head = [(*ict(i), i) for i in cand[: 4 * k].tolist()]
    head.sort(key=lambda t: (t[0], t[2]))
    for _, c, i in head[:k]:
        solve(i, c, keep_duals=True)
    done = {i for _, _, i in head[:k]}
    # 3. Prune.
    wanted = wcd <= limit
    wanted[list(done)] = False
    if exclude is not None:
        wanted[exclude] = False
    pots = np.stack(duals) if duals else np.zeros((0, query.size))
    lb = np.maximum(corpus.bounds(query, pots, wanted), wcd)
    for i in sorted(np.flatnonzero(wanted & (lb <= limit)).tolist(), key=lambda i: (lb[i], i)):
        if lb[i] > limit:
            break
        bound, c = ict(i)
        if bound <= limit:
            solve(i, c, keep_duals=False)
    top = sorted((-nd, -ni) for nd, ni in heap)
    return [i for _, i in top], [d for d, _ in top], solves, int(cand.size)


def _knn_processes(parallel: str, n_queries: int, workers: int) -> bool:
    """Processes for the search: ``parallel="processes"``, or ``"auto"`` with at least
    :data:`PROCESS_MIN_QUERIES` queries per worker once the pool runs
    (:data:`PROCESS_MIN_QUERIES_COLD` in all before it has started)."""
    forced = forced_backend(parallel, workers)
    if forced is not None:
        return forced
    from evalkit_ot.procs import is_warm

    if is_warm(workers):
        return n_queries >= PROCESS_MIN_QUERIES * workers
    return n_queries >= PROCESS_MIN_QUERIES_COLD


def knn(queries: Sequence[Doc], corpus: Sequence[Doc], k: int = 10, *,
        exclude: Sequence[int | None] | None = None, n_jobs: int | None = -1,
        max_iter: int = MAX_ITER, parallel: str = "auto") -> KnnResult:
    """The ``k`` nearest corpus documents of each query by exact WMD/WRD, with prefetch and prune.

    Args:
        queries, corpus: prepared texts of one kind (:func:`~evalkit_ot.solver.prepare`).
        k: neighbours per query.
        exclude: per query, a corpus index to leave out (the query itself), or ``None``.
        n_jobs: workers over queries (joblib convention: -1 all cores).
        parallel: ``"processes"`` (loky's persistent pool; the corpus is copied once into the
            shared file of :mod:`evalkit_ot.arena`, :func:`evalkit_ot.knn_pool.knn_processes`),
            ``"threads"``, or
            ``"auto"``: processes when there are enough queries to pay for them. The result is
            the same either way.

    Returns:
        :class:`KnnResult`, identical to :func:`knn_exhaustive`'s neighbours and distances.

    Raises:
        ConfigError: ``k`` < 1 or larger than the corpus, a bad ``n_jobs`` or ``parallel``.
    """
    t0 = time.perf_counter()
    ex = _check(corpus, k, exclude, len(queries))
    kinds = {d.kind for d in corpus} | {q.kind for q in queries}
    if len(kinds) > 1:
        raise ConfigError(f"queries and corpus must be one kind of document, got {sorted(kinds)}")
    workers = n_workers(n_jobs)
    if _knn_processes(parallel, len(queries), workers):
        from evalkit_ot.knn_pool import knn_processes

        rows = knn_processes(queries, corpus, k, ex, max_iter, workers)
    else:
        corp = _Corpus(corpus)
        jobs = [(q, corp, k, e, max_iter) for q, e in zip(queries, ex, strict=True)]
        rows = run_threads(_one, jobs, workers)
    return KnnResult(
        np.array([r[0] for r in rows], dtype=np.int64).reshape(len(queries), k),
        np.array([r[1] for r in rows], dtype=np.float64).reshape(len(queries), k),
        np.array([r[2] for r in rows], dtype=np.int64),
        np.array([r[3] for r in rows], dtype=np.int64),
        time.perf_counter() - t0,
    )


def knn_exhaustive(queries: Sequence[Doc], corpus: Sequence[Doc], k: int = 10, *,
                   exclude: Sequence[int | None] | None = None, n_jobs: int | None = -1,
                   max_iter: int = MAX_ITER, parallel: str = "auto") -> KnnResult:
    """Reference search: every query-corpus distance solved exactly
    (:func:`~evalkit_ot.batch.ot_distances`), then the ``k`` smallest.

    Same arguments, result and tie rule as :func:`knn`.
    """
    t0 = time.perf_counter()
    ex = _check(corpus, k, exclude, len(queries))
    nq, nc = len(queries), len(corpus)
    qi = np.repeat(np.arange(nq), nc)
    ci = np.tile(np.arange(nc), nq)
    res = ot_distances([queries[i] for i in qi.tolist()], [corpus[j] for j in ci.tolist()],
                       n_jobs=n_jobs, max_iter=max_iter, parallel=parallel)
    dist = res.values.reshape(nq, nc)
    idx = np.zeros((nq, k), dtype=np.int64)
    out = np.zeros((nq, k))
    n_cand = np.zeros(nq, dtype=np.int64)
    for q in range(nq):
        keep = np.array([j for j in range(nc) if j != ex[q]])
        order = keep[np.lexsort((keep, dist[q, keep]))][:k]
        idx[q], out[q] = order, dist[q, order]
        n_cand[q] = keep.size
    return KnnResult(idx, out, n_cand.copy(), n_cand, time.perf_counter() - t0)
