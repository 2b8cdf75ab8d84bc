"""Packed token vectors in one shared-memory file that worker processes map by path.

The exact process path (:mod:`evalkit_ot.procs`) copies the token vectors, squared norms and
masses of every distinct document of a call into one float64 file, once, and hands the workers
index ranges; they map the file and compute the cost matrices themselves (and, for a claimed
plan, :mod:`evalkit_ot.claim`, write their values into it). Nothing of
the vectors is pickled per pair.

The file is kept between calls and rewritten in place: writing into fresh shared memory costs
a page fault per 4 KiB (on a 2-core machine about 140 ms for the 103 MB of the STS-B test set's
MiniLM token vectors, against about 17 ms to overwrite pages already mapped), and the workers
keep their mapping too. It is replaced by a larger one when a call needs more room (or a much
smaller one when a call needs well under a quarter of it), and removed by :func:`release` (called by
:func:`evalkit_ot.procs.shutdown` and at exit). It lives in ``JOBLIB_TEMP_FOLDER``, else
``/dev/shm`` (memory), else the system's temporary folder (also when ``/dev/shm`` has no room:
the space is reserved with ``posix_fallocate`` first, so a full ``/dev/shm`` is an ``OSError``
and not a crash on write). The file is registered with loky's resource tracker (as joblib does
with its memory-mapped arrays), which removes it if the calling process dies.

A call names its arrays (:data:`Fields`: name, shape, 8-byte dtype); they are laid out one after
the other from byte 0, C-order, and :func:`views` rebuilds them in a worker from the
:data:`Layout` the call hands over (a few hundred bytes).
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Literal

import numpy as np

#: What the workers need to map a call's arrays: ``(path, call number, fields)``, each field
#: ``(name, dtype, shape)``, laid out in this order from byte 0 (all 8-byte types).
Layout = tuple[str, int, tuple[tuple[str, str, tuple[int, ...]], ...]]
#: Arrays of a call: ``{name: (shape, dtype)}``.
Fields = dict[str, tuple[tuple[int, ...], str]]


class Arena:
    """The calling process's side: one shared file, grown or shrunk on demand.

    :attr:`lock` must be held from :meth:`allocate` until the workers have returned: the next
    call overwrites the same memory.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.path: str | None = None
        self.capacity = 0  # bytes
        self.map: np.memmap | None = None
        self.calls = 0
        self._hooked = False
        self._owner = 0  # the pid that created the file (a forked child must not remove it)

    def allocate(self, fields: Fields) -> tuple[Layout, dict[str, np.ndarray]]:
        """Room for ``fields`` (8-byte dtypes); returns the layout for the workers and writable
        views to fill.

        Raises:
            OSError: no folder has room for the file.
        """
        spec = tuple((name, np.dtype(dt).str, tuple(int(x) for x in shape))
                     for name, (shape, dt) in fields.items())
        need = sum(8 * int(np.prod(shape)) for _, _, shape in spec)
        size = need * 5 // 4 + 8192  # room to grow a little without a new file
        if self.map is None or need > self.capacity or size < self.capacity // 4:
            self._replace(size)
        assert self.map is not None and self.path is not None
        self.calls += 1
        layout = (self.path, self.calls, spec)
        return layout, _views(self.map, spec)

    def _replace(self, nbytes: int) -> None:
        self.release()
        if not self._hooked:
            import atexit

            atexit.register(self.release)
            self._hooked = True
        root = temp_root()
        try:
            path = _create(root, nbytes)
        except OSError:  # /dev/shm too small (containers): the system's temporary folder
            if root is None:
                raise
            path = _create(None, nbytes)
        self.path, self.capacity, self._owner = path, nbytes, os.getpid()
        self.map = np.memmap(path, dtype=np.uint8, mode="r+", shape=(nbytes,))
        _OWN[path] = self

    def release(self) -> None:
        """Remove the file (the next :meth:`allocate` creates a new one). In a forked child, only
        forget it: the file belongs to the parent."""
        if self.path is None:
            return
        from joblib.externals.loky.backend import resource_tracker

        self.map = None
        path, self.path, self.capacity = self.path, None, 0
        _OWN.pop(path, None)
        if self._owner != os.getpid():
            return
        resource_tracker.unregister(path, "file")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _views(buf: np.ndarray, spec: tuple[tuple[str, str, tuple[int, ...]], ...]) -> dict[str, np.ndarray]:
    out, pos = {}, 0
    for name, dt, shape in spec:
        count = int(np.prod(shape))
        out[name] = np.frombuffer(buf, dtype=dt, count=count, offset=pos).reshape(shape)
        pos += 8 * count
    return out


