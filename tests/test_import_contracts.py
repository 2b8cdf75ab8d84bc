"""The public API boundary (issue 12): built-in plugins import only evalkit's public modules, the core
imports no plugin, and the import-linter contracts of ``pyproject.toml`` say exactly that.

Independent references: import-linter (``lint-imports``, grimp's import graph) for the contracts, and
the files on disk (every ``.py`` under ``evalkit/`` and ``plugins/``) for what the lists must cover.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from evalkit.testing import PUBLIC_MODULES, check_public_imports, internal_imports

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
#: Moving into the core (issue 12, the Python API); it is no plugin once there.
NOT_A_PLUGIN = {"evalkit_leaderboard"}


def _config() -> dict[str, Any]:
    from evalkit.suite import tomllib  # tomli before Python 3.11

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def _contract(cid: str) -> dict[str, Any]:
    (found,) = [c for c in _config()["contracts"] if c["id"] == cid]
    return found


def _modules_on_disk(folder: Path, prefix: str) -> set[str]:
    out = set()
    for path in folder.rglob("*.py"):
        parts = list(path.relative_to(folder).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.add(".".join([prefix, *parts]))
    return out


def _plugin_packages() -> set[str]:
    return {p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file()} - NOT_A_PLUGIN


def _covered(module: str, listed: list[str]) -> bool:
    return any(module == m or module.startswith(m + ".") for m in listed)


def _lint_imports(config: Path, cwd: Path, pythonpath: list[Path] | None = None) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.is_file():
        pytest.fail("lint-imports is missing: pip install 'evalkit[dev]'")
    env = None
    if pythonpath:
        import os

        env = {**os.environ, "PYTHONPATH": ":".join(map(str, pythonpath))}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", str(config)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_forbidden_list_covers_every_internal_module_and_no_public_one() -> None:
    forbidden = _contract("plugins-use-public-api")["forbidden_modules"]
    modules = _modules_on_disk(ROOT / "evalkit", "evalkit")
    assert set(PUBLIC_MODULES) <= modules
    internal = sorted(m for m in modules if m not in PUBLIC_MODULES)
    uncovered = [m for m in internal if not _covered(m, forbidden)]
    assert uncovered == [], (
        f"new modules {uncovered}: add each internal one to forbidden_modules of the contract "
        "'plugins-use-public-api' in pyproject.toml, or, if plugins may import it, to "
        "evalkit.testing.PUBLIC_MODULES and docs/src/reference/api.md")
    assert [m for m in PUBLIC_MODULES if _covered(m, forbidden)] == []
    assert [m for m in forbidden if m not in modules] == []  # no stale entry
    # a forbidden package must not hide a public module below it
    assert [m for m in forbidden if any(p.startswith(m + ".") for p in PUBLIC_MODULES)] == []


def test_contracts_name_every_plugin_package() -> None:
    plugins = _plugin_packages()
    assert {"evalkit_sts", "evalkit_ot", "evalkit_reporters", "evalkit_aggregators"} <= plugins
    assert set(_contract("plugins-use-public-api")["source_modules"]) == plugins
    core = _contract("core-imports-no-plugin")
    assert core["source_modules"] == ["evalkit"] and set(core["forbidden_modules"]) == plugins
    assert set(_config()["root_packages"]) == {"evalkit", *plugins}


def test_lint_imports_keeps_every_contract() -> None:
    out = _lint_imports(ROOT / "pyproject.toml", ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " 0 broken" in out.stdout and "BROKEN" not in out.stdout
    for cid in ("plugins-use-public-api", "core-imports-no-plugin"):
        assert f"{_contract(cid)['name']} KEPT" in out.stdout


def _probe(tmp_path: Path) -> Path:
    """A plugin package with one public and three internal imports (two of them lazy)."""
    pkg = tmp_path / "src" / "evalkit_probe"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from evalkit import DataError, components, hookimpl\n"
                                     "from evalkit.datafiles import locate\n")
    (pkg / "lazy.py").write_text(textwrap.dedent("""\
        def load():
            from evalkit.data import read_fields
            import evalkit.cli.common

            return read_fields, evalkit.cli.common


        def board():
            from evalkit import suite
            return suite
        """))
    return pkg


def test_the_contract_and_check_public_imports_find_the_same_internal_imports(tmp_path: Path) -> None:
    """lint-imports, given the contract of pyproject.toml, and the AST check of :mod:`evalkit.testing`
    both flag exactly the three internal imports of the probe package, lazy ones included."""
    pkg = _probe(tmp_path)
    contract = {**_contract("plugins-use-public-api"), "source_modules": ["evalkit_probe"]}
    contract.pop("ignore_imports", None)
    config = tmp_path / "probe.toml"
    lines = ["[tool.importlinter]", 'root_packages = ["evalkit", "evalkit_probe"]', "[[tool.importlinter.contracts]]"]
    config.write_text("\n".join(lines + [f"{k} = {json.dumps(v)}" for k, v in contract.items()]) + "\n")
    out = _lint_imports(config, tmp_path, [pkg.parent, ROOT])
    assert out.returncode == 1 and "BROKEN" in out.stdout, out.stdout + out.stderr
    for target in ("evalkit.data", "evalkit.cli.common", "evalkit.suite"):
        assert f"evalkit_probe.lazy -> {target} (l." in out.stdout
    assert "evalkit_probe -> " not in out.stdout  # the public imports of __init__.py pass

    found = [(i.path.name, i.line, i.column, i.module) for i in internal_imports(pkg)]
    assert found == [("lazy.py", 2, 5, "evalkit.data"), ("lazy.py", 3, 5, "evalkit.cli.common"),
                     ("lazy.py", 9, 5, "evalkit.suite")]
    with pytest.raises(AssertionError, match=r"lazy\.py:2:5: imports evalkit\.data, which is internal to evalkit; "
                                             r"use evalkit\.datafiles"):
        check_public_imports(pkg)
    check_public_imports(pkg / "__init__.py")  # the public imports alone pass


def test_builtin_plugins_pass_check_public_imports() -> None:
    """The AST check agrees with the import-linter contract on the built-ins (same ignored imports)."""
    ignored = {tuple(s.split(" -> ")) for s in _contract("plugins-use-public-api").get("ignore_imports", [])}
    for name in sorted(_plugin_packages()):
        found = {(".".join(i.path.relative_to(ROOT / "plugins").with_suffix("").parts), i.module)
                 for i in internal_imports(ROOT / "plugins" / name)}
        assert found <= ignored, name


def test_unparsable_plugin_file_names_file_line_and_column(tmp_path: Path) -> None:
    from evalkit import DataError

    (tmp_path / "broken.py").write_text("import evalkit\ndef f(:\n")
    with pytest.raises(DataError, match=r"broken\.py:2:7: not valid Python"):
        internal_imports(tmp_path)
