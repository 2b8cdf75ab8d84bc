"""Spearman's rho and Pearson's r on many bootstrap resamples at once, from draw counts.

A block of ``b`` resamples of ``m`` draws each from ``N`` rows (indices ``(b, m)``) is represented
by its draw counts ``(b, N)``: how often each resample draws each row. No resample is
materialised or sorted.

* Pearson: weighted sums of the globally centred scores, the reference side centred per resample
  (as :func:`scipy.stats.pearsonr` on the materialised resample, up to floating-point rounding).
* Spearman: a value's average rank in a resample is the number of draws of smaller values plus the
  average of its own positions, i.e. a running sum of the counts in the predictions' sorted order.
  Ranks are doubled and centred, ``2 r - (m + 1)``: integers, so every sum below is exact integer
  arithmetic (int64; exact while ``m`` and ``N`` are at most :data:`MAX_EXACT`, float64 above) and
  rho equals scipy's on the materialised resample up to the final division and square root.
  With ``D`` the doubled centred ranks and ``T`` the number of draws of each distinct value,
  ``sum D**2 = (m**3 - sum T**3) / 3`` (average ranks of ties, Kendall 1948), and
  ``rho = 3 sum(Dx Dy) / sqrt((m**3 - sum Tx**3) (m**3 - sum Ty**3))``.

Arrays are ``resamples x rows`` in C order, so running sums run along contiguous rows; callers
score blocks of about :data:`BLOCK_ELEMENTS` counts, small enough to stay in a core's cache while
every system is scored on them (the reference side of a block is computed once and shared).
Scratch arrays are reused between calls (:class:`Scratch`): fresh large temporaries cost a page
fault per 4 KiB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Counts (resamples x rows) per block: 512 KiB of int64, within a core's L2 cache.
BLOCK_ELEMENTS = 1 << 16
#: Largest resample size and row count for exact int64 sums (their cubes stay below 2**63).
MAX_EXACT = 1 << 20


def block_slices(n_resamples: int, n_rows: int) -> list[slice]:
    """Consecutive slices of the resamples with about :data:`BLOCK_ELEMENTS` counts each."""
    step = max(1, BLOCK_ELEMENTS // max(n_rows, 1))
    return [slice(s, min(n_resamples, s + step)) for s in range(0, n_resamples, step)]


class Scratch:
    """Arrays kept between calls, by name: reused when the shape and dtype match, else replaced."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        a = self._arrays.get(name)
        if a is None or a.shape != shape or a.dtype != np.dtype(dtype):
            a = self._arrays[name] = np.empty(shape, dtype=dtype)
        return a


