"""One paired bootstrap over a run's examples, shared by the report's forest plots and rank figures.

For every (dataset, split) of the run's stored predictions, ``B`` resamples of its ``n`` example
rows are drawn with replacement, exactly as ``evalkit compare --bootstrap B --seed S`` draws them
(:func:`evalkit.bootstrap.bootstrap_examples`: ``numpy.random.default_rng(S)``, one ``(B, n)``
index matrix per (dataset, split) in the order the predictions list them, rows in ``row`` order).
So a report of a run made with ``--bootstrap`` reuses the very resamples behind the run's stored
intervals, and the same seed always gives the same figures. Every method and every metric is
scored on the same resamples (paired: Koehn 2004; Efron & Tibshirani 1993, ch. 13).

A metric's value on all ``B`` resamples of a cell is computed in bulk where the metric allows it:
``compute_resampled`` (the correlations: from the draw counts, in cache-sized blocks of resamples,
every method on a block before the next), else the mean of ``per_example`` scores over the drawn rows, else one
:func:`evalkit.tuning.score_metric` call per resample. A resample on which the metric is undefined
(a constant side of a correlation) gives NaN and is counted, never silently replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evalkit.errors import DataError, EvalkitError

if TYPE_CHECKING:
    import numpy as np

    from evalkit.interfaces import Metric
    from evalkit.results import RunResult

#: Draws averaged at once on the ``per_example`` path (resamples x rows): 64 MB of float64.
CHUNK_ELEMENTS = 8_000_000
#: Draws per ``compute_resampled`` call (resamples x rows, at least one resample): every method is
#: scored on one block before the next, so the metric's cached reference side of the block stays
#: in the CPU cache (512 KiB of int64; the correlations' own block size).
BULK_CHUNK_ELEMENTS = 1 << 16


@dataclass
class Cell:
    """One (dataset, split): gold ``refs`` ``(n,)`` and per method its predictions, in row order."""

    refs: np.ndarray
    preds: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Resamples:
    """The shared resamples: per (dataset, split) the ``(B, n)`` row indices and the cell arrays.

    ``origin`` is ``"run"`` when the settings are the run's own ``--bootstrap`` ones, else
    ``"report"`` (``evalkit report --resamples/--seed``, default 1000 and 0).
    """

    n_resamples: int
    seed: int
    confidence: float
    origin: str
    draws: dict[tuple[str, str], np.ndarray]
    cells: dict[tuple[str, str], Cell]

    def describe(self) -> str:
        whose = "the run's --bootstrap resamples" if self.origin == "run" else "drawn by the report"
        return (f"paired bootstrap over each dataset's examples, {self.n_resamples} resamples, "
                f"percentile {self.confidence:.0%} intervals, seed {self.seed} ({whose})")


def cell_arrays(run: RunResult) -> dict[tuple[str, str], Cell]:
    """The evaluated predictions (``role != "tune"``) per (dataset, split), sorted by ``row``.

    Raises:
        DataError: two methods of one (dataset, split) scored different rows or hold different
            gold references.
    """
    import numpy as np

    from evalkit.results import prediction_values

    p = run.predictions
    if "role" in p.columns:
        p = p[p["role"] != "tune"]
    out: dict[tuple[str, str], Cell] = {}
    rows: dict[tuple[str, str], np.ndarray] = {}
    for (method, dataset, split), g in p.groupby(["method", "dataset", "split"], sort=False):
        g = g.sort_values("row", kind="stable")
        key = (str(dataset), str(split))
        refs = g["reference"].to_numpy(dtype=np.float64)
        if key not in out:
            out[key], rows[key] = Cell(refs), g["row"].to_numpy()
        elif not (np.array_equal(rows[key], g["row"].to_numpy()) and np.array_equal(out[key].refs, refs)):
            raise DataError(f"{dataset}/{split}: method {method} scored other rows or gold values than "
                            f"{next(iter(out[key].preds))}; a paired bootstrap needs the same examples")
        out[key].preds[str(method)] = prediction_values(g)
    return out


def draw(run: RunResult, n_resamples: int, seed: int) -> dict[tuple[str, str], np.ndarray]:
    """Per (dataset, split) the ``(n_resamples, n)`` row positions, as ``compare --bootstrap`` draws."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sizes = run.predictions.groupby(["dataset", "split"], sort=False)["row"].nunique()
    return {(str(key[0]), str(key[1])): rng.integers(0, int(n), size=(n_resamples, int(n)))
            for key, n in zip(sizes.index, sizes.to_numpy(), strict=True)}


def resamples(run: RunResult, n_resamples: int, seed: int, confidence: float, origin: str) -> Resamples:
    """Draw the resamples of ``run`` and gather its cells (see the module docs)."""
    return Resamples(n_resamples, seed, confidence, origin, draw(run, n_resamples, seed), cell_arrays(run))


def _one(metric: Metric, label: str, pred: np.ndarray, refs: np.ndarray) -> float:
    from evalkit.tuning import score_metric

    try:
        return float(score_metric(metric, label, pred, refs)[0])
    except EvalkitError:
        return float("nan")


def full_value(metric: Metric, label: str, pred: np.ndarray, refs: np.ndarray) -> float:
    """The metric on all rows of a cell (NaN where undefined), as the resamples score it."""
    return _one(metric, label, pred, refs)


