"""Every claim ``compare --help`` makes about the registered suites and aliases is checked against them."""

from __future__ import annotations

import re
from typing import Any

import click
import pytest
from click.testing import CliRunner

import evalkit.runner
from evalkit.cli import build_cli
from evalkit.plugins import Host

SUITES = Host().suites.names()


def help_text() -> str:
    return CliRunner().invoke(build_cli(), ["compare", "--help"], terminal_width=400).stdout


def claims() -> dict[str, dict[str, list[str]]]:
    """``{suite: {"methods": [...], ...}}`` parsed from the help's ``--suite NAME: ...`` lines."""
    out = {}
    for line in help_text().splitlines():
        m = re.match(r"\s*--suite ([\w-]+): (methods .*)$", line)
        if m:
            out[m.group(1)] = {k: v.split(", ") for k, v in (part.split(" ", 1) for part in m.group(2).split("; "))}
    return out


def test_help_describes_every_registered_suite() -> None:
    assert set(claims()) == {"sts", "pairclass", "pairclass-zh", "sick-e"} == set(SUITES)
    assert "with no --suite option: sts" in help_text()
    # the default comes from the plugin that registers it, not from the option
    assert next(p for p in build_cli().commands["compare"].params if p.name == "suite_name").default is None


@pytest.mark.parametrize("name", SUITES)
def test_help_claim_matches_what_the_suite_runs(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``compare --suite NAME`` up to the runner and compare what it was asked to run."""
    asked: list[Any] = []

    def fake_run_suite(suite: Any, **kwargs: Any) -> None:
        asked.append(suite)
        raise click.exceptions.Exit(0)  # stop here: the command ends as a success would

    monkeypatch.setattr(evalkit.runner, "run_suite", fake_run_suite)
    result = CliRunner().invoke(build_cli(), ["compare", "--suite", name, "--no-save"])
    assert result.exit_code == 0 and len(asked) == 1, result.output
    suite = asked[0]
    claim = claims()[name]
    assert claim["methods"] == [s.component for s in suite.methods]
    assert claim["datasets"] == [s.component for s in suite.datasets]
    assert claim["metrics"] == [s.component for s in suite.metrics]
    assert claim["aggregate"] == suite.aggregate
    host = Host()
    for kind in ("method", "dataset", "metric"):
        for component in claim[f"{kind}s"]:
            assert component in host.registries[kind], (kind, component)


def test_aggregate_aliases_in_the_help_resolve() -> None:
    text = " ".join(help_text().split())
    assert "aliases arithmetic/am, gm, hm" in text
    aggs = Host().aggregators
    assert {a: aggs.get(a).name for a in ("arithmetic", "am", "gm", "hm")} == {
        "arithmetic": "mean", "am": "mean", "gm": "geometric", "hm": "harmonic"}
