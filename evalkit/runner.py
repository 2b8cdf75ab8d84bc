"""Run a suite: methods x datasets x splits, scored by metrics. Pure computation, no printing.

The grid is a set of cells (:mod:`evalkit.cells`), one per (method, dataset, split). Each cell's
method is created from its registry entry with the suite's parameters, fitted on the split's
sentences without their gold column, and asked for one score per pair; finished cells are stored
atomically, so an interrupted run resumes with only the missing cells. Cells run on a backend
(:mod:`evalkit.backends`: sequential, joblib processes, Dask). Every metric whose ``task_types``
include the dataset's task type then scores the predictions against the gold column, in this
process. Progress goes to a tqdm bar (stderr) as cells finish (``progress``), or one line per
finished cell (``on_cell``), and to the ``evalkit.runner`` logger.

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
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.backends import data_path, run_cells
from evalkit.cells import (
    Cell,
    CellOutcome,
    CellStore,
    canonical,
    cell_key_inputs,
    create_dataset,
    create_method,
    key_of,
)
from evalkit.classification import CLASSIFICATION
from evalkit.encoding import run_encoder_outputs
from evalkit.errors import ConfigError
from evalkit.guard import plugin_call
from evalkit.inputs import load_split, split_notes
from evalkit.interfaces import Dataset, Method, Metric, TunedMetric
from evalkit.provenance import Provenance
from evalkit.results import PREDICTION_COLUMNS, RunResult, prediction_frame, results_frame
from evalkit.suite import ComponentSpec, Suite
from evalkit.tuning import FitData, check_tune_on, score_metric

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.plugins import Host

log = logging.getLogger("evalkit.runner")


def score_predictions(
    metric: Metric, label: str, predictions: Any, references: Any, *, tune_on: str = "dev",
    fit: FitData | None = None,
) -> tuple[float, dict[str, Any]]:
    """Score with ``metric`` (tuned metrics under ``tune_on``); see :func:`evalkit.tuning.score_metric`."""
    return score_metric(metric, label, predictions, references, tune_on=tune_on, fit=fit)


def default_cache_root() -> Path | None:
    """``<user cache>`` unless ``$EVALKIT_NO_CACHE`` is set (then nothing is stored on disk)."""
    from evalkit.data import user_cache_dir

    return None if os.environ.get("EVALKIT_NO_CACHE") else user_cache_dir()


def cache_readonly(root: Path | None) -> bool:
    """Whether the cache ``root`` must be used read-only (it cannot be written); warns once if so."""
    if root is None:
        return False
    from evalkit.fsutil import writable_folder

    why = writable_folder(root)
    if why is None:
        return False
    import warnings

    warnings.warn(f"the cache {root} is not writable ({why}): stored cells and embeddings are reused, "
                  "nothing new is stored. Set EVALKIT_CACHE_DIR to a writable folder to keep results.",
                  stacklevel=2)
    return True


def run_suite(
    suite: Suite,
    *,
    host: Host | None = None,
    data_dir: Path | None = None,
    cache_dir: Path | str | None = "default",
    progress: bool = False,
    backend: str = "sequential",
    jobs: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    device: str | None = None,
    tune_on: str = "dev",
    on_cell: Callable[[str], None] | None = None,
) -> RunResult:
    """Run ``suite`` and return the tidy results, per-example predictions and provenance.

    Args:
        suite: what to run (see :mod:`evalkit.suite`).
        host: loaded plugins (default: :func:`evalkit.plugins.get_host`). Worker processes of the
            ``processes`` and ``dask`` backends load their own from the environment.
        data_dir: where datasets look for their files (default: :func:`evalkit.data.resolve_data_dir`).
        cache_dir: cache root holding ``embeddings/`` (encoder outputs) and ``cells/`` (finished
            cells); default the user cache (``$EVALKIT_CACHE_DIR``), ``None`` stores nothing.
        progress: show tqdm progress bars on stderr.
        backend, jobs, scheduler: where cells run (:func:`evalkit.backends.run_cells`).
        force: recompute every cell even if stored.
        device: torch device for methods that take one (``cpu``, ``cuda``, ``cuda:1``).
        tune_on: where tuned metrics fit their parameters: ``dev`` (the dataset's validation
            split, falling back to ``cv`` where there is none), ``cv`` (cross-fitting on the
            evaluated rows) or ``self`` (the evaluated rows: the labelled oracle).
        on_cell: called with one line of text when the computation starts and as each cell
            finishes (``[3/12] minilm-cosine on stsb/test: 41.2s, 2758 texts encoded``): the
            progress report where there is no terminal for bars.

    Raises:
        ConfigError: unknown names, a metric that fits none of the datasets, a bad backend or
            ``tune_on``.
        DataError: missing or malformed data files.
        PluginError: a component returned invalid output (wrong length, non-finite scores).
    """
    import numpy as np
    import pandas as pd
    from tqdm.auto import tqdm

    from evalkit.data import locate, resolve_data_dir
    from evalkit.fingerprint import component_inputs, get_memo, library_versions, save_memos
    from evalkit.plugins import get_host

    host = host or get_host()
    check_tune_on(tune_on)
    data_dir = data_path(resolve_data_dir(data_dir))
    assert data_dir is not None
    root = default_cache_root() if cache_dir == "default" else (Path(cache_dir) if cache_dir else None)
    readonly = cache_readonly(root)
    emb_dir = None if root is None else root / "embeddings"
    store = CellStore(None if root is None else root / "cells", readonly=readonly)
    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()

    if not suite.datasets or not suite.methods or not suite.metrics:
        raise ConfigError("a comparison needs at least one dataset, one method and one metric")
    # Create everything up front so that a typo fails before any model is loaded.
    datasets = {spec.label: (spec, create_dataset(host, spec)) for spec in suite.datasets}
    methods = {spec.label: (spec, create_method(host, spec, device=device)) for spec in suite.methods}
    metrics = {spec.label: host.metrics.create(spec.component, **spec.params) for spec in suite.metrics}
    task_types = {ds.task_type for _, ds in datasets.values()}
    check_task_types(datasets, methods)
    for label, metric in metrics.items():
        if not task_types & set(metric.task_types):
            raise ConfigError(
                f"metric {label!r} applies to task types {list(metric.task_types)}, but the "
                f"datasets are of type {sorted(task_types)}"
            )

    memo = get_memo(root)
    component_fps: dict[str, dict[str, Any]] = {}

    def fingerprints(label: str, component: Any) -> dict[str, Any]:
        if label not in component_fps:
            component_fps[label] = component_inputs(component, memo)
        return component_fps[label]

    # Load every evaluated split once here: gold values, file digests (part of the cell keys).
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    dataset_prov: dict[str, Any] = {}
    digests: dict[tuple[str, str], dict[str, str]] = {}
    cells: list[tuple[Cell, str]] = []
    for spec, ds in datasets.values():
        entry = host.datasets.get(spec.component)
        prov = dataset_prov.setdefault(spec.label, {
            "dataset": spec.component, "plugin": entry.plugin, "params": ds.get_params(),
            "task_type": ds.task_type, "files": {},
            **({"classes": list(ds.class_names)} if ds.task_type == CLASSIFICATION else {}),
        })
        tuned = any(isinstance(m, TunedMetric) and ds.task_type in m.task_types for m in metrics.values())

        def load(split: str, spec: ComponentSpec = spec, ds: Dataset = ds, prov: dict[str, Any] = prov) -> None:
            if (spec.label, split) in frames:
                return
            plugin_call(ds, "check_split", ds.check_split, split)
            frames[(spec.label, split)] = load_split(ds, split, data_dir)
            located = locate(ds.display_name, plugin_call(ds, "files", ds.files, split), data_dir, download=False)
            digests[(spec.label, split)] = {p: lf.sha256 for p, lf in sorted(located.items())}
            prov["files"].update({p: {"sha256": lf.sha256, "official": lf.verified} for p, lf in located.items()})

        for split in spec.splits or ds.eval_splits:
            load(split)
            tune_split = None
            if tune_on == "dev" and tuned and ds.dev_split and ds.dev_split != split:
                tune_split = ds.dev_split
                load(tune_split)
            files = {**digests[(spec.label, split)], **(digests[(spec.label, tune_split)] if tune_split else {})}
            for extra in supervision_splits(ds):  # classification: what methods are trained and tuned on
                load(extra)
                files.update(digests[(spec.label, extra)])
            for mspec, method in methods.values():
                mentry = host.methods.get(mspec.component)
                cell = Cell(mspec, spec, split, tune_split)
                inputs = canonical(cell_key_inputs(
                    cell, method_params=method.get_params(), dataset_params=ds.get_params(),
                    file_sha256=files,
                    versions={"evalkit": _evalkit_version(), "method_plugin": mentry.version,
                              "dataset_plugin": entry.version},
                    method_inputs=fingerprints("method:" + mspec.label, method),
                    dataset_inputs=fingerprints("dataset:" + spec.label, ds),
                ))
                cells.append((Cell(mspec, spec, split, tune_split, inputs), key_of(inputs)))

    save_memos()  # before any worker starts, so workers find the digests (a model is read once)
    outcomes: dict[str, CellOutcome] = {}
    todo: list[tuple[Cell, str]] = []
    for cell, key in cells:
        stored = None if force else store.load(key, cell.inputs)
        if (stored is not None and stored[0].shape[0] == len(frames[(cell.dataset.label, cell.split)])
                and (cell.tune_split is None or stored[1] is not None)):
            outcomes[key] = CellOutcome(key, stored[0], 0.0, 0, True, stored[1])
        else:
            todo.append((cell, key))
    if todo:
        log.info("%d of %d cells to compute (%d stored)", len(todo), len(cells), len(cells) - len(todo))
        if on_cell is not None:
            on_cell(f"{len(todo)} of {len(cells)} cells to compute ({len(cells) - len(todo)} stored)")
    done = len(cells) - len(todo)
    bar = tqdm(total=len(cells), initial=len(cells) - len(todo), desc="cells", disable=not progress,
               leave=False, file=sys.stderr)
    try:
        for cell, outcome in run_cells(
            todo, backend=backend, jobs=jobs, scheduler=scheduler, host=host, frames=frames, data_dir=data_dir,
            cache_dir=emb_dir, cell_dir=store.directory, device=device, progress=progress and backend == "sequential",
            readonly=readonly, encoders=run_encoder_outputs(
                [m for _, m in methods.values()], cache_dir=emb_dir, readonly=readonly),
        ):
            outcomes[outcome.key] = outcome
            done += 1
            log.info("%s: %.1fs, %d texts encoded", cell.label, outcome.seconds, outcome.texts_encoded)
            if on_cell is not None:
                on_cell(f"[{done}/{len(cells)}] {cell.label}: {outcome.seconds:.1f}s, "
                        f"{outcome.texts_encoded} texts encoded")
            bar.update(1)
    finally:
        bar.close()

    result_rows: list[dict[str, Any]] = []
    pred_frames: list[pd.DataFrame] = []
    for cell, key in cells:
        frame = frames[(cell.dataset.label, cell.split)]
        ds = datasets[cell.dataset.label][1]
        outcome = outcomes[key]
        pred = outcome.predictions
        refs = frame[ds.target].to_numpy()
        fit: FitData | None = None
        notes = split_notes(ds, cell.split, frame)
        if cell.tune_split is not None and outcome.tune_predictions is not None:
            tune_frame = frames[(cell.dataset.label, cell.tune_split)]
            fit = FitData(outcome.tune_predictions, tune_frame[ds.target].to_numpy(), cell.tune_split,
                          ds.describe_split(cell.tune_split))
            notes += split_notes(ds, cell.tune_split, tune_frame, role="tuning")
            pred_frames.append(prediction_frame(
                fit.predictions, method=cell.method.label, dataset=cell.dataset.label, split=cell.tune_split,
                row=np.arange(len(tune_frame)), reference=fit.references, role="tune",
            ))
        pred_frames.append(prediction_frame(
            pred, method=cell.method.label, dataset=cell.dataset.label, split=cell.split,
            row=np.arange(len(frame)), reference=refs, role="eval",
        ))
        for mlabel, metric in metrics.items():
            if ds.task_type not in metric.task_types:
                continue
            value, extras = score_metric(metric, mlabel, pred, refs, tune_on=tune_on, fit=fit, cell=cell.label)
            row = {"method": cell.method.label, "dataset": cell.dataset.label, "split": cell.split,
                   "metric": mlabel, "value": value, "n": len(frame), **extras}
            if notes:
                row["note"] = "; ".join(notes)
            result_rows.append(row)

    save_memos()
    results = results_frame(result_rows)
    predictions = pd.concat(pred_frames, ignore_index=True) if pred_frames else pd.DataFrame(columns=PREDICTION_COLUMNS)
    computed = [o for o in outcomes.values() if not o.reused]
    libraries = {"numpy", "scipy", "pandas"}
    for _, component in [*methods.values(), *datasets.values()]:
        libraries.update(getattr(component, "requires", ()))
    provenance = Provenance(
        evalkit_version=_evalkit_version(),
        plugins=host.plugin_versions(),
        libraries=library_versions(libraries),
        suite=suite.name,
        suite_source=suite.source,
        tune_on=tune_on,
        methods={
            label: {"method": spec.component, "plugin": host.methods.get(spec.component).plugin,
                    "params": method.get_params(), "fingerprint": component_fps.get("method:" + label)}
            for label, (spec, method) in methods.items()
        },
        metrics={label: {"metric": m.name, "params": m.get_params(), "higher_is_better": m.higher_is_better}
                 for label, m in metrics.items()},
        datasets={label: {**info, "fingerprint": component_fps.get("dataset:" + label)}
                  for label, info in dataset_prov.items()},
        data_dir=str(data_dir),
        started=started.isoformat(),
        finished=_dt.datetime.now(_dt.timezone.utc).isoformat(),
        seconds=round(time.perf_counter() - t0, 3),
        execution={"backend": backend, "jobs": jobs, "device": device},
        cells={"total": len(cells), "computed": len(computed), "reused": len(cells) - len(computed),
               "keys": {f"{c.method.label}|{c.dataset.label}|{c.split}": k for c, k in cells}},
        texts_encoded=sum(o.texts_encoded for o in computed),
    ).to_dict()
    return RunResult(results, predictions, provenance)


def supervision_splits(ds: Dataset) -> list[str]:
    """The labelled splits a classification dataset's methods learn from (train, then dev)."""
    if ds.task_type != CLASSIFICATION:
        return []
    return [s for s in dict.fromkeys((ds.train_split, ds.dev_split)) if s]


def check_task_types(datasets: dict[str, tuple[ComponentSpec, Dataset]],
                     methods: dict[str, tuple[ComponentSpec, Method]]) -> None:
    """Classification datasets need classification methods, and classification methods need them.

    Raises:
        ConfigError: a method and a dataset of the suite do not fit (names both).
    """
    for dlabel, (_, ds) in datasets.items():
        for mlabel, (_, method) in methods.items():
            if (ds.task_type == CLASSIFICATION) != (CLASSIFICATION in method.task_types):
                raise ConfigError(
                    f"method {mlabel!r} (task types {list(method.task_types)}) cannot run on dataset "
                    f"{dlabel!r} (task type {ds.task_type!r}); use a separate suite for each"
                )


def _evalkit_version() -> str:
    from evalkit import __version__

    return __version__


def new_run_id() -> str:
    """``YYYYmmdd-HHMMSS-<6 hex>``: sortable and unique."""
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
