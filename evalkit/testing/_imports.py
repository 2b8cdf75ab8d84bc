"""Which evalkit modules a plugin may import, and a check that it imports nothing else.

evalkit promises plugins the modules in :data:`PUBLIC_MODULES` (documented in the API reference);
every other module under ``evalkit`` is internal and may change in any release. The built-in
plugins are held to the same rule by import-linter (``make lint``, ``[tool.importlinter]`` in
evalkit's ``pyproject.toml``); :func:`check_public_imports` gives a third-party plugin the same
check in its own tests, without import-linter.
"""

from __future__ import annotations

import ast
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

#: The public modules: what plugins may import from evalkit. Everything else is internal.
PUBLIC_MODULES: tuple[str, ...] = (
    "evalkit",
    "evalkit.components",
    "evalkit.datafiles",
    "evalkit.encoding",
    "evalkit.errors",
    "evalkit.htmlpage",
    "evalkit.sbert",
    "evalkit.statistics",
    "evalkit.testing",
    "evalkit.testing.pytest_plugin",
    "evalkit.testing.samples",
)

#: Where the public API offers what an internal module holds (for the error messages).
_INSTEAD = {
    "evalkit.data": "evalkit.datafiles",
    "evalkit.suite": "evalkit.datafiles (read_toml)",
    "evalkit.tabular": "evalkit.datafiles",
    "evalkit.aggregation": "evalkit.statistics",
    "evalkit.bootstrap": "evalkit.statistics",
    "evalkit.stats": "evalkit.statistics",
    "evalkit.multitest": "evalkit.statistics",
    "evalkit.htmlreport": "evalkit.htmlpage",
    "evalkit.plugins": "evalkit.components",
    "evalkit.registry": "evalkit.components",
    "evalkit.interfaces": "evalkit",
    "evalkit.validation": "evalkit",
    "evalkit.classification": "evalkit",
    "evalkit.hookspecs": "evalkit",
}


@dataclass(frozen=True)
class InternalImport:
    """One import of an internal evalkit module: where it is (1-based line and column) and what."""

    path: Path
    line: int
    column: int
    module: str

    def __str__(self) -> str:
        top = ".".join(self.module.split(".")[:2])
        hint = f"; use {_INSTEAD[top]}" if top in _INSTEAD else "; see evalkit.testing.PUBLIC_MODULES"
        return f"{self.path}:{self.line}:{self.column}: imports {self.module}, which is internal to evalkit{hint}"


def is_public(module: str) -> bool:
    """Whether a plugin may import ``module`` (any module outside ``evalkit`` is the plugin's own business)."""
    return module in PUBLIC_MODULES or (module != "evalkit" and not module.startswith("evalkit."))


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The evalkit modules one import statement imports (``from evalkit import data`` imports ``evalkit.data``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level or not node.module:
        return []  # relative: the plugin's own modules
    if node.module != "evalkit" and not node.module.startswith("evalkit."):
        return [node.module]
    subs = [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
    return [node.module, *[s for s in subs if _is_module(s)]]


def _files(package: ModuleType | str | os.PathLike[str]) -> list[Path]:
    if isinstance(package, ModuleType):
        locations = list(getattr(package, "__path__", [])) or [package.__file__ or ""]
    else:
        locations = [os.fspath(package)]
    out: list[Path] = []
    for loc in map(Path, locations):
        out += sorted(loc.rglob("*.py")) if loc.is_dir() else [loc]
    return out


def internal_imports(package: ModuleType | str | os.PathLike[str]) -> list[InternalImport]:
    """Every import of an internal evalkit module in a plugin's source, lazy imports included.

    Args:
        package: the plugin's module or package object, or a path (a ``.py`` file, or a folder whose
            ``.py`` files are read recursively).

    Returns:
        One :class:`InternalImport` per internal module per import statement, in file and line order;
        empty when the plugin imports only :data:`PUBLIC_MODULES` from evalkit.

    Raises:
        DataError: a file cannot be read or is not valid Python (file, line and column).
    """
    from evalkit.errors import DataError

    found: list[InternalImport] = []
    for path in _files(package):
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except SyntaxError as exc:
            raise DataError(f"{path}:{exc.lineno}:{exc.offset}: not valid Python: {exc.msg}") from None
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc}") from None
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found += [InternalImport(path, node.lineno, node.col_offset + 1, m)
                          for m in _imported(node) if not is_public(m)]
    return sorted(found, key=lambda i: (str(i.path), i.line, i.column, i.module))


def check_public_imports(package: ModuleType | str | os.PathLike[str]) -> None:
    """Assert that a plugin imports only evalkit's public modules (:data:`PUBLIC_MODULES`).

    Example, in a plugin's tests::

        import evalkit_kendall
        from evalkit.testing import check_public_imports

        def test_uses_only_the_public_api():
            check_public_imports(evalkit_kendall)

    Raises:
        AssertionError: listing each import of an internal module (file:line:column) and the public
            module to use instead.
        DataError: a file cannot be read or parsed.
    """
    bad = internal_imports(package)
    if bad:
        raise AssertionError(f"{len(bad)} import(s) of internal evalkit modules:\n" + "\n".join(map(str, bad)))
