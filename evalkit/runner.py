"""Run a suite: methods x datasets x splits, scored by metrics. Pure computation, no printing.

:func:`run_suite` is three steps: :func:`evalkit.plan.make_plan` (build every component once,
load every split once, key every cell), :func:`evalkit.execute.execute` (reuse stored cells,
compute the others on a backend) and :func:`evalkit.scoring.score` (one pure scorer, also used
by rescore, ``evalkit score FILE``, diff and check); the provenance is built by
:meth:`evalkit.provenance.Provenance.for_run`.

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
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.backends import data_path
from evalkit.cells import CellOutcome
from evalkit.execute import RunContext, execute
from evalkit.plan import Plan, check_task_types, make_plan, supervision_splits
from evalkit.provenance import Provenance
from evalkit.results import PREDICTION_COLUMNS, RunResult, prediction_frame
from evalkit.scoring import score
from evalkit.suite import Suite
from evalkit.tuning import FitData, check_tune_on

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.interfaces import Metric
    from evalkit.plugins import Host

__all__ = ["check_task_types", "run_suite", "score_predictions", "supervision_splits"]


def score_predictions(
    metric: Metric, label: str, predictions: object, references: object, *, tune_on: str = "dev",
    fit: FitData | None = None,
) -> tuple[float, dict[str, object]]:
    """Score with ``metric``; kept for callers of older versions: use :func:`evalkit.scoring.score_cell`."""
    from evalkit.scoring import score_cell

    return score_cell(metric, label, predictions, references, tune_on=tune_on, fit=fit)


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
    limit: int | None = None,
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
        tune_on: where tuned metrics fit: ``dev`` (the validation split, else ``cv``), ``cv``
            (cross-fitting on the evaluated rows) or ``self`` (the evaluated rows: the oracle).
        on_cell: called with one line of text when the computation starts and as each cell
            finishes (``[3/12] minilm-cosine on stsb/test: 41.2s, 2758 texts encoded``): the
            progress report where there is no terminal for bars.
        limit: load only the first ``limit`` rows of every split (evaluated, tuning, training),
            as lm-evaluation-harness's ``--limit``; part of every cell's key, recorded in the
            provenance and in every results row's ``note``. ``None``: whole splits.

    Raises:
        ConfigError: unknown names, a metric that fits none of the datasets, a bad backend or
            ``tune_on``; a ``limit`` that is not a positive integer.
        DataError: missing or malformed data files.
        PluginError: a component returned invalid output (wrong length, non-finite scores).
    """
    from evalkit.data import resolve_data_dir
    from evalkit.fingerprint import get_memo, save_memos
    from evalkit.plugins import get_host

    host = host or get_host()
    check_tune_on(tune_on)
    root = default_cache_root() if cache_dir == "default" else (Path(cache_dir) if cache_dir else None)
    ctx = RunContext(data_path(resolve_data_dir(data_dir)) or Path("."), root, cache_readonly(root), device, limit,
                     backend, jobs, scheduler, force, progress, on_cell)
    started, t0 = _dt.datetime.now(_dt.timezone.utc), time.perf_counter()
    plan = make_plan(suite, host, data_dir=ctx.data_dir, tune_on=tune_on, limit=limit, device=device,
                     memo=get_memo(root))
    save_memos()  # before any worker starts, so workers find the digests (a model is read once)
    outcomes = execute(plan, ctx, host)
    predictions = predictions_of(plan, outcomes)
    results = score(predictions, plan.metrics, plan.task_infos(), tune_on=tune_on, notes=plan.limit_notes())
    save_memos()
    provenance = Provenance.for_run(plan, outcomes, host=host, execution=ctx, started=started,
                                    seconds=time.perf_counter() - t0)
    return RunResult(results, predictions, provenance)


def predictions_of(plan: Plan, outcomes: dict[str, CellOutcome]) -> pd.DataFrame:
    """The per-example predictions of every cell, in cell order: a cell's tuning rows
    (``role="tune"``) and then its evaluated rows (``role="eval"``); see :mod:`evalkit.results`."""
    import numpy as np
    import pandas as pd

    parts: list[pd.DataFrame] = []
    for cell, key in plan.cells:
        ds = plan.datasets[cell.dataset.label][1]
        outcome = outcomes[key]
        frame = plan.frames[(cell.dataset.label, cell.split)]
        if cell.tune_split is not None and outcome.tune_predictions is not None:
            tune_frame = plan.frames[(cell.dataset.label, cell.tune_split)]
            parts.append(prediction_frame(
                outcome.tune_predictions, method=cell.method.label, dataset=cell.dataset.label,
                split=cell.tune_split, row=np.arange(len(tune_frame)), reference=tune_frame[ds.target].to_numpy(),
                role="tune",
            ))
        parts.append(prediction_frame(
            outcome.predictions, method=cell.method.label, dataset=cell.dataset.label, split=cell.split,
            row=np.arange(len(frame)), reference=frame[ds.target].to_numpy(), role="eval",
        ))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=PREDICTION_COLUMNS)


def _evalkit_version() -> str:
    from evalkit import __version__

    return __version__


def new_run_id() -> str:
    """``YYYYmmdd-HHMMSS-<6 hex>``: sortable and unique."""
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
