"""The ``register_suites`` hook: plugins ship suites, the core names none.

The built-in suites are compared with the literal lists of ``DEFAULT_SUITES`` in ``evalkit/suite.py``
on main before the suites moved into the plugins; a third-party-style plugin
(``tests/suite_plugin/evalkit_tinysuites.py``) registers suites that ``compare --suite`` runs, checked
against scipy on the fixture's eight pairs.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from scipy import stats

import evalkit
from evalkit.errors import ConfigError, DuplicateNameError, PluginError
from evalkit.plugins import Host
from evalkit.suite import Suite, load_suite

HERE = Path(__file__).resolve().parent

#: ``DEFAULT_SUITES`` of ``evalkit/suite.py`` on main (commit 9572633), written out.
MAIN_SUITES: dict[str, dict[str, list[str]]] = {
    "sts": {
        "datasets": ["stsb", "sickr", "sts12", "sts13", "sts14", "sts15", "sts16"],
        "methods": ["minilm-cosine", "minilm-whitening", "minilm-wmd", "minilm-wrd", "tfidf-cosine"],
        "metrics": ["spearman", "pearson"],
        "aggregate": ["mean"],
    },
    "pairclass": {
        "datasets": ["mrpc"],
        "methods": ["minilm-cosine", "minilm-wmd", "minilm-wrd", "tfidf-cosine", "majority-class"],
        "metrics": ["auto_threshold_f1", "auto_threshold_accuracy", "average_precision"],
        "aggregate": ["mean"],
    },
    "sick-e": {
        "datasets": ["sick-e"],
        "methods": ["majority", "prior", "tfidf-logreg", "tfidf-logreg+logit-adjust", "tfidf-logreg+can",
                    "minilm-logreg", "minilm-logreg+logit-adjust", "minilm-logreg+can"],
        "metrics": ["accuracy", "macro_f1", "balanced_accuracy"],
        "aggregate": ["mean"],
    },
    "pairclass-zh": {
        "datasets": ["atec", "bq", "lcqmc", "pawsx"],
        "methods": ["tfidf-char", "majority-class"],
        "metrics": ["auto_threshold_f1", "auto_threshold_accuracy", "average_precision"],
        "aggregate": ["mean"],
    },
}
OWNERS = {"sts": "sts", "pairclass": "pairclass", "pairclass-zh": "pairclass", "sick-e": "classification"}


def tiny_plugin() -> ModuleType:
    """The test plugin module, loaded from its file as an installed plugin's module would be."""
    path = HERE / "suite_plugin" / "evalkit_tinysuites.py"
    spec = importlib.util.spec_from_file_location("evalkit_tinysuites", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def suite_plugin(**suites: dict[str, Any]) -> object:
    """A plugin object registering ``suites`` (name -> keyword arguments of ``register``)."""

    class SuitePlugin:
        @evalkit.hookimpl
        def register_suites(self, register: Any) -> None:
            for name, kwargs in suites.items():
                options = dict(kwargs)
                definition = options.pop("definition", {"datasets": ["stsb"], "methods": ["tfidf-cosine"],
                                                        "metrics": ["spearman"]})
                register(definition, name, **options)

    return SuitePlugin()


def as_lists(suite: Suite) -> dict[str, list[str]]:
    return {"datasets": [s.component for s in suite.datasets], "methods": [s.component for s in suite.methods],
            "metrics": [s.component for s in suite.metrics], "aggregate": list(suite.aggregate)}


# -- the built-in suites -------------------------------------------------------------------------


def test_builtin_suites_are_main_s_suites_registered_by_their_plugins() -> None:
    host = Host(autoload=False, blocked=())
    assert sorted(host.suites.names()) == sorted(MAIN_SUITES)
    for name, expected in MAIN_SUITES.items():
        suite = load_suite(name, host=host)
        assert as_lists(suite) == expected, name
        # no labels, parameters or splits of their own: exactly main's bare names
        assert all(s.label == s.component and not s.params and s.splits is None
                   for s in (*suite.datasets, *suite.methods, *suite.metrics)), name
        assert (suite.name, suite.source) == (name, f"suite {name!r}")  # main's provenance fields
        assert host.suites.get(name).plugin == OWNERS[name]
    assert host.suites.default().name == "sts"
    assert as_lists(load_suite(None, host=host)) == MAIN_SUITES["sts"]


def test_load_suite_hands_out_copies() -> None:
    host = Host(autoload=False, blocked=())
    first = load_suite("sts", host=host)
    first.methods.clear()
    first.datasets[0] = first.datasets[1]
    assert as_lists(load_suite("sts", host=host)) == MAIN_SUITES["sts"]


def test_the_core_names_no_built_in_suite_or_component() -> None:
    """The issue's grep, on the syntax tree: outside :mod:`evalkit.testing` (samples for plugin
    authors) no identifier in ``evalkit/`` mentions a built-in, and no string constant that is data
    (a bare word, as the names in main's ``DEFAULT_SUITES``) does. Docstrings, help texts, messages
    and examples are sentences (they hold spaces); the built-in plugins' own list (plugin loading)
    is the one place naming their modules."""
    import ast

    pattern = re.compile(r"stsb|minilm|auto_threshold|sick|tfidf", re.IGNORECASE)
    root = HERE.parent / "evalkit"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if "testing" in path.relative_to(root).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name) and node.target.id == "DEFAULT_PLUGINS"
                for n in ast.walk(node)}
        for node in ast.walk(tree):
            where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Name) and pattern.search(node.id):
                offenders.append(f"{where} identifier {node.id}")
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.search(node.value)
                  and not re.search(r"\s", node.value) and id(node) not in skip):
                offenders.append(f"{where} string {node.value!r}")
    assert offenders == [], offenders
    # the check can fail: main's suite.py held such names
    main_suite = "STS_DATASETS = ['stsb', 'sickr']\nDEFAULT_SUITES = {'sts': {'methods': ['tfidf-cosine']}}"
    assert sum(isinstance(n, ast.Constant) and bool(pattern.search(str(n.value)))
               for n in ast.walk(ast.parse(main_suite))) == 3