def values(metric: Metric, label: str, cell: Cell, methods: list[str], idx: np.ndarray) -> dict[str, np.ndarray]:
    """Per method the metric on every resample ``idx`` ``(B, n)`` of the cell: ``(B,)``, NaN where undefined.

    ``compute_resampled`` visits the resamples in blocks of :data:`BULK_CHUNK_ELEMENTS` draws, every
    method on the same block object before the next block, so a metric's cached reference side
    (the correlations keep it) is computed once per block and stays in the CPU cache.
    """
    import numpy as np

    n_res, n = idx.shape
    out = {m: np.full(n_res, np.nan) for m in methods}
    bulk = getattr(metric, "compute_resampled", None)
    per_ex = getattr(metric, "per_example", None)
    first = cell.preds[methods[0]]
    if not callable(bulk) and callable(per_ex) and per_ex(predictions=first, references=cell.refs) is not None:
        for m in methods:
            scores = np.asarray(per_ex(predictions=cell.preds[m], references=cell.refs), dtype=np.float64)
            for start in range(0, n_res, max(1, CHUNK_ELEMENTS // n)):
                chunk = idx[start:start + max(1, CHUNK_ELEMENTS // n)]
                out[m][start:start + len(chunk)] = scores[chunk].mean(axis=1)
        return out
    if not callable(bulk):
        for m in methods:
            pred = cell.preds[m]
            out[m][:] = [_one(metric, label, pred[ix], cell.refs[ix]) for ix in idx]
        return out
    step = max(1, BULK_CHUNK_ELEMENTS // n)
    for start in range(0, n_res, step):
        chunk = idx[start:start + step]
        for m in methods:
            try:
                out[m][start:start + len(chunk)] = np.asarray(bulk(cell.preds[m], cell.refs, chunk), dtype=np.float64)
            except EvalkitError:
                out[m][start:start + len(chunk)] = [_one(metric, label, cell.preds[m][ix], cell.refs[ix])
                                                    for ix in chunk]
    return out


def percentile(dist: np.ndarray, confidence: float) -> tuple[float, float] | None:
    """The percentile interval of the finite replicates (linear interpolation, ``numpy.quantile``).

    ``None`` when fewer than half the replicates (or fewer than 2) are finite.
    """
    import numpy as np

    ok = dist[np.isfinite(dist)]
    if ok.size < max(2, dist.size // 2):
        return None
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(ok, [alpha, 1 - alpha])
    return float(lo), float(hi)


def shifted_p_value(dist: np.ndarray, delta: float) -> float:
    """Two-sided p of ``delta`` under the replicates shifted to 0 (Berg-Kirkpatrick et al. 2012).

    ``(1 + #{|d* - delta| >= |delta|}) / (1 + B)`` over the finite replicates, with a relative
    slack of 1e-12 so that replicates equal to ``delta`` up to rounding count as extreme.
    """
    import numpy as np

    ok = dist[np.isfinite(dist)]
    eps = 1e-12 * max(1.0, abs(delta))
    return float((1 + np.count_nonzero(np.abs(ok - delta) >= abs(delta) - eps)) / (1 + ok.size))


def checked_settings(n_resamples: int, confidence: float) -> None:
    """Raises :class:`~evalkit.errors.ConfigError` for fewer than 1 resample or a level outside (0, 1)."""
    from evalkit.errors import ConfigError

    if n_resamples < 1:
        raise ConfigError(f"the number of bootstrap resamples must be at least 1, got {n_resamples}")
    if not 0 < confidence < 1:
        raise ConfigError(f"the confidence level must be between 0 and 1, got {confidence}")


def metric_cells(run: RunResult, label: str) -> list[tuple[str, str, str, list[str]]]:
    """``(column, dataset, split, methods)`` of every (dataset, split) scored with ``label``.

    ``column`` is the table's column (:func:`evalkit.aggregation.pivot`): the dataset, or
    ``dataset/split`` when a dataset has several splits.
    """
    res = run.results[run.results["metric"] == label]
    multi = bool(res.groupby("dataset")["split"].nunique().max() > 1) if len(res) else False
    out = []
    for (dataset, split), g in res.groupby(["dataset", "split"], sort=False):
        col = f"{dataset}/{split}" if multi else str(dataset)
        out.append((col, str(dataset), str(split), [str(m) for m in dict.fromkeys(g["method"])]))
    return out


def replicates(rs: Resamples, run: RunResult, label: str, metric: Metric) -> dict[str, dict[str, Any]]:
    """Per column of the metric's table: ``dataset``, ``split``, per method its ``(B,)`` replicates
    (``values``) and its value on all rows (``full``); cells without predictions are left out."""
    out: dict[str, dict[str, Any]] = {}
    for col, dataset, split, methods in metric_cells(run, label):
        cell = rs.cells.get((dataset, split))
        if cell is None:
            continue
        have = [m for m in methods if m in cell.preds]
        if not have:
            continue
        if rs.draws[(dataset, split)].shape[1] != cell.refs.size:
            raise DataError(f"{dataset}/{split}: the stored predictions hold {cell.refs.size} evaluated rows "
                            f"but {rs.draws[(dataset, split)].shape[1]} distinct row ids")
        out[col] = {"dataset": dataset, "split": split,
                    "values": values(metric, label, cell, have, rs.draws[(dataset, split)]),
                    "full": {m: full_value(metric, label, cell.preds[m], cell.refs) for m in have}}
    return out
