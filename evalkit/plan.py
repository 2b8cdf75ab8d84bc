"""Step 1 of a run: the plan. Build every component once, load every split once, key every cell.

:func:`make_plan` turns a :class:`~evalkit.suite.Suite` into a :class:`Plan`: the datasets,
methods and metrics built from the registry (so a typo fails before any model loads), every split
the run reads (evaluated splits, validation splits that tuned metrics fit on, and the labelled
splits classification methods learn from), loaded once and cut to the first ``limit`` rows when a
limit is given, and the cells with their keys (:func:`evalkit.cells.cell_key_inputs`): this is the
only place cells are keyed. No method is fitted or called here; that is
:func:`evalkit.execute.execute`'s job, and scoring is :func:`evalkit.scoring.score`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.cells import Cell, canonical, cell_key_inputs, create_dataset, create_method, key_of
from evalkit.classification import CLASSIFICATION
from evalkit.errors import ConfigError
from evalkit.guard import plugin_call
from evalkit.inputs import NOTES_ATTR
from evalkit.interfaces import Dataset, Method, Metric, TunedMetric
from evalkit.scoring import TaskInfo, limit_notes
from evalkit.suite import ComponentSpec, Suite

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.fingerprint import FingerprintMemo
    from evalkit.plugins import Host


@dataclass
class Plan:
    """Everything a run does, worked out before anything runs.

    Attributes:
        suite: the suite planned.
        data_dir: absolute folder datasets read their files from.
        tune_on: the tuning protocol (:mod:`evalkit.tuning`).
        limit: every split was cut to its first ``limit`` rows (``None``: whole splits).
        datasets, methods: label -> (spec, built component); built once, reused by the
            sequential executor.
        metrics: label -> built metric.
        frames: (dataset label, split) -> the loaded (and cut) split.
        cells: ``(cell, key)`` in suite order (datasets, their splits, then methods).
        datasets_info: label -> the provenance record of a dataset (registry name, plugin,
            params, task type, data files with sha256 and whether they are the official ones,
            ``splits``: what each loaded split is, :meth:`~evalkit.interfaces.Dataset.describe_split`).
        fingerprints: ``"method:<label>"``/``"dataset:<label>"`` ->
            :func:`evalkit.fingerprint.component_inputs`.
    """

    suite: Suite
    data_dir: Path
    tune_on: str
    limit: int | None
    datasets: dict[str, tuple[ComponentSpec, Dataset]]
    methods: dict[str, tuple[ComponentSpec, Method]]
    metrics: dict[str, Metric]
    frames: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    cells: list[tuple[Cell, str]] = field(default_factory=list)
    datasets_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    fingerprints: dict[str, dict[str, Any]] = field(default_factory=dict)
    digests: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def task_infos(self) -> dict[str, TaskInfo]:
        """Dataset label -> what the scorer needs (task type, notes and row descriptions per split)."""
        out = {}
        for label, (_, ds) in self.datasets.items():
            splits = [s for (d, s) in self.frames if d == label]
            out[label] = TaskInfo(
                ds.task_type,
                notes={s: [str(n) for n in self.frames[(label, s)].attrs.get(NOTES_ATTR, [])] for s in splits},
                rows=dict(self.datasets_info[label].get("splits") or {}),
            )
        return out

    def limit_notes(self) -> list[str]:
        """The note every results row carries when the run was cut (``[]`` otherwise)."""
        return limit_notes(self.limit)


def check_limit(limit: int | None) -> int | None:
    """``limit`` if it is ``None`` or a positive int.

    Raises:
        ConfigError: zero, negative or not an integer.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive number of rows, not {limit!r}")
    return limit


def build(suite: Suite, host: Host, *, data_dir: Path, tune_on: str, limit: int | None,
          device: str | None) -> Plan:
    """Build every component of ``suite`` (nothing loaded or keyed yet) and check that they fit.

    Raises:
        ConfigError: an empty suite, unknown names or parameters, a metric that applies to none of
            the datasets, a classification dataset with a non-classification method (or back).
    """
    if not suite.datasets or not suite.methods or not suite.metrics:
        raise ConfigError("a comparison needs at least one dataset, one method and one metric")
    datasets = {spec.label: (spec, create_dataset(host, spec)) for spec in suite.datasets}
    methods = {spec.label: (spec, create_method(host, spec, device=device)) for spec in suite.methods}
    metrics = {spec.label: host.metrics.create(spec.component, **spec.params) for spec in suite.metrics}
    check_task_types(datasets, methods)
    task_types = {ds.task_type for _, ds in datasets.values()}
    for label, metric in metrics.items():
        if not task_types & set(metric.task_types):
            raise ConfigError(
                f"metric {label!r} applies to task types {list(metric.task_types)}, but the "
                f"datasets are of type {sorted(task_types)}"
            )
    return Plan(suite, data_dir, tune_on, check_limit(limit), datasets, methods, metrics)


