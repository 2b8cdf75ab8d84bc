"""Run a suite: methods x datasets x splits, scored by metrics. Pure computation, no printing.

Each *cell* is one (method, dataset, split): the method is created from its registry entry with
the suite's parameters, fitted on the split's sentences without their gold column, and asked for
one score per pair; every metric whose ``task_types`` include the dataset's task type then scores
the predictions against the gold column. Progress goes to tqdm bars (stderr) and the
``evalkit.runner`` logger.

Tuned metrics (:class:`~evalkit.interfaces.TunedMetric`, e.g. auto-threshold F1) follow
``tune_on`` (:mod:`evalkit.tuning`). With ``tune_on="dev"`` and a dataset whose
:attr:`~evalkit.interfaces.Dataset.dev_split` differs from the evaluated split, the cell's fitted
method instance (fitted on the evaluated split's sentences, as for every cell) also scores the
validation pairs; the tuned metrics are fitted on those scores and applied unchanged to the
evaluated split. Those validation scores are kept in ``predictions`` with ``role="tune"`` (the
evaluated rows have ``role="eval"``), so a saved run can be re-scored under the same protocol.
Nothing extra is predicted when no tuned metric applies.
"""

from __future__ import annotations

import datetime as _dt
import logging
import platform
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.cache import _PROGRESS, EmbeddingCache, release_cache, set_progress, use_cache
from evalkit.errors import ConfigError, EvalkitError, PluginError
from evalkit.interfaces import Dataset, Method, Metric, TunedMetric, as_1d_float, check_finite
from evalkit.results import PREDICTION_COLUMNS, RunResult, git_commit, results_frame
from evalkit.suite import ComponentSpec, Suite
from evalkit.tuning import FitData, check_tune_on, score_metric

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from evalkit.plugins import Host

log = logging.getLogger("evalkit.runner")


@dataclass
class Cell:
    """One unit of work: a method on one split of one dataset."""

    method: ComponentSpec
    dataset: ComponentSpec
    split: str


def _progress(iterable: Any, *, total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=not enabled, leave=False, file=sys.stderr)


def create_dataset(host: Host, spec: ComponentSpec) -> Dataset:
    ds = host.datasets.create(spec.component, **spec.params)
    ds.registered_name = spec.label
    return ds


def create_method(host: Host, spec: ComponentSpec) -> Method:
    m = host.methods.create(spec.component, **spec.params)
    m.registered_name = spec.label
    return m


def score_predictions(
    metric: Metric, label: str, predictions: Any, references: Any, *, tune_on: str = "dev",
    fit: FitData | None = None,
) -> tuple[float, dict[str, Any]]:
    """Score with ``metric`` (tuned metrics under ``tune_on``); see :func:`evalkit.tuning.score_metric`."""
    return score_metric(metric, label, predictions, references, tune_on=tune_on, fit=fit)


def _predict(method: Method, frame: pd.DataFrame, where: str) -> np.ndarray:
    """``method.predict`` on ``frame``'s pairs, checked: float64, one finite score per pair."""
    pred = as_1d_float(method.predict(frame[["sentence1", "sentence2"]]), what=f"{where} predictions")
    if pred.shape[0] != len(frame):
        raise PluginError(f"{where} returned {pred.shape[0]} scores for {len(frame)} pairs")
    try:
        check_finite(pred, what=where)
    except EvalkitError as exc:
        raise PluginError(str(exc)) from None
    return pred


