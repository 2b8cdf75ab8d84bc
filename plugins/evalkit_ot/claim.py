"""Chunks of pairs claimed by the processes themselves from a plan in shared memory.

When every text of a call lies in one shared slab (:mod:`evalkit_ot.store`), nothing has to be
copied or handed over per chunk: the caller writes the plan into a small shared file
(:data:`evalkit_ot.arena.PLANS`: each pair's token ranges and mass sums in chunk order, the chunk
bounds, a slot for each value, and the queue's two ends), and every process claims chunks of it,
the workers from the front (the largest problems), the caller from the back, one chunk at a time
under an advisory lock on the file (``fcntl.flock``: a system call, a few microseconds), until
the two ends meet; each writes its values into the plan. No process waits on another to be
handed its next chunk: handing chunks over one by one through the pool costs the workers 0.3 ms
per chunk even with an idle caller, and several milliseconds when the caller's own work holds
its GIL (the pool's threads live in the caller).

The workers are submitted before the plan exists (:func:`started`) and wait on its lock, which
the caller holds while it plans, so loky's hand-over (about a millisecond) overlaps the planning.
The caller can publish the plan in parts (:meth:`Plan.publish`): a first part (a head) lets the
workers in while the caller plans the rest; until the last part, a worker that finds the queue
empty waits for more. Each worker counts itself out of the plan as it leaves, and the caller
returns once all have, watching the count rather than waiting for the pool to deliver the
workers' results.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from evalkit_ot.arena import PLANS, Layout, views
from evalkit_ot.store import SlabLayout, slab_views


@contextlib.contextmanager
def _opened(plan: Layout) -> Iterator[int]:
    """A descriptor of the plan's file, for its lock (:func:`_locked`)."""
    fd = os.open(plan[0], os.O_RDWR)
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


#: What :func:`claim` returns when the queue is empty for now but the caller may still add chunks.
WAIT = -1


def claim(fd: int, ends: np.ndarray, front: bool) -> int | None:
    """The next chunk from the front or the back of the queue ``ends`` (int64 ``[next from the
    front, one past the next from the back, 1 while the caller may still add chunks]``);
    :data:`WAIT` when the two ends have met while the caller may still add chunks, ``None``
    when they have met for good."""
    with _locked(fd):
        lo, hi = int(ends[0]), int(ends[1])
        if lo >= hi:
            return WAIT if ends[2] else None
        if front:
            ends[0] = lo + 1
            return lo
        ends[1] = hi - 1
        return hi - 1


def stop(fd: int, ends: np.ndarray) -> None:
    """Close the queue: no process claims another chunk, and none waits for more."""
    with _locked(fd):
        ends[0] = ends[1]
        ends[2] = 0


def leave(fd: int, gone: np.ndarray, failed: bool) -> None:
    """Count a worker out of the plan (``gone``: int64 ``[workers that have left, workers that
    failed]``): after this it neither reads nor writes the plan."""
    with _locked(fd):
        gone[0] += 1
        gone[1] += failed


def drain(slab: SlabLayout, plan: Layout, kind: str, max_iter: int, front: bool) -> int:
    """Claim and solve chunks of the plan until none is left (in a worker: ``front=True``; in the
    caller: ``front=False``), writing each pair's value into the plan; returns the number of
    chunks solved. While the caller may still add chunks (:meth:`Plan.publish`), an empty queue
    is waited on, looking again every :data:`POLL` seconds, unless the process that started
    this one has ended. A worker counts itself out of the plan as it returns (:func:`leave`).

    Raises:
        SolverError: a problem's simplex did not reach optimality (the queue is closed first).
    """
    from evalkit_ot.procs import solve_packed

    arr, tokens = views(plan), slab_views(slab)
    points, sqnorm, mass = tokens["points"], tokens["sqnorm"], tokens["mass"]
    bounds, rows, sums, values, ends = arr["bounds"], arr["rows"], arr["sums"], arr["values"], arr["ends"]
    done, failed, parent = 0, True, os.getppid()
    with _opened(plan) as fd:
        try:
            while (i := claim(fd, ends, front)) is not None:
                if i == WAIT:  # the caller is still writing the plan
                    if os.getppid() != parent:  # ... or has died (this process was handed on)
                        break
                    time.sleep(POLL)
                    continue
                lo, hi = int(bounds[i]), int(bounds[i + 1])
                values[lo:hi] = solve_packed(points, sqnorm, mass, kind, max_iter, rows[lo:hi], sums[lo:hi])
                done += 1
            failed = False
        except BaseException:
            stop(fd, ends)
            raise
        finally:
            if front:
                leave(fd, arr["gone"], failed)
    return done


#: Seconds between two looks of the caller at the workers' count (:func:`_all_left`).
POLL = 50e-6


def _all_left(fd: int, gone: np.ndarray, futures: list, processes: int) -> bool:
    """Wait until the ``processes`` workers have left the plan (``True``: all solved their
    chunks) or one of them has stopped otherwise (``False``: it failed, or its process died).
    ``fd``: the plan's file (:func:`_opened`), whose lock guards ``gone``.

    Watching the count in the plan rather than the futures saves the caller the pool's
    delivery of the workers' results: a message through a pipe to loky's thread in this
    process, which wakes the caller (about a millisecond on a 2-core machine)."""
    while True:
        with _locked(fd):  # (the lock also orders the reads of the values after the count)
            left, failed = int(gone[0]), int(gone[1])
        if failed:
            return False
        if left >= processes:
            return True
        if any(f.done() and (f.cancelled() or f.exception() is not None) for f in futures):
            return False
        time.sleep(POLL)


