"""The one scorer: per-example predictions in, the tidy results frame out.

Every way evalkit turns predictions into scores goes through :func:`score`: a fresh comparison
(:func:`evalkit.runner.run_suite`), re-scoring a saved run (:func:`evalkit.history.rescore`),
scoring a predictions file (:func:`evalkit.rescore.rescore`, ``evalkit score FILE``), and the
paired tests of ``evalkit diff`` and ``evalkit check`` (:func:`score_cell`, one metric on one
pair of arrays). It is pure: no method, cache, device or file is touched.

**The rule for tuning rows.** Rows whose ``role`` is ``tune`` are never scored themselves. They
are the labelled validation predictions that tuned metrics (:class:`~evalkit.interfaces.TunedMetric`)
fit their parameters on under ``tune_on="dev"`` (:mod:`evalkit.tuning`): the cell
(method, dataset, split) is fitted on the tuning rows of the same method and dataset whose split
differs from the evaluated one. Where there are none, ``dev`` falls back to cross-fitting, and the
record says ``tuned_on="cv"``.

**Notes.** Each results row gets a ``note`` joining: the dataset's own notes for the evaluated split
(and the tuning split) from :class:`TaskInfo`, a single-class warning for pair-classification gold
(:func:`evalkit.inputs.class_notes`), and the run-wide ``notes`` (e.g. the ``limit`` policy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evalkit.tuning import FitData, score_metric

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.interfaces import Metric

#: Task types whose inputs are texts, passed to metrics as lists of str.
TEXT_TASKS = frozenset({"generation"})
#: The columns that name one cell.
CELL = ["method", "dataset", "split"]


@dataclass(frozen=True)
class TaskInfo:
    """What the scorer knows about one dataset of the predictions frame.

    Attributes:
        task_type: ``sts``, ``pair_classification``, ``classification``, ``generation``...;
            ``None`` when unknown (every metric is then applied).
        notes: the dataset's own notes per split, printed under the tables.
        rows: per split, which rows those are (:meth:`evalkit.interfaces.Dataset.describe_split`),
            recorded as ``tuned_rows`` when the split's rows tune a metric.
    """

    task_type: str | None = None
    notes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    rows: Mapping[str, str] = field(default_factory=dict)


def limit_notes(limit: int | None) -> list[str]:
    """The note every results row of a run cut to ``limit`` rows per split carries (``[]``: no limit)."""
    if limit is None:
        return []
    return [f"limit: only the first {limit} rows of every split were loaded (evaluated, tuning and "
            "training splits); not comparable to results on whole splits"]


def score_cell(
    metric: Metric, label: str, predictions: Any, references: Any, *, tune_on: str = "dev",
    fit: FitData | None = None, cell: str | None = None,
) -> tuple[float, dict[str, Any]]:
    """One metric on one cell's arrays: ``(value, extras)``; see :func:`evalkit.tuning.score_metric`.

    Raises:
        ConfigError: bad ``tune_on``. DataError: invalid inputs. PluginError: the metric failed.
    """
    return score_metric(metric, label, predictions, references, tune_on=tune_on, fit=fit, cell=cell)


def score(
    predictions: pd.DataFrame,
    metrics: Mapping[str, Metric],
    tasks: Mapping[str, TaskInfo],
    *,
    tune_on: str = "dev",
    notes: Sequence[str] = (),
) -> pd.DataFrame:
    """Score every cell of ``predictions`` with every metric that applies to its task type.

    Args:
        predictions: one row per example, columns ``method``, ``dataset``, ``split``, ``row``
            (example index), ``prediction`` (float64, or text for :data:`TEXT_TASKS`),
            ``reference``, optionally ``role`` (``eval``/``tune``; absent: all ``eval``) and
            ``proba_0..proba_{K-1}`` (class probabilities, :func:`evalkit.results.prediction_values`).
        metrics: label -> metric object.
        tasks: dataset label -> :class:`TaskInfo` (missing datasets: task type unknown).
        tune_on: ``dev``, ``cv`` or ``self`` (:mod:`evalkit.tuning`); tuning rows per the module rule.
        notes: added to every row's ``note`` (run-wide policies, such as a row limit).

    Returns:
        The tidy results frame (:func:`evalkit.results.results_frame`): one row per evaluated
        cell and applicable metric, in the order cells first appear, metrics in ``metrics`` order;
        ``n`` is the number of evaluated rows.

    Raises:
        ConfigError: bad ``tune_on``. DataError: invalid values. PluginError: a metric failed.
    """
    import pandas as pd

    from evalkit.results import results_frame

    if "role" in predictions.columns:
        is_tune = (predictions["role"] == "tune").to_numpy(dtype=bool)
    else:
        is_tune = pd.Series(False, index=predictions.index).to_numpy(dtype=bool)
    evaluated, tuning = predictions[~is_tune], predictions[is_tune]
    rows: list[dict[str, Any]] = []
    for (method, dataset, split), group in evaluated.groupby(CELL, sort=False):
        info = tasks.get(str(dataset)) or TaskInfo()
        tune = tuning[(tuning["method"] == method) & (tuning["dataset"] == dataset) & (tuning["split"] != split)]
        rows += _score_group(group, tune, metrics, info, (str(method), str(dataset), str(split)),
                             tune_on=tune_on, notes=notes)
    return results_frame(rows)


def _values(group: pd.DataFrame, column: str, text: bool) -> Any:
    from evalkit.results import prediction_values

    if text:
        return group[column].tolist()
    if column == "prediction":
        return prediction_values(group)
    return group[column].to_numpy()


def _score_group(
    group: pd.DataFrame, tune: pd.DataFrame, metrics: Mapping[str, Metric], info: TaskInfo,
    cell: tuple[str, str, str], *, tune_on: str, notes: Sequence[str],
) -> list[dict[str, Any]]:
    """The results rows of one cell (its evaluated rows ``group``, its tuning rows ``tune``)."""
    method, dataset, split = cell
    text = info.task_type in TEXT_TASKS
    group = group.sort_values("row", kind="stable") if "row" in group.columns else group
    pred, refs = _values(group, "prediction", text), _values(group, "reference", text)
    fit = None
    row_notes = [*info.notes.get(split, ()), *_class_notes(info, refs, f"{dataset}/{split}", "evaluated")]
    if len(tune):
        tune = tune.sort_values("row", kind="stable") if "row" in tune.columns else tune
        tsplit = str(tune["split"].iloc[0])
        tune = tune[tune["split"] == tsplit]
        fit = FitData(_values(tune, "prediction", text), _values(tune, "reference", text), tsplit,
                      info.rows.get(tsplit, ""))
        row_notes += [*info.notes.get(tsplit, ()),
                      *_class_notes(info, fit.references, f"{dataset}/{tsplit}", "tuning")]
    row_notes += list(notes)
    out = []
    for label, metric in metrics.items():
        if info.task_type is not None and info.task_type not in metric.task_types:
            continue
        value, extras = score_cell(metric, label, pred, refs, tune_on=tune_on, fit=fit,
                                   cell=f"{method} on {dataset}/{split}")
        row = {"method": method, "dataset": dataset, "split": split, "metric": label,
               "value": value, "n": len(group), **extras}
        if row_notes:
            row["note"] = "; ".join(row_notes)
        out.append(row)
    return out


def _class_notes(info: TaskInfo, refs: Any, where: str, role: str) -> list[str]:
    from evalkit.inputs import class_notes

    if info.task_type != "pair_classification":
        return []
    return class_notes(refs, where=where, role=role)
