"""Exact k-nearest-neighbour search by WMD or WRD: prefetch and prune (Kusner et al. 2015, Sec. 4).

For each query the corpus is ordered by the centroid bound (WCD for WMD; see
:mod:`evalkit_ot.bounds`), one matrix-vector product. *Prefetch*: the ``4k`` first candidates get
the bound ``max(centroid bound, capped relaxation)`` (the capped relaxation, ICT, is at least
RWMD), and the ``k`` with the smallest bound are solved exactly; their k-th distance is an upper
bound on the final k-th distance, and their optimal dual potentials on the query's tokens are
kept. *Prune*: a candidate whose centroid bound exceeds that k-th distance can never enter; the
others get the tight bound ``max(centroid, capped relaxation, c-transform bounds of the kept
potentials)`` and are solved in increasing order of it until it exceeds the current k-th
distance (which only shrinks). Because every skipped
candidate's true distance is larger than the final k-th distance, the result equals the
exhaustive search's: the ``k`` smallest distances, ties broken by corpus index.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evalkit import ConfigError
from evalkit_ot.batch import n_workers, ot_distances
from evalkit_ot.bounds import capped_bound, centroid_bounds, dual_bound
from evalkit_ot.solver import MAX_ITER, Doc, cost_matrix, emd_value, finish, same_doc

#: A bound prunes a candidate only if it exceeds the k-th distance by more than this margin
#: (relative to the k-th distance plus the query's largest vector norm), so that round-off in a
#: bound can never drop a true neighbour.
MARGIN = 1e-10


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


def _one(query: Doc, corpus: Sequence[Doc], k: int, exclude: int | None,
         max_iter: int) -> tuple[list[int], list[float], int, int]:
    wcd = centroid_bounds(query, corpus)
    cand = np.array([i for i in np.argsort(wcd, kind="stable").tolist() if i != exclude],
                    dtype=np.int64)
    scale = 1.0 if query.kind == "wrd" else float(np.sqrt(query.sqnorm.max()))
    heap: list[tuple[float, int]] = []  # the current top k as (-distance, -index)
    limit = np.inf  # prune above this: the k-th distance plus a margin, once k are known
    solves = 0
    duals: list[np.ndarray] = []  # the query's optimal potentials from the prefetch solves

    def tight(i: int, potentials: np.ndarray | None) -> float:
        doc = corpus[i]
        if same_doc(query, doc):
            return 0.0
        c = cost_matrix(query, doc)
        lb = max(float(wcd[i]), capped_bound(query, doc, c))
        if potentials is not None:
            lb = max(lb, dual_bound(query, doc, potentials, c))
        return lb

    def solve(i: int, keep_duals: bool) -> None:
        nonlocal limit, solves
        doc = corpus[i]
        if same_doc(query, doc):
            d = 0.0
        else:
            c = cost_matrix(query, doc)
            d = finish(emd_value(query.mass, doc.mass, c, max_iter=max_iter,
                                 duals=duals if keep_duals else None), query.kind, c)
            solves += 1
        item = (-d, -i)
        if len(heap) < k:
            heapq.heappush(heap, item)
        elif item > heap[0]:  # smaller distance, or equal distance and smaller index
            heapq.heapreplace(heap, item)
        if len(heap) == k:
            kth = -heap[0][0]
            limit = kth + MARGIN * (kth + scale)

    # Prefetch: of the 4k best candidates by centroid bound, solve the k with the smallest
    # tight bound; their k-th distance bounds the final one from above.
    head = cand[: 4 * k].tolist()
    first = sorted(head, key=lambda i: (tight(i, None), i))[:k]
    for i in first:
        solve(i, keep_duals=True)
    # Prune: only candidates whose centroid bound is within the limit can enter; the others get
    # the tight bound (now also the c-transform bound of the prefetch duals) and are solved in
    # increasing order of it while it is within the (shrinking) limit.
    pots = np.stack(duals) if duals else None
    done = set(first)
    reach = int(np.searchsorted(wcd[cand], limit, side="right"))
    rest = [(tight(i, pots), i) for i in cand[:reach].tolist() if i not in done]
    for lb, i in sorted(rest):
        if lb > limit:
            break
        solve(i, keep_duals=False)
    top = sorted((-nd, -ni) for nd, ni in heap)
    return [i for _, i in top], [d for d, _ in top], solves, int(cand.size)


def knn(queries: Sequence[Doc], corpus: Sequence[Doc], k: int = 10, *,
        exclude: Sequence[int | None] | None = None, n_jobs: int | None = -1,
        max_iter: int = MAX_ITER) -> KnnResult:
    """The ``k`` nearest corpus documents of each query by exact WMD/WRD, with prefetch and prune.

    Args:
        queries, corpus: prepared texts of one kind (:func:`~evalkit_ot.solver.prepare`).
        k: neighbours per query.
        exclude: per query, a corpus index to leave out (the query itself), or ``None``.
        n_jobs: threads over queries (joblib convention).

    Returns:
        :class:`KnnResult`, identical to :func:`knn_exhaustive`'s neighbours and distances.

    Raises:
        ConfigError: ``k`` < 1 or larger than the corpus.
    """
    t0 = time.perf_counter()
    ex = _check(corpus, k, exclude, len(queries))
    workers = n_workers(n_jobs)
    if workers == 1 or len(queries) < 2:
        rows = [_one(q, corpus, k, e, max_iter) for q, e in zip(queries, ex, strict=True)]
    else:
        from joblib import Parallel, delayed

        rows = Parallel(n_jobs=workers, prefer="threads")(
            delayed(_one)(q, corpus, k, e, max_iter) for q, e in zip(queries, ex, strict=True))
    return KnnResult(
        np.array([r[0] for r in rows], dtype=np.int64).reshape(len(queries), k),
        np.array([r[1] for r in rows], dtype=np.float64).reshape(len(queries), k),
        np.array([r[2] for r in rows], dtype=np.int64),
        np.array([r[3] for r in rows], dtype=np.int64),
        time.perf_counter() - t0,
    )


def knn_exhaustive(queries: Sequence[Doc], corpus: Sequence[Doc], k: int = 10, *,
                   exclude: Sequence[int | None] | None = None, n_jobs: int | None = -1,
                   max_iter: int = MAX_ITER) -> KnnResult:
    """Reference search: every query-corpus distance solved exactly, then the ``k`` smallest.

    Same arguments, result and tie rule as :func:`knn`.
    """
    t0 = time.perf_counter()
    ex = _check(corpus, k, exclude, len(queries))
    nq, nc = len(queries), len(corpus)
    qi = np.repeat(np.arange(nq), nc)
    ci = np.tile(np.arange(nc), nq)
    res = ot_distances([queries[i] for i in qi.tolist()], [corpus[j] for j in ci.tolist()],
                       n_jobs=n_jobs,
                       max_iter=max_iter)
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