def draw_counts(idx: np.ndarray, n_rows: int, out: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """How often each resample (row of ``idx`` ``(b, m)``) draws each row: ``out`` ``(b, n_rows)``.

    ``flat`` ``(b, m)`` int64 is scratch space.
    """
    b = idx.shape[0]
    np.add(idx, (np.arange(b, dtype=np.int64) * n_rows)[:, None], out=flat)
    out.fill(0)
    np.add.at(out.reshape(-1), flat.reshape(-1), 1)
    return out


@dataclass(frozen=True)
class Ordering:
    """One system's scores in ascending order.

    ``order`` is the stable sorting order ``(N,)``. Ties (equal scores) are listed by their
    sorted positions: ``first`` and ``last`` ``(g,)`` of each tie, ``tied`` ``(t,)`` every tied
    position and ``tie`` ``(t,)`` the tie it belongs to (all empty without ties).
    """

    order: np.ndarray
    first: np.ndarray
    last: np.ndarray
    tied: np.ndarray
    tie: np.ndarray


def ordering(values: np.ndarray) -> Ordering:
    """The :class:`Ordering` of a 1-D float array."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    same = ordered[1:] == ordered[:-1]
    # A tie is a maximal run of equal neighbours: it starts where `same` turns on.
    starts = np.flatnonzero(same & ~np.r_[False, same[:-1]])
    ends = np.flatnonzero(same & ~np.r_[same[1:], False]) + 1
    sizes = ends - starts + 1
    tie = np.repeat(np.arange(starts.size), sizes)
    tied = np.arange(tie.size) - np.repeat(np.cumsum(sizes) - sizes, sizes) + np.repeat(starts, sizes)
    return Ordering(order, starts, ends, tied, tie)


def _cube_sum(a: np.ndarray) -> np.ndarray:
    """Per row ``sum a**3`` (int64 or float64 as ``a``)."""
    return np.einsum("ij,ij,ij->i", a, a, a)


@dataclass
class SpearmanReference:
    """The reference side of a block: draw ``counts`` and ``weighted`` (counts times each row's
    doubled centred reference rank), both ``(b, N)``; per resample ``k_sum`` (``sum counts *
    weighted``), ``q_rows`` (``m**3 - sum counts**3``: the predictions' ``3 sum D**2`` were every
    row a distinct value) and ``q_ref`` (the references' ``3 sum D**2``)."""

    counts: np.ndarray
    weighted: np.ndarray
    k_sum: np.ndarray
    q_rows: np.ndarray
    q_ref: np.ndarray


def spearman_reference(codes: np.ndarray, n_codes: int, idx: np.ndarray, scratch: Scratch,
                       key: str) -> SpearmanReference:
    """The :class:`SpearmanReference` of the resamples ``idx`` ``(b, m)`` of references whose
    distinct values are numbered ``codes`` ``(N,)`` in ascending order (``n_codes`` of them).

    Its arrays come from ``scratch`` under ``key``: they are valid until the next call with that key.
    """
    b, m = idx.shape
    n_rows = codes.size
    dtype = np.int64 if max(m, n_rows) <= MAX_EXACT else np.float64
    flat = scratch.get("flat", idx.shape, np.int64)
    counts = draw_counts(idx, n_rows, scratch.get(key + "counts", (b, n_rows), np.int64), flat)
    # Draws of each reference value per resample, their doubled centred average ranks.
    np.take(codes, idx, out=flat, mode="clip")  # indices checked by the caller
    flat += (np.arange(b, dtype=np.int64) * n_codes)[:, None]
    per_value = np.zeros((b, n_codes), dtype=np.int64)
    np.add.at(per_value.reshape(-1), flat.reshape(-1), 1)
    ranks = 2 * np.cumsum(per_value, axis=1) - per_value - m
    weighted = np.take(ranks.astype(dtype), codes, axis=1, out=scratch.get(key + "weighted", (b, n_rows), dtype),
                       mode="clip")
    counts_d = counts if dtype is np.int64 else counts.astype(dtype)
    weighted *= counts_d
    cube = dtype(m) ** 3
    return SpearmanReference(counts_d, weighted, np.einsum("ij,ij->i", counts_d, weighted),
                             cube - _cube_sum(counts_d), cube - _cube_sum(per_value.astype(dtype)))


def spearman_block(ref: SpearmanReference, order: Ordering, m: int, scratch: Scratch) -> np.ndarray:
    """Spearman's rho ``(b,)`` of one system on a block (NaN where a side is constant)."""
    b, n_rows = ref.counts.shape
    dtype = ref.counts.dtype
    # mode="clip": no bounds checks and no buffered copy of `out` (every index is valid).
    sorted_counts = np.take(ref.counts, order.order, axis=1, out=scratch.get("sorted", (b, n_rows), dtype), mode="clip")
    upto = np.cumsum(sorted_counts, axis=1, out=scratch.get("upto", (b, n_rows), dtype))
    tied_counts = sorted_counts.take(order.tied, axis=1)
    before = upto.take(order.first, axis=1) - sorted_counts.take(order.first, axis=1)
    sorted_weighted = np.take(ref.weighted, order.order, axis=1, out=sorted_counts, mode="clip")
    # Untied: a row's doubled centred rank is 2 upto - counts - m; sum weighted * counts = k_sum
    # and the weighted reference ranks sum to 0 over the draws.
    cross = 2 * np.einsum("ij,ij->i", upto, sorted_weighted) - ref.k_sum
    q_x = ref.q_rows
    if order.tie.size:
        last = upto.take(order.last, axis=1)
        shared = (last + before - m).take(order.tie, axis=1)  # the tie's doubled centred average rank
        own = 2 * upto.take(order.tied, axis=1) - tied_counts - m
        cross = cross + np.einsum("ij,ij->i", sorted_weighted.take(order.tied, axis=1), shared - own)
        q_x = q_x + _cube_sum(tied_counts) - _cube_sum(last - before)
    q_x, q_y = q_x.astype(np.float64), ref.q_ref.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = 3.0 * cross.astype(np.float64) / np.sqrt(q_x * q_y)
    # A constant side has q = 0 exactly; any other has q >= 3 m**2 - 3 m > m (also above float rounding).
    return np.where((q_x > m) & (q_y > m), np.clip(rho, -1.0, 1.0), np.nan)


@dataclass
class PearsonReference:
    """The reference side of a block: draw ``counts`` and ``weighted`` (counts times the reference
    value centred on its resample's mean), ``(b, N)`` float64, and per resample ``spread`` (the
    reference side's sum of squares)."""

    counts: np.ndarray
    weighted: np.ndarray
    spread: np.ndarray


def pearson_reference(y: np.ndarray, idx: np.ndarray, scratch: Scratch, key: str) -> PearsonReference:
    """The :class:`PearsonReference` of the resamples ``idx`` ``(b, m)`` of references ``y`` ``(N,)``
    (arrays from ``scratch`` under ``key``, valid until the next call with that key)."""
    b, m = idx.shape
    n_rows = y.size
    flat = scratch.get("flat", idx.shape, np.int64)
    ints = draw_counts(idx, n_rows, scratch.get("ints", (b, n_rows), np.int64), flat)
    counts = scratch.get(key + "counts", (b, n_rows), np.float64)
    np.copyto(counts, ints)
    centred = scratch.get("centred", (b, n_rows), np.float64)
    np.subtract(y[None, :], (counts @ y / m)[:, None], out=centred)
    weighted = np.multiply(counts, centred, out=scratch.get(key + "weighted", (b, n_rows), np.float64))
    return PearsonReference(counts, weighted, np.einsum("ij,ij->i", weighted, centred))


def pearson_block(ref: PearsonReference, xc: np.ndarray, m: int) -> np.ndarray:
    """Pearson's r ``(b,)`` of one system on a block (NaN where a side is constant up to rounding).

    ``xc`` ``(N, 2)``: the system's scores centred on their mean over all rows, and their squares.
    """
    # Matrix-vector products (BLAS; single-threaded at this size): a block is in the cache.
    s1, s2 = (ref.counts @ xc).T
    suu = s2 - s1 * s1 / m
    suv = ref.weighted @ xc[:, 0]
    den = np.sqrt(suu * ref.spread)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = suv / den
    # A side constant on a resample has a variance of 0 up to rounding: undefined there.
    tiny = 1e-24 * max(float(suu.max(initial=0.0)), 1e-300) * max(float(ref.spread.max(initial=0.0)), 1e-300)
    return np.where(den * den > tiny, np.clip(r, -1.0, 1.0), np.nan)
