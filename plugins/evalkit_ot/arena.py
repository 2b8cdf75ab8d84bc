"""Packed token vectors in one shared-memory file that worker processes map by path.

The exact process path (:mod:`evalkit_ot.procs`) copies the token vectors, squared norms and
masses of every distinct document of a call into one float64 file, once, and hands the workers
index ranges; they map the file read-only and compute the cost matrices themselves. Nothing of
the vectors is pickled per pair.

The file is kept between calls and rewritten in place: writing into fresh shared memory costs
a page fault per 4 KiB (on a 2-core machine about 140 ms for the 103 MB of the STS-B test set's
MiniLM token vectors, against about 17 ms to overwrite pages already mapped), and the workers
keep their mapping too. It is replaced by a larger one when a call needs more room (or a much
smaller one when a call needs under a quarter of it), and removed by :func:`release` (called by
:func:`evalkit_ot.procs.shutdown` and at exit). It lives in ``JOBLIB_TEMP_FOLDER``, else
``/dev/shm`` (memory), else the system's temporary folder (also when ``/dev/shm`` has no room:
the space is reserved with ``posix_fallocate`` first, so a full ``/dev/shm`` is an ``OSError``
and not a crash on write). The file is registered with loky's resource tracker (as joblib does
with its memory-mapped arrays), which removes it if the calling process dies.

Layout of a call (``(path, tokens, dim)``): ``points`` float64 ``(tokens, dim)``, then
``sqnorm`` and ``mass`` float64 ``(tokens,)``, all C-order from byte 0.
"""

from __future__ import annotations

import os
import threading

import numpy as np

#: What the workers need to map a call's arrays: ``(path, tokens, dim)``.
Layout = tuple[str, int, int]


class Arena:
    """The calling process's side: one shared file, grown or shrunk on demand.

    :attr:`lock` must be held from :meth:`allocate` until the workers have returned: the next
    call overwrites the same memory.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.path: str | None = None
        self.capacity = 0  # float64 entries
        self.map: np.memmap | None = None
        self._hooked = False

    def allocate(self, tokens: int, dim: int) -> tuple[Layout, dict[str, np.ndarray]]:
        """Room for ``tokens`` token rows of ``dim`` floats; returns the layout for the workers
        and writable views ``points``, ``sqnorm``, ``mass`` to fill.

        Raises:
            OSError: no folder has room for the file.
        """
        need = tokens * (dim + 2)
        if self.map is None or need > self.capacity or need < self.capacity // 4:
            self._replace(max(need, 1) * 5 // 4 + 1024)
        assert self.map is not None and self.path is not None
        pts = self.map[: tokens * dim].reshape(tokens, dim)
        sq = self.map[tokens * dim : tokens * (dim + 1)]
        mass = self.map[tokens * (dim + 1) : need]
        return (self.path, tokens, dim), {"points": pts, "sqnorm": sq, "mass": mass}

    def _replace(self, entries: int) -> None:
        self.release()
        if not self._hooked:
            import atexit

            atexit.register(self.release)
            self._hooked = True
        root = temp_root()
        try:
            path = _create(root, entries)
        except OSError:  # /dev/shm too small (containers): the system's temporary folder
            if root is None:
                raise
            path = _create(None, entries)
        self.path, self.capacity = path, entries
        self.map = np.memmap(path, dtype=np.float64, mode="r+", shape=(entries,))

    def release(self) -> None:
        """Remove the file (the next :meth:`allocate` creates a new one)."""
        if self.path is None:
            return
        from joblib.externals.loky.backend import resource_tracker

        self.map = None
        path, self.path, self.capacity = self.path, None, 0
        resource_tracker.unregister(path, "file")
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def temp_root() -> str | None:
    """Where the shared files go: ``JOBLIB_TEMP_FOLDER``, else ``/dev/shm`` (memory) where it
    exists, else ``None`` (the system's temporary folder)."""
    root = os.environ.get("JOBLIB_TEMP_FOLDER")
    if root:
        return root
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _create(root: str | None, entries: int) -> str:
    """A new file of ``entries`` float64 in ``root``, its space reserved, registered with loky's
    resource tracker."""
    import tempfile

    from joblib.externals.loky.backend import resource_tracker

    fd, path = tempfile.mkstemp(prefix="evalkit-ot-", suffix=".f64", dir=root)
    try:
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(fd, 0, entries * 8)
        else:  # pragma: no cover - not Linux
            os.ftruncate(fd, entries * 8)
    except OSError:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)
    resource_tracker.register(path, "file")
    return path


#: The arena of this process (the calling side).
ARENA = Arena()
#: The file a worker has mapped: ``{path: array}``, one entry.
_MAPPED: dict[str, np.ndarray] = {}


def views(layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In a worker: the read-only ``points``, ``sqnorm``, ``mass`` of a call (the file's mapping
    is cached until a call names another file)."""
    path, tokens, dim = layout
    arr = _MAPPED.get(path)
    if arr is None:
        _MAPPED.clear()
        arr = _MAPPED[path] = np.memmap(path, dtype=np.float64, mode="r")
    return (arr[: tokens * dim].reshape(tokens, dim), arr[tokens * dim : tokens * (dim + 1)],
            arr[tokens * (dim + 1) : tokens * (dim + 2)])
