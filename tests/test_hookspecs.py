"""Every hook of ``evalkit.hookspecs`` is exercised here, by one plugin implementing all of them.

``test_every_hookspec_is_exercised`` fails when a hook is added to the specs without being added
to :class:`EveryHook` (and so to the assertions below); ``tests/test_docs.py`` does the same for
the documentation's hook reference (docs/src/reference/hooks.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd
import pytest

import evalkit
from evalkit import Aggregator, DataFile, Dataset, Method, Metric, Report, Reporter, as_score_table, check_pairs
from evalkit.errors import DuplicateNameError, PluginError
from evalkit.hookdocs import hook_names
from evalkit.plugins import Host, PluginLoadWarning, use_host


class MaxError(Metric):
    """Largest absolute difference between score and gold (test plugin), >= 0."""

    name = "max_error"
    higher_is_better = False
    task_types = ("sts",)

    def compute(self, *, predictions: Any, references: Any) -> float:
        return float(np.max(np.abs(np.asarray(predictions) - np.asarray(references))))


class SameLength(Method):
    """1 when both sentences have the same number of characters, else 0 (test plugin)."""

    name = "same-length"

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        check_pairs(pairs)
        return np.array([float(len(a) == len(b)) for a, b in zip(pairs["sentence1"], pairs["sentence2"], strict=True)])


class Inline(Dataset):
    """Three pairs held in memory (test plugin)."""

    name = "inline"

    def files(self, split: str | None = None) -> list[DataFile]:
        return []  # nothing on disk

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        self.check_split(split)
        return pd.DataFrame({"sentence1": ["a", "bb", "c"], "sentence2": ["a", "b", "cc"], "score": [5.0, 1.0, 2.0]})


class Best(Aggregator):
    """Best score across datasets (test plugin)."""

    name = "best"

    @property
    def rule(self) -> str:
        return "maximum over datasets; missing cells make the row NaN"

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        return as_score_table(table).max(axis=1, skipna=False)


class Count(Reporter):
    """The number of tables (test plugin)."""

    name = "count"

    def render(self, report: Report) -> str:
        return f"{len(report.tables)} tables\n"


class EveryHook:
    """A plugin object implementing every hook evalkit defines."""

    @evalkit.hookimpl
    def register_metrics(self, register: Any) -> None:
        register(MaxError)

    @evalkit.hookimpl
    def register_methods(self, register: Any) -> None:
        register(SameLength)

    @evalkit.hookimpl
    def register_datasets(self, register: Any) -> None:
        register(Inline)

    @evalkit.hookimpl
    def register_aggregators(self, register: Any) -> None:
        register(Best, "best-of")

    @evalkit.hookimpl
    def register_reporters(self, register: Any) -> None:
        register(Count, description="how many tables")

    @evalkit.hookimpl
    def register_suites(self, register: Any) -> None:
        register({"datasets": ["inline"], "methods": ["same-length"], "metrics": ["max_error"],
                  "aggregate": ["best-of"]}, "inline-suite", description="the inline pairs, max error")

    @evalkit.hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @cli.command("hello-hooks")
        @click.argument("who")
        def hello(who: str) -> None:
            """Greet WHO."""
            click.echo(f"hello {who}")


def test_every_hookspec_is_exercised() -> None:
    implemented = {name for name in vars(EveryHook) if not name.startswith("_")}
    assert implemented == set(hook_names())


def test_registration_hooks_fill_the_registries(evalkit_plugin: Any) -> None:
    host = evalkit_plugin(EveryHook(), "every-hook")
    expected = {"metric": "max_error", "method": "same-length", "dataset": "inline", "aggregator": "best-of",
                "reporter": "count"}
    for kind, name in expected.items():
        entry = host.registries[kind].get(name)
        assert (entry.plugin, entry.distribution) == ("every-hook", None)
    assert host.reporters.get("count").description == "how many tables"
    suite = host.suites.get("inline-suite")
    assert (suite.plugin, suite.description, suite.default) == ("every-hook", "the inline pairs, max error", False)
    assert host.metrics.get("max_error").description.startswith("Largest absolute difference")


def test_registered_components_run_in_compare(evalkit_plugin: Any, evalkit_cli: Any) -> None:
    evalkit_plugin(EveryHook(), "every-hook")
    out = evalkit_cli("compare", "--datasets", "inline", "--methods", "same-length", "--metrics", "max_error",
                      "--aggregate", "best-of", "--format", "json", "--no-save").json()
    # same-length scores the pairs 1, 0, 0 against gold 5, 1, 2: errors 4, 1, 2, so max_error is 4.
    assert [(r["method"], r["metric"], r["value"]) for r in out["results"]] == [("same-length", "max_error", 4.0)]
    suite_out = evalkit_cli("compare", "--suite", "inline-suite", "--format", "json", "--no-save").json()
    assert [(r["method"], r["metric"], r["value"]) for r in suite_out["results"]] == [
        ("same-length", "max_error", 4.0)]
    assert evalkit_cli("compare", "--datasets", "inline", "--methods", "same-length", "--metrics", "max_error",
                       "--format", "count", "--no-save").stdout == "1 tables\n"


def test_register_commands_adds_commands_and_records_them(evalkit_plugin: Any, evalkit_cli: Any) -> None:
    evalkit_plugin(EveryHook(), "every-hook")
    assert evalkit_cli("hello-hooks", "world").stdout == "hello world\n"
    listing = evalkit_cli("plugins", "--json").json()
    info = next(p for p in listing["plugins"] if p["name"] == "every-hook")
    assert info["hooks"] == sorted(hook_names())
    assert info["components"]["command"] == ["hello-hooks"]
    hooks = {h["name"]: h["implemented_by"] for h in evalkit_cli("hooks", "--json").json()}
    assert all("every-hook" in plugins for plugins in hooks.values())
    assert hooks["register_metrics"][:1] == ["correlation"]  # built-ins first


class Shadow:
    """Redefines a core command."""

    @evalkit.hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @cli.command("compare")
        def compare() -> None:
            """Not the real compare."""


class Echo:
    @evalkit.hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @cli.command("hello-hooks")
        def hello() -> None:
            """Another hello."""


class Raising:
    @evalkit.hookimpl
    def register_commands(self, cli: click.Group) -> None:
        raise RuntimeError("no click 9 yet")


def test_a_command_defined_twice_is_an_error_naming_both(evalkit_cli: Any) -> None:
    with use_host(Host(autoload=False, blocked=(), extra_plugins=[("shadow", Shadow())])):
        res = evalkit_cli("plugins", expect=3)
    assert "command 'compare' is defined by evalkit itself and by plugin 'shadow'" in res.stderr
    plugins = [("every-hook", EveryHook()), ("echo", Echo())]
    from evalkit.cli import build_cli

    message = "'hello-hooks' is defined by plugin 'every-hook' and by plugin 'echo'"
    host = Host(autoload=False, blocked=(), extra_plugins=plugins)
    with use_host(host), pytest.raises(DuplicateNameError, match=message):
        build_cli()


def test_a_raising_register_commands_warns_unless_strict(evalkit_cli: Any) -> None:
    with use_host(Host(autoload=False, strict=False, blocked=(), extra_plugins=[("raising", Raising())])) as host:
        with pytest.warns(PluginLoadWarning, match="'raising'.*register_commands raised RuntimeError: no click 9 yet"):
            evalkit_cli("list", "metrics")
        assert [f.name for f in host.failures] == ["raising"]
    with use_host(Host(autoload=False, strict=True, blocked=(), extra_plugins=[("raising", Raising())])):
        res = evalkit_cli("list", "metrics", expect=3)
    assert "plugin 'raising' raised in register_commands" in res.stderr


def test_a_plugin_with_a_misspelled_hook_fails_in_the_fixture(evalkit_plugin: Any) -> None:
    class Typo:
        @evalkit.hookimpl
        def register_metric(self, register: Any) -> None:
            pass

    with pytest.raises(PluginError, match="register_metric"):
        evalkit_plugin(Typo(), "typo")
