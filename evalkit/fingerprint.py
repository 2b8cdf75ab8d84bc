"""Fingerprints of what a prediction depends on: code, local files, hub revisions, libraries, device.

A stored cell or cached embedding is reused only when every input that can change its numbers is
unchanged. This module computes those inputs, cheaply enough to run on every ``evalkit compare``:

- **Code** (:func:`code_fingerprint`): the sha256 of every ``.py`` file of the package that
  defines a component and of the local packages it imports (an editable install, a folder on
  ``sys.path``), followed transitively; a package installed in ``site-packages`` is identified by its
  distribution's version instead, and the standard library by nothing. Of evalkit itself, the
  modules that touch data and predictions (:data:`CORE_MODULES`) and every evalkit module a
  component's code imports by name are hashed.
- **Local files and folders** (:func:`path_fingerprint`): the sha256 of a file's bytes, or of the
  sorted ``(relative path, sha256)`` list of a folder's files (``.git``, ``__pycache__`` and hidden
  folders skipped).
- **Hub revisions** (:func:`hub_revision`): the commit a model name resolves to in the Hugging Face
  hub cache (``refs/<revision>``), which names the snapshot folder that is loaded.
- **Library versions** (:func:`library_versions`): from the installed distributions' metadata.
- **Device** (:func:`auto_device`): where a method that was given no device will run.

File digests are memoised on ``(size, mtime_ns)`` per resolved path in a JSON file under the cache
folder (:class:`FingerprintMemo`), so a 100 MB model is read once, not on every run; a change that
keeps both size and ``mtime_ns`` (nanoseconds) is not seen, the same trade-off as ``make`` and
``git status``.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import os
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: evalkit modules whose code every prediction depends on: component bases and validation, data
#: location and parsing, the cell runner and the embedding cache.
CORE_MODULES = ("evalkit.interfaces", "evalkit.validation", "evalkit.data", "evalkit.cells", "evalkit.execute",
                "evalkit.cache", "evalkit.fingerprint")
_SKIP_DIRS = {".git", "__pycache__", ".cache", ".hg", ".svn"}
_MEMO_NAME = "fingerprints.json"


class FingerprintMemo:
    """sha256 digests (and parsed imports of source files) memoised on ``(size, mtime_ns)``.

    ``path=None`` keeps the memo in memory only. :meth:`save` writes it atomically; concurrent
    runs may overwrite each other's additions, which only costs a re-read.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._data: dict[str, list[Any]] = {}
        self._dirty = False
        if path is not None and path.is_file():
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(doc, dict) and doc.get("version") == 1 and isinstance(doc.get("files"), dict):
                    self._data = doc["files"]
            except (OSError, ValueError):
                self._data = {}

    def _lookup(self, path: Path, kind: str) -> tuple[str, os.stat_result, Any]:
        st = path.stat()
        key = f"{kind}:{path}"
        hit = self._data.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return key, st, hit[2]
        return key, st, None

    def file_sha256(self, path: Path) -> str:
        """sha256 hex digest of the file's bytes (``path`` already resolved)."""
        key, st, hit = self._lookup(path, "sha256")
        if hit is not None:
            return str(hit)
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        self._data[key] = [st.st_size, st.st_mtime_ns, h.hexdigest()]
        self._dirty = True
        return h.hexdigest()

    def source_imports(self, path: Path) -> list[list[Any]]:
        """``[[module, [names...]], ...]`` imported anywhere in a Python file (absolute imports only)."""
        key, st, hit = self._lookup(path, "imports")
        if hit is not None:
            return list(hit)
        found: list[list[Any]] = []
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, OSError):
            tree = None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Import):
                found.extend([alias.name, []] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append([node.module, [alias.name for alias in node.names]])
        self._data[key] = [st.st_size, st.st_mtime_ns, found]
        self._dirty = True
        return found

    def entries(self) -> int:
        return len(self._data)

    def save(self) -> None:
        """Write the memo if anything was added (atomically; errors are ignored: it is only a memo)."""
        if self.path is None or not self._dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.parent / f".part-{uuid.uuid4().hex}.json"  # created with the umask's mode
            with open(tmp, "x", encoding="utf-8") as fh:
                json.dump({"version": 1, "files": self._data}, fh, separators=(",", ":"))
            os.replace(tmp, self.path)
            self._dirty = False
        except OSError:
            with contextlib.suppress(OSError, UnboundLocalError):
                tmp.unlink()


_MEMOS: dict[str, FingerprintMemo] = {}


def get_memo(cache_root: Path | str | None = "default") -> FingerprintMemo:
    """The process's memo stored under ``cache_root`` (default: the user cache unless
    ``$EVALKIT_NO_CACHE``; ``None``: in memory only)."""
    if cache_root == "default":
        from evalkit.data import user_cache_dir

        cache_root = None if os.environ.get("EVALKIT_NO_CACHE") else user_cache_dir()
    key = "" if cache_root is None else str(Path(cache_root).resolve())
    if key not in _MEMOS:
        _MEMOS[key] = FingerprintMemo(Path(key) / _MEMO_NAME if key else None)
    return _MEMOS[key]


def save_memos() -> None:
    """Write every memo that gained entries in this process."""
    for memo in _MEMOS.values():
        memo.save()


# ------------------------------------------------------------------------------------------------
# Files and folders
# ------------------------------------------------------------------------------------------------
def path_fingerprint(path: str | os.PathLike[str], memo: FingerprintMemo | None = None) -> str:
    """``"file:<sha256>"`` of a file's bytes or ``"dir:<sha256>"`` of a folder's files.

    A folder's digest covers every file below it (symbolic links followed, as a model loader
    does) by relative path and content; ``.git``, ``__pycache__``, ``.cache`` and empty folders
    are skipped. Digests are memoised on ``(size, mtime_ns)`` in ``memo`` (default:
    :func:`get_memo`).

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    memo = memo or get_memo()
    p = Path(path).expanduser().resolve()
    if p.is_file():
        return "file:" + memo.file_sha256(p)
    if not p.is_dir():
        raise FileNotFoundError(str(path))
    h = hashlib.sha256()
    for root, dirs, files in os.walk(p, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            f = Path(root) / name
            rel = f.relative_to(p).as_posix()
            real = f.resolve()
            if real.is_file():
                h.update(f"{rel}\0{memo.file_sha256(real)}\n".encode())
    return "dir:" + h.hexdigest()


def looks_like_path(value: str) -> bool:
    """Whether a string parameter names an existing local file or folder.

    Only strings written as paths count (absolute, or holding a separator, or starting with ``~``
    or ``.``), so a model name such as ``bert-base-uncased`` is never matched against a folder of
    the same name in the working directory.
    """
    if not value or len(value) > 4096 or "\n" in value or "://" in value:
        return False
    if not (os.path.isabs(value) or "/" in value or os.sep in value or value[0] in "~."):
        return False
    try:
        return Path(value).expanduser().exists()
    except (OSError, ValueError):
        return False


def hub_cache_dirs() -> list[Path]:
    """Hugging Face hub cache folders, as huggingface_hub resolves them (``HF_HUB_CACHE``,
    ``HUGGINGFACE_HUB_CACHE``, ``HF_HOME/hub``, ``~/.cache/huggingface/hub``), plus
    ``SENTENCE_TRANSFORMERS_HOME``."""
    out = []
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "SENTENCE_TRANSFORMERS_HOME"):
        if os.environ.get(var):
            out.append(Path(os.environ[var]).expanduser())
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface")
    out.append(Path(home).expanduser() / "hub")
    return out


def hub_revision(name: str, revision: str = "main") -> str | None:
    """``"<repo id>@<commit>"`` when model ``name`` is in a hub cache, else ``None``.

    A bare name (``all-MiniLM-L6-v2``) is also looked up as ``sentence-transformers/<name>``, as
    sentence-transformers does. ``revision`` may be a branch or tag (read from ``refs/``) or a
    commit (a snapshot folder).
    """
    if not name or "\n" in name or name.count("/") > 1 or name.startswith((".", "/", "~")):
        return None
    repos = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for base in hub_cache_dirs():
        for repo in repos:
            folder = base / ("models--" + repo.replace("/", "--"))
            ref = folder / "refs" / revision
            try:
                if ref.is_file():
                    return f"{repo}@{ref.read_text(encoding='utf-8').strip()}"
                if (folder / "snapshots" / revision).is_dir():
                    return f"{repo}@{revision}"
            except OSError:
                continue
    return None


# ------------------------------------------------------------------------------------------------
# Libraries and devices
# ------------------------------------------------------------------------------------------------
def library_version(name: str) -> str | None:
    """The installed version of distribution ``name`` (``None`` when not installed)."""
    return _installed_version(name)


@functools.cache
def _installed_version(name: str) -> str | None:
    import importlib.metadata as md

    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def library_versions(names: Iterable[str]) -> dict[str, str | None]:
    """``{distribution: version or None}`` for each name, sorted by name."""
    return {n: library_version(n) for n in sorted(set(names))}


def auto_device() -> str:
    """Where torch would put a model given no device, found without importing torch:
    ``auto:cuda`` when an NVIDIA driver is present, ``auto:mps`` on Apple silicon, else ``auto:cpu``."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) not in ("", "-1") and (
        Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidiactl").exists()
    ):
        return "auto:cuda"
    if sys.platform == "darwin" and os.uname().machine == "arm64":
        return "auto:mps"
    return "auto:cpu"


