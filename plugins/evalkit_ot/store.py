"""Prepared texts' token arrays in shared memory, so worker processes read them where they lie.

:func:`~evalkit_ot.solver.prepare` writes a text's token vectors, squared norms and masses into
this process's :data:`STORE` (one copy, at preparation, as it would write them into private
memory) rather than into private arrays. The exact process path
(:func:`evalkit_ot.procs.solve_processes`) then hands its worker processes token ranges into the
store's files and copies nothing per call; a text prepared once serves every pair and every call
it takes part in. Without it, every call would copy the token vectors of the pairs it hands
over (on the STS-B test set, about a third of the call's time on 2 cores).

One :class:`Slab` per vector size ``d``: three growing files in ``/dev/shm`` (memory; or
``JOBLIB_TEMP_FOLDER``): ``points`` float64 ``(rows, d)``, ``sqnorm`` and ``mass`` float64
``(rows,)``; a text takes the next free rows. Rows are never reused while an array that views
them is alive: each placed array is tracked by a weak reference, and a slab whose arrays are all
gone starts over from row 0 (kept for reuse up to :data:`KEEP_EMPTY` bytes, else its files are
removed). The files are registered with loky's resource tracker (as joblib does), which removes
them if the process dies; they are also removed at exit. A forked child leaves its parent's
slabs alone and starts its own.

Where no shared folder exists or it is full (``posix_fallocate`` fails: a small ``/dev/shm`` in a
container), or the system lacks ``posix_fallocate`` or ``fcntl`` (:data:`SUPPORTED`: not
Linux), :meth:`Store.place` returns ``None`` and the text keeps private arrays; the process
path then copies what it hands over (:mod:`evalkit_ot.handover`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import mmap
import os
import threading
import weakref

import numpy as np

from evalkit_ot.arena import mapped, temp_root

#: Whether this system has what the slabs and the chunk queue (:mod:`evalkit_ot.claim`) use:
#: ``posix_fallocate`` and ``fcntl.flock`` (Linux). Elsewhere texts keep private arrays.
SUPPORTED = hasattr(os, "posix_fallocate") and importlib.util.find_spec("fcntl") is not None
#: The three files of a slab, in this order.
FILES = ("points", "sqnorm", "mass")
#: Rows of a new slab (it doubles when full).
FIRST_ROWS = 1024
#: An empty slab up to this many bytes is kept for the next texts (no new files, no new pages).
KEEP_EMPTY = 64 * 2**20
#: What a worker needs to map a slab: ``(paths of FILES, rows, d)``.
SlabLayout = tuple[tuple[str, str, str], int, int]


class Slab:
    """The shared rows of one vector size, in this process: three files grown by doubling."""

    def __init__(self, dim: int, root: str) -> None:
        import tempfile

        self.dim = dim
        self.rows = self.used = self.live = 0
        # Per placed text, by its number: (first row, rows) and (mass sum, largest squared norm).
        self.count = 0
        self.spans = np.zeros((0, 2), dtype=np.int64)
        self.sums = np.zeros((0, 2))
        self.owner = os.getpid()
        self.refs: dict[int, weakref.ref] = {}  # by id: a reference to an array is not hashable
        self.arrays: tuple[np.ndarray, ...] = ()
        self.maps: tuple[mmap.mmap, ...] = ()
        self.fds: list[int] = []
        self.paths: list[str] = []
        from joblib.externals.loky.backend import resource_tracker

        try:
            for name in FILES:
                fd, path = tempfile.mkstemp(prefix=f"evalkit-ot-{name}-", suffix=".bin", dir=root)
                self.fds.append(fd)
                self.paths.append(path)
                resource_tracker.register(path, "file")
        except OSError:
            self.release()
            raise

    def grow(self, rows: int) -> None:
        """Room for ``rows`` rows (the files keep what they hold).

        Raises:
            OSError: no room left in the folder.
        """
        widths = (self.dim, 1, 1)
        for fd, width in zip(self.fds, widths, strict=True):
            os.posix_fallocate(fd, 0, 8 * width * rows)
        self.maps = tuple(mmap.mmap(fd, 8 * w * rows) for fd, w in zip(self.fds, widths, strict=True))
        flat = [np.frombuffer(m, dtype=np.float64) for m in self.maps]
        self.arrays = (flat[0].reshape(rows, self.dim), flat[1], flat[2])  # points 2-D, even for d = 1
        self.rows = rows

    def layout(self) -> SlabLayout:
        """What a worker needs to map the slab now (:func:`slab_views`)."""
        return (self.paths[0], self.paths[1], self.paths[2]), self.rows, self.dim

    def place(self, points: np.ndarray, sqnorm: np.ndarray,
              mass: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], int]:
        """Copy one text's arrays into the next free rows; returns the slab's views of them
        (each tracked until it and every view of it is gone) and the text's number, under which
        :attr:`spans` and :attr:`sums` describe it.

        Raises:
            OSError: no room left to grow.
        """
        n = points.shape[0]
        if self.used + n > self.rows:
            self.grow(max(2 * self.rows, self.used + n, FIRST_ROWS))
        if self.count == len(self.spans):
            more = max(256, 2 * self.count)
            self.spans = np.concatenate([self.spans, np.zeros((more, 2), dtype=np.int64)])
            self.sums = np.concatenate([self.sums, np.zeros((more, 2))])
        row, number = self.used, self.count
        self.used += n
        self.count += 1
        self.live += 3  # before the views exist: a collection meanwhile cannot empty the slab
        out = []
        for k, (buf, width, part) in enumerate(zip(self.maps, (self.dim, 1, 1), (points, sqnorm, mass),
                                                   strict=True)):
            # A fresh array of the mmap per text (its views keep it, not the slab's whole array),
            # so its weak reference dies with the last view of this text's rows.
            flat = np.frombuffer(buf, dtype=np.float64, count=n * width, offset=8 * width * row)
            flat[:] = part.reshape(-1)
            ref = weakref.ref(flat, self._dead)
            self.refs[id(ref)] = ref
            out.append(flat.reshape(n, width) if k == 0 else flat)
        self.spans[number] = row, n
        self.sums[number] = float(out[2].sum()), float(out[1].max())  # as prepare computes them
        return (out[0], out[1], out[2]), number

    def _dead(self, ref: weakref.ref) -> None:
        with STORE.lock:
            self.refs.pop(id(ref), None)
            self.live -= 1
            if self.live == 0 and self.owner == os.getpid():
                if 8 * self.rows * (self.dim + 2) <= KEEP_EMPTY:
                    self.used = self.count = 0
                else:
                    STORE.drop(self)

    def release(self) -> None:
        """Close and remove the files (arrays still alive keep their memory until they go)."""
        from joblib.externals.loky.backend import resource_tracker

        self.arrays, self.maps = (), ()
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = []
        paths, self.paths = self.paths, []  # once: at exit the store and the last arrays both release
        if self.owner == os.getpid():
            for path in paths:
                resource_tracker.unregister(path, "file")
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


class Store:
    """This process's slabs, one per vector size."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.slabs: dict[int, Slab] = {}
        self._hooked = False
        # A slab emptied by a collection during place() (this thread, re-entering the lock),
        # possibly inside a call to loky's resource tracker: removed when place() is done.
        self._placing = False
        self._retired: list[Slab] = []

    def place(self, points: np.ndarray, sqnorm: np.ndarray,
              mass: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[Slab, int]] | None:
        """One text's ``points`` ``(n, d)``, ``sqnorm`` and ``mass`` ``(n,)`` (float64) copied
        into shared memory: the shared arrays and their home ``(slab, text number)``, or ``None``
        where there is no shared folder or no room (keep the private arrays)."""
        root = temp_root()
        if root is None or not SUPPORTED:
            return None
        dim = int(points.shape[1])
        with self.lock:
            self._placing = True
            try:
                slab = self.slabs.get(dim)
                if slab is None:
                    self._hook()
                    slab = self.slabs[dim] = Slab(dim, root)
                arrays, number = slab.place(points, sqnorm, mass)
            except OSError:
                return None
            finally:
                self._placing = False
                while self._retired:
                    self._retired.pop().release()
            return arrays, (slab, number)

    def drop(self, slab: Slab) -> None:
        """Forget ``slab`` and remove its files (its arrays are all gone); during :meth:`place`,
        once it is done."""
        with self.lock:
            if self.slabs.get(slab.dim) is slab:
                del self.slabs[slab.dim]
            if self._placing:
                self._retired.append(slab)
            else:
                slab.release()

    def release(self) -> None:
        """Remove every slab's files (at exit)."""
        with self.lock:
            for slab in [*self.slabs.values(), *self._retired]:
                slab.release()
            self.slabs.clear()
            self._retired.clear()

    def _hook(self) -> None:
        """Remove the files at exit: normal exits (atexit) and multiprocessing's children
        (which skip atexit, but run its finalizers)."""
        if not self._hooked:
            import atexit
            from multiprocessing import util

            atexit.register(self.release)
            util.Finalize(None, self.release, exitpriority=0)
            self._hooked = True

    def _forget(self) -> None:
        """In a forked child: the parent's slabs are not ours to grow, write or remove."""
        self.lock = threading.RLock()
        self.slabs = {}
        self._retired = []
        self._placing = False
        self._hooked = False  # multiprocessing clears its finalizers in a child


#: This process's store.
STORE = Store()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=STORE._forget)


def slab_views(layout: SlabLayout) -> dict[str, np.ndarray]:
    """The arrays ``points``, ``sqnorm``, ``mass`` of a slab: in the process that owns it, its
    own; in a worker, read-only views of its files' mappings (:func:`evalkit_ot.arena.mapped`:
    kept for later calls, mapped again when the slab has grown or was replaced): ``points``
    float64 ``(rows, d)``, ``sqnorm`` and ``mass`` float64 ``(rows,)``.

    Raises:
        FileNotFoundError: the owner has removed the slab (none of its texts is alive).
    """
    paths, rows, dim = layout
    with STORE.lock:
        slab = STORE.slabs.get(dim)
        if slab is not None and slab.paths[0] == paths[0] and slab.rows >= rows:
            return dict(zip(FILES, slab.arrays, strict=True))
    flat = [np.frombuffer(mapped(path, 8 * width * rows, "r"), dtype=np.float64, count=width * rows)
            for path, width in zip(paths, (dim, 1, 1), strict=True)]
    return dict(zip(FILES, (flat[0].reshape(rows, dim), flat[1], flat[2]), strict=True))
