"""Bootstrap uncertainty for aggregated comparisons: over tasks, and over examples.

- :func:`bootstrap_tasks`: resample the *columns* (tasks, datasets) of a systems x tasks table with
  replacement and re-apply each aggregation rule; gives every system a percentile interval for its
  aggregate and its rank, and its probability of beating a reference row (a human baseline).
  This is the uncertainty that comes from which tasks a benchmark happens to contain.
- :func:`bootstrap_examples`: resample the *examples* of every (dataset, split) from a run's stored
  per-example predictions (:attr:`evalkit.results.RunResult.predictions`), re-compute each metric
  on the resampled rows, re-aggregate across datasets; gives a percentile interval per cell, per
  aggregate and per rank. Resamples are paired: within one replicate every method is scored on the
  same rows, so intervals for differences and ranks are not inflated by independent noise (the
  paired bootstrap of Koehn 2004, "Statistical Significance Tests for Machine Translation
  Evaluation", EMNLP; Efron & Tibshirani 1993, ch. 13 for the percentile interval).

Intervals are percentile intervals at level ``confidence``: values use linear interpolation
between order statistics (``numpy.nanquantile``); ranks use the lower and higher order statistics,
so rank bounds are integers and never narrower than the data say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evalkit.aggregation import aggregate_direction, pivot, rank, snap_ties
from evalkit.errors import ConfigError, DataError, EvalkitError
from evalkit.results import prediction_values

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from evalkit.interfaces import Aggregator, Metric
    from evalkit.results import RunResult


def _check_args(n_resamples: int, confidence: float) -> None:
    if not isinstance(n_resamples, int) or n_resamples < 1:
        raise ConfigError(
            f"the number of bootstrap resamples must be a positive integer, got {n_resamples!r}"
        )
    if not 0 < confidence < 1:
        raise ConfigError(f"the confidence level must be between 0 and 1, got {confidence!r}")


def _intervals(values: np.ndarray, ranks: np.ndarray, confidence: float) -> dict[str, np.ndarray]:
    """Per column of ``(B, n)`` arrays: value and rank percentile bounds, and the count ranked."""
    import warnings

    import numpy as np

    alpha = (1 - confidence) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN bounds
        return {
            "value_low": np.nanquantile(values, alpha, axis=0),
            "value_high": np.nanquantile(values, 1 - alpha, axis=0),
            "rank_low": np.nanquantile(ranks, alpha, axis=0, method="lower"),
            "rank_high": np.nanquantile(ranks, 1 - alpha, axis=0, method="higher"),
            "n_ranked": np.isfinite(ranks).sum(axis=0),
        }


def bootstrap_tasks(
    table: pd.DataFrame,
    aggregators: list[tuple[str, Aggregator]],
    *,
    reference: str | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    higher_is_better: bool = True,
) -> pd.DataFrame:
    """Bootstrap over the columns of ``table`` (rows: systems, columns: tasks).

    Each resample draws ``k`` of the ``k`` columns with replacement and applies every aggregator
    afresh. Under each rule only the rows that get a value on the full table take part (rows the
    rule leaves unscored, e.g. for a missing cell, stay out of every resample).

    Args:
        table: float cells; missing cells NaN.
        aggregators: ``(label, aggregator)`` pairs
            (see :func:`evalkit.aggregation.create_aggregators`).
        reference: the row whose beating is counted (a human baseline), or ``None``.
        n_resamples: number of resamples B (>= 1).
        seed: seed of ``numpy.random.default_rng``; the same seed gives the same result.
        confidence: level of the percentile intervals, e.g. 0.95.
        higher_is_better: how to read the cells.

    Returns:
        One row per (rule, system): ``rule``, ``system``, ``value_low``, ``value_high``,
        ``rank_low``, ``rank_high`` (1-based, ties sharing the best rank), ``n_ranked`` (resamples
        in which the system got a rank) and ``p_beat_reference``: the share of resamples in which
        the system's aggregate is strictly better than the reference's, ties counting half (NaN
        for the reference itself, for unscored rows and without a reference).

    Raises:
        ConfigError: bad ``n_resamples``/``confidence``, a table without columns, or an unknown
            ``reference``.
        DataError: raised by an aggregator on the full table (its policy).
    """
    import numpy as np
    import pandas as pd

    _check_args(n_resamples, confidence)
    if table.shape[1] == 0:
        raise ConfigError("a bootstrap over tasks needs at least one task column")
    if reference is not None and reference not in table.index:
        raise ConfigError(f"reference row {reference!r} is not in the table")
    rng = np.random.default_rng(seed)
    k = table.shape[1]
    draws = rng.integers(0, k, size=(n_resamples, k))
    frames = [_task_rule(table, label, agg, draws, reference=reference, seed=seed, confidence=confidence,
                         higher_is_better=higher_is_better) for label, agg in aggregators]
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(n_resamples=n_resamples, seed=seed, confidence=confidence, reference=reference)
    return out


def _task_rule(table: pd.DataFrame, label: str, agg: Aggregator, draws: np.ndarray, *, reference: str | None,
               seed: int, confidence: float, higher_is_better: bool) -> pd.DataFrame:
    """The rows of :func:`bootstrap_tasks` for one aggregation rule, over the column ``draws`` ``(B, k)``."""
    import numpy as np
    import pandas as pd

    direction = aggregate_direction(agg, higher_is_better)
    full = agg.aggregate(table, higher_is_better=higher_is_better)
    rows = table.index[full.notna().to_numpy()]
    sub = table.loc[rows]
    n_resamples = draws.shape[0]
    values = np.full((n_resamples, len(rows)), np.nan)
    ranks = np.full((n_resamples, len(rows)), np.nan)
    for b in range(n_resamples):
        cols = draws[b]
        resampled = pd.DataFrame(sub.to_numpy()[:, cols], index=sub.index,
                                 columns=[f"{table.columns[c]}#{j}" for j, c in enumerate(cols)])
        try:
            vals = agg.aggregate(resampled, higher_is_better=higher_is_better)
        except DataError as exc:
            raise DataError(f"bootstrap resample {b} (seed {seed}): {exc}") from None
        values[b] = vals.to_numpy(dtype=float)
        ranks[b] = rank(vals, higher_is_better=direction).to_numpy(dtype=float)
    stats = _intervals(values, ranks, confidence)
    p_beat = np.full(len(rows), np.nan)
    if reference is not None and reference in rows:
        p_beat = _p_beat(values, int(rows.get_loc(reference)), direction)  # type: ignore[arg-type]
    frame = pd.DataFrame({"rule": label, "system": rows, **stats, "p_beat_reference": p_beat})
    unscored = table.index.difference(rows, sort=False)
    if len(unscored):
        frame = pd.concat([frame, pd.DataFrame({"rule": label, "system": unscored})], ignore_index=True)
    return frame


def _p_beat(values: np.ndarray, ref_col: int, direction: bool) -> np.ndarray:
    """Per column of ``values`` ``(B, n)``: the share of resamples strictly better than column
    ``ref_col``, ties counting half (NaN for the reference itself and never-valid columns)."""
    import numpy as np

    ref = snap_ties(values[:, ref_col])[:, None]
    mine = snap_ties(values)
    better = mine > ref if direction else mine < ref
    valid = np.isfinite(mine) & np.isfinite(ref)
    wins = np.where(valid, better + 0.5 * (mine == ref), 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_beat = np.where(valid.sum(axis=0) > 0, wins / valid.sum(axis=0), np.nan)
    p_beat[ref_col] = np.nan
    return np.asarray(p_beat, dtype=float)


@dataclass
class ExampleBootstrap:
    """What :func:`bootstrap_examples` returns.

    Attributes:
        cells: one row per (method, dataset, split, metric): ``ci_low``, ``ci_high`` (the metric's
            own scale) and ``n_ok`` (resamples in which the metric was defined).
        aggregates: one row per (metric, aggregator, method): ``value_low``, ``value_high``,
            ``rank_low``, ``rank_high``, ``n_ranked``.
        n_resamples, seed, confidence: the settings used.
        failures: ``{"metric on method/dataset/split": count}`` of resamples where the metric was
            undefined (e.g. a constant resample for a correlation); they are left out of the
            intervals and reported here, never silently.
    """

    cells: pd.DataFrame
    aggregates: pd.DataFrame
    n_resamples: int
    seed: int
    confidence: float
    failures: dict[str, int] = field(default_factory=dict)


def _metric_value(metric: Metric, pred: np.ndarray, ref: np.ndarray) -> float:
    from evalkit.interfaces import MetricResult

    out = metric.compute(predictions=pred, references=ref)
    value = float(out.value if isinstance(out, MetricResult) else out)
    if value != value or value in (float("inf"), float("-inf")):
        raise DataError("metric value is not finite")
    return value


def bootstrap_examples(
    run: RunResult,
    metrics: dict[str, Metric],
    aggregators: list[tuple[str, Aggregator]],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> ExampleBootstrap:
    """Paired bootstrap over the examples of a run's stored per-example predictions.

    For every resample and every (dataset, split), ``n`` of the ``n`` example rows are drawn with
    replacement (the same rows for all methods); each metric in ``metrics`` whose label appears in
    ``run.results`` is re-computed with ``metric.compute`` on the drawn rows, and the methods x
    datasets table of each metric (as :func:`evalkit.aggregation.pivot` builds it) is aggregated
    and ranked by every aggregator.

    Args:
        run: a run with ``predictions`` (columns method, dataset, split, row, prediction,
            reference; ``proba_*`` for classification, see :func:`evalkit.results.prediction_values`).
        metrics: ``{label in run.results: metric object}``.
        aggregators: ``(label, aggregator)`` pairs.
        n_resamples, seed, confidence: see :func:`bootstrap_tasks`.

    Raises:
        ConfigError: bad settings, or a metric label with no results in the run.
        DataError: the run has no per-example predictions for a scored (method, dataset, split), or
            the methods' references disagree on a dataset.
    """
    import numpy as np
    import pandas as pd

    _check_args(n_resamples, confidence)
    preds, rng = run.predictions, np.random.default_rng(seed)
    failures: dict[str, int] = {}
    cell_rows: list[dict[str, Any]] = []
    agg_frames: list[pd.DataFrame] = []
    groups = {key: g for key, g in preds.groupby(["dataset", "split"], sort=False)} if len(preds) else {}
    draws = {k: rng.integers(0, g["row"].nunique(), size=(n_resamples, g["row"].nunique())) for k, g in groups.items()}
    for label, metric in metrics.items():
        res = run.results[run.results["metric"] == label]
        if res.empty:
            raise ConfigError(f"metric {label!r} has no results in this run")
        table = pivot(run.results, label)
        multi = res.groupby("dataset")["split"].nunique().max() > 1
        reps = np.full((n_resamples, *table.shape), np.nan)
        for (dataset, split), cell in res.groupby(["dataset", "split"], sort=False):
            col = table.columns.get_loc(f"{dataset}/{split}" if multi else dataset)
            g = groups.get((dataset, split))
            if g is None:
                raise DataError(f"the run has no per-example predictions for {dataset}/{split}")
            for method in cell["method"]:
                where = (label, method, str(dataset), str(split))
                reps[:, table.index.get_loc(method), col] = _cell_reps(metric, g, where, draws[(dataset, split)],
                                                                       failures)
                cell_rows.append(_cell_interval(reps[:, table.index.get_loc(method), col], where, confidence))
        agg_frames += [_aggregate_reps(reps, table, label, metric, agg_label, agg, seed=seed, confidence=confidence)
                       for agg_label, agg in aggregators]
    cells = pd.DataFrame(cell_rows, columns=["method", "dataset", "split", "metric", "ci_low", "ci_high", "n_ok"])
    return ExampleBootstrap(cells, pd.concat(agg_frames, ignore_index=True) if agg_frames else pd.DataFrame(),
                            n_resamples, seed, confidence, failures)


def _cell_reps(metric: Metric, g: pd.DataFrame, where: tuple[str, str, str, str], draws: np.ndarray,
               failures: dict[str, int]) -> np.ndarray:
    """The metric on each resample ``draws[b]`` of one method's rows of ``g`` (one dataset/split):
    shape ``(B,)``, NaN where undefined (counted in ``failures``).

    Raises:
        DataError: the methods' stored references disagree, or the method has no rows in ``g``.
    """
    import numpy as np

    label, method, dataset, split = where
    refs = g.pivot(index="row", columns="method", values="reference")
    if not (refs.nunique(axis=1, dropna=False) <= 1).all():
        raise DataError(f"{dataset}/{split}: the methods' stored references disagree")
    ref = refs.iloc[:, 0].to_numpy(dtype=float)
    mg = g[g["method"] == method]
    if mg.empty:
        raise DataError(f"the run has no per-example predictions for {method} on {dataset}/{split}")
    # (n,) scores or (n, K) class probabilities, in the order of ``refs``' rows.
    pred = prediction_values(mg.set_index("row").reindex(refs.index))
    name = f"{label} on {method}/{dataset}/{split}"
    out = np.full(draws.shape[0], np.nan)
    for b in range(draws.shape[0]):
        idx = draws[b]
        try:
            out[b] = _metric_value(metric, pred[idx], ref[idx])
        except EvalkitError:
            failures[name] = failures.get(name, 0) + 1
    return out


def _cell_interval(reps: np.ndarray, where: tuple[str, str, str, str], confidence: float) -> dict[str, Any]:
    """The ``cells`` row of :class:`ExampleBootstrap` for one cell's resampled values ``reps``."""
    import numpy as np

    label, method, dataset, split = where
    alpha = (1 - confidence) / 2
    ok = np.isfinite(reps)
    return {
        "method": method, "dataset": dataset, "split": split, "metric": label,
        "ci_low": float(np.quantile(reps[ok], alpha)) if ok.any() else np.nan,
        "ci_high": float(np.quantile(reps[ok], 1 - alpha)) if ok.any() else np.nan,
        "n_ok": int(ok.sum()),
    }


def _aggregate_reps(reps: np.ndarray, table: pd.DataFrame, label: str, metric: Metric, agg_label: str,
                    agg: Aggregator, *, seed: int, confidence: float) -> pd.DataFrame:
    """The ``aggregates`` rows of one (metric, aggregator) from the resampled tables ``reps`` ``(B, m, d)``."""
    import numpy as np
    import pandas as pd

    direction = aggregate_direction(agg, metric.higher_is_better)
    values = np.full((reps.shape[0], table.shape[0]), np.nan)
    ranks = np.full_like(values, np.nan)
    for b in range(reps.shape[0]):
        frame = pd.DataFrame(reps[b], index=table.index, columns=table.columns)
        try:
            vals = agg.aggregate(frame, higher_is_better=metric.higher_is_better)
        except DataError as exc:
            raise DataError(f"bootstrap resample {b} (seed {seed}), {label}: {exc}") from None
        values[b] = vals.to_numpy(dtype=float)
        ranks[b] = rank(vals, higher_is_better=direction).to_numpy(dtype=float)
    stats = _intervals(values, ranks, confidence)
    return pd.DataFrame({"metric": label, "aggregator": agg_label, "method": table.index, **stats})
