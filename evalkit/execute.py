"""Step 2 of a run: execute the plan's cells. The only step that touches methods, stores and devices.

:func:`execute` takes a :class:`~evalkit.plan.Plan` and a :class:`RunContext` (cache folders,
device, read-only flag, backend, progress callbacks: passed down explicitly, never looked up
globally) and returns every cell's :class:`~evalkit.cells.CellOutcome`. It decides in one place
(:func:`partition`) which cells are reused from the cell store (stored key inputs equal, as many
predictions as the split has rows, tuning predictions where the cell has a tuning split) and
which are computed. Computed cells run on a backend (:mod:`evalkit.backends`); each goes through
:func:`run_cell`, the single place where a cell's method is fitted and asked for predictions.
The sequential backend reuses the plan's built datasets, methods and loaded splits; worker
processes (``processes``, ``dask``) rebuild them from their specs.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.cells import Cell, CellOutcome, CellStore, create_dataset, create_method
from evalkit.classification import CLASSIFICATION
from evalkit.errors import EvalkitError, PluginError
from evalkit.guard import describe, origin, plugin_call
from evalkit.interfaces import Dataset, Method

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from evalkit.encoding import EncoderOutputs
    from evalkit.plan import Plan
    from evalkit.plugins import Host

log = logging.getLogger("evalkit.runner")


@dataclass(frozen=True)
class RunContext:
    """Where and how cells run; passed down to every cell (and, without callbacks, to workers).

    Attributes:
        data_dir: absolute data folder (workers load their own splits from it).
        cache_root: holds ``embeddings/`` (encoder outputs) and ``cells/`` (finished cells);
            ``None`` stores nothing.
        readonly: reuse what is stored but write nothing (a cache the user cannot write to).
        device: torch device for methods that take one and were given none.
        limit: every split cut to its first ``limit`` rows (workers apply it when loading).
        backend, jobs, scheduler: see :func:`evalkit.backends.run_cells`.
        force: recompute every cell even if stored.
        progress: tqdm bars on stderr (inside methods only with the sequential backend).
        on_cell: called with one line of text as the computation starts and as each cell finishes.
        encoders: the run's shared encoder outputs (:func:`evalkit.encoding.run_encoder_outputs`),
            set by :func:`execute` from the methods' declared requests; bound to each cell's method.
    """

    data_dir: Path
    cache_root: Path | None = None
    readonly: bool = False
    device: str | None = None
    limit: int | None = None
    backend: str = "sequential"
    jobs: int = 1
    scheduler: str | None = None
    force: bool = False
    progress: bool = False
    on_cell: Callable[[str], None] | None = None
    encoders: EncoderOutputs | None = None

    @property
    def embeddings_dir(self) -> Path | None:
        return None if self.cache_root is None else self.cache_root / "embeddings"

    @property
    def cells_dir(self) -> Path | None:
        return None if self.cache_root is None else self.cache_root / "cells"

    def for_workers(self) -> RunContext:
        """This context as sent to worker processes: no callbacks, no bars inside methods."""
        return replace(self, on_cell=None, progress=False)


def partition(plan: Plan, store: CellStore, force: bool) -> tuple[dict[str, CellOutcome], list[tuple[Cell, str]]]:
    """``(reused outcomes by key, cells to compute)``: the one rule for reusing a stored cell.

    A stored cell is reused when ``force`` is off, its stored key inputs equal the cell's
    (:meth:`~evalkit.cells.CellStore.load`), it holds one prediction per row of the (cut) split,
    and it holds tuning predictions when the cell has a tuning split.
    """
    reused: dict[str, CellOutcome] = {}
    todo: list[tuple[Cell, str]] = []
    for cell, key in plan.cells:
        stored = None if force else store.load(key, cell.inputs)
        if (stored is not None and stored[0].shape[0] == len(plan.frames[(cell.dataset.label, cell.split)])
                and (cell.tune_split is None or stored[1] is not None)):
            reused[key] = CellOutcome(key, stored[0], 0.0, 0, True, stored[1])
        else:
            todo.append((cell, key))
    return reused, todo


def execute(plan: Plan, ctx: RunContext, host: Host) -> dict[str, CellOutcome]:
    """Reuse or compute every cell of ``plan``; return the outcomes by cell key.

    Raises:
        ConfigError: bad backend or ``jobs``. PluginError: a method failed or returned invalid
            predictions. EvalkitError: anything a dataset or method raises for bad input.
    """
    from tqdm.auto import tqdm

    from evalkit.backends import run_cells
    from evalkit.encoding import run_encoder_outputs

    ctx = replace(ctx, encoders=run_encoder_outputs([m for _, m in plan.methods.values()],
                                                    cache_dir=ctx.embeddings_dir, readonly=ctx.readonly))
    outcomes, todo = partition(plan, CellStore(ctx.cells_dir, readonly=ctx.readonly), ctx.force)
    total = len(plan.cells)
    if todo:
        log.info("%d of %d cells to compute (%d stored)", len(todo), total, total - len(todo))
        if ctx.on_cell is not None:
            ctx.on_cell(f"{len(todo)} of {total} cells to compute ({total - len(todo)} stored)")
    done = total - len(todo)
    bar = tqdm(total=total, initial=done, desc="cells", disable=not ctx.progress, leave=False, file=sys.stderr)
    try:
        for cell, outcome in run_cells(todo, ctx, host=host, plan=plan):
            outcomes[outcome.key] = outcome
            done += 1
            log.info("%s: %.1fs, %d texts encoded", cell.label, outcome.seconds, outcome.texts_encoded)
            if ctx.on_cell is not None:
                ctx.on_cell(f"[{done}/{total}] {cell.label}: {outcome.seconds:.1f}s, "
                            f"{outcome.texts_encoded} texts encoded")
            bar.update(1)
    finally:
        bar.close()
    return outcomes


def run_cell(
    cell: Cell, key: str, ctx: RunContext, *, host: Host | None = None, dataset: Dataset | None = None,
    method: Method | None = None, frames: dict[tuple[str, str], pd.DataFrame] | None = None,
) -> CellOutcome:
    """Fit and run the cell's method on its split, validate and store the predictions.

    The single place a cell's method is fitted and predicts. ``dataset``, ``method`` and
    ``frames`` (splits keyed by (dataset label, split)) are the plan's, reused in this process;
    a worker passes none and builds them from ``cell``'s specs (``host`` defaults to its own
    :func:`evalkit.plugins.get_host`), loading splits cut to ``ctx.limit`` rows.

    Raises:
        PluginError: the method returned the wrong number of scores or non-finite scores.
        EvalkitError: anything the dataset or method raises for bad input.
    """
    from evalkit.encoding import bind_method, run_encoder_outputs
    from evalkit.plugins import get_host

    t0 = time.perf_counter()
    if dataset is None or method is None:
        host = host or get_host()
        dataset = create_dataset(host, cell.dataset)
        method = create_method(host, cell.method, device=ctx.device)
    load = _loader(cell, dataset, ctx, frames or {})
    encoders = ctx.encoders or run_encoder_outputs((), cache_dir=ctx.embeddings_dir, readonly=ctx.readonly)
    encoders.progress, encoded = ctx.progress and ctx.backend == "sequential", encoders.texts_encoded
    bind_method(method, encoders)
    try:
        pred, tune_pred = _fit_predict(cell, dataset, method, load)
    finally:
        encoders.progress = False
    inputs = json.loads(cell.inputs) if cell.inputs else None
    meta = {"cell": cell.label, "params": method.get_params(), "inputs": inputs}
    CellStore(ctx.cells_dir, readonly=ctx.readonly).save(key, pred, meta, tune_pred)
    return CellOutcome(key, pred, time.perf_counter() - t0, encoders.texts_encoded - encoded, False, tune_pred)


def _loader(cell: Cell, ds: Dataset, ctx: RunContext,
            frames: dict[tuple[str, str], pd.DataFrame]) -> Callable[[str], pd.DataFrame]:
    """A split of ``ds`` by name: from ``frames``, else loaded and cut to ``ctx.limit`` rows."""
    def load(split: str) -> pd.DataFrame:
        from evalkit.inputs import load_split
        from evalkit.plan import cut

        frame = frames.get((cell.dataset.label, split))
        return cut(load_split(ds, split, ctx.data_dir), ctx.limit) if frame is None else frame

    return load


def _fit_predict(cell: Cell, ds: Dataset, method: Method,
                 load: Callable[[str], pd.DataFrame]) -> tuple[np.ndarray, np.ndarray | None]:
    """``(predictions, tuning-split predictions or None)`` of the fitted method."""
    frame = load(cell.split)
    where = f"method {cell.method.label!r} on {cell.dataset.label}/{cell.split}"
    plugin_call(method, "fit", method.fit, frame[["sentence1", "sentence2"]], cell=cell.label)
    if ds.task_type == CLASSIFICATION:
        fit_classifier(method, ds, load, where, cell=cell.label)
    n_classes = len(ds.class_names) or None
    pred = checked_predict(method, frame, where, cell=cell.label, n_classes=n_classes)
    tune_pred = None
    if cell.tune_split:
        # The same fitted instance scores the validation pairs that tuned metrics fit on.
        tune_pred = checked_predict(method, load(cell.tune_split), f"{where} (scoring {cell.tune_split} for tuning)",
                                    cell=f"{cell.label} (tuning rows of {cell.tune_split})", n_classes=n_classes)
    return pred, tune_pred


def fit_classifier(method: Any, ds: Dataset, load: Any, where: str, *, cell: str | None = None) -> None:
    """Fit a classification method on the dataset's labelled ``train_split`` (and ``dev_split``).

    Raises:
        ConfigError: the method is not a :class:`~evalkit.classification.ClassificationMethod`.
        PluginError: the dataset declares no ``train_split`` or ``class_names``; ``fit_labelled``
            raised or did not return self.
    """
    from evalkit.classification import ClassificationMethod, LabelledData
    from evalkit.errors import ConfigError

    if not isinstance(method, ClassificationMethod):
        raise ConfigError(f"{where}: {ds.display_name!r} is a classification dataset, but the method is not a "
                          f"classification method (its task types: {list(method.task_types)})")
    if not ds.train_split or not ds.class_names:
        raise PluginError(f"classification dataset {ds.display_name!r} must declare train_split and class_names")
    cols = ["sentence1", "sentence2", "label"]
    dev = load(ds.dev_split)[cols] if ds.dev_split else None
    data = LabelledData(load(ds.train_split)[cols], tuple(ds.class_names), dev)
    fitted = plugin_call(method, "fit_labelled", method.fit_labelled, data, cell=cell)
    if fitted is not method:
        raise PluginError(f"{where}: fit_labelled() must return self")


def checked_predict(
    method: Any, frame: Any, where: str, *, cell: str | None = None, n_classes: int | None = None
) -> np.ndarray:
    """``method.predict`` on ``frame``'s pairs, checked: one finite real score per pair (float64),
    or, for a classification method (``n_classes`` given), class probabilities of shape
    ``(len(frame), n_classes)`` validated by :func:`evalkit.classification.as_probabilities`.

    Raises:
        PluginError: ``predict`` raised or called ``sys.exit``; it returned something that is not a
            1-D array of real numbers (complex, text, 2-D), the wrong number of scores, or NaN/inf
            (naming the rows); for probabilities, any failed check of ``as_probabilities``. The
            message names plugin, distribution, version, method and cell.
    """
    from evalkit.inputs import real_scores

    raw = plugin_call(method, "predict", method.predict, frame[["sentence1", "sentence2"]], cell=cell)
    ctx = {**origin(method), "cell": cell}
    if n_classes is not None:
        from evalkit.classification import as_probabilities

        try:
            return as_probabilities(raw, n_rows=len(frame), n_classes=n_classes, what=f"{where} predictions")
        except EvalkitError as exc:
            raise PluginError(f"{describe(ctx)}: {exc}", call="predict", **ctx) from None
    problem, pred = real_scores(raw, len(frame))
    if problem:
        raise PluginError(f"{describe(ctx)}: predict returned {problem}", call="predict", **ctx)
    return pred
