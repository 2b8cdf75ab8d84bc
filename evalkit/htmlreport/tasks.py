"""Per-task figure data from a run's stored predictions: STS scatter and error bands, pair
classification threshold curves.

STS (``task_type == "sts"``):

- :func:`sts_panels`: per (method, dataset) the number of pairs, Spearman's rho and Pearson's r
  of the predictions against the gold scores (``scipy.stats``), for the predicted-vs-gold small
  multiples (a scatter up to :data:`HEXBIN_FROM` pairs, a hexbin above).
- :func:`sts_bands`: the error by gold-score band. Methods score on their own scales (a cosine in
  -1..1, gold 0-5), so each method's predictions are first mapped onto the gold scale by the
  least-squares line ``gold ~ a + b * prediction`` on the dataset (the calibration Pearson's r
  measures); the band's error is the mean absolute error of the calibrated predictions over the
  pairs whose gold score falls in the band (half-open unit bands ``[0, 1)``, ..., the last one
  closed).

Pair classification (``task_type == "pair_classification"``): :func:`pair_curves` gives per
(method, dataset) F1 of the positive class and accuracy against the decision threshold (positive
iff ``score >= threshold``, as the auto-threshold metrics), the precision-recall curve
(``sklearn.metrics.precision_recall_curve``), average precision, the dev-tuned threshold stored
with the run, and the majority-class baseline (accuracy of always predicting the more frequent
label; F1 of always predicting "positive").
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from evalkit.results import RunResult

#: Above this many pairs a predicted-vs-gold panel is a hexbin instead of a scatter.
HEXBIN_FROM = 400
#: Points kept per threshold curve in the report (evenly spaced over the sorted thresholds).
CURVE_POINTS = 200


def evaluated(run: RunResult) -> pd.DataFrame:
    """The evaluated prediction rows (``role != "tune"``)."""
    p = run.predictions
    if p.empty:
        return p
    return p[p["role"] != "tune"] if "role" in p.columns else p


def task_of(run: RunResult, dataset: str) -> str | None:
    info = (run.provenance.get("datasets") or {}).get(dataset) or {}
    task = info.get("task_type") if isinstance(info, dict) else None
    return str(task) if task else None


def cells(run: RunResult, task: str) -> list[tuple[str, str, str, pd.DataFrame]]:
    """``(method, dataset, split, rows sorted by row)`` of the evaluated cells of one task type."""
    p = evaluated(run)
    if p.empty:
        return []
    out = []
    for (m, d, s), g in p.groupby(["method", "dataset", "split"], sort=False):
        if task_of(run, str(d)) == task:
            out.append((str(m), str(d), str(s), g.sort_values("row", kind="stable")))
    return out


def sts_panels(run: RunResult, sts_cells: list[tuple[str, str, str, pd.DataFrame]] | None = None,
               ) -> list[dict[str, Any]]:
    """One small multiple per STS (method, dataset, split): n, rho, r, kind (scatter or hexbin).

    ``sts_cells``: :func:`cells` of the run's STS task when the caller has them already.
    """
    import numpy as np
    from scipy import stats

    out = []
    for method, dataset, split, g in cells(run, "sts") if sts_cells is None else sts_cells:
        x = g["prediction"].to_numpy(dtype=np.float64)
        y = g["reference"].to_numpy(dtype=np.float64)
        rho = float(stats.spearmanr(x, y).statistic) if len(x) > 2 else math.nan
        r = float(stats.pearsonr(x, y).statistic) if len(x) > 2 else math.nan
        out.append({"method": method, "dataset": dataset, "split": split, "n": len(x),
                    "spearman": None if math.isnan(rho) else rho, "pearson": None if math.isnan(r) else r,
                    "kind": "hexbin" if len(x) > HEXBIN_FROM else "scatter"})
    return out


def gold_bands(gold: np.ndarray) -> list[tuple[float, float]]:
    """Unit bands covering the gold scores: ``[floor(min), floor(min)+1), ..., [.., ceil(max)]``."""
    lo, hi = math.floor(float(gold.min())), math.ceil(float(gold.max()))
    hi = max(hi, lo + 1)
    return [(float(b), float(b + 1)) for b in range(lo, hi)]


def sts_bands(run: RunResult, sts_cells: list[tuple[str, str, str, pd.DataFrame]] | None = None,
              ) -> list[dict[str, Any]]:
    """Per STS (dataset, split): bands and per method the calibrated MAE and pair count per band
    (``sts_cells`` as in :func:`sts_panels`)."""
    import numpy as np

    by_dataset: dict[tuple[str, str], dict[str, Any]] = {}
    for method, dataset, split, g in cells(run, "sts") if sts_cells is None else sts_cells:
        x = g["prediction"].to_numpy(dtype=np.float64)
        y = g["reference"].to_numpy(dtype=np.float64)
        entry = by_dataset.setdefault((dataset, split), {"dataset": dataset, "split": split,
                                                         "bands": gold_bands(y), "methods": {}})
        if np.ptp(x) == 0:
            continue  # constant predictions: no calibration line
        slope, intercept = np.polyfit(x, y, 1)
        err = np.abs(intercept + slope * x - y)
        bands = entry["bands"]
        maes, counts = [], []
        for i, (lo, hi) in enumerate(bands):
            inside = (y >= lo) & ((y < hi) if i < len(bands) - 1 else (y <= hi))
            counts.append(int(inside.sum()))
            maes.append(float(err[inside].mean()) if inside.any() else None)
        entry["methods"][method] = {"mae": maes, "n": counts, "slope": float(slope),
                                    "intercept": float(intercept)}
    return [e for e in by_dataset.values() if e["methods"]]


def _thin(n: int) -> np.ndarray:
    import numpy as np

    return np.unique(np.linspace(0, n - 1, min(n, CURVE_POINTS)).round().astype(int))


def threshold_curves(scores: np.ndarray, labels: np.ndarray) -> dict[str, list[float]]:
    """F1 and accuracy at each distinct score used as threshold (positive iff score >= t)."""
    import numpy as np

    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # last index of each distinct score
    tp = np.cumsum(y)[last].astype(np.float64)
    predicted = (last + 1).astype(np.float64)
    pos, n = float(y.sum()), float(len(y))
    fp = predicted - tp
    f1 = np.where(pos + predicted > 0, 2 * tp / np.maximum(pos + predicted, 1), 0.0)
    acc = (tp + (n - pos - fp)) / n
    keep = _thin(len(last))
    return {"threshold": s[last][keep].tolist(), "f1": f1[keep].tolist(), "accuracy": acc[keep].tolist()}


def _tuned_threshold(run: RunResult, method: str, dataset: str, split: str) -> dict[str, Any]:
    res = run.results
    if "threshold" not in res.columns:
        return {}
    sub = res[(res["method"] == method) & (res["dataset"] == dataset) & (res["split"] == split)
              & res["threshold"].notna()]
    out = {}
    for rec in sub.to_dict(orient="records"):
        out[str(rec["metric"])] = {"threshold": float(rec["threshold"]), "value": float(rec["value"]),
                                   "tuned_on": rec.get("tuned_on") if isinstance(rec.get("tuned_on"), str) else None}
    return out


def pair_curves(run: RunResult) -> list[dict[str, Any]]:
    """Per pair-classification (method, dataset, split): threshold curves, PR curve, AP, baseline."""
    import numpy as np

    out = []
    for method, dataset, split, g in cells(run, "pair_classification"):
        from sklearn.metrics import average_precision_score, precision_recall_curve  # only with such cells

        x = g["prediction"].to_numpy(dtype=np.float64)
        y = g["reference"].to_numpy().astype(np.int64)
        if len(np.unique(y)) < 2:
            continue
        precision, recall, _ = precision_recall_curve(y, x)
        keep = _thin(len(precision))
        pos = float(y.mean())
        out.append({
            "method": method, "dataset": dataset, "split": split, "n": len(y), "positives": int(y.sum()),
            "curves": threshold_curves(x, y),
            "pr": {"precision": precision[keep].tolist(), "recall": recall[keep].tolist()},
            "average_precision": float(average_precision_score(y, x)),
            "tuned": _tuned_threshold(run, method, dataset, split),
            "majority": {"label": int(pos >= 0.5), "accuracy": max(pos, 1 - pos),
                         "f1_all_positive": 2 * pos / (1 + pos)},
        })
    return out
