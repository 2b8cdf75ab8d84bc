"""Run history: find saved runs, read any results source, re-score a stored run.

A *results source* is one of

- a run folder written by :meth:`evalkit.results.RunResult.save` (results, per-example
  predictions, provenance);
- a JSON file with a ``results`` list of records (``method``, ``dataset``, ``split``, ``metric``,
  ``value`` and optionally ``n``), as written by ``evalkit compare --format json`` or
  ``evalkit check --update-baseline BASELINE.json``; it has no per-example predictions;
- a run reference: a run id in the runs folder, a unique prefix of one, or ``latest``.

:func:`rescore` recomputes metrics from a run's stored predictions with the scorer of
:func:`evalkit.runner.run_suite` (:func:`evalkit.scoring.score`, one rule for tuning rows), so the
values equal a fresh run's while no method is created, fitted or called. Nothing here imports
the executor (runner, plan, execute, backends).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError, DataError
from evalkit.provenance import Provenance
from evalkit.results import PREDICTION_COLUMNS, RunResult, load_run

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.plugins import Host
    from evalkit.scoring import TaskInfo
    from evalkit.suite import ComponentSpec

KEY = ["method", "dataset", "split", "metric"]
CELL = ["method", "dataset", "split"]


@dataclass
class Source:
    """A loaded results source: the run, where it was read from, and what kind it is.

    Attributes:
        run: results (tidy frame with validated finite ``value``), predictions (possibly empty)
            and provenance.
        path: the folder or file read (named in every error message).
        kind: ``run`` (a run folder) or ``json``.
    """

    run: RunResult
    path: Path
    kind: str

    @property
    def has_predictions(self) -> bool:
        return not self.run.predictions.empty

    @property
    def label(self) -> str:
        return str(self.path)


@dataclass
class RunInfo:
    """One saved run as listed by ``evalkit runs`` (read from ``run.json`` only)."""

    run_id: str
    path: Path
    created: str = ""
    suite: str = ""
    methods: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    scores: int = 0
    git_commit: str | None = None
    evalkit_version: str = ""
    rescored_from: str | None = None
    error: str | None = None


def default_runs_dir() -> Path:
    """``$EVALKIT_RUNS_DIR`` or ``<user data dir>/evalkit/runs`` (where ``evalkit compare`` saves)."""
    env = os.environ.get("EVALKIT_RUNS_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("evalkit")) / "runs"


def run_infos(runs_dir: Path) -> list[RunInfo]:
    """Every run folder in ``runs_dir``, newest first: in the reverse of the order they were
    created, never by the dates a run's ``run.json`` declares.

    The order is that of the folders' modification times, which :meth:`RunResult.save` makes
    strictly increasing in the order runs are saved (adding or removing a file inside a run
    folder makes it the newest). Runs whose ``run.json`` cannot be read come last. ``created`` is
    shown as the run declares it: when it started, or when it was re-scored.

    Folders without ``run.json`` and the hidden temporary folders of runs being written are
    skipped; a run whose ``run.json`` cannot be read is listed with ``error`` set.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    out: list[RunInfo] = []
    for path in runs_dir.iterdir():
        if path.name.startswith(".") or not (path / "run.json").is_file():
            continue
        info = RunInfo(path.name, path)
        try:
            doc = json.loads((path / "run.json").read_text(encoding="utf-8"))
            prov = doc.get("provenance") or {}
            rescored = prov.get("rescore") or {}
            info.created = str(rescored.get("at") or prov.get("started", ""))
            info.suite = str(prov.get("suite", ""))
            info.methods = list(prov.get("methods") or {})
            info.datasets = list(prov.get("datasets") or {})
            info.metrics = list(prov.get("metrics") or {})
            info.scores = len(doc.get("results") or [])
            info.git_commit = prov.get("git_commit")
            info.evalkit_version = str(prov.get("evalkit_version", ""))
            info.rescored_from = rescored.get("from_run")
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            info.error = f"unreadable run.json: {exc}"
        out.append(info)
    def rank(info: RunInfo) -> tuple[bool, int, str]:
        try:
            return info.error is None, info.path.stat().st_mtime_ns, info.run_id
        except OSError:
            return info.error is None, 0, info.run_id

    out.sort(key=rank, reverse=True)
    return out


