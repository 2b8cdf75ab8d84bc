"""Provenance: what someone needs to reproduce a run, and the git commit read safely.

:class:`Provenance` is the record saved as ``run.json``'s ``provenance``: evalkit, Python and
library versions, the machine (CPU model, GPUs when torch is already loaded), the datasets,
methods (with the fingerprints of their code and models) and metrics actually run, the suite they
came from (``ad-hoc`` when the command line replaced part of it), the data files' digests, the
git commit of the working directory, times and cell counts.

The git commit is read from the repository's files (``HEAD``, loose refs, ``packed-refs``, and
``commondir`` for worktrees); git itself is never run, so neither repository hooks nor commands
in its configuration (``core.fsmonitor``, filters, ``diff.external``) can execute.
"""

from __future__ import annotations

import copy
import datetime as _dt
import os
import platform
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evalkit.cells import CellOutcome
    from evalkit.execute import RunContext
    from evalkit.interfaces import Metric
    from evalkit.plan import Plan
    from evalkit.plugins import Host

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


# ------------------------------------------------------------------------------------------------
# git, by reading files
# ------------------------------------------------------------------------------------------------
def find_git_dir(start: Path | None = None) -> tuple[Path, Path] | None:
    """``(git dir, worktree root)`` of the repository holding ``start`` (default: the working
    directory), following a ``.git`` file (``gitdir: ...``) as worktrees and submodules use."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        dot = folder / ".git"
        try:
            if dot.is_dir():
                return dot, folder
            if dot.is_file():
                text = dot.read_text(encoding="utf-8").strip()
                if text.startswith("gitdir:"):
                    target = Path(text[len("gitdir:"):].strip())
                    return (target if target.is_absolute() else (folder / target).resolve()), folder
        except OSError:
            return None
    return None


def _common_dir(git_dir: Path) -> Path:
    try:
        rel = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return git_dir
    p = Path(rel)
    return p if p.is_absolute() else (git_dir / p).resolve()


def _resolve_ref(git_dir: Path, ref: str, depth: int = 0) -> str | None:
    if depth > 5 or ".." in ref:
        return None
    common = _common_dir(git_dir)
    for base in (git_dir, common):
        try:
            text = (base / ref).read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if text.startswith("ref:"):
            return _resolve_ref(git_dir, text[4:].strip(), depth + 1)
        return text if _SHA.match(text) else None
    try:
        packed = (common / "packed-refs").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in packed:
        parts = line.split()
        if len(parts) == 2 and parts[1] == ref and _SHA.match(parts[0]):
            return parts[0]
    return None


_MAX_ENTRIES = 200_000
_MAX_HASHED = 256 << 20


def _index_entries(data: bytes, hash_len: int) -> list[tuple[str, int, int, int, int, bytes, int]] | None:
    """``(path, mtime_s, mtime_ns, size, mode, object id, flags)`` of a v2/v3 index, or ``None``."""
    if data[:4] != b"DIRC" or int.from_bytes(data[4:8], "big") not in (2, 3):
        return None
    count, pos, out = int.from_bytes(data[8:12], "big"), 12, []
    if count > _MAX_ENTRIES:
        return None
    for _ in range(count):
        start = pos
        fields = [int.from_bytes(data[pos + 4 * i: pos + 4 * i + 4], "big") for i in range(10)]
        pos += 40
        oid, flags = data[pos: pos + hash_len], int.from_bytes(data[pos + hash_len: pos + hash_len + 2], "big")
        pos += hash_len + 2
        extended = 0
        if flags & 0x4000:
            extended = int.from_bytes(data[pos: pos + 2], "big")
            pos += 2
        end = data.index(b"\0", pos)
        name = data[pos:end].decode("utf-8", "surrogateescape")
        pos = start + ((end - start) // 8 + 1) * 8  # 1-8 NULs pad the entry to a multiple of 8
        skip = bool(flags & 0x8000) or bool(extended & 0x4000)  # assume-valid, skip-worktree
        out.append((name, fields[2], fields[3], fields[9], fields[6], oid, -1 if skip else (flags >> 12) & 3))
    return out


def worktree_modified(git_dir: Path, root: Path) -> bool | None:
    """Whether a tracked file differs from the index (``git diff --quiet`` without running git).

    Files whose size and mtime match the index are taken as unchanged, as git does; the others
    are hashed as git blobs. ``None`` when it cannot be told: an index of version 4, a huge
    repository, a ``sparse`` index. Changes staged but not committed are not seen, and files
    under clean/smudge filters or end-of-line conversion may be reported modified.
    """
    import hashlib

    try:
        data = (git_dir / "index").read_bytes()
        config = (_common_dir(git_dir) / "config").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    sha256 = re.search(r"objectformat\s*=\s*sha256", config, re.IGNORECASE) is not None
    try:
        entries = _index_entries(data, 32 if sha256 else 20)
    except (ValueError, IndexError):
        return None
    if entries is None:
        return None
    budget = _MAX_HASHED
    for name, mtime_s, mtime_ns, size, mode, oid, stage in entries:
        if stage != 0:
            if stage > 0:
                return True  # an unresolved merge conflict
            continue
        if mode & 0o170000 == 0o160000:
            continue  # a submodule
        path = root / name
        try:
            st = path.lstat()
        except OSError:
            return True  # deleted
        if st.st_size == size and int(st.st_mtime) == mtime_s and st.st_mtime_ns % 1_000_000_000 == mtime_ns:
            continue
        content = os.readlink(path).encode() if mode & 0o170000 == 0o120000 else path.read_bytes()
        budget -= len(content)
        if budget < 0:
            return None
        blob = (hashlib.sha256 if sha256 else hashlib.sha1)(b"blob %d\0" % len(content) + content).digest()
        if blob != oid:
            return True
    return False


def git_head(start: Path | None = None) -> dict[str, Any] | None:
    """``{"commit", "branch", "repository", "modified"}`` of the checkout holding ``start``, or
    ``None`` outside a repository.

    ``branch`` is ``None`` on a detached HEAD; ``commit`` is ``None`` on an unborn branch;
    ``modified`` is :func:`worktree_modified`. Only files are read; no git command runs.
    """
    found = find_git_dir(start)
    if found is None:
        return None
    git_dir, root = found
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if head.startswith("ref:"):
        ref = head[4:].strip()
        commit, branch = _resolve_ref(git_dir, ref), ref.removeprefix("refs/heads/")
    else:
        commit, branch = (head if _SHA.match(head) else None), None
    return {"commit": commit, "branch": branch, "repository": str(root),
            "modified": worktree_modified(git_dir, root)}


def git_commit(start: Path | None = None) -> str | None:
    """The commit checked out where ``start`` (default: the working directory) lies, with
    ``-dirty`` when a tracked file differs from it (:func:`worktree_modified`), or ``None``."""
    head = git_head(start)
    if head is None or head["commit"] is None:
        return None
    return head["commit"] + ("-dirty" if head["modified"] else "")


# ------------------------------------------------------------------------------------------------
# Machine
# ------------------------------------------------------------------------------------------------
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else :func:`platform.processor`)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpus() -> list[str] | None:
    """Names of the CUDA devices torch sees, only when torch is already imported (``None`` when it
    is not: evalkit does not load torch to describe the machine)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if not torch.cuda.is_available():
            return []
        return [str(torch.cuda.get_device_name(i)) for i in range(torch.cuda.device_count())]
    except Exception:  # a broken driver must not fail the run's bookkeeping
        return None


