"""The exact problems of a chunk of pairs, from packed token arrays (runs in a worker process).

A chunk is given as token ranges into three packed arrays (:mod:`evalkit_ot.arena`): ``points``
float64 ``(tokens, d)``, ``sqnorm`` and ``mass`` float64 ``(tokens,)``. :func:`pack_pairs`
computes every pair's cost matrix with the floating-point operations of
:func:`~evalkit_ot.solver.cost_and_flag` in the same order (one BLAS product per pair written in
place into one buffer; the elementwise steps, the cancellation check and the recomputation from
difference vectors once over the whole chunk), so the values are bit for bit those of the
per-pair path, and packs the problems for :func:`evalkit_ot.procs.solve_chunk`: the cost
matrices, the pair shapes and the two mass vectors, each one contiguous array.
"""

from __future__ import annotations

import numpy as np

from evalkit_ot.solver import RECOMPUTE

#: ``(costs, shapes, a, b, top)``: the arguments of :func:`evalkit_ot.procs.solve_chunk`.
Packed = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
#: Per WMD pair with exact zero costs: their rows and columns in row-major order.
Zeros = dict[int, tuple[list[int], list[int]]]


def ragged(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + l) for s, l in zip(starts, lengths)])`` as int64, without a
    Python loop."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if ends.size else 0
    return np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths)


def chunk_costs(points: np.ndarray, sqnorm: np.ndarray, kind: str,
                rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, Zeros]:
    """The cost matrices of a chunk, concatenated (each C-order), their starts, and the WMD
    pairs' zero costs.

    Args:
        points, sqnorm: the packed token vectors and their squared norms.
        kind: ``"wmd"`` (Euclidean) or ``"wrd"`` (``1 - cos``, clipped to ``[0, 2]``).
        rows: int64 ``(k, 4)``: per pair ``(x start, n, y start, m)`` in token rows.
    """
    x0, n, y0, m = rows.T
    nm = n * m
    ends = np.cumsum(nm)
    starts = ends - nm
    buf = np.empty(int(ends[-1]))
    for a, k, b, j, s in zip(x0.tolist(), n.tolist(), y0.tolist(), m.tolist(), starts.tolist(),
                             strict=True):
        np.matmul(points[a : a + k], points[b : b + j].T, out=buf[s : s + k * j].reshape(k, j))
    if kind == "wrd":
        np.subtract(1.0, buf, out=buf)
        np.clip(buf, 0.0, 2.0, out=buf)
        return buf, starts, {}
    # d2 = -2 x.y + |x|^2 + |y|^2, in the order solver._euclidean adds them.
    width = np.repeat(m, nm)
    local = np.arange(buf.size) - np.repeat(starts, nm)
    xsq = np.repeat(sqnorm[ragged(x0, n)], np.repeat(m, n))
    ysq = sqnorm[np.repeat(y0, nm) + local % width]
    buf *= -2.0
    buf += xsq
    buf += ysq
    # Entries that may have lost digits to cancellation: recomputed from the difference vector.
    close = np.flatnonzero(buf <= RECOMPUTE * (xsq + ysq))
    zeros: Zeros = {}
    if close.size:
        pair = np.searchsorted(starts, close, side="right") - 1
        i, j = np.divmod(local[close], width[close])
        diff = points[x0[pair] + i] - points[y0[pair] + j]
        d2 = np.einsum("ij,ij->i", diff, diff)
        buf[close] = d2
        np.maximum(buf, 0.0, out=buf)
        z = np.flatnonzero(d2 == 0.0)
        if z.size:
            zp, zi, zj = pair[z], i[z], j[z]
            cuts = np.flatnonzero(np.diff(zp)) + 1
            for p, ii, jj in zip(zp[np.r_[0, cuts]].tolist(), np.split(zi, cuts), np.split(zj, cuts),
                                 strict=True):
                zeros[p] = (ii.tolist(), jj.tolist())
    np.sqrt(buf, out=buf)
    return buf, starts, zeros


def drop_shared(a: np.ndarray, b: np.ndarray, c: np.ndarray, zi: list[int],
                zj: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~evalkit_ot.solver.drop_shared_mass` given the zero costs ``c[zi, zj]`` (row-major
    order), then ``b`` rescaled as ``ot.emd2`` does: the same operations, so the same bits.
    Returns ``(a', b', C'.ravel())``."""
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


def pack_pairs(points: np.ndarray, sqnorm: np.ndarray, mass: np.ndarray, kind: str, rows: np.ndarray,
               sums: np.ndarray) -> tuple[Packed, dict[int, float]]:
    """The exact problems of a chunk packed for :func:`evalkit_ot.procs.solve_chunk`, and the
    values already known (WMD pairs whose mass is all shared: 0), by position in the chunk.

    As :func:`~evalkit_ot.solver.exact_distance`: WMD pairs with a zero cost first drop their
    shared mass, and ``b`` is rescaled to ``a``'s total as ``ot.emd2`` does.

    Args:
        points, sqnorm, mass: the packed token arrays.
        kind: ``"wmd"`` or ``"wrd"``.
        rows: int64 ``(k, 4)``: per pair ``(x start, n, y start, m)``; no pair of identical texts.
        sums: float64 ``(k, 2)``: per pair the two texts' ``mass_sum``.
    """
    buf, starts, zeros = chunk_costs(points, sqnorm, kind, rows)
    top = np.maximum.reduceat(buf, starts)
    x0, n, y0, m = (col.copy() for col in rows.T)
    a = mass[ragged(x0, n)]
    # y.mass * sa / sb: exactly y.mass where both sums are 1, as solver.emd_value skips it then.
    b = mass[ragged(y0, m)] * np.repeat(sums[:, 0], m) / np.repeat(sums[:, 1], m)
    if not zeros:
        return (buf, np.stack([n, m], axis=1), a, b, top), {}
    cuts_a, cuts_b = np.cumsum(n)[:-1], np.cumsum(m)[:-1]
    pa, pb = np.split(a, cuts_a), np.split(b, cuts_b)
    costs = np.split(buf, starts[1:])
    for p, (zi, zj) in zeros.items():
        xm, ym = mass[x0[p] : x0[p] + n[p]], mass[y0[p] : y0[p] + m[p]]
        pa[p], pb[p], costs[p] = drop_shared(xm, ym, costs[p].reshape(n[p], m[p]), zi, zj)
        n[p], m[p] = pa[p].size, pb[p].size
    known = {p: 0.0 for p in zeros if n[p] == 0 or m[p] == 0}
    keep = (n > 0) & (m > 0)
    return (np.concatenate(costs), np.stack([n, m], axis=1)[keep], np.concatenate(pa),
            np.concatenate(pb), top[keep]), known