class Plan:
    """The caller's side of a plan whose workers are already submitted (:func:`started`).

    :meth:`publish` adds chunks of pairs, the first call letting the waiting workers in;
    :meth:`run` solves with them and returns the values. Handing the workers a first part (a
    head) while the caller still plans the rest keeps them busy during the planning."""

    def __init__(self, fd: int, arr: dict[str, np.ndarray], run: Callable[[], None], capacity: int) -> None:
        self.fd, self.arr, self._drain, self.capacity = fd, arr, run, capacity
        self.held, self.pairs, self.chunks, self.closed = True, 0, 0, False
        self.orders: list[np.ndarray] = []  # per publish: positions in its rows, in plan order

    def let_in(self) -> None:
        """Release the plan's lock, which the caller holds from the start."""
        if self.held:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.held = False

    def publish(self, rows: np.ndarray, sums: np.ndarray, cuts: list[np.ndarray], last: bool) -> None:
        """Add the pairs ``rows``/``sums`` (as :func:`evalkit_ot.pack.pack_pairs`) cut into the
        chunks ``cuts`` (positions into them) behind those already added; ``last``: no more will
        follow (the workers leave once the queue is empty). At most ``capacity`` pairs in all.

        Raises:
            ValueError: the plan is closed, or would exceed its capacity.
        """
        if self.closed:
            raise ValueError("the plan is closed: nothing can be added after the last part")
        order = np.concatenate(cuts) if cuts else np.empty(0, dtype=np.int64)
        k0, c0, k = self.pairs, self.chunks, order.size
        if k0 + k > self.capacity:
            raise ValueError(f"{k0 + k} pairs in a plan for {self.capacity}")
        arr = self.arr
        arr["rows"][k0 : k0 + k], arr["sums"][k0 : k0 + k] = rows[order], sums[order]
        np.cumsum([len(c) for c in cuts], out=arr["bounds"][c0 + 1 : c0 + 1 + len(cuts)])
        arr["bounds"][c0 + 1 : c0 + 1 + len(cuts)] += k0
        self.pairs, self.chunks, self.closed = k0 + k, c0 + len(cuts), last
        self.orders.append(order)
        with contextlib.nullcontext() if self.held else _locked(self.fd):
            arr["ends"][1], arr["ends"][2] = self.chunks, 0 if last else 1
        self.let_in()

    def run(self) -> np.ndarray:
        """Close the plan (if the last part is not published yet), drain its queue from the back
        too, and return every published pair's value once all workers have left: float64, the
        parts in publish order, each in its ``rows`` order."""
        if not self.closed:
            self.publish(self.arr["rows"][:0], self.arr["sums"][:0], [], last=True)
        self._drain()
        out, k0 = np.empty(self.pairs), 0
        for order in self.orders:
            out[k0 + order] = self.arr["values"][k0 : k0 + order.size]
            k0 += order.size
        return out


@contextlib.contextmanager
def started(slab: SlabLayout, capacity: int, kind: str, max_iter: int, pool: object,
            processes: int) -> Iterator[Plan]:
    """A plan for up to ``capacity`` pairs of texts in the slab ``slab``, its ``processes``
    workers already submitted to ``pool`` and waiting on the plan's lock, which the caller holds
    until it publishes the first part (:meth:`Plan.publish`): the pool's hand-over (about a
    millisecond on a 2-core machine) overlaps the caller's planning.

    Yields the :class:`Plan`. Leaving the block without :meth:`Plan.run` closes the plan: the
    workers finish the chunk in hand and leave. The first exception (from a worker or the
    caller) is raised after every worker has stopped (they read and write the plan).

    Raises:
        OSError: no folder has room for the plan's file (:meth:`evalkit_ot.arena.Arena.allocate`).
        SolverError: a problem's simplex did not reach optimality (from :meth:`Plan.run`).
    """
    from concurrent.futures import wait

    from evalkit_ot.batch import _blas_one_thread

    with PLANS.lock:  # held until every worker is done with the plan
        plan, arr = PLANS.allocate({
            "rows": ((capacity, 4), "i8"), "sums": ((capacity, 2), "f8"), "bounds": ((capacity + 1,), "i8"),
            "values": ((capacity,), "f8"), "ends": ((3,), "i8"), "gone": ((2,), "i8")})
        arr["ends"][:], arr["gone"][:], arr["bounds"][0] = [0, 0, 1], [0, 0], 0  # empty, more to come
        with _opened(plan) as fd:
            fcntl.flock(fd, fcntl.LOCK_EX)
            clean = False
            futures: list[Any] = []

            def run() -> None:
                nonlocal clean
                with _blas_one_thread():
                    drain(slab, plan, kind, max_iter, False)
                clean = _all_left(fd, arr["gone"], futures, processes)
                if not clean:
                    for future in futures:
                        future.result()  # raises the worker's exception
                    raise RuntimeError("a worker left the plan without solving its chunks or failing")

            caller = Plan(fd, arr, run, capacity)
            try:
                futures.extend(pool.submit(drain, slab, plan, kind, max_iter, True)  # type: ignore[attr-defined]
                               for _ in range(processes))
                yield caller
            finally:
                caller.let_in()
                if not clean:
                    stop(fd, arr["ends"])
                    wait(futures)