def machine() -> dict[str, Any]:
    """``{"platform", "cpu", "cpu_count", "gpus"}`` of this machine."""
    return {"platform": platform.platform(), "cpu": cpu_model(), "cpu_count": os.cpu_count(), "gpus": gpus()}


# ------------------------------------------------------------------------------------------------
# The record
# ------------------------------------------------------------------------------------------------
#: Neutral values of the fields a loaded record lacks (JSON baselines, older runs); such fields are
#: left out again when the record is saved.
_EMPTY: dict[str, Any] = {
    "evalkit_version": "", "suite": "", "suite_source": "", "tune_on": "dev", "limit": None, "methods": {},
    "metrics": {}, "datasets": {}, "data_dir": "", "started": "", "finished": "", "seconds": 0.0, "execution": {},
    "cells": {}, "texts_encoded": 0, "plugins": {}, "libraries": {}, "python": "", "python_implementation": "",
    "platform": "", "machine": {}, "git": None,
}


@dataclass(eq=False)
class Provenance(Mapping[str, Any]):
    """Everything about a run that another person needs to reproduce it.

    Built in one place for a fresh run (:meth:`for_run`), read back from a saved run with
    :meth:`from_dict`, written with :meth:`to_dict` (the JSON saved as ``run.json``'s
    ``provenance``; a record read with :meth:`from_dict` is written back unchanged, key order
    included). ``suite`` is the suite's name, or ``ad-hoc`` when datasets, methods or metrics were
    chosen on the command line (``suite_source`` then says what it was derived from). ``methods``
    and ``datasets`` map each label to its registry name, plugin, parameters and
    :func:`evalkit.fingerprint.component_inputs` (code, model files or hub revision, library
    versions); ``libraries`` holds the versions of every library a component declares plus
    numpy, scipy and pandas. ``limit`` is the row limit of every split (``None``: whole splits).
    Records added after the run (``bootstrap``, ``rescore``, ``baseline``, and any key an older or
    newer evalkit wrote) live in ``extra``.

    It reads like the JSON dict it is saved as (``prov["cells"]["computed"]``, ``prov.get("rescore")``,
    ``dict(prov)``), and ``prov[key] = value`` sets a field or an extra record.
    """

    evalkit_version: str = ""
    suite: str = ""
    suite_source: str = ""
    tune_on: str = "dev"
    limit: int | None = None
    methods: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    datasets: dict[str, Any] = field(default_factory=dict)
    data_dir: str = ""
    started: str = ""
    finished: str = ""
    seconds: float = 0.0
    execution: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, Any] = field(default_factory=dict)
    texts_encoded: int = 0
    plugins: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str | None] = field(default_factory=dict)
    python: str = field(default_factory=lambda: sys.version.split()[0])
    python_implementation: str = field(default_factory=platform.python_implementation)
    platform: str = field(default_factory=platform.platform)
    machine: dict[str, Any] = field(default_factory=machine)
    git: dict[str, Any] | None = field(default_factory=git_head)
    extra: dict[str, Any] = field(default_factory=dict)
    #: The keys of the dict a loaded record was read from, in order (``None``: built fresh).
    loaded_keys: tuple[str, ...] | None = field(default=None, repr=False)

    @property
    def git_commit(self) -> str | None:
        """The commit, with ``-dirty`` when tracked files differ from it."""
        if self.git is None or self.git.get("commit") is None:
            saved = self.extra.get("git_commit")
            return None if saved is None else str(saved)
        return str(self.git["commit"]) + ("-dirty" if self.git.get("modified") else "")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Provenance:
        """The record saved as ``data`` (``run.json``'s ``provenance``, a baseline's, ``{}``).

        Known keys fill the typed fields, everything else goes to ``extra``; nothing is computed
        (no git or machine look-up), and :meth:`to_dict` gives ``data`` back.
        """
        if isinstance(data, Provenance):
            return data.copy()
        data = dict(data or {})
        kwargs = {name: data.get(name, copy.deepcopy(empty)) for name, empty in _EMPTY.items()}
        extra = {k: v for k, v in data.items() if k not in _EMPTY}
        return cls(**kwargs, extra=extra, loaded_keys=tuple(data))

    def copy(self) -> Provenance:
        """A deep copy (editing it leaves this record unchanged)."""
        return copy.deepcopy(self)

    def _keys(self) -> list[str]:
        names = list(_EMPTY)
        if self.loaded_keys is None:
            return [*names, "git_commit", *[k for k in self.extra if k != "git_commit"]]
        added = [k for k in self.extra if k not in self.loaded_keys]
        changed = [k for k in names if k not in self.loaded_keys and getattr(self, k) != _EMPTY[k]]
        return [*self.loaded_keys, *added, *changed]

    def __getitem__(self, key: str) -> Any:
        if key in _EMPTY and (self.loaded_keys is None or key in self._keys()):
            return getattr(self, key)
        if key == "git_commit" and (self.loaded_keys is None or key in self.loaded_keys):
            return self.git_commit
        return self.extra[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key in _EMPTY:
            setattr(self, key, value)
        else:
            self.extra[key] = value

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and self.to_dict() == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``git_commit`` included at the top level, as readers of older runs expect)."""
        return copy.deepcopy({k: self[k] for k in self._keys()})

    def with_record(self, key: str, record: Any) -> Provenance:
        """A copy with ``record`` under ``key`` (``rescore``, ``baseline``, ``bootstrap``...)."""
        out = self.copy()
        out[key] = record
        return out

    @classmethod
    def for_run(cls, plan: Plan, outcomes: Mapping[str, CellOutcome], *, host: Host, execution: RunContext,
                started: _dt.datetime, seconds: float) -> Provenance:
        """The provenance of a run of ``plan`` whose cells gave ``outcomes``: the one place it is built."""
        from evalkit import __version__
        from evalkit.fingerprint import library_versions

        computed = [o for o in outcomes.values() if not o.reused]
        libraries = {"numpy", "scipy", "pandas"}
        for _, component in [*plan.methods.values(), *plan.datasets.values()]:
            libraries.update(getattr(component, "requires", ()))
        return cls(
            evalkit_version=__version__, plugins=host.plugin_versions(), libraries=library_versions(libraries),
            suite=plan.suite.name, suite_source=plan.suite.source, tune_on=plan.tune_on, limit=plan.limit,
            methods={label: {"method": spec.component, "plugin": host.methods.get(spec.component).plugin,
                             "params": method.get_params(), "fingerprint": plan.fingerprints.get("method:" + label)}
                     for label, (spec, method) in plan.methods.items()},
            metrics=metric_records(plan.metrics),
            datasets={label: {**info, "fingerprint": plan.fingerprints.get("dataset:" + label)}
                      for label, info in plan.datasets_info.items()},
            data_dir=str(plan.data_dir), started=started.isoformat(),
            finished=_dt.datetime.now(_dt.timezone.utc).isoformat(), seconds=round(seconds, 3),
            execution={"backend": execution.backend, "jobs": execution.jobs, "device": execution.device},
            cells={"total": len(plan.cells), "computed": len(computed), "reused": len(plan.cells) - len(computed),
                   "keys": {f"{c.method.label}|{c.dataset.label}|{c.split}": k for c, k in plan.cells}},
            texts_encoded=sum(o.texts_encoded for o in computed),
        )


def metric_records(metrics: Mapping[str, Metric]) -> dict[str, dict[str, Any]]:
    """``label -> {"metric", "params", "higher_is_better"}``: how a run records its metrics."""
    return {label: {"metric": m.name, "params": m.get_params(), "higher_is_better": m.higher_is_better}
            for label, m in metrics.items()}