def run_suite(
    suite: Suite,
    *,
    host: Host | None = None,
    data_dir: Path | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
    tune_on: str = "dev",
) -> RunResult:
    """Run ``suite`` and return the tidy results, per-example predictions and provenance.

    Args:
        suite: what to run (see :mod:`evalkit.suite`).
        host: loaded plugins (default: :func:`evalkit.plugins.get_host`).
        data_dir: where datasets look for their files (default: :func:`evalkit.data.resolve_data_dir`).
        cache_dir: on-disk embedding cache (default ``<user cache>/embeddings``; ``None`` and
            ``$EVALKIT_NO_CACHE`` set: memory only).
        progress: show tqdm progress bars on stderr.
        tune_on: where tuned metrics fit their parameters: ``dev`` (the dataset's validation
            split, falling back to ``cv`` where there is none), ``cv`` (cross-fitting on the
            evaluated rows) or ``self`` (the evaluated rows: the labelled oracle).

    Raises:
        ConfigError: unknown names, a metric that fits none of the datasets, a bad ``tune_on``.
        DataError: missing or malformed data files.
        PluginError: a component returned invalid output (wrong length, non-finite scores).
    """
    import numpy as np
    import pandas as pd

    from evalkit.data import locate, resolve_data_dir, user_cache_dir
    from evalkit.plugins import get_host

    host = host or get_host()
    check_tune_on(tune_on)
    data_dir = resolve_data_dir(data_dir)
    if cache_dir is None:
        import os

        cache_dir = None if os.environ.get("EVALKIT_NO_CACHE") else user_cache_dir() / "embeddings"
    cache = EmbeddingCache(cache_dir)
    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()

    if not suite.datasets or not suite.methods or not suite.metrics:
        raise ConfigError("a comparison needs at least one dataset, one method and one metric")
    # Create everything up front so that a typo fails before any model is loaded.
    datasets = {spec.label: (spec, create_dataset(host, spec)) for spec in suite.datasets}
    methods = {spec.label: (spec, host.methods.get(spec.component)) for spec in suite.methods}
    for spec in suite.methods:
        create_method(host, spec)  # validates parameters
    metrics = {spec.label: host.metrics.create(spec.component, **spec.params) for spec in suite.metrics}
    task_types = {ds.task_type for _, ds in datasets.values()}
    for label, metric in metrics.items():
        if not task_types & set(metric.task_types):
            raise ConfigError(
                f"metric {label!r} applies to task types {list(metric.task_types)}, but the "
                f"datasets are of type {sorted(task_types)}"
            )

    cells: list[Cell] = []
    for spec, ds in datasets.values():
        splits = spec.splits or ds.eval_splits
        for split in splits:
            ds.check_split(split)
            for mspec, _ in methods.values():
                cells.append(Cell(mspec, spec, split))

    result_rows: list[dict[str, Any]] = []
    pred_frames: list[pd.DataFrame] = []
    dataset_prov: dict[str, Any] = {}
    frames: dict[tuple[str, str], pd.DataFrame] = {}

    def load(label: str, ds: Dataset, split: str) -> pd.DataFrame:
        """A split's frame, loaded once per run; its files' sha256 go into the provenance."""
        key = (label, split)
        if key not in frames:
            frames[key] = ds.load(split, data_dir)
            located = locate(ds.display_name, ds.files(split), data_dir, download=False)
            dataset_prov.setdefault(label, {
                "dataset": datasets[label][0].component,
                "params": ds.get_params(),
                "task_type": ds.task_type,
                "files": {},
            })["files"].update({
                lf.spec.path: {"sha256": lf.sha256, "official": lf.verified} for lf in located.values()
            })
        return frames[key]

    token = use_cache(cache)
    ptoken = set_progress(progress)
    try:
        for cell in _progress(cells, total=len(cells), desc="cells", enabled=progress):
            _, ds = datasets[cell.dataset.label]
            frame = load(cell.dataset.label, ds, cell.split)
            target = ds.target
            method = create_method(host, cell.method)
            cell_t0 = time.perf_counter()
            computed_before = cache.total_computed()
            method.fit(frame[["sentence1", "sentence2"]])
            where = f"method {cell.method.label!r} on {cell.dataset.label}/{cell.split}"
            pred = _predict(method, frame, where)
            cell_metrics = {lab: m for lab, m in metrics.items() if ds.task_type in m.task_types}
            fit: FitData | None = None
            if (tune_on == "dev" and ds.dev_split and ds.dev_split != cell.split
                    and any(isinstance(m, TunedMetric) for m in cell_metrics.values())):
                ds.check_split(ds.dev_split)
                dev_frame = load(cell.dataset.label, ds, ds.dev_split)
                dev_pred = _predict(method, dev_frame, f"{where} (scoring {ds.dev_split} for tuning)")
                fit = FitData(dev_pred, dev_frame[target].to_numpy(), ds.dev_split)
                pred_frames.append(pd.DataFrame({
                    "method": cell.method.label, "dataset": cell.dataset.label, "split": ds.dev_split,
                    "row": np.arange(len(dev_frame)), "prediction": dev_pred,
                    "reference": fit.references, "role": "tune",
                }))
            log.info(
                "%s on %s/%s: %d pairs in %.1fs, %d texts encoded",
                cell.method.label, cell.dataset.label, cell.split, len(frame),
                time.perf_counter() - cell_t0, cache.total_computed() - computed_before,
            )
            refs = frame[target].to_numpy()
            pred_frames.append(pd.DataFrame({
                "method": cell.method.label, "dataset": cell.dataset.label, "split": cell.split,
                "row": np.arange(len(frame)), "prediction": pred, "reference": refs, "role": "eval",
            }))
            for mlabel, metric in cell_metrics.items():
                value, extras = score_metric(metric, mlabel, pred, refs, tune_on=tune_on, fit=fit)
                result_rows.append({
                    "method": cell.method.label, "dataset": cell.dataset.label, "split": cell.split,
                    "metric": mlabel, "value": value, "n": len(frame), **extras,
                })
    finally:
        release_cache(token)
        _PROGRESS.reset(ptoken)

    results = results_frame(result_rows)
    predictions = pd.concat(pred_frames, ignore_index=True) if pred_frames else pd.DataFrame(columns=PREDICTION_COLUMNS)
    from evalkit import __version__

    provenance = {
        "evalkit_version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "plugins": host.plugin_versions(),
        "suite": suite.name,
        "suite_source": suite.source,
        "tune_on": tune_on,
        "methods": {
            label: {"method": spec.component, "plugin": entry.plugin, "params": create_method(host, spec).get_params()}
            for label, (spec, entry) in methods.items()
        },
        "metrics": {label: {"metric": m.name, "params": m.get_params(), "higher_is_better": m.higher_is_better}
                    for label, m in metrics.items()},
        "datasets": dataset_prov,
        "data_dir": str(data_dir),
        "git_commit": git_commit(),
        "started": started.isoformat(),
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "seconds": round(time.perf_counter() - t0, 3),
        "encoding": {
            ns: {"computed": s.computed, "from_disk": s.disk_hits, "from_memory": s.memory_hits}
            for ns, s in cache.stats.items()
        },
        "texts_encoded": cache.total_computed(),
    }
    return RunResult(results, predictions, provenance)


def new_run_id() -> str:
    """``YYYYmmdd-HHMMSS-<6 hex>``: sortable and unique."""
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
