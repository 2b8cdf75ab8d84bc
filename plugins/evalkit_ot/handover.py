"""Texts with private arrays across worker processes: copied into the shared file as they are
handed over.

A text that :func:`~evalkit_ot.solver.prepare` could not place in shared memory
(:mod:`evalkit_ot.store`: no room, a copy, a hand-made :class:`~evalkit_ot.solver.Doc`) lives in
the calling process's private memory, which the workers cannot read. :func:`solve_copied` then
copies the token vectors, squared norms and masses of each chunk's texts into one shared-memory
file (:mod:`evalkit_ot.arena`, kept and rewritten in place between calls) just before handing
the chunk to the pool (:func:`evalkit_ot.procs.run_shared`), as index ranges: per pair ``(x
start, n, y start, m)`` and the two mass sums. The caller takes chunks from the back (the
smallest) and solves them from its own memory (:func:`solve_local`), so texts only it uses are
never copied.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from evalkit import DataError
from evalkit_ot.arena import ARENA, Arena, Layout, views
from evalkit_ot.procs import chunks, executor, run_shared, solve_packed
from evalkit_ot.solver import Doc


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
    parts = chunks(size[ix], size[iy], workers, docs[0].dim)
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


def solve_copied(xs: Sequence[Doc], ys: Sequence[Doc], todo: np.ndarray, max_iter: int,
                 workers: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`evalkit_ot.procs.solve_processes` on the pairs ``todo`` (none of identical texts)
    of texts with private arrays: the pool's chunks copied into the shared file as they are
    handed over, the caller's solved from its own memory. Returns ``(positions in todo,
    values)`` per chunk."""
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
    return list(zip(cuts, done, strict=True))
