"""The k-NN search across worker processes, the corpus in the shared file.

:func:`knn_processes` copies the corpus once into the shared file (:mod:`evalkit_ot.arena`)
that the workers map; the queries are cut into calls that the pool and the caller run
(:func:`evalkit_ot.procs.run_shared`), each computing its queries' cost matrices and exact solves
from the shared corpus (:func:`evalkit_ot.knn` 's per-query search).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from evalkit_ot.arena import ARENA, Layout, views
from evalkit_ot.procs import executor, run_shared
from evalkit_ot.solver import Doc

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
    file (:mod:`evalkit_ot.arena`) that the workers map; each worker computes its
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