def temp_root() -> str | None:
    """Where the shared files go: ``JOBLIB_TEMP_FOLDER``, else ``/dev/shm`` (memory) where it
    exists, else ``None`` (the system's temporary folder)."""
    root = os.environ.get("JOBLIB_TEMP_FOLDER")
    if root:
        return root
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _create(root: str | None, nbytes: int) -> str:
    """A new file of ``nbytes`` in ``root``, its space reserved, registered with loky's
    resource tracker."""
    import tempfile

    from joblib.externals.loky.backend import resource_tracker

    fd, path = tempfile.mkstemp(prefix="evalkit-ot-", suffix=".bin", dir=root)
    try:
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(fd, 0, nbytes)
        else:  # pragma: no cover - not Linux
            os.ftruncate(fd, nbytes)
    except OSError:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)
    resource_tracker.register(path, "file")
    return path


#: The files of this process's arenas, by path (their own mappings serve :func:`views` here).
_OWN: dict[str, Arena] = {}
#: The arena of this process (the calling side).
ARENA = Arena()
#: The arena of the claimed plans (:mod:`evalkit_ot.claim`): small, so that a plan does not
#: replace the token arrays a k-NN search or the copy path keeps in :data:`ARENA`.
PLANS = Arena()
#: The files a worker has mapped (:func:`mapped`), ``{path: (inode, bytes)}``, most recent last
#: (at most :data:`KEEP_MAPPED`; a removed file's mapping is dropped at the next call).
_MAPPED: dict[str, tuple[int, np.ndarray]] = {}
#: Mappings a worker keeps: enough that the files of one call (an arena's, and the three of each
#: texts' slab, :mod:`evalkit_ot.store`) and of another caller (a second thread, a benchmark's
#: own file) do not unmap each other at every call (a page fault per 4 KiB to map again).
KEEP_MAPPED = 8


def mapped(path: str, nbytes: int = 0, mode: Literal["r", "r+"] = "r+") -> np.ndarray:
    """The whole file ``path`` as uint8, a mapping shared with its owner (``mode`` ``"r+"``
    writable, ``"r"`` read-only) and kept for later calls: mapped again when the file was
    replaced (another inode under the name) or the kept mapping is shorter than ``nbytes`` (the
    file has grown).

    Raises:
        FileNotFoundError: the owner has removed the file.
    """
    inode = os.stat(path).st_ino
    kept = _MAPPED.pop(path, None)
    for old in [p for p in _MAPPED if not os.path.exists(p)]:  # removed by its owner
        del _MAPPED[old]
    if kept is None or kept[0] != inode or kept[1].size < nbytes:
        while len(_MAPPED) >= KEEP_MAPPED:
            del _MAPPED[next(iter(_MAPPED))]
        kept = (inode, np.memmap(path, dtype=np.uint8, mode=mode))
    _MAPPED[path] = kept  # most recent last
    return kept[1]


def views(layout: Layout) -> dict[str, np.ndarray]:
    """The arrays of a call: in a worker a shared writable mapping (kept for later calls, see
    :data:`KEEP_MAPPED`); in the process that wrote them (:data:`ARENA`, :data:`PLANS`), its own
    mapping."""
    path, _, spec = layout
    own = _OWN.get(path)
    if own is not None and own.map is not None and own._owner == os.getpid():
        return _views(own.map, spec)
    return _views(mapped(path), spec)  # writable: the processes write a plan's values
