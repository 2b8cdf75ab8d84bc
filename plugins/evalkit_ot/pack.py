"""The exact problems of a chunk of pairs, from packed token arrays (runs in a worker process).

A chunk is given as token ranges into three packed arrays (:mod:`evalkit_ot.arena`): ``points``
float64 ``(tokens, d)``, ``sqnorm`` and ``mass`` float64 ``(tokens,)``. :func:`pack_pairs`
computes every pair's cost matrix with the floating-point operations of
:func:`~evalkit_ot.solver.cost_and_flag` in the same order (one BLAS product per pair written in
place into one buffer; the elementwise steps, the cancellation check and the recomputation from
difference vectors once over the whole chunk), so the values are bit for bit those of the
per-pair path, and packs the problems for :func:`evalkit_ot.procs.solve_chunk`: the cost
matrices, the pair shapes and the two mass vectors, each one contiguous array. WMD's shared-mass
reduction (:func:`~evalkit_ot.solver.drop_shared_mass`) also runs over the whole chunk at once
(:func:`drop_shared`): array operations wherever a pair's zero costs form a matching, the per-pair
loop only for a pair where one token meets several zero costs.
"""

from __future__ import annotations

import numpy as np

from evalkit_ot.solver import RECOMPUTE

#: ``(costs, shapes, a, b, top)``: the arguments of :func:`evalkit_ot.procs.solve_chunk`.
Packed = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
#: The exact zero costs of a chunk (WMD: the same vector in both texts): int64 arrays ``(pair,
#: row, column)``, in the order of the packed cost entries (by pair, then row-major).
Zeros = tuple[np.ndarray, np.ndarray, np.ndarray]


def ragged(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + l) for s, l in zip(starts, lengths)])`` as int64, without a
    Python loop."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if ends.size else 0
    return np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths)


def no_zeros() -> Zeros:
    """:data:`Zeros` of a chunk without any zero cost."""
    none = np.empty(0, dtype=np.int64)
    return none, none, none


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
    dot = np.dot  # the BLAS product np.matmul makes (the same bits), with less overhead per call
    for a, k, b, j, s in zip(x0.tolist(), n.tolist(), y0.tolist(), m.tolist(), starts.tolist(),
                             strict=True):
        dot(points[a : a + k], points[b : b + j].T, buf[s : s + k * j].reshape(k, j))
    if kind == "wrd":
        np.subtract(1.0, buf, out=buf)
        np.clip(buf, 0.0, 2.0, out=buf)
        return buf, starts, no_zeros()
    # d2 = -2 x.y + |x|^2 + |y|^2, in the order solver._euclidean adds them; one entry per
    # (pair, row, column), rows of m entries.
    row_width = np.repeat(m, n)
    xsq = np.repeat(sqnorm[ragged(x0, n)], row_width)
    ysq = sqnorm[ragged(np.repeat(y0, n), row_width)]
    buf *= -2.0
    buf += xsq
    buf += ysq
    # Entries that may have lost digits to cancellation: recomputed from the difference vector.
    np.add(xsq, ysq, out=xsq)
    xsq *= RECOMPUTE
    close = np.flatnonzero(buf <= xsq)
    zeros = no_zeros()
    if close.size:
        pair = np.searchsorted(starts, close, side="right") - 1
        i, j = np.divmod(close - starts[pair], m[pair])
        diff = points[x0[pair] + i] - points[y0[pair] + j]
        d2 = np.einsum("ij,ij->i", diff, diff)
        buf[close] = d2
        np.maximum(buf, 0.0, out=buf)
        z = d2 == 0.0
        zeros = (pair[z], i[z], j[z])
    np.sqrt(buf, out=buf)
    return buf, starts, zeros


def _sequential_drop(al: np.ndarray, bl: np.ndarray, zeros: Zeros, pairs: np.ndarray,
                     ao: np.ndarray, bo: np.ndarray) -> None:
    """Drop the shared mass of ``pairs`` one zero cost after the other, in row-major order, in
    place: :func:`~evalkit_ot.solver.drop_shared_mass` 's loop (for pairs where a token meets
    several zero costs, so the order matters)."""
    zp, zi, zj = zeros
    for k in np.flatnonzero(np.isin(zp, pairs)).tolist():
        i, j = int(ao[zp[k]] + zi[k]), int(bo[zp[k]] + zj[k])
        moved = min(al[i], bl[j])
        al[i] -= moved
        bl[j] -= moved


