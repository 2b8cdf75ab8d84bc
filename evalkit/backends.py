"""Execution backends for cells, through existing engines (no scheduler of our own).

- ``sequential`` (default): cells run one after another in this process.
- ``processes``: ``joblib.Parallel`` with the loky backend and ``n_jobs=jobs``; outcomes are
  yielded as cells finish (``return_as="generator_unordered"``).
- ``dask``: a Dask distributed ``Client`` for ``scheduler`` (an address such as
  ``tcp://10.0.0.5:8786``), or a ``LocalCluster`` with ``jobs`` single-threaded worker processes
  when no address is given; cells are submitted as futures and yielded with
  ``distributed.as_completed``.

Results do not depend on the backend: every cell is computed by the same function
(:func:`evalkit.execute.run_cell`) from the same inputs, and scores are computed afterwards in
the calling process. The sequential backend reuses the plan's built components and loaded splits;
workers rebuild them from the cells' specs.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.cells import Cell, CellOutcome
from evalkit.errors import ConfigError

if TYPE_CHECKING:
    from evalkit.execute import RunContext
    from evalkit.plan import Plan
    from evalkit.plugins import Host

BACKENDS = ("sequential", "processes", "dask")


def run_cells(
    todo: list[tuple[Cell, str]],
    ctx: RunContext,
    *,
    host: Host | None = None,
    plan: Plan | None = None,
) -> Iterator[tuple[Cell, CellOutcome]]:
    """Compute ``todo`` cells (with their keys) on ``ctx.backend``; yield ``(cell, outcome)`` as they finish.

    Each cell goes through :func:`evalkit.execute.run_cell` with ``ctx``. ``host`` and ``plan``
    (its built datasets and methods, its loaded splits) are used by the sequential backend only;
    worker processes build their own from the cells' specs.

    Raises:
        ConfigError: unknown backend, ``jobs`` < 1, or dask not installed / scheduler unreachable.
    """
    from evalkit.execute import run_cell

    if ctx.backend not in BACKENDS:
        raise ConfigError(f"unknown backend {ctx.backend!r}; choose one of {', '.join(BACKENDS)}")
    if ctx.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {ctx.jobs}")
    if not todo:
        return
    if ctx.backend == "sequential":
        for cell, key in todo:
            built: dict[str, Any] = {}
            if plan is not None:
                built = {"dataset": plan.datasets[cell.dataset.label][1], "method": plan.methods[cell.method.label][1],
                         "frames": plan.frames}
            yield cell, run_cell(cell, key, ctx, host=host, **built)
    elif ctx.backend == "processes":
        yield from _joblib(todo, ctx.jobs, ctx.for_workers())
    else:
        yield from _dask(todo, ctx.jobs, ctx.scheduler, ctx.for_workers())


@dataclass
class _Failure:
    """An exception raised in a worker, sent back as a value with its traceback text.

    Workers return failures instead of raising them, so neither joblib nor Dask prints or logs a
    traceback: the calling process re-raises the original exception and the CLI applies the
    exit-code contract (no traceback for user and plugin errors).
    """

    error: BaseException
    detail: str


def _worker(cell: Cell, key: str, ctx: RunContext) -> tuple[Cell, CellOutcome | _Failure]:
    import traceback

    from evalkit.execute import run_cell

    try:
        return cell, run_cell(cell, key, ctx)
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as exc:
        detail = getattr(exc, "detail", None) or "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__))
        try:
            pickle.dumps(exc)
        except Exception:  # an exception that cannot cross the process boundary
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return cell, _Failure(exc, detail)


def _unwrap(item: tuple[Cell, CellOutcome | _Failure]) -> tuple[Cell, CellOutcome]:
    cell, out = item
    if isinstance(out, _Failure):
        with contextlib.suppress(AttributeError):
            out.error.detail = out.detail  # type: ignore[attr-defined]
        raise out.error
    return cell, out


def _joblib(todo: list[tuple[Cell, str]], jobs: int, ctx: RunContext) -> Iterator[tuple[Cell, CellOutcome]]:
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    for item in parallel(delayed(_worker)(cell, key, ctx) for cell, key in todo):
        yield _unwrap(item)


def _dask_task(cell: Cell, key: str, ctx: RunContext) -> tuple[Cell, CellOutcome | _Failure]:
    return _worker(cell, key, ctx)


def _dask(
    todo: list[tuple[Cell, str]], jobs: int, scheduler: str | None, ctx: RunContext
) -> Iterator[tuple[Cell, CellOutcome]]:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("the dask backend needs dask[distributed]: pip install 'evalkit[dask]'") from None
    with distributed_logs_at_our_level():
        yield from _on_cluster(todo, jobs, scheduler, ctx)


def _on_cluster(
    todo: list[tuple[Cell, str]], jobs: int, scheduler: str | None, ctx: RunContext
) -> Iterator[tuple[Cell, CellOutcome]]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="20s")
        else:
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
    except OSError as exc:
        raise ConfigError(f"cannot reach the dask scheduler {scheduler!r}: {exc}") from None
    try:
        futures = [client.submit(_dask_task, cell, key, ctx, key=f"evalkit-cell-{key}", pure=False)
                   for cell, key in todo]
        for fut in as_completed(futures):
            yield _unwrap(fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def distributed_logs_at_our_level() -> Iterator[None]:
    """Within the block (a run on the dask backend), this process's ``distributed`` loggers emit
    nothing below the root logger's level (the CLI's ``-v`` count: WARNING by default, INFO with
    ``-v``). distributed configures its own stderr handler at INFO, and a closed connection is
    logged at INFO with a traceback (``batched.py``: "Batched Comm Closed", seen while a local
    cluster closed), which must not reach a user who did not ask for it."""
    import logging

    logger = logging.getLogger("distributed")
    old = logger.level
    logger.setLevel(max(logger.getEffectiveLevel(), logging.getLogger().getEffectiveLevel()))
    try:
        yield
    finally:
        logger.setLevel(old)


def data_path(p: Path | None) -> Path | None:
    """Absolute path for sending to workers (their working directory may differ)."""
    return None if p is None else Path(p).expanduser().resolve()
