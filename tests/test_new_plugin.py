"""``evalkit new-plugin``: the generated packages are valid, pass evalkit's checks, install with pip
into a fresh virtual environment, pass their own tests there, and work in ``evalkit compare``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path
from typing import Any

import pytest

from evalkit.registry import KINDS
from evalkit.scaffold import plugin_names, render_plugin, write_plugin
from evalkit.testing import check_component

ROOT = Path(__file__).resolve().parents[1]


def _import_generated(path: Path, module: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    import importlib

    monkeypatch.syspath_prepend(str(path))
    sys.modules.pop(module, None)
    return importlib.import_module(module)


@pytest.mark.parametrize("kind", KINDS)
def test_generated_package_is_complete_and_lint_clean(kind: str, tmp_path: Path) -> None:
    target = write_plugin(f"my-{kind}", kind, tmp_path)
    n = plugin_names(f"my-{kind}")
    assert target == tmp_path / f"evalkit-my-{kind}"
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert files == sorted(["README.md", "pyproject.toml", f"{n.module}/__init__.py", f"{n.module}/py.typed",
                            f"tests/test_{n.module}.py"])
    from evalkit.suite import tomllib  # tomli before Python 3.11

    meta = tomllib.loads((target / "pyproject.toml").read_text())
    assert meta["project"]["name"] == f"evalkit-my-{kind}"
    assert meta["project"]["entry-points"]["evalkit"] == {f"my-{kind}": n.module}
    for path in target.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")
    for path in target.rglob("*"):
        if path.is_file():
            assert "{{" not in path.read_text(), path
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=target,
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_generated_component_passes_the_conformance_checks(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, evalkit_plugin: Any
) -> None:
    target = write_plugin(f"my-{kind}", kind, tmp_path)
    n = plugin_names(f"my-{kind}")
    module = _import_generated(target, n.module, monkeypatch)
    if kind == "dataset":  # give the loading checks a file to load
        (tmp_path / "data" / f"my-{kind}").mkdir(parents=True)
        (tmp_path / "data" / f"my-{kind}" / "test.tsv").write_text("sentence1\tsentence2\tscore\na b\ta c\t2.5\n")
        monkeypatch.setenv("EVALKIT_DATA_DIR", str(tmp_path / "data"))
    outcomes = check_component(getattr(module, n.class_name)())
    assert {o.status for o in outcomes} <= {"passed", "skipped"}
    skipped = [o.name for o in outcomes if o.status == "skipped"]
    assert skipped == {"reporter": ["machine_readable"], "metric": ["tuning"]}.get(kind, [])
    host = evalkit_plugin(module)
    assert host.registries[kind].get(f"my-{kind}").plugin == n.module


def test_generated_plugins_keep_the_public_import_contract(tmp_path: Path) -> None:
    """Every template (the five kinds and the classification method) imports only evalkit's public
    modules: lint-imports, given the plugin contract of evalkit's pyproject.toml with the generated
    packages as its sources, keeps it (and breaks it when one import is made internal)."""
    from evalkit.suite import tomllib  # tomli before Python 3.11

    packages = [write_plugin(f"my-{kind}", kind, tmp_path) for kind in KINDS]
    packages.append(write_plugin("my-classifier", "method", tmp_path, task="classification"))
    modules = [plugin_names(p.name.removeprefix("evalkit-")).module for p in packages]
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["id"] == "plugins-use-public-api"]
    contract = {**contract, "source_modules": modules, "ignore_imports": []}
    lines = ["[tool.importlinter]", f"root_packages = {json.dumps(['evalkit', *modules])}",
             "[[tool.importlinter.contracts]]", *[f"{k} = {json.dumps(v)}" for k, v in contract.items()]]
    (tmp_path / "contracts.toml").write_text("\n".join(lines) + "\n")

    def lint() -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, packages), str(ROOT)])}
        return subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "contracts.toml"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    kept = lint()
    assert kept.returncode == 0 and "1 kept, 0 broken" in kept.stdout, kept.stdout + kept.stderr
    dataset = packages[KINDS.index("dataset")] / "evalkit_my_dataset" / "__init__.py"
    dataset.write_text(dataset.read_text().replace("from evalkit.datafiles import", "from evalkit.data import"))
    broken = lint()
    assert broken.returncode == 1 and "evalkit_my_dataset -> evalkit.data (l." in broken.stdout, broken.stdout


def test_classification_method_scaffold_is_lint_clean_passes_checks_and_its_own_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, evalkit_plugin: Any
) -> None:
    """``--kind method --task classification``: a ClassificationMethod, conformance-checked, whose
    generated hand-computed test passes."""
    import evalkit

    target = write_plugin("my-classifier", "method", tmp_path, task="classification")
    n = plugin_names("my-classifier")
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=target,
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    module = _import_generated(target, n.module, monkeypatch)
    cls = getattr(module, n.class_name)
    assert issubclass(cls, evalkit.ClassificationMethod)
    outcomes = check_component(cls())
    assert {o.status for o in outcomes} <= {"passed", "skipped"}, [o for o in outcomes if o.status == "failed"]
    assert [o.name for o in outcomes if o.status == "skipped"] == ["identical_pair_scores_highest"]
    assert evalkit_plugin(module).registries["method"].get("my-classifier").plugin == n.module
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "by_hand",
                            str(target / "tests")], cwd=target, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(target)})
    assert tests.returncode == 0 and "1 passed" in tests.stdout, tests.stdout + tests.stderr
    with pytest.raises(evalkit.ConfigError, match="'classification' is for --kind method"):
        render_plugin("x", "metric", "classification")


def test_cli_writes_the_package_and_refuses_bad_requests(evalkit_host: Any, evalkit_cli: Any, tmp_path: Path) -> None:
    result = evalkit_cli("new-plugin", "kendall", "--kind", "metric", "--directory", tmp_path)
    assert str(tmp_path / "evalkit-kendall" / "pyproject.toml") in result.stdout.splitlines()
    assert 'pip install -e ".[test]" && pytest' in result.stderr
    again = evalkit_cli("new-plugin", "kendall", "--kind", "metric", "--directory", tmp_path, expect=2)
    assert "already exists" in again.stderr
    taken = evalkit_cli("new-plugin", "spearman", "--kind", "metric", "--directory", tmp_path, expect=2)
    assert "already registered by plugin 'correlation'" in taken.stderr
    bad = evalkit_cli("new-plugin", "Kendall Tau", "--kind", "metric", "--directory", tmp_path, expect=2)
    assert "lowercase slug" in bad.stderr
    prefixed = evalkit_cli("new-plugin", "evalkit-kendall", "--kind", "metric", "-d", tmp_path, expect=2)
    assert "component's own name" in prefixed.stderr
    evalkit_cli("new-plugin", "x", "--kind", "metrics", "-d", tmp_path, expect=2)  # click's choice error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evalkit-kendall"]  # no partial folders


def test_names_are_derived_consistently() -> None:
    n = plugin_names("word_overlap-v2")
    assert (n.distribution, n.module, n.class_name) == ("evalkit-word_overlap-v2", "evalkit_word_overlap_v2",
                                                        "WordOverlapV2")
    assert set(render_plugin("a", "reporter")) >= {"pyproject.toml", "evalkit_a/__init__.py"}


# -- end to end: pip install into a fresh virtual environment ---------------------------------------------
def _fresh_venv(path: Path) -> Path:
    """A venv without pip that sees this interpreter's site-packages (evalkit's dependencies, pip,
    pytest, hatchling, setuptools) behind its own, so that nothing is downloaded."""
    venv.create(path, with_pip=False, symlinks=True)
    python = path / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    shared = sysconfig.get_paths()["purelib"]
    Path(purelib, "_evalkit_test_shared.pth").write_text(f"import site; site.addsitedir({shared!r})\n")
    return python


def _run(cmd: list[Any], env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} exited {out.returncode}\n{out.stdout}\n{out.stderr}"
    return out


PAIRS_TSV = (
    "sentence1\tsentence2\tscore\n"
    "A man is playing a guitar.\tA man plays the guitar.\t4.8\n"
    "A woman is slicing an onion.\tSomeone is cutting an onion.\t4.2\n"
    "Two dogs run in a field.\tA cat sleeps on the sofa.\t0.4\n"
    "A child reads a book.\tA kid reads a book.\t3.9\n"
    "Stocks fell sharply today.\tThe stock market dropped today.\t4.0\n"
    "A plane is taking off.\tA chef is cooking pasta.\t0.0\n"
)


def test_generated_plugins_install_pass_their_tests_and_run_in_compare(tmp_path: Path) -> None:
    """The issue's acceptance test, for all five kinds at once (under 60 s on 2 busy cores)."""
    import importlib.util

    for backend in ("hatchling", "setuptools"):
        if importlib.util.find_spec(backend) is None:
            pytest.fail(f"{backend} is needed to build offline: pip install 'evalkit[dev]'")
    work = tmp_path / "work"
    work.mkdir()
    packages = [write_plugin(f"my-{kind}", kind, work) for kind in KINDS]
    python = _fresh_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "EVALKIT_", "PIP_"))}
    env.update(EVALKIT_CACHE_DIR=str(tmp_path / "cache"), EVALKIT_RUNS_DIR=str(tmp_path / "runs"),
               EVALKIT_OFFLINE="1", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    _run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", ROOT, *packages], env, work)

    tests = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *[p / "tests" for p in packages]],
                 env, work)
    summary = tests.stdout.strip().splitlines()[-1]  # e.g. "73 passed, 2 skipped in 5.04s"
    assert re.fullmatch(r"\d+ passed, 2 skipped in [\d.]+s", summary), tests.stdout  # see above
    assert int(summary.split()[0]) >= 60  # 5 kinds x (checks + registration + hand-computed values)

    evalkit = python.parent / "evalkit"
    listing = json.loads(_run([evalkit, "plugins", "--json"], env, work).stdout)
    by_name = {p["name"]: p for p in listing["plugins"]}
    hooks = {"metric": "register_metrics", "method": "register_methods", "dataset": "register_datasets",
             "aggregator": "register_aggregators", "reporter": "register_reporters"}
    for kind in KINDS:
        info = by_name[f"my-{kind}"]
        assert (info["distribution"], info["version"], info["builtin"]) == (f"evalkit-my-{kind}", "0.1.0", False)
        assert info["hooks"] == [hooks[kind]] and info["components"] == {kind: [f"my-{kind}"]}
        assert info["module"] == plugin_names(f"my-{kind}").module
    assert listing["failures"] == []

    data = tmp_path / "data"
    (data / "my-dataset").mkdir(parents=True)
    (data / "my-dataset" / "test.tsv").write_text(PAIRS_TSV)
    env["EVALKIT_DATA_DIR"] = str(data)
    out = _run([evalkit, "compare", "--datasets", "my-dataset", "--methods", "my-method,tfidf-cosine",
                "--metrics", "spearman,my-metric", "--aggregate", "mean,my-aggregator", "--format", "json",
                "--no-save"], env, work)
    records = json.loads(out.stdout)["results"]
    got = {(r["method"], r["metric"]) for r in records}
    assert got == {(m, k) for m in ("my-method", "tfidf-cosine") for k in ("spearman", "my-metric")}
    assert json.loads(out.stdout)["tables"]["my-metric"]["aggregates"]["my-method"]["my-aggregator"] is not None
    rst = _run([evalkit, "compare", "--datasets", "my-dataset", "--methods", "my-method", "--metrics", "my-metric",
                "--format", "my-reporter", "--no-save"], env, work).stdout
    assert rst.startswith("Kendall's tau x 100") and "my-method" in rst and "======" in rst
