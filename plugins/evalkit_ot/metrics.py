"""WMD and WRD as reference-based text metrics (task type ``generation``), lower is better."""

from __future__ import annotations

from typing import Any

import numpy as np

from evalkit import DataError, Metric, MetricResult
from evalkit_ot.batch import OTResult
from evalkit_ot.methods import OTParams


def _texts(values: Any, what: str, name: str) -> list[str]:
    if isinstance(values, str):
        raise DataError(f"{name}: {what} must be a list of texts, not one string")
    try:
        texts = list(values)
    except TypeError:
        raise DataError(f"{name}: {what} must be a list of texts") from None
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise DataError(f"{name}: {what} rows {bad[:10]} are not strings "
                        f"(e.g. {texts[bad[0]]!r}); pass texts")
    return texts


class _OTMetric(OTParams, Metric):
    higher_is_better = False
    task_types = ("generation",)

    def _result(self, predictions: Any, references: Any) -> OTResult:
        pred = _texts(predictions, "predictions", self.name)
        ref = _texts(references, "references", self.name)
        if len(pred) != len(ref):
            raise DataError(f"{self.name}: {len(pred)} predictions but {len(ref)} references")
        if not pred:
            raise DataError(f"{self.name}: no predictions to score")
        key = (tuple(pred), tuple(ref), tuple(sorted(self.get_params().items(), key=str)))
        cached = getattr(self, "_memo", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        res = self.distances(pred, ref, ("prediction", "reference"))
        self._memo = (key, res)
        return res

    def per_example(self, *, predictions: Any, references: Any) -> np.ndarray:
        """Distance of each prediction to its reference: float64 ``(n,)`` (NaN only for empty
        texts under ``on_empty="nan"``).

        Raises:
            DataError: different lengths, no rows, non-string rows, an empty or all-OOV text
                (naming the row) under ``on_empty="error"``.
        """
        return self._result(predictions, references).values.copy()

    def compute(self, *, predictions: Any, references: Any) -> MetricResult:
        """Mean distance over the pairs (rows with NaN under ``on_empty="nan"`` are left out and
        counted in ``extras["n_empty"]``); extras also name the solver and, for Sinkhorn, its
        measured gap to the exact solver.

        Raises:
            DataError: as :meth:`per_example`, or every row empty under ``on_empty="nan"``.
        """
        res = self._result(predictions, references)
        finite = np.isfinite(res.values)
        if not finite.any():
            raise DataError(f"{self.name}: every row has an empty text; nothing to average")
        extras: dict[str, Any] = {"n_empty": int((~finite).sum()), "solver": res.backend}
        if res.gap is not None:
            extras.update(sinkhorn_gap_mean=res.gap.mean_gap, sinkhorn_gap_max=res.gap.max_abs_gap,
                          sinkhorn_gap_pairs=res.gap.n_checked)
        return MetricResult(float(res.values[finite].mean()), extras)


class WMDMetric(_OTMetric):
    """Word Mover's Distance (Kusner et al. 2015) of predictions to references, lower is better.

    Per example and corpus mean, >= 0 in the units of the token vectors (contextual
    all-MiniLM-L6-v2 token embeddings by default, or ``vectors=PATH``)."""

    name = "wmd"
    kind = "wmd"
    title = "Word Mover's Distance"
    scale = ">= 0"


class WRDMetric(_OTMetric):
    """Word Rotator's Distance (Yokoi et al. 2020) of predictions to references, lower is better.

    Per example and corpus mean, in 0-2 (``1 - WRD`` is the similarity)."""

    name = "wrd"
    kind = "wrd"
    title = "Word Rotator's Distance"
    scale = "0-2"