def drop_shared(a: np.ndarray, braw: np.ndarray, ao: np.ndarray, bo: np.ndarray,
                zeros: Zeros) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~evalkit_ot.solver.drop_shared_mass` for every pair of a chunk at once.

    Args:
        a, braw: the pairs' masses concatenated (``n[p]`` and ``m[p]`` entries per pair), as the
            texts hold them.
        ao, bo: int64 ``(k,)``: where each pair's entries start in ``a`` and ``braw``.
        zeros: the chunk's zero costs (:data:`Zeros`).

    Returns:
        the masses left ``(a', b')`` (zeros where all was shared) and the pairs touched.

    Where the zero costs of a pair form a matching (each token meets at most one), the updates
    ``moved = min(a_i, b_j); a_i -= moved; b_j -= moved`` are independent and run as array
    operations; otherwise that pair runs the per-pair loop. The same operations on the same
    values either way, so the same bits.
    """
    zp = zeros[0]
    ga, gb = ao[zp] + zeros[1], bo[zp] + zeros[2]
    al, bl = a.copy(), braw.copy()
    repeated = np.zeros(ao.size, dtype=bool)
    for g in (ga, gb):
        srt = np.sort(g)
        dup = srt[1:][srt[1:] == srt[:-1]]
        repeated[zp[np.isin(g, dup)]] = True
    fast = ~repeated[zp]
    moved = np.minimum(al[ga[fast]], bl[gb[fast]])
    al[ga[fast]] -= moved
    bl[gb[fast]] -= moved
    _sequential_drop(al, bl, zeros, np.flatnonzero(repeated), ao, bo)
    return al, bl, np.unique(zp)


def strided(starts: np.ndarray, counts: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``concatenate([s + step * arange(c) for s, c, step in zip(starts, counts, steps)])`` as
    int64, without a Python loop (:func:`ragged` is the case ``steps == 1``)."""
    return np.repeat(starts, counts) + ragged(np.zeros_like(counts), counts) * np.repeat(steps, counts)


def _scales(a2: np.ndarray, b2: np.ndarray, n2: np.ndarray, m2: np.ndarray,
            pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sum(a'), sum(b'))`` of each of ``pairs`` over their packed masses left: NumPy's
    ``sum`` per pair, as ``ot.emd2`` computes them (a segmented sum would add in another order)."""
    ao, bo = (np.cumsum(n2) - n2).tolist(), (np.cumsum(m2) - m2).tolist()
    n_, m_ = n2.tolist(), m2.tolist()
    sa = np.array([a2[ao[p] : ao[p] + n_[p]].sum() for p in pairs.tolist()])
    sb = np.array([b2[bo[p] : bo[p] + m_[p]].sum() for p in pairs.tolist()])
    return sa, sb


def _reduce(buf: np.ndarray, starts: np.ndarray, a: np.ndarray, b: np.ndarray, braw: np.ndarray,
            n: np.ndarray, m: np.ndarray, zeros: Zeros) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The chunk's problems after dropping shared mass, ``(costs, n', m', a', b')``, and which
    pairs were left with nothing to move (all mass shared on one side: distance 0).

    A touched pair's remaining ``b'`` is scaled to its remaining ``a'`` total as ``ot.emd2``
    does (unless both sums are 1); the other pairs keep ``b`` as given (already scaled).
    """
    ao, bo = np.cumsum(n) - n, np.cumsum(m) - m
    al, bl, touched = drop_shared(a, braw, ao, bo, zeros)
    da, db = np.flatnonzero(al <= 0), np.flatnonzero(bl <= 0)  # rows / columns with no mass left
    pa, pb = np.searchsorted(ao, da, side="right") - 1, np.searchsorted(bo, db, side="right") - 1
    entry_keep = np.ones(buf.size, dtype=bool)
    entry_keep[ragged(starts[pa] + (da - ao[pa]) * m[pa], m[pa])] = False
    entry_keep[strided(starts[pb] + (db - bo[pb]), n[pb], m[pb])] = False
    n2 = n - np.bincount(pa, minlength=n.size)
    m2 = m - np.bincount(pb, minlength=m.size)
    keep_a, keep_b = al > 0, bl > 0
    a2, left, b2 = al[keep_a], bl[keep_b], b[keep_b]
    empty = (n2 == 0) | (m2 == 0)
    live = touched[~empty[touched]]
    idx = ragged((np.cumsum(m2) - m2)[live], m2[live])
    b2[idx] = left[idx]
    sa, sb = _scales(a2, left, n2, m2, live)
    scaled = (sa != 1.0) | (sb != 1.0)
    if scaled.any():
        rep = np.repeat(scaled, m2[live])
        b2[idx[rep]] = left[idx[rep]] * np.repeat(sa[scaled], m2[live][scaled]) / np.repeat(
            sb[scaled], m2[live][scaled])
    # An empty pair's leftover mass on the other side (round-off) leaves the packed arrays too.
    return (buf[entry_keep], n2, m2, a2[np.repeat(~empty, n2)], b2[np.repeat(~empty, m2)]), empty


def pack_pairs(points: np.ndarray, sqnorm: np.ndarray, mass: np.ndarray, kind: str, rows: np.ndarray,
               sums: np.ndarray) -> tuple[Packed, dict[int, float]]:
    """The exact problems of a chunk packed for :func:`evalkit_ot.procs.solve_chunk`, and the
    values already known (WMD pairs whose mass is all shared: 0), by position in the chunk.

    As :func:`~evalkit_ot.solver.exact_distance`: WMD pairs with a zero cost first drop their
    shared mass (:func:`drop_shared`), and ``b`` is rescaled to ``a``'s total as ``ot.emd2``
    does.

    Args:
        points, sqnorm, mass: the packed token arrays.
        kind: ``"wmd"`` or ``"wrd"``.
        rows: int64 ``(k, 4)``: per pair ``(x start, n, y start, m)``; no pair of identical texts.
        sums: float64 ``(k, 2)``: per pair the two texts' ``mass_sum``.
    """
    buf, starts, zeros = chunk_costs(points, sqnorm, kind, rows)
    top = np.maximum.reduceat(buf, starts)
    x0, n, y0, m = rows.T
    a = mass[ragged(x0, n)]
    braw = mass[ragged(y0, m)]
    # y.mass * sa / sb: exactly y.mass where both sums are 1, as solver.emd_value skips it then.
    b = braw * np.repeat(sums[:, 0], m) / np.repeat(sums[:, 1], m)
    if not zeros[0].size:
        return (buf, np.stack([n, m], axis=1), a, b, top), {}
    (costs, n2, m2, a2, b2), empty = _reduce(buf, starts, a, b, braw, n, m, zeros)
    keep = ~empty
    known = dict.fromkeys(np.flatnonzero(empty).tolist(), 0.0)
    return (costs, np.stack([n2, m2], axis=1)[keep], a2, b2, top[keep]), known
