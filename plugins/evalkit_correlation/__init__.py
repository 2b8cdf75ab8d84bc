"""Built-in plugin: Spearman's rho and Pearson's r between predicted and gold similarity scores.

Both delegate to :mod:`scipy.stats` (``spearmanr``, ``pearsonr``) and return values in -1..1
(tables show them x 100). They are corpus-level: a correlation does not decompose into
per-example scores, so bootstrap procedures resample pairs and recompute.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evalkit import DataError, Metric, as_1d_float, check_finite, hookimpl


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
        if np.all(arr == arr[0]):
            raise DataError(f"{name}: the {what} are constant, so the correlation is undefined")
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
            DataError: different lengths, fewer than 2 pairs, non-finite or constant input.
        """
        import scipy.stats

        pred, ref = _validate(predictions, references, self.name)
        return float(getattr(scipy.stats, self.scipy_function)(pred, ref).statistic)


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
