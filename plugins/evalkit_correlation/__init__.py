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

from evalkit import DataError, Metric, UndefinedValueError, as_1d_float, check_finite, hookimpl

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


class Spearman(_Correlation):
    """Spearman's rank correlation rho between scores and gold (scipy.stats.spearmanr), -1..1.

    Ties get average ranks; rho is Pearson's r of the ranks (Spearman 1904).
    """

    name = "spearman"
    title = "Spearman's rho"
    scipy_function = "spearmanr"


class Pearson(_Correlation):
    """Pearson's correlation r between scores and gold (scipy.stats.pearsonr), -1..1."""

    name = "pearson"
    title = "Pearson's r"
    scipy_function = "pearsonr"


@hookimpl
def register_metrics(register: Any) -> None:
    register(Spearman)
    register(Pearson)
