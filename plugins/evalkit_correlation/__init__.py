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

    def compute_resampled(self, predictions: Any, references: Any, indices: Any) -> np.ndarray:
        """The coefficient on each resample ``(predictions[i], references[i]) for i in indices[j]``.

        Args:
            predictions, references: 1-D finite float arrays of equal length ``N``.
            indices: int array ``(k, m)`` of rows drawn with replacement, each in ``0..N-1``.

        Returns:
            ``(k,)`` float64, NaN where a side is constant on the resample; equal to
            :meth:`compute` on each materialised resample up to floating-point rounding (see
            :mod:`evalkit_correlation.resampled`: draw counts, no resample is materialised).

        The reference side of the last ``(references, indices)`` pair and each predictions
        array's preparation are kept and reused for arguments with the same values (compared in
        full, so an array changed in place is never served stale), so scoring several systems on
        the same resamples, one call each, shares them.
        Pass blocks of about :data:`~evalkit_correlation.resampled.BLOCK_ELEMENTS` draws, every
        system on one block before the next, to keep the work in the CPU cache.

        Raises:
            DataError: predictions and references of different lengths or not finite; indices
                not a 2-D integer array within ``0..N-1``.
        """
        n_rows, x = self._prepared(predictions)
        blocks = self._reference(references, indices, n_rows)
        m = np.shape(indices)[1]
        out = np.empty(np.shape(indices)[0])
        for rows, ref in blocks:
            out[rows] = self._block(ref, x, m)
        return out

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (to worker processes, in saved objects) without the kept arrays: they are a
        per-process speed-up, rebuilt on first use."""
        state = self.__dict__.copy()
        state.pop("_per_thread", None)
        return state

    def _state(self) -> dict[str, Any]:
        """This thread's kept arrays (preparations, the last reference side, scratch space): one
        set per thread, so that threads sharing the metric never write into each other's."""
        import threading

        return self.__dict__.setdefault("_per_thread", {}).setdefault(threading.get_ident(), {})

    def _prepared(self, values: Any, what: str = "predictions") -> tuple[int, Any]:
        """The length of a validated 1-D array and what the bulk path needs of it (:meth:`_prepare`
        or :meth:`_prepare_reference`), kept for the last few arrays and reused only for an array
        with the very same values (compared in full: an array changed in place is prepared
        again)."""
        arr = as_1d_float(values, what=f"{self.name}: {what}")
        cache: dict[tuple[int, str], tuple[np.ndarray, tuple[int, Any]]] = self._state().setdefault(
            "prepared", {})
        hit = cache.get((id(values), what))
        if hit is not None and np.array_equal(hit[0], arr):
            return hit[1]
        check_finite(arr, what=f"{self.name}: {what}")
        if len(cache) >= 64:
            cache.clear()
        prepared = self._prepare(arr) if what == "predictions" else self._prepare_reference(arr)
        cache[(id(values), what)] = (arr.copy(), (arr.size, prepared))
        return arr.size, prepared

    def _reference(self, references: Any, indices: Any, n_rows: int) -> list[tuple[slice, Any]]:
        """Per block of resamples its slice and reference side; the last pair's is kept."""
        from evalkit_correlation import resampled

        memo = self._state().get("memo")
        if (memo is not None and np.array_equal(memo[0], np.asarray(references))
                and np.array_equal(memo[1], np.asarray(indices))):
            return memo[2]
        n_refs, y = self._prepared(references, "references")
        if n_refs != n_rows:
            raise DataError(f"{self.name}: {n_rows} predictions but {n_refs} references")
        idx = np.asarray(indices)
        if idx.ndim != 2 or not np.issubdtype(idx.dtype, np.integer):
            raise DataError(f"{self.name}: resample indices must be a 2-D integer array, got {idx.dtype} {idx.shape}")
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n_rows):
            raise DataError(f"{self.name}: resample indices outside 0..{n_rows - 1}")
        scratch = self._state().setdefault("scratch", resampled.Scratch())
        blocks = [(rows, self._reference_block(y, idx[rows].astype(np.int64, copy=False), scratch, f"{i}:"))
                  for i, rows in enumerate(resampled.block_slices(idx.shape[0], n_rows))]
        self._state()["memo"] = (np.array(references, copy=True), idx.copy(), blocks)
        return blocks

    def _prepare(self, x: np.ndarray) -> Any:
        raise NotImplementedError

    def _prepare_reference(self, y: np.ndarray) -> Any:
        raise NotImplementedError

    def _reference_block(self, y: Any, idx: np.ndarray, scratch: Any, key: str) -> Any:
        raise NotImplementedError

    def _block(self, ref: Any, x: Any, m: int) -> np.ndarray:
        raise NotImplementedError


class Spearman(_Correlation):
    """Spearman's rank correlation rho between scores and gold (scipy.stats.spearmanr), -1..1.

    Ties get average ranks; rho is Pearson's r of the ranks (Spearman 1904).
    """

    name = "spearman"
    title = "Spearman's rho"
    scipy_function = "spearmanr"

    def _prepare(self, x: np.ndarray) -> Any:
        from evalkit_correlation.resampled import ordering

        return ordering(x)

    def _prepare_reference(self, y: np.ndarray) -> Any:
        values, codes = np.unique(y, return_inverse=True)
        return codes.reshape(-1).astype(np.int64), values.size

    def _reference_block(self, y: Any, idx: np.ndarray, scratch: Any, key: str) -> Any:
        from evalkit_correlation.resampled import spearman_reference

        return spearman_reference(y[0], y[1], idx, scratch, key)

    def _block(self, ref: Any, x: Any, m: int) -> np.ndarray:
        from evalkit_correlation.resampled import spearman_block

        return spearman_block(ref, x, m, self._state()["scratch"])


class Pearson(_Correlation):
    """Pearson's correlation r between scores and gold (scipy.stats.pearsonr), -1..1."""

    name = "pearson"
    title = "Pearson's r"
    scipy_function = "pearsonr"

    def _prepare(self, x: np.ndarray) -> Any:
        xc = x - x.mean()
        return np.stack([xc, xc * xc], axis=1)

    def _prepare_reference(self, y: np.ndarray) -> Any:
        return y

    def _reference_block(self, y: Any, idx: np.ndarray, scratch: Any, key: str) -> Any:
        from evalkit_correlation.resampled import pearson_reference

        return pearson_reference(y, idx, scratch, key)

    def _block(self, ref: Any, x: Any, m: int) -> np.ndarray:
        from evalkit_correlation.resampled import pearson_block

        return pearson_block(ref, x, m)


@hookimpl
def register_metrics(register: Register) -> None:
    register(Spearman)
    register(Pearson)
