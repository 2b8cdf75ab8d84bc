"""``pip install "evalkit[testing]"`` gives everything ``evalkit.testing`` imports."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
from pathlib import Path

import evalkit.testing

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def requirement_names(reqs: list[str]) -> set[str]:
    """Distribution names of PEP 508 requirements, normalised (PEP 503), markers for this Python."""
    out = set()
    for req in reqs:
        name, _, marker = req.partition(";")
        if marker and "python_version < '3.11'" in marker and sys.version_info >= (3, 11):
            continue
        out.add(re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[ ]", name.strip())[0]).lower())
    return out


def imported_top_modules(folder: Path) -> set[str]:
    """Top-level names of every module imported anywhere (also inside functions) under ``folder``."""
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_testing_extra_covers_every_import_of_evalkit_testing() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    allowed = requirement_names(project["dependencies"]) | requirement_names(
        project["optional-dependencies"]["testing"])
    assert "pytest" in allowed
    dists = md.packages_distributions()
    folder = Path(evalkit.testing.__file__).parent
    third_party = {m for m in imported_top_modules(folder)
                   if m not in sys.stdlib_module_names and m not in {"evalkit", "__future__"}}
    assert third_party, "the scan found no imports: it is broken"
    for module in sorted(third_party):
        owners = {re.sub(r"[-_.]+", "-", d).lower() for d in dists.get(module, [module])}
        assert owners & allowed, f"evalkit.testing imports {module} ({owners}), not in the core or testing extra"