def resolve_run(ref: str, runs_dir: Path) -> Path:
    """The path of a results source: ``ref`` itself if it exists, else a run in ``runs_dir``.

    ``latest`` is the run saved last (:func:`run_infos`); otherwise ``ref`` must be a run id or a unique prefix of one.

    Raises:
        ConfigError: nothing matches, or a prefix matches several runs (they are listed).
    """
    path = Path(ref).expanduser()
    if path.exists():
        return path
    runs = [i for i in run_infos(runs_dir) if i.error is None]
    if ref == "latest":
        if not runs:
            raise ConfigError(f"'latest': there are no saved runs in {runs_dir}")
        return runs[0].path
    matches = [i for i in runs if i.run_id == ref] or [i for i in runs if i.run_id.startswith(ref)]
    if len(matches) == 1:
        return matches[0].path
    if len(matches) > 1:
        raise ConfigError(
            f"{ref!r} matches {len(matches)} runs in {runs_dir}: "
            f"{', '.join(m.run_id for m in matches[:5])}; give more of the run id"
        )
    raise ConfigError(
        f"{ref!r} is neither an existing file or folder nor a run id in {runs_dir} "
        f"({len(runs)} saved runs; 'evalkit runs' lists them)"
    )


def outer_join(left: pd.DataFrame, right: pd.DataFrame, suffixes: tuple[str, str]) -> pd.DataFrame:
    """Outer join of two results frames on :data:`KEY`, with ``_merge`` (pandas' indicator).

    Rows keep the left frame's order, then the right-only rows in the right frame's order (pandas
    sorts the keys of an outer join).
    """
    cols = [*KEY, "value", "n"]
    merged = left[cols].merge(right[cols], on=KEY, how="outer", suffixes=suffixes, indicator=True)
    order = {k: i for i, k in enumerate(
        dict.fromkeys([*left[KEY].itertuples(index=False, name=None), *right[KEY].itertuples(index=False, name=None)])
    )}
    rank = [order[k] for k in merged[KEY].itertuples(index=False, name=None)]
    return merged.assign(_order=rank).sort_values("_order").drop(columns="_order").reset_index(drop=True)


def _validate_results(results: pd.DataFrame, where: Any) -> pd.DataFrame:
    """Check key fields and finite values; ``where(i)`` names record ``i`` in messages."""
    import pandas as pd

    for col in KEY:
        for i, v in enumerate(results[col]):
            if not isinstance(v, str) or not v.strip():
                raise DataError(f"{where(i)}: '{col}' must be a non-empty string, got {v!r}")
    values = pd.to_numeric(results["value"], errors="coerce")
    for i, (raw, v) in enumerate(zip(results["value"], values, strict=True)):
        if isinstance(raw, bool) or not math.isfinite(float(v)):
            raise DataError(f"{where(i)}: 'value' must be a finite number, got {raw!r}")
    results = results.assign(value=values.astype("float64"))
    dupes = results.duplicated(KEY, keep="first")
    if dupes.any():
        i = int(dupes.to_numpy().nonzero()[0][0])
        cell = "/".join(str(results.iloc[i][k]) for k in KEY)
        raise DataError(f"{where(i)}: cell {cell} appears twice")
    return results.reset_index(drop=True)


def _load_json(path: Path) -> Source:
    import pandas as pd

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    what = (
        "expected the JSON of 'evalkit compare --format json' or a baseline written by "
        "'evalkit check --update-baseline'"
    )
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise DataError(f"{path}: no 'results' list at the top level; {what}")
    recs = doc["results"]
    if not recs:
        raise DataError(f"{path}: 'results' is empty; {what}")
    for i, rec in enumerate(recs):
        if not isinstance(rec, dict):
            raise DataError(f"{path}: results[{i}] must be an object, got {type(rec).__name__}")
        missing = [k for k in [*KEY, "value"] if k not in rec]
        if missing:
            raise DataError(f"{path}: results[{i}] lacks {', '.join(repr(m) for m in missing)}")
    results = pd.DataFrame.from_records(recs)
    if "n" not in results.columns:
        results["n"] = pd.NA
    results = _validate_results(results, lambda i: f"{path}: results[{i}]")
    provenance = doc.get("provenance") or {}
    if not isinstance(provenance, dict):
        raise DataError(f"{path}: 'provenance' must be an object")
    return Source(RunResult(results, pd.DataFrame(columns=PREDICTION_COLUMNS), Provenance.from_dict(provenance)),
                  path, "json")


