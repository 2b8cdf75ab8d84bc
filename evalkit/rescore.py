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
   metrics cross-fit (``cv``). A file with a ``role`` column (a saved run's predictions) says
   itself which rows are validation rows: those whose ``role`` is ``tune``, never scored
   themselves. Scoring is :func:`evalkit.scoring.score`, the scorer of ``evalkit compare``.

A saved run's ``predictions.csv.gz`` follows this layout, so a run can be re-scored with other
metrics or another ``tune_on``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError, DataError
from evalkit.provenance import Provenance
from evalkit.results import RunResult
from evalkit.scoring import TEXT_TASKS
from evalkit.tuning import check_tune_on

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.interfaces import Metric

PREDICTION_CANDIDATES = ("score", "prediction")
REFERENCE_CANDIDATES = ("label", "reference")
DEV_SPLIT_NAMES = ("dev", "validation", "valid")
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

    The file's rows become a predictions frame (:func:`predictions_frame`) scored by
    :func:`evalkit.scoring.score`, the scorer of ``evalkit compare``, with its rule for tuning rows.

    Returns a :class:`RunResult` whose ``results`` has the same records as ``evalkit compare``
    (``method``, ``dataset``, ``split``, ``metric``, ``value``, ``n`` and the metrics' extras,
    e.g. ``threshold`` and ``tuned_on``); ``predictions`` is empty.

    Raises:
        ConfigError: a metric that does not apply to the task type; bad ``tune_on``.
        DataError: invalid values (naming lines), a metric's own input errors.
    """
    import pandas as pd

    from evalkit.interfaces import TunedMetric
    from evalkit.scoring import TaskInfo, score

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
    tuned = tune_on == "dev" and any(isinstance(m, TunedMetric) for m in metrics.values())
    preds = predictions_frame(frame, path=path, inputs=inputs, dev_split=dev_split if tuned else None,
                              find_dev=tuned)
    tasks = {str(d): TaskInfo(inputs.task_type) for d in dict.fromkeys(preds["dataset"])}
    results = score(preds, metrics, tasks, tune_on=tune_on)
    return RunResult(results, pd.DataFrame(), Provenance.from_dict({}))


def predictions_frame(frame: pd.DataFrame, *, path: Path, inputs: Inputs, dev_split: str | None = None,
                      find_dev: bool = False) -> pd.DataFrame:
    """The file's rows as the scorer's predictions frame (see :func:`evalkit.scoring.score`).

    Columns ``method``, ``dataset``, ``split`` (absent: the defaults of item 4), ``row`` (the
    file's order), ``prediction`` and ``reference`` (float64, or text for :data:`TEXT_TASKS`)
    and ``role``. The file's ``role`` column is kept where it has one; otherwise, with
    ``find_dev``, the rows of the validation split of each (method, dataset) (``dev_split``, or
    the first of :data:`DEV_SPLIT_NAMES` present) get ``role="tune"`` when it has other splits.

    Raises:
        DataError: non-numeric or non-finite values, or pair-classification gold other than 0/1
            (naming the lines).
    """
    import numpy as np
    import pandas as pd

    text = inputs.task_type in TEXT_TASKS
    cols = {c: (frame[c].to_numpy() if c in frame.columns else np.full(len(frame), inputs.defaults[c], dtype=object))
            for c in GROUP_COLUMNS}
    pred = frame[inputs.predictions].to_numpy() if text else _numbers(frame, inputs.predictions, path)
    ref = frame[inputs.references].to_numpy() if text else _numbers(frame, inputs.references, path)
    if inputs.task_type == "pair_classification":
        bad = ~np.isin(ref, [0.0, 1.0])
        if bad.any():
            raise DataError(f"{path}: column {inputs.references!r} must be 0 or 1 for pair "
                            f"classification, not at line(s) {frame.loc[bad, '_line'].tolist()[:10]}")
    out = pd.DataFrame({**cols, "row": np.arange(len(frame)), "prediction": pred, "reference": ref})
    if "role" in frame.columns:
        out["role"] = np.where(frame["role"].to_numpy() == "tune", "tune", "eval")
    else:
        out["role"] = "eval"
        if find_dev:
            _mark_dev(out, dev_split)
    return out.reset_index(drop=True)


def _mark_dev(out: pd.DataFrame, dev_split: str | None) -> None:
    """Give the validation split's rows of every (method, dataset) with other splits ``role="tune"``."""
    names = [dev_split] if dev_split else list(DEV_SPLIT_NAMES)
    for _, group in out.groupby(["method", "dataset"], sort=False):
        splits = list(dict.fromkeys(group["split"]))
        dev = next((s for s in names if s in splits), None)
        if dev is not None and len(splits) > 1:
            out.loc[group.index[group["split"] == dev], "role"] = "tune"


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
