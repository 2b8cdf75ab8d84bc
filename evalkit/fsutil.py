"""Writing files the way users expect: atomically, with the umask's permissions, checked up front.

``tempfile.mkstemp`` creates files readable by their owner only (0600) and ``mkdtemp`` folders
0700, whatever the umask; every file and folder evalkit writes through a temporary name therefore
gets :func:`apply_umask` before it is renamed into place, so results follow the umask like files
written by ``open`` (0644 and 0755 under the usual 022). :func:`check_writable` finds an
unwritable output, runs folder or cache *before* any work starts.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from evalkit.errors import ConfigError


def current_umask() -> int:
    """The process umask, read without changing it where ``/proc`` allows (not cached: it may change)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_umask(path: str | os.PathLike[str], *, folder: bool = False) -> None:
    """chmod ``path`` to 0666 (files) or 0777 (folders) minus the umask, as ``open``/``mkdir`` would."""
    os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        apply_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _probe(folder: Path) -> str | None:
    """``None`` if a file can be created in ``folder`` (created if missing), else the reason."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".evalkit-write-test-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def writable_folder(folder: Path) -> str | None:
    """``None`` when files can be written in ``folder`` (creating it), else why not."""
    return _probe(Path(folder).expanduser())


def check_writable(path: Path | str, *, what: str, is_file: bool) -> None:
    """Raise :class:`ConfigError` (exit 2) now if ``path`` (a file to write, or a folder) is unwritable.

    For a file, its folder must exist and accept new files, and ``path`` must not be a folder.
    """
    path = Path(path).expanduser()
    if is_file:
        if path.is_dir():
            raise ConfigError(f"{what} {path} is a folder, not a file")
        parent = path.parent
        if not parent.is_dir():
            raise ConfigError(f"{what} {path}: folder {parent} does not exist")
        why = _probe(parent)
    else:
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{what} {path} exists and is not a folder")
        why = _probe(path)
    if why:
        raise ConfigError(f"{what} {path} is not writable ({why}); nothing was computed. "
                          "Choose another location or fix its permissions.")