def load_source(ref: str | Path, *, runs_dir: Path | None = None) -> Source:
    """Load a results source (run folder, results JSON, or run reference; see module docs).

    Raises:
        ConfigError: ``ref`` does not exist and is no run reference.
        DataError: the folder or file is malformed; the message names the file, the record or
            line, and what is wrong.
    """
    path = resolve_run(str(ref), runs_dir or default_runs_dir())
    if path.is_dir():
        run = load_run(path)
        csv = path / "results.csv"
        run.results = _validate_results(run.results, lambda i: f"{csv}:{i + 2}")
        preds = run.predictions
        if not preds.empty:
            missing = [c for c in PREDICTION_COLUMNS if c not in preds.columns]
            if missing:
                raise DataError(f"{path / 'predictions.csv.gz'}: missing columns {missing}")
        return Source(run, path, "run")
    if path.suffix.lower() != ".json":
        raise DataError(
            f"{path}: not a run folder or a .json results file; pass a folder written by "
            "'evalkit compare' or the JSON of 'evalkit compare --format json'"
        )
    return _load_json(path)


def cell_predictions(source: Source, method: str, dataset: str, split: str) -> pd.DataFrame:
    """The stored predictions of one cell sorted by ``row`` (columns of PREDICTION_COLUMNS).

    Raises:
        DataError: the source has no predictions for this cell.
    """
    p = source.run.predictions
    sub = p[(p["method"] == method) & (p["dataset"] == dataset) & (p["split"] == split)]
    if sub.empty:
        raise DataError(f"{source.path}: no per-example predictions for {method} on {dataset}/{split}")
    return sub.sort_values("row", kind="stable")


def metric_specs_from_provenance(provenance: Mapping[str, Any]) -> list[ComponentSpec]:
    """The metrics a run was scored with, as suite specs (label, registry name, params)."""
    from evalkit.suite import ComponentSpec

    out = []
    for label, info in (provenance.get("metrics") or {}).items():
        info = info if isinstance(info, dict) else {}
        out.append(ComponentSpec(label, str(info.get("metric", label)), dict(info.get("params") or {})))
    return out


def rescore(run: RunResult, metrics: list[ComponentSpec] | None = None, *, host: Host | None = None) -> RunResult:
    """Score a stored run's predictions with ``metrics`` (default: the run's own metrics).

    No method is created or called: the stored predictions (evaluated rows and the tuning rows
    tuned metrics fit on) go through :func:`evalkit.scoring.score` under the run's ``tune_on``,
    in the run's cell order, as :func:`~evalkit.runner.run_suite` does. A metric is applied to
    the datasets whose task type (from the run's provenance) it supports. The result carries
    the run's provenance with the new metrics and a ``rescore`` record (source run, time, plugin
    versions).

    Raises:
        DataError: the run has no per-example predictions.
        ConfigError: unknown metric, or one that applies to none of the run's datasets.
        PluginError: a metric returned something that is not a number.
    """
    from evalkit.plugins import get_host
    from evalkit.provenance import metric_records
    from evalkit.scoring import limit_notes, score

    host = host or get_host()
    source = str(run.run_dir) if run.run_dir else "the run"
    if run.predictions.empty:
        raise DataError(f"{source} has no per-example predictions, so it cannot be re-scored")
    specs = metrics if metrics is not None else metric_specs_from_provenance(run.provenance)
    if not specs:
        raise ConfigError("no metrics to score with: pass --metrics")
    objs = {s.label: host.metrics.create(s.component, **s.params) for s in specs}
    tasks = task_infos(run)
    for label, m in objs.items():
        if all(t.task_type is not None and t.task_type not in m.task_types for t in tasks.values()):
            raise ConfigError(
                f"metric {label!r} applies to task types {list(m.task_types)}, but the run's "
                f"datasets are of type {sorted({str(t.task_type) for t in tasks.values()})}"
            )
    results = score(run.predictions, objs, tasks, tune_on=str(run.provenance.get("tune_on", "dev")),
                    notes=limit_notes(run.provenance.limit))
    prov = run.provenance.copy()
    prov.metrics = metric_records(objs)
    prov["rescore"] = {
        "from_run": run.run_dir.name if run.run_dir else None,
        "from_path": str(run.run_dir) if run.run_dir else None,
        "at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "evalkit_version": _version(),
        "plugins": host.plugin_versions(),
    }
    return RunResult(results, run.predictions.copy(), prov)


def task_infos(run: RunResult) -> dict[str, TaskInfo]:
    """Dataset label -> the scorer's :class:`~evalkit.scoring.TaskInfo`, from the run's provenance
    (task type; what each split is, recorded by runs since the pipeline split, for ``tuned_rows``)."""
    from evalkit.scoring import TaskInfo

    ds_prov = run.provenance.get("datasets") or {}
    out = {}
    for d in dict.fromkeys(run.predictions["dataset"]):
        info = ds_prov.get(d) or {}
        out[str(d)] = TaskInfo(info.get("task_type"), rows=dict(info.get("splits") or {}))
    return out


def _version() -> str:
    from evalkit import __version__

    return __version__