# ------------------------------------------------------------------------------------------------
# Code
# ------------------------------------------------------------------------------------------------
def _distributions_of(memo: FingerprintMemo) -> dict[str, list[str]]:
    """``importlib.metadata.packages_distributions()`` (a second to compute), memoised on the
    modification times of the ``site-packages`` folders on ``sys.path`` (installing or removing a
    package changes its folder's)."""
    import importlib.metadata as md

    stamp = []
    for entry in sys.path:
        if not _is_installed(Path(entry)):
            continue  # the script's folder and the like change all the time; they hold no distributions
        with contextlib.suppress(OSError):
            stamp.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
    key = "distributions:" + hashlib.sha256("\n".join(stamp).encode()).hexdigest()
    hit = memo._data.get(key)
    if isinstance(hit, list) and len(hit) == 3 and isinstance(hit[2], dict):
        return hit[2]
    mapping = {k: sorted(set(v)) for k, v in md.packages_distributions().items()}
    memo._data = {k: v for k, v in memo._data.items() if not k.startswith("distributions:")}
    memo._data[key] = [0, 0, mapping]
    memo._dirty = True
    return mapping


def _is_installed(origin: Path) -> bool:
    return any(part in ("site-packages", "dist-packages") for part in origin.parts)


def _sources(top: str) -> tuple[list[Path], bool] | None:
    """The ``.py`` files of top-level module/package ``top`` and whether it is installed code."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        roots = [Path(p) for p in spec.submodule_search_locations]
        if any(_is_installed(r) for r in roots):  # identified by its version: do not list its files
            return [], True
        files = sorted(f for r in roots for f in r.rglob("*.py") if not _SKIP_DIRS & set(f.relative_to(r).parts))
        return files, False
    if spec.origin and spec.origin.endswith(".py"):
        return [Path(spec.origin)], _is_installed(Path(spec.origin))
    return [], True  # an extension module or builtin: identified by its distribution


def _version_of(top: str, memo: FingerprintMemo) -> str:
    dists = _distributions_of(memo).get(top) or []
    return ",".join(f"{d}=={library_version(d)}" for d in sorted(set(dists))) or "unknown"


def _module_file(module: str) -> Path | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin) if spec is not None and spec.origin and spec.origin.endswith(".py") else None


def _evalkit_modules(module: str, names: list[str]) -> set[str]:
    """The evalkit modules an import statement names (``from evalkit import X`` resolves ``X``)."""
    if module != "evalkit":
        return {module}
    import evalkit

    out = set()
    for n in names:
        obj = getattr(evalkit, n, None)
        mod = getattr(obj, "__module__", None) if obj is not None and not isinstance(obj, type(evalkit)) else None
        out.add(mod if isinstance(mod, str) and mod.startswith("evalkit") else f"evalkit.{n}")
    return out


def code_fingerprint(packages: Iterable[str], memo: FingerprintMemo | None = None) -> dict[str, str]:
    """``{top-level package or evalkit module: digest or distribution version}`` of the code of
    ``packages`` and what they import (see the module docstring).

    Local code gets ``sha256:<hex>`` of its files (relative path and content); installed code
    gets ``<distribution>==<version>``. Unimportable names are left out.
    """
    memo = memo or get_memo()
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    todo = [p.split(".")[0] for p in packages]
    evalkit_mods: set[str] = set(CORE_MODULES)
    out: dict[str, str] = {}
    while todo:
        top = todo.pop()
        if top in out or top in stdlib or top == "evalkit":
            continue
        found = _sources(top)
        if found is None:
            continue
        files, installed = found
        if installed:
            out[top] = _version_of(top, memo)
            continue
        h = hashlib.sha256()
        base = files[0].parent if len(files) == 1 else Path(os.path.commonpath([str(f) for f in files]))
        for f in files:
            h.update(f"{f.relative_to(base).as_posix()}\0{memo.file_sha256(f.resolve())}\n".encode())
            for module, names in memo.source_imports(f.resolve()):
                head = module.split(".")[0]
                if head == "evalkit":
                    evalkit_mods |= _evalkit_modules(module, names)
                else:
                    todo.append(head)
        out[top] = "sha256:" + h.hexdigest()
    for module in sorted(evalkit_mods):
        path = _module_file(module)
        if path is not None:
            out[module] = "sha256:" + memo.file_sha256(path.resolve())
    return dict(sorted(out.items()))


# ------------------------------------------------------------------------------------------------
# Components
# ------------------------------------------------------------------------------------------------
def _param_strings(value: Any, prefix: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield prefix, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _param_strings(v, f"{prefix}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _param_strings(v, f"{prefix}[{i}]")


def component_inputs(component: Any, memo: FingerprintMemo | None = None) -> dict[str, Any]:
    """What a method's or dataset's output depends on besides its parameters and data files.

    Returns a JSON-ready dict with

    - ``code``: :func:`code_fingerprint` of the packages defining the component's class and its
      bases (so evalkit's base classes and a subclassed plugin are covered);
    - ``libraries``: :func:`library_versions` of the class's ``requires``;
    - ``paths``: :func:`path_fingerprint` of every string parameter naming a local file or folder
      (see :func:`looks_like_path`) and of each entry of the component's ``local_inputs()``;
    - ``hub``: :func:`hub_revision` of every other string parameter found in a hub cache, with a
      ``revision`` parameter honoured;
    - ``device``: :func:`auto_device` when the component takes a ``device`` parameter left at
      ``None`` (an explicit device is already a parameter).
    """
    memo = memo or get_memo()
    cls = type(component)
    packages = {c.__module__ for c in cls.__mro__ if c.__module__ not in ("builtins", "abc", "typing")}
    params = component.get_params() if hasattr(component, "get_params") else {}
    revision = str(params["revision"]) if isinstance(params.get("revision"), str) else "main"
    paths: dict[str, str] = {}
    hub: dict[str, str] = {}
    for name, value in _param_strings(params, "params"):
        if looks_like_path(value):
            paths[name] = path_fingerprint(value, memo)
        else:
            rev = hub_revision(value, revision)
            if rev is not None:
                hub[name] = rev
    local = component.local_inputs() if callable(getattr(component, "local_inputs", None)) else {}
    for name, path in sorted(local.items()):
        paths[f"local.{name}"] = path_fingerprint(path, memo)
    out: dict[str, Any] = {
        "code": code_fingerprint(sorted(packages), memo),
        "libraries": library_versions(getattr(cls, "requires", ("numpy",))),
        "paths": paths, "hub": hub,
    }
    if "device" in params and params["device"] is None:
        out["device"] = auto_device()
    return out
