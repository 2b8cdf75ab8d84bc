"""Score a predictions file without running any method (``evalkit score FILE``).

The file is CSV (``.csv``, ``.csv.gz``), TSV (``.tsv``) or JSON Lines (``.jsonl``), one row per
example. Which columns feed a metric is decided by this rule (override with ``predictions``,
``references`` and ``task``):

1. **Predictions** column: ``score`` if present, else ``prediction``. **References** column:
   ``label`` if present, else ``reference``.
2. **Task type**: ``generation`` when the references are text (not all numbers); else
   ``pair_classification`` when every reference is 0 or 1; else ``sts``.
3. **Metrics**: the requested ones (each must list the task type in its ``task_types``), or by
   default every registered metric that does. Text tasks (:data:`TEXT_TASKS`, e.g. WMD/WRD scoring
   generated ``prediction`` against ``reference`` texts) get both columns as lists of ``str``;
   other tasks get float64 arrays (non-numeric or non-finite values are errors naming the line).
4. **Groups**: rows are scored per ``method``, ``dataset`` and ``split`` column where present
   (absent: the file's stem, the file's stem, ``test``).
5. **Tuned metrics** (auto-threshold F1, ...) follow ``tune_on`` (:mod:`evalkit.tuning`). With
   ``dev`` and a validation split in a (method, dataset) group (``dev_split``, by default the first
   of ``dev``, ``validation``, ``valid`` present), that split's rows are used for fitting only
   and every other split is scored with the fitted parameters unchanged; without one, tuned
   metrics cross-fit (``cv``). Rows whose ``role`` column is ``tune`` (validation rows a saved run
   kept for fitting) are never scored themselves.

A saved run's ``predictions.csv.gz`` follows this layout, so a run can be re-scored with other
metrics or another ``tune_on``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError, DataError
from evalkit.results import RunResult, results_frame
from evalkit.tuning import FitData, check_tune_on, score_metric

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.interfaces import Metric

PREDICTION_CANDIDATES = ("score", "prediction")
REFERENCE_CANDIDATES = ("label", "reference")
DEV_SPLIT_NAMES = ("dev", "validation", "valid")
#: Task types whose inputs are texts, passed to metrics as lists of str.
TEXT_TASKS = frozenset({"generation"})
GROUP_COLUMNS = ("method", "dataset", "split")


@dataclass
class Inputs:
    """The columns and task type a file is scored with (see the module docstring)."""

    predictions: str
    references: str
    task_type: str
    defaults: dict[str, str] = field(default_factory=dict)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".csv", ".tsv", ".jsonl", ".json"):
        name = name.removesuffix(suffix)
    return name or path.name


def read_table(path: Path) -> pd.DataFrame:
    """All columns as strings, plus ``_line`` (the physical 1-based line where each row starts).

    Read with :mod:`evalkit.tabular`: quoted newlines and blank lines are counted in line numbers.

    Raises:
        DataError: unreadable, empty (0 bytes) or header-only file; invalid UTF-8 (byte offset, line
            and column); duplicated column names; a record with the wrong number of fields; invalid
            JSON (file:line:column); unknown extension.
    """
    from evalkit.tabular import read_delimited, read_jsonl_frame

    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".json")):
        return read_jsonl_frame(path)
    if not name.endswith((".csv", ".tsv")):
        raise DataError(f"{path}: unknown file type; use .csv, .tsv or .jsonl (optionally .gz)")
    return read_delimited(path, sep="\t" if name.endswith(".tsv") else ",")


def resolve_inputs(
    frame: pd.DataFrame, path: Path, *, predictions: str | None = None,
    references: str | None = None, task_type: str | None = None,
) -> Inputs:
    """Apply the column rule (module docstring, items 1, 2 and 4).

    Raises:
        DataError: a needed column is missing (the message lists the file's columns).
    """
    import pandas as pd

    cols = [c for c in frame.columns if c != "_line"]

    def pick(given: str | None, candidates: tuple[str, ...], what: str) -> str:
        if given:
            if given not in frame.columns:
                raise DataError(f"{path}: no column {given!r} for the {what}; columns: {cols}")
            return given
        for c in candidates:
            if c in frame.columns:
                return c
        raise DataError(f"{path}: no {what} column; expected one of {list(candidates)}, found {cols}")

    pred = pick(predictions, PREDICTION_CANDIDATES, "predictions")
    ref = pick(references, REFERENCE_CANDIDATES, "references")
    if not task_type:
        values = pd.to_numeric(frame[ref].astype(str).str.strip(), errors="coerce")
        text = values.isna()
        if int(text.sum()) * 2 > len(text):  # mostly texts: a text that looks like a number is still a text
            task_type = "generation"
        elif text.any():
            lines = frame.loc[text, "_line"].tolist()
            first = frame.loc[text, ref].iloc[0]
            raise DataError(
                f"{path}: column {ref!r} holds numbers, but {int(text.sum())} value(s) are not: line(s) "
                f"{lines[:10]} (line {lines[0]} has {first!r}). Fix those rows, or pass --task "
                "generation if the references are texts; the task type is never guessed from a partly "
                "numeric column."
            )
        else:
            task_type = "pair_classification" if values.isin([0, 1]).all() else "sts"
    defaults = {"method": _stem(path), "dataset": _stem(path), "split": "test"}
    return Inputs(pred, ref, task_type, defaults)


def _numbers(frame: pd.DataFrame, col: str, path: Path) -> Any:
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(frame[col].str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        lines = frame["_line"].to_numpy()[bad]
        more = f" (and {bad.sum() - 10} more)" if bad.sum() > 10 else ""
        raise DataError(
            f"{path}: column {col!r} must hold finite numbers; found {frame[col].to_numpy()[bad][0]!r}"
            f" at line(s) {lines[:10].tolist()}{more}"
        )
    return values


def rescore(
    frame: pd.DataFrame,
    metrics: dict[str, Metric],
    *,
    path: Path,
    inputs: Inputs,
    tune_on: str = "dev",
    dev_split: str | None = None,
) -> RunResult:
    """Score ``frame`` (from :func:`read_table`) with ``metrics`` under the module's rule.

    Returns a :class:`RunResult` whose ``results`` has the same records as ``evalkit compare``
    (``method``, ``dataset``, ``split``, ``metric``, ``value``, ``n`` and the metrics' extras,
    e.g. ``threshold`` and ``tuned_on``); ``predictions`` is empty.

    Raises:
        ConfigError: a metric that does not apply to the task type; bad ``tune_on``.
        DataError: invalid values (naming lines), a metric's own input errors.
    """
    import pandas as pd

    from evalkit.interfaces import TunedMetric

    check_tune_on(tune_on)
    for label, m in metrics.items():
        if inputs.task_type not in m.task_types:
            raise ConfigError(
                f"metric {label!r} applies to task types {list(m.task_types)}, but {path} is scored "
                f"as {inputs.task_type!r} (columns {inputs.predictions!r}, {inputs.references!r}); "
                "pass --task or choose other metrics"
            )
    if not metrics:
        raise ConfigError(f"no metric applies to task type {inputs.task_type!r}")
    df = frame.copy()
    for col in GROUP_COLUMNS:
        if col not in df.columns:
            df[col] = inputs.defaults[col]
    text = inputs.task_type in TEXT_TASKS
    if not text:
        df[inputs.predictions] = _numbers(df, inputs.predictions, path)
        df[inputs.references] = _numbers(df, inputs.references, path)
        if inputs.task_type == "pair_classification":
            bad = ~df[inputs.references].isin([0.0, 1.0])
            if bad.any():
                raise DataError(f"{path}: column {inputs.references!r} must be 0 or 1 for pair "
                                f"classification, not at line(s) {df.loc[bad, '_line'].tolist()[:10]}")
    any_tuned = any(isinstance(m, TunedMetric) for m in metrics.values())
    tune_role = df["role"] == "tune" if "role" in df.columns else pd.Series(False, index=df.index)

    def values(sub: pd.DataFrame, col: str) -> Any:
        return sub[col].tolist() if text else sub[col].to_numpy()

    rows: list[dict[str, Any]] = []
    for (method, dataset), group in df.groupby(["method", "dataset"], sort=False):
        splits = list(dict.fromkeys(group["split"]))
        dev = None
        if tune_on == "dev" and any_tuned:
            names = [dev_split] if dev_split else list(DEV_SPLIT_NAMES)
            dev = next((s for s in names if s in splits), None)
        fit = None
        if dev is not None and len(splits) > 1:
            sub = group[group["split"] == dev]
            fit = FitData(values(sub, inputs.predictions), values(sub, inputs.references), dev)
        for split in splits:
            if fit is not None and split == dev:
                continue
            sub = group[(group["split"] == split) & ~tune_role[group.index]]
            if sub.empty:
                continue
            pred, ref = values(sub, inputs.predictions), values(sub, inputs.references)
            notes = _class_notes(inputs.task_type, ref, fit, f"{dataset}/{split}")
            for label, metric in metrics.items():
                value, extras = score_metric(metric, label, pred, ref, tune_on=tune_on, fit=fit,
                                             cell=f"{method} on {dataset}/{split}")
                row = {"method": method, "dataset": dataset, "split": split, "metric": label,
                       "value": value, "n": len(sub), **extras}
                if notes:
                    row["note"] = "; ".join(notes)
                rows.append(row)
    results = results_frame(rows)
    return RunResult(results, pd.DataFrame(), {})


def _class_notes(task_type: str, ref: Any, fit: FitData | None, where: str) -> list[str]:
    from evalkit.inputs import class_notes

    if task_type != "pair_classification":
        return []
    notes = class_notes(ref, where=where)
    if fit is not None:
        notes += class_notes(fit.references, where=f"{where} (tuned on {fit.split})", role="tuning")
    return notes


def parse_params(items: tuple[str, ...] | list[str], metric_names: list[str]) -> dict[str, dict[str, Any]]:
    """``["auto_threshold_f1.distance=true"]`` -> ``{"auto_threshold_f1": {"distance": True}}``.

    Values are read as JSON (``true``, ``5``, ``"x"``), else kept as strings.

    Raises:
        ConfigError: not ``METRIC.KEY=VALUE``, or a metric that is not being scored.
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        head, sep, raw = item.partition("=")
        metric, dot, key = head.partition(".")
        if not sep or not dot or not metric or not key:
            raise ConfigError(f"--param {item!r}: expected METRIC.KEY=VALUE, e.g. auto_threshold_f1.distance=true")
        if metric not in metric_names:
            raise ConfigError(f"--param {item!r}: metric {metric!r} is not scored (metrics: {', '.join(metric_names)})")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(metric, {})[key] = value
    return out
