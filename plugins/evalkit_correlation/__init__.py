"""Built-in plugin: Spearman's rho and Pearson's r between predicted and gold similarity scores.

Both delegate to :mod:`scipy.stats` (``spearmanr``, ``pearsonr``) and return values in -1..1
(tables show them x 100). They are corpus-level: a correlation does not decompose into
per-example scores, so bootstrap procedures resample pairs and recompute.

A correlation with a constant or near-constant side is undefined (0/0), and reported as such
(:class:`evalkit.UndefinedValueError`, an explicit *undefined* cell), never as a number: ranks of
values that differ only by floating-point noise (1 +- 4e-16) are arbitrary, so Spearman's rho of
them is meaningless. "Near-constant" follows scipy's ``pearsonr`` test for its
``NearConstantInputWarning``: a spread (peak to peak) of at most ``1e-13`` times the largest
magnitude; scipy's ``ConstantInputWarning``/``NearConstantInputWarning`` are also treated as undefined.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evalkit import DataError, Metric, Register, UndefinedValueError, as_1d_float, check_finite, hookimpl

#: Relative spread below which scores count as constant (scipy.stats.pearsonr's near-constant test).
NEAR_CONSTANT = 1e-13


def _validate(predictions: Any, references: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    pred = as_1d_float(predictions, what=f"{name}: predictions")
    ref = as_1d_float(references, what=f"{name}: references")
    if pred.shape != ref.shape:
        raise DataError(f"{name}: {pred.size} predictions but {ref.size} references")
    if pred.size < 2:
        raise DataError(f"{name}: a correlation needs at least 2 pairs, got {pred.size}")
    check_finite(pred, what=f"{name}: predictions")
    check_finite(ref, what=f"{name}: references")
    for arr, what in ((pred, "predictions"), (ref, "references")):
        spread = float(np.ptp(arr))
        if spread == 0.0:
            raise UndefinedValueError(f"{name}: the {what} are constant ({arr[0]:g} for all {arr.size} pairs), "
                                      "so the correlation is undefined")
        if spread <= NEAR_CONSTANT * float(np.max(np.abs(arr))):
            raise UndefinedValueError(
                f"{name}: the {what} are near-constant ({arr.min():.17g} to {arr.max():.17g}, a spread at "
                "floating-point noise level), so the correlation is undefined")
    return pred, ref


class _Correlation(Metric):
    """A correlation coefficient from :mod:`scipy.stats` between scores and gold, -1..1."""

    higher_is_better = True
    task_types = ("sts", "pair_classification")
    scale = "-1..1"
    percent = True
    optimum = 1.0
    #: name of the scipy.stats function returning an object with ``.statistic``
    scipy_function = ""

    def compute(self, *, predictions: Any, references: Any) -> float:
        """The coefficient of two 1-D float arrays of equal length n >= 2.

        Raises:
            DataError: different lengths, fewer than 2 pairs, non-finite input.
            UndefinedValueError: constant or near-constant predictions or references.
        """
        import warnings

        import scipy.stats

        pred, ref = _validate(predictions, references, self.name)
        with warnings.catch_warnings():
            warnings.simplefilter("error", scipy.stats.ConstantInputWarning)
            warnings.simplefilter("error", scipy.stats.NearConstantInputWarning)
            try:
                value = float(getattr(scipy.stats, self.scipy_function)(pred, ref).statistic)
            except (scipy.stats.ConstantInputWarning, scipy.stats.NearConstantInputWarning) as exc:
                raise UndefinedValueError(f"{self.name}: undefined on these scores ({exc})") from None
        if not np.isfinite(value):
            raise UndefinedValueError(f"{self.name}: undefined on these scores (scipy returned {value})")
        return value

    def _values(self, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """What is correlated on each resample, at the original positions: the values themselves."""
        return np.broadcast_to(values[:, None], counts.shape)

    def compute_resampled(self, predictions: Any, references: Any, indices: Any) -> np.ndarray:
        """The coefficient on each resample ``(predictions[i], references[i]) for i in indices[j]``.

        ``indices`` is an int array ``(k, n)`` of rows drawn with replacement; the result has shape
        ``(k,)``, NaN where a side is constant on the resample. Each resample is represented by how
        often it draws every row (a weighted correlation), so no resample is materialised or
        sorted; the values equal :meth:`compute` on the resample up to floating-point rounding.
        The counts are held rows x resamples, so that visiting the rows in sorted order moves whole
        contiguous rows and the running sums run along contiguous memory.
        """
        x = np.asarray(predictions, dtype=np.float64)
        counts, cdv, svv = self._reference_side(references, indices)
        suv, suu = self._sums(x, counts, cdv)
        den = np.sqrt(suu * svv)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = suv / den
        # A side constant on a resample has a variance of 0 up to rounding: undefined there.
        tiny = 1e-24 * max(float(suu.max(initial=0.0)), 1e-300) * max(float(svv.max(initial=0.0)), 1e-300)
        return np.where(den * den > tiny, np.clip(r, -1.0, 1.0), np.nan)

    def _sums(self, x: np.ndarray, counts: np.ndarray, cdv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per resample ``sum c (u - mean u) dv`` and ``sum c (u - mean u)^2`` of the prediction side.

        ``counts`` and ``cdv`` are rows x resamples; ``cdv`` is the draw counts times the centred
        reference side, whose weighted sum is 0, so the cross sum needs no centring of ``u``.
        Pearson: ``u`` is ``x`` (vector-matrix sums).
        """
        xc = x - x.mean()
        n = counts[:, 0].sum()
        # einsum, not BLAS: these products are memory-bound, and BLAS threads only add spinning.
        s1 = np.einsum("i,ij->j", xc, counts)
        return np.einsum("i,ij->j", xc, cdv), np.einsum("i,ij->j", xc * xc, counts) - s1 * s1 / n

    def _reference_side(self, references: Any, indices: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw counts (rows x resamples), centred reference values times the counts, and the
        reference side's sum of squares per resample.

        A paired bootstrap scores two systems on the same resamples of the same references, so the
        last result is kept (keyed on the very objects passed) and reused by the next calls.
        """
        memo = getattr(self, "_memo", None)
        if memo is not None and memo[0] is references and memo[1] is indices:
            return memo[2]
        y = np.asarray(references, dtype=np.float64)
        idx = np.asarray(indices)
        k, n = idx.shape
        counts = np.bincount((idx * k + np.arange(k)[:, None]).ravel(), minlength=k * y.size)
        counts = counts.reshape(y.size, k).astype(np.float64)
        v = self._values(y, counts)
        dv = v - np.einsum("ij,ij->j", counts, v) / n
        cdv = counts * dv
        out = (counts, cdv, np.einsum("ij,ij->j", cdv, dv))
        self._memo = (references, indices, out)
        return out


class Spearman(_Correlation):
    """Spearman's rank correlation rho between scores and gold (scipy.stats.spearmanr), -1..1.

    Ties get average ranks; rho is Pearson's r of the ranks (Spearman 1904).
    """

    name = "spearman"
    title = "Spearman's rho"
    scipy_function = "spearmanr"

    def _values(self, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Each row's value's average rank within the resample (ties averaged, as spearmanr)."""
        order, starts, group = _runs(values)
        per_value, upto = _cumulative(counts, order, starts)
        mid = upto - (per_value - 1) / 2  # draws before the value plus the average of its own ranks
        ranks = np.empty_like(counts)
        ranks[order] = mid if group is None else mid[group]
        return ranks

    def _sums(self, x: np.ndarray, counts: np.ndarray, cdv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`_Correlation._sums` on the average ranks, computed per distinct value.

        The ranks of a resample of size n average (n + 1) / 2, so their spread is a sum over the
        distinct values; only the cross sum needs the rows, visited in ``x``'s sorted order.
        """
        order, _, group = _runs(x)
        n = counts[:, 0].sum()
        memo = getattr(self, "_untied", None)
        if memo is None or memo[0] is not counts:
            # Treating every row as its own value: a row drawn c times after u draws has the centred
            # rank u + c / 2 - n / 2, and the spread of average ranks is (n^3 - n) / 12 - sum (c^3 - c) / 12.
            spread0 = (n**3 - n) / 12 - np.einsum("ij,ij->j", counts, counts * counts - 1) / 12
            shift = 0.5 * np.einsum("ij,ij->j", counts, cdv) + (n / 2) * cdv.sum(axis=0)
            # The counts again as int32 (exact: at most n): the running sums move half the bytes.
            memo = self._untied = (counts, spread0, shift, counts.astype(np.int32))
        upto = _running_sum(memo[3][order])
        ordered_cdv = cdv[order]
        cross = np.einsum("ij,ij->j", ordered_cdv, upto) - memo[2]
        if group is None:
            return cross, memo[1]
        fix_cross, fix_spread = _tie_correction(group, upto, counts, order, ordered_cdv)
        return cross + fix_cross, memo[1] + fix_spread


def _tie_correction(group: np.ndarray, upto: np.ndarray, counts: np.ndarray, order: np.ndarray,
                    ordered_cdv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What tied predictions change in :meth:`Spearman._sums`, computed on the tied rows only.

    ``group`` numbers the distinct values in sorted ``order``; ``upto`` and ``ordered_cdv`` are the
    running draw counts and the weighted reference side in that order, ``counts`` the draw counts
    by row. The rows of a tied value share its average rank, and its draws form one tie in the
    spread.
    """
    tied = np.flatnonzero(np.bincount(group)[group] > 1)
    g = group[tied]
    new = np.r_[True, g[1:] != g[:-1]]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, len(tied) - 1]
    local = np.cumsum(new) - 1
    u, c = upto[tied].astype(np.float64), counts[order[tied]]
    per_value = u[last] - u[first] + c[first]
    shared = u[last] - per_value / 2  # the value's average rank (up to the common -n/2 + 1/2)
    cross = np.einsum("ij,ij->j", ordered_cdv[tied], shared[local] - (u - c / 2))
    spread = (np.einsum("ij,ij->j", c, c * c - 1) - np.einsum("ij,ij->j", per_value, per_value * per_value - 1)) / 12
    return cross, spread


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The stable sorting order of ``values``, and where ties exist, the first sorted position of
    each distinct value and each sorted position's distinct-value number (``None`` without ties)."""
    order = np.argsort(values, kind="stable")
    change = np.diff(values[order]) != 0
    if change.all():
        return order, None, None
    return order, np.r_[0, np.flatnonzero(change) + 1], np.cumsum(np.r_[0, change.astype(np.int64)])


def _running_sum(a: np.ndarray) -> np.ndarray:
    """``np.cumsum(a, axis=0)`` of a rows x resamples array, in place, one contiguous row at a time
    (numpy's cumsum along the first axis walks memory with a stride, several times slower)."""
    for i in range(1, a.shape[0]):
        np.add(a[i], a[i - 1], out=a[i])
    return a


def _cumulative(counts: np.ndarray, order: np.ndarray, starts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct value (in sorted order) and resample: its draws, and the draws of it and of all
    smaller values (distinct values x resamples, both new arrays)."""
    upto = _running_sum(counts[order])
    if starts is not None:
        upto = upto[np.r_[starts[1:] - 1, counts.shape[0] - 1]]  # at the last row of each value
    return np.diff(upto, axis=0, prepend=0.0), upto


class Pearson(_Correlation):
    """Pearson's correlation r between scores and gold (scipy.stats.pearsonr), -1..1."""

    name = "pearson"
    title = "Pearson's r"
    scipy_function = "pearsonr"


@hookimpl
def register_metrics(register: Register) -> None:
    register(Spearman)
    register(Pearson)