def make_plan(suite: Suite, host: Host, *, data_dir: Path, tune_on: str = "dev", limit: int | None = None,
              device: str | None = None, memo: FingerprintMemo | None = None) -> Plan:
    """Build, load and key everything ``suite`` runs (see the module docstring).

    Args:
        suite, host: what to run and the loaded plugins.
        data_dir: absolute data folder. tune_on: checked by the caller.
        limit: load only the first ``limit`` rows of every split (``None``: all rows).
        device: passed to methods that take a ``device`` and were given none.
        memo: digests of files already fingerprinted (:func:`evalkit.fingerprint.get_memo`).

    Raises:
        ConfigError: see :func:`build`. DataError: missing or malformed data files.
    """
    plan = build(suite, host, data_dir=data_dir, tune_on=tune_on, limit=limit, device=device)
    tuned_types = {t for m in plan.metrics.values() if isinstance(m, TunedMetric) for t in m.task_types}
    for spec, ds in plan.datasets.values():
        entry = host.datasets.get(spec.component)
        plan.datasets_info[spec.label] = {
            "dataset": spec.component, "plugin": entry.plugin, "params": ds.get_params(),
            "task_type": ds.task_type, "files": {},
            **({"classes": list(ds.class_names)} if ds.task_type == CLASSIFICATION else {}),
        }
        for split in spec.splits or ds.eval_splits:
            tune_split = None
            load(plan, spec.label, split)
            if tune_on == "dev" and ds.task_type in tuned_types and ds.dev_split and ds.dev_split != split:
                tune_split = ds.dev_split
                load(plan, spec.label, tune_split)
            files = {**plan.digests[(spec.label, split)],
                     **(plan.digests[(spec.label, tune_split)] if tune_split else {})}
            for extra in supervision_splits(ds):  # classification: what methods are trained and tuned on
                load(plan, spec.label, extra)
                files.update(plan.digests[(spec.label, extra)])
            for mspec, _ in plan.methods.values():
                plan.cells.append(key_cell(plan, host, Cell(mspec, spec, split, tune_split), files, memo))
    return plan


def load(plan: Plan, label: str, split: str) -> None:
    """Load ``split`` of dataset ``label`` into ``plan.frames`` (once), cut to ``plan.limit`` rows,
    and record its files' sha256 in ``plan.digests`` and the dataset's provenance.

    Raises:
        ConfigError: the dataset has no such split. DataError: missing or malformed files.
    """
    from evalkit.data import locate
    from evalkit.inputs import load_split

    if (label, split) in plan.frames:
        return
    ds = plan.datasets[label][1]
    plugin_call(ds, "check_split", ds.check_split, split)
    plan.frames[(label, split)] = cut(load_split(ds, split, plan.data_dir), plan.limit)
    located = locate(ds.display_name, plugin_call(ds, "files", ds.files, split), plan.data_dir, download=False)
    plan.digests[(label, split)] = {p: lf.sha256 for p, lf in sorted(located.items())}
    info = plan.datasets_info[label]
    info["files"].update({p: {"sha256": lf.sha256, "official": lf.verified} for p, lf in located.items()})
    # Which rows each split is, so a re-scored run records ``tuned_rows`` as the fresh run did.
    info.setdefault("splits", {})[split] = ds.describe_split(split)


def cut(frame: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """The first ``limit`` rows of ``frame`` renumbered from 0 (its notes kept), or ``frame``."""
    if limit is None:
        return frame
    return frame.head(limit).reset_index(drop=True)


def key_cell(plan: Plan, host: Host, cell: Cell, files: dict[str, str],
             memo: FingerprintMemo | None) -> tuple[Cell, str]:
    """``(cell with its canonical key inputs, key)``; see :mod:`evalkit.cells` for what a key covers."""
    from evalkit import __version__
    from evalkit.fingerprint import component_inputs

    def fingerprint(kind: str, label: str, component: Any) -> dict[str, Any]:
        name = f"{kind}:{label}"
        if name not in plan.fingerprints:
            plan.fingerprints[name] = component_inputs(component, memo)
        return plan.fingerprints[name]

    method = plan.methods[cell.method.label][1]
    ds = plan.datasets[cell.dataset.label][1]
    inputs = canonical(cell_key_inputs(
        cell, method_params=method.get_params(), dataset_params=ds.get_params(), file_sha256=files,
        versions={"evalkit": __version__, "method_plugin": host.methods.get(cell.method.component).version,
                  "dataset_plugin": host.datasets.get(cell.dataset.component).version},
        method_inputs=fingerprint("method", cell.method.label, method),
        dataset_inputs=fingerprint("dataset", cell.dataset.label, ds),
        limit=plan.limit,
    ))
    return Cell(cell.method, cell.dataset, cell.split, cell.tune_split, inputs), key_of(inputs)


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