# -- a third-party suite ------------------------------------------------------------------------


def fixture_pairs() -> pd.DataFrame:
    return pd.read_csv(HERE / "fixtures" / "pairs.csv")


def jaccard(a: str, b: str) -> float:
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return len(wa & wb) / len(wa | wb)


def test_a_third_party_suite_runs_in_compare(evalkit_plugin: Any, evalkit_cli: Any) -> None:
    evalkit_plugin(tiny_plugin(), "tinysuites")
    out = evalkit_cli("compare", "--suite", "tiny-overlap", "--format", "json", "--no-save").json()
    gold = fixture_pairs()
    overlap = [jaccard(a, b) for a, b in zip(gold["text_a"], gold["text_b"], strict=True)]
    rho = stats.spearmanr(overlap, gold["similarity"]).statistic
    assert [(r["method"], r["dataset"], r["metric"]) for r in out["results"]] == [
        ("word-overlap", "tiny", "spearman")]
    assert out["results"][0]["value"] == pytest.approx(rho, abs=1e-12)
    assert out["suite"] == "tiny-overlap"


def test_a_suite_file_registered_by_path_resolves_against_its_folder(evalkit_plugin: Any, evalkit_cli: Any,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    evalkit_plugin(tiny_plugin(), "tinysuites")
    monkeypatch.chdir(tmp_path)  # the relative path must not depend on the working directory
    out = evalkit_cli("compare", "--suite", "tiny-toml", "--format", "json", "--no-save").json()
    gold = fixture_pairs()
    overlap = [jaccard(a, b) for a, b in zip(gold["text_a"], gold["text_b"], strict=True)]
    values = {r["metric"]: r["value"] for r in out["results"]}
    assert values == pytest.approx({"spearman": stats.spearmanr(overlap, gold["similarity"]).statistic,
                                    "pearson": stats.pearsonr(overlap, gold["similarity"]).statistic}, abs=1e-12)
    assert {r["dataset"] for r in out["results"]} == {"tiny-file"}


def test_third_party_suites_are_listed(evalkit_plugin: Any, evalkit_cli: Any) -> None:
    evalkit_plugin(tiny_plugin(), "tinysuites")
    listed = {s["name"]: s for s in evalkit_cli("list", "suites", "--json").json()}
    assert listed["tiny-overlap"]["plugin"] == "tinysuites"
    assert listed["tiny-overlap"]["description"] == "eight pairs, word overlap, Spearman"
    assert listed["tiny-toml"]["description"] == "eight pairs from a suite file, word overlap, Spearman and Pearson"
    assert (listed["sts"]["default"], listed["tiny-toml"]["default"]) == (True, False)
    text = evalkit_cli("list", "suites").stdout
    assert re.search(r"^tiny-overlap +eight pairs, word overlap, Spearman +\(tinysuites\)$", text, re.M)
    info = next(p for p in evalkit_cli("plugins", "--json").json()["plugins"] if p["name"] == "tinysuites")
    assert info["components"]["suite"] == ["tiny-overlap", "tiny-toml"]
    assert "register_suites" in info["hooks"]
    help_text = evalkit_cli("compare", "--help").stdout
    assert "--suite tiny-toml: methods word-overlap; datasets pairs; metrics spearman, pearson; aggregate mean" in (
        " ".join(help_text.split()))


# -- names and the default ----------------------------------------------------------------------


def test_a_suite_name_registered_twice_is_an_error_naming_both_plugins() -> None:
    with pytest.raises(DuplicateNameError, match="suite 'mine' is registered by two plugins: 'one' and 'two'"):
        Host(autoload=False, builtins=False, extra_plugins=[("one", suite_plugin(mine={})),
                                                            ("two", suite_plugin(mine={}))])
    with pytest.raises(DuplicateNameError, match="suite 'sts' is registered by two plugins: 'sts' and 'copycat'"):
        Host(autoload=False, blocked=(), extra_plugins=[("copycat", suite_plugin(sts={}))])


def test_several_default_suites_are_an_error_naming_the_plugins(evalkit_plugin: Any, evalkit_cli: Any) -> None:
    evalkit_plugin(suite_plugin(mine={"default": True}), "greedy")
    err = evalkit_cli("compare", "--no-save", expect=2).stderr
    assert "several plugins register a default suite ('sts' by plugin 'sts'; 'mine' by plugin 'greedy')" in err
    assert "--suite" in err
    # --suite settles it; the help says what happens without it
    assert "with no --suite option: an error" in evalkit_cli("compare", "--help").stdout


def test_no_default_suite_asks_for_suite(evalkit_cli: Any) -> None:
    from evalkit.plugins import use_host

    host = Host(autoload=False, strict=True, blocked=["sts"], extra_plugins=[("plain", suite_plugin(mine={}))])
    with use_host(host):
        err = evalkit_cli("compare", "--no-save", expect=2).stderr
    assert "no plugin registers a default suite: choose one with --suite NAME" in err
    assert "mine" in err


class EightPairs(evalkit.Dataset):
    """The fixture's eight pairs, held in memory (test plugin)."""

    name = "eight-pairs"

    def files(self, split: str | None = None) -> list[evalkit.DataFile]:
        return []

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        self.check_split(split)
        gold = fixture_pairs()
        return pd.DataFrame({"sentence1": gold["text_a"], "sentence2": gold["text_b"], "score": gold["similarity"]})


class DefaultSuite:
    @evalkit.hookimpl
    def register_datasets(self, register: Any) -> None:
        register(EightPairs)

    @evalkit.hookimpl
    def register_suites(self, register: Any) -> None:
        register({"datasets": ["eight-pairs"], "methods": ["word-overlap"], "metrics": ["pearson"]}, "picked",
                 default=True)


def test_a_third_party_default_suite_runs_without_suite(evalkit_cli: Any) -> None:
    """With the sts plugin (the built-in default) blocked, the third-party default runs."""
    from evalkit.plugins import use_host

    host = Host(autoload=False, strict=True, blocked=["sts"],
                extra_plugins=[("tinysuites", tiny_plugin()), ("pick", DefaultSuite())])
    assert "sts" not in host.suites
    with use_host(host):
        out = evalkit_cli("compare", "--format", "json", "--no-save").json()
    gold = fixture_pairs()
    overlap = [jaccard(a, b) for a, b in zip(gold["text_a"], gold["text_b"], strict=True)]
    assert out["suite"] == "picked"
    assert [(r["dataset"], r["metric"]) for r in out["results"]] == [("eight-pairs", "pearson")]
    assert [r["value"] for r in out["results"]] == pytest.approx(
        [stats.pearsonr(overlap, gold["similarity"]).statistic], abs=1e-12)


@pytest.mark.parametrize(("definition", "message"), [
    ({"datasets": ["stsb"], "colour": "red"}, r"registered an invalid suite 'bad': suite 'bad': unknown top-level"),
    (42, "a suite is a Suite, a dict or the path of a TOML file, not int"),
    ("no/such/suite.toml", "cannot read suite file no/such/suite.toml"),
])
def test_an_invalid_suite_is_a_plugin_error_naming_the_plugin(definition: Any, message: str) -> None:
    with pytest.raises(PluginError, match=message) as info:
        Host(autoload=False, builtins=False, extra_plugins=[("broken", suite_plugin(bad={"definition": definition}))])
    assert "plugin 'broken'" in str(info.value)


def test_invalid_suite_names_are_refused() -> None:
    with pytest.raises(PluginError, match="invalid name 'My Suite'"):
        Host(autoload=False, builtins=False, extra_plugins=[("p", suite_plugin(**{"My Suite": {}}))])


def test_an_unknown_suite_suggests_registered_names() -> None:
    host = Host(autoload=False, blocked=())
    with pytest.raises(ConfigError, match=r"neither a registered suite .*nor an existing TOML file\. "
                                          r"Did you mean 'pairclass'"):
        load_suite("pairclas", host=host)


def test_suite_registry_imports_nothing_heavy() -> None:
    code = ("import sys; import evalkit.suite_registry, evalkit.suite; "
            "print(sorted(m for m in ('torch', 'pandas', 'sklearn', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_components_reference_lists_the_registered_suites() -> None:
    """docs/src/reference/components.md's suite table names each registered suite, its plugin and
    the default, as the registry has them."""
    page = (HERE.parent / "docs" / "src" / "reference" / "components.md").read_text(encoding="utf-8")
    section = page.split("## Suites", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w-]+)`( \(default\))? \| `(\w+)` \|", section, re.M)
    host = Host(autoload=False, blocked=())
    assert {(name, bool(default), plugin) for name, default, plugin in rows} == {
        (e.name, e.default, e.plugin) for e in host.suites}


def test_an_installed_plugin_s_suite_runs_from_the_command_line(tmp_path: Path) -> None:
    """The test plugin installed as pip leaves a distribution (entry point ``evalkit``), run in a
    fresh interpreter: its suites are listed and ``compare --suite`` runs one."""
    import json
    import os

    site = tmp_path / "site"
    info = site / "evalkit_tinysuites-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evalkit-tinysuites\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[evalkit]\ntinysuites = evalkit_tinysuites\n")
    root = HERE.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVALKIT_") or k in (
        "EVALKIT_CACHE_DIR", "EVALKIT_RUNS_DIR", "EVALKIT_OFFLINE")}
    env["PYTHONPATH"] = os.pathsep.join(map(str, [site, HERE / "suite_plugin", root, root / "plugins"]))

    def evalkit_cmd(*args: str) -> Any:
        done = subprocess.run([sys.executable, "-c", "from evalkit.cli import main; main()", *args], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    listed = {s["name"]: s for s in evalkit_cmd("list", "suites", "--json")}
    assert (listed["tiny-toml"]["plugin"], listed["tiny-toml"]["distribution"], listed["tiny-toml"]["version"]) == (
        "tinysuites", "evalkit-tinysuites", "0.1.0")
    out = evalkit_cmd("compare", "--suite", "tiny-toml", "--format", "json", "--no-save")
    gold = fixture_pairs()
    overlap = [jaccard(a, b) for a, b in zip(gold["text_a"], gold["text_b"], strict=True)]
    assert {r["metric"]: r["value"] for r in out["results"]} == pytest.approx(
        {"spearman": stats.spearmanr(overlap, gold["similarity"]).statistic,
         "pearson": stats.pearsonr(overlap, gold["similarity"]).statistic}, abs=1e-12)
