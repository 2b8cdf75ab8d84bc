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

import os
import platform
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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


def git_head(start: Path | None = None) -> dict[str, Any] | None:
    """``{"commit", "branch", "repository"}`` of the checkout holding ``start``, or ``None``.

    ``branch`` is ``None`` on a detached HEAD; ``commit`` is ``None`` on an unborn branch. Only
    files are read; no git command runs.
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
        branch = ref.removeprefix("refs/heads/")
        return {"commit": _resolve_ref(git_dir, ref), "branch": branch, "repository": str(root)}
    return {"commit": head if _SHA.match(head) else None, "branch": None, "repository": str(root)}


def git_commit(start: Path | None = None) -> str | None:
    """The commit checked out where ``start`` (default: the working directory) lies, or ``None``."""
    head = git_head(start)
    return None if head is None else head["commit"]


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
@dataclass
class Provenance:
    """Everything about a run that another person needs to reproduce it.

    ``to_dict()`` gives the JSON saved in ``run.json``. ``suite`` is the suite's name, or
    ``ad-hoc`` when datasets, methods or metrics were chosen on the command line (``suite_source``
    then says what it was derived from). ``methods`` and ``datasets`` map each label to its
    registry name, plugin, parameters and :func:`evalkit.fingerprint.component_inputs` (code,
    model files or hub revision, library versions); ``libraries`` holds the versions of every
    library a component declares plus numpy, scipy and pandas.
    """

    evalkit_version: str
    suite: str
    suite_source: str
    tune_on: str
    methods: dict[str, Any]
    metrics: dict[str, Any]
    datasets: dict[str, Any]
    data_dir: str
    started: str
    finished: str
    seconds: float
    execution: dict[str, Any]
    cells: dict[str, Any]
    texts_encoded: int
    plugins: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str | None] = field(default_factory=dict)
    python: str = field(default_factory=lambda: sys.version.split()[0])
    python_implementation: str = field(default_factory=platform.python_implementation)
    platform: str = field(default_factory=platform.platform)
    machine: dict[str, Any] = field(default_factory=machine)
    git: dict[str, Any] | None = field(default_factory=git_head)

    @property
    def git_commit(self) -> str | None:
        return None if self.git is None else self.git.get("commit")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``git_commit`` included at the top level, as readers of older runs expect)."""
        out = asdict(self)
        out["git_commit"] = self.git_commit
        return out
