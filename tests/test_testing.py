"""``evalkit.testing`` as plugin authors use it: ``parametrize_with_checks`` in their own test
files (run with pytester) and the pytest fixtures of ``evalkit.testing.pytest_plugin``."""

from __future__ import annotations

import importlib.metadata as md
import textwrap
from typing import Any

import numpy  # noqa: F401  pytester's in-process runs forget modules they import, and numpy,
import pandas  # noqa: F401  pandas and scipy's extensions cannot be imported twice in a process
import pytest
import scipy.stats  # noqa: F401

import evalkit
from evalkit.plugins import Host, get_host, use_host
from evalkit.testing import check_names

# The plugin reaches pytester runs through the pytest11 entry point once evalkit is installed
# with this checkout's pyproject.toml; before that, pass it explicitly (never both: see conftest).
_HAS_EP = any(ep.value == "evalkit.testing.pytest_plugin" for ep in md.entry_points(group="pytest11"))
PLUGIN_ARGS = [] if _HAS_EP else ["-p", "evalkit.testing.pytest_plugin"]

COMPONENTS = '''
import numpy as np
from evalkit import DataError, Metric, as_1d_float
from evalkit.testing import parametrize_with_checks


class Mae(Metric):
    """Mean absolute error (test), >= 0."""

    name = "mae_error"
    higher_is_better = False
    task_types = ("sts",)
    optimum = 0.0

    def compute(self, *, predictions, references):
        p, r = as_1d_float(predictions), as_1d_float(references)
        if p.shape != r.shape or not p.size or not np.isfinite(p).all():
            raise DataError("bad input")
        return float(np.abs(p - r).mean())


class Loose(Mae):
    """As Mae, but swallows keyword arguments."""

    name = "loose_error"

    def compute(self, *, predictions, references, **kwargs):
        return super().compute(predictions=predictions, references=references)
'''


def test_parametrize_with_checks_gives_one_item_per_component_and_check(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mine=COMPONENTS + textwrap.dedent('''
        @parametrize_with_checks([Mae(), Loose()], expected_failures=lambda c: (
            {"signatures": "takes **kwargs for a legacy caller"} if c.name == "loose_error" else {}))
        def test_conformance(component, check):
            check(component)
    '''))
    result = pytester.runpytest("-v", "-rx", "-p", "no:cacheprovider", *PLUGIN_ARGS)
    n = len(check_names("metric"))
    result.assert_outcomes(passed=2 * n - 3, skipped=2, xfailed=1)  # 'tuning': not TunedMetrics
    result.stdout.fnmatch_lines(["*test_conformance?metric:mae_error-deterministic? PASSED*",
                                 "*XFAIL*test_conformance?metric:loose_error-signatures?*legacy caller*"])


def test_expected_failures_are_strict(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mine=COMPONENTS + textwrap.dedent('''
        @parametrize_with_checks([Mae()], expected_failures={"signatures": "wrongly listed"})
        def test_conformance(component, check):
            check(component)

        @parametrize_with_checks([Loose()])
        def test_loose(component, check):
            check(component)
    '''))
    result = pytester.runpytest("-p", "no:cacheprovider", *PLUGIN_ARGS)
    result.assert_outcomes(passed=2 * len(check_names("metric")) - 4, skipped=2, failed=2)
    result.stdout.fnmatch_lines(["*XPASS(strict)*wrongly listed*", "*test_loose?metric:loose_error-signatures?*",
                                 "*AssertionError: Loose.compute*accepts **kwargs*"])


def test_bad_parametrization_fails_at_collection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mine=COMPONENTS + textwrap.dedent('''
        @parametrize_with_checks([Mae])
        def test_class(component, check):
            check(component)
    '''))
    result = pytester.runpytest("-p", "no:cacheprovider", *PLUGIN_ARGS)
    result.stdout.fnmatch_lines(["*TypeError: pass a component instance, not the class Mae*"])
    pytester.makepyfile(test_mine=COMPONENTS + textwrap.dedent('''
        @parametrize_with_checks([Mae()], expected_failures={"determinstic": "typo"})
        def test_typo(component, check):
            check(component)
    '''))
    result = pytester.runpytest("-p", "no:cacheprovider", *PLUGIN_ARGS)
    result.stdout.fnmatch_lines(["*ValueError: expected_failures names 'determinstic', which is not a metric check*"])


def test_skipped_checks_are_reported_with_their_reason(
    pytester: pytest.Pytester, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(tmp_path / "empty"))
    pytester.makepyfile(test_mine=textwrap.dedent('''
        from evalkit.plugins import Host
        from evalkit.testing import parametrize_with_checks

        @parametrize_with_checks([Host(autoload=False).datasets.get("stsb")])
        def test_stsb(component, check):
            check(component)
    '''))
    result = pytester.runpytest("-rs", "-p", "no:cacheprovider", *PLUGIN_ARGS, f"--basetemp={tmp_path / 'bt'}")
    result.assert_outcomes(passed=len(check_names("dataset")) - 2, skipped=2)
    result.stdout.fnmatch_lines(["*data files of split 'test' are not available*EVALKIT_DATA_DIR*"])


# -- fixtures ------------------------------------------------------------------------------------------
def test_evalkit_host_is_isolated_and_becomes_the_process_host(evalkit_host: Host) -> None:
    assert get_host() is evalkit_host
    assert evalkit_host.autoload is False and evalkit_host.strict is True
    assert all(p.builtin for p in evalkit_host.plugins.values())


def test_evalkit_plugin_registers_for_one_test(evalkit_plugin: Any, evalkit_cli: Any) -> None:
    class Plugin:
        @evalkit.hookimpl
        def register_metrics(self, register: Any) -> None:
            from evalkit import Metric

            class Zero(Metric):
                """Always zero (test)."""

                name = "zero"
                task_types = ("sts",)

                def compute(self, *, predictions: Any, references: Any) -> float:
                    return 0.0

            register(Zero)

    host = evalkit_plugin(Plugin(), "zero-plugin")
    assert get_host() is host and "zero" in host.metrics
    assert "zero" in evalkit_cli("list", "metrics").stdout
    names = [p["name"] for p in evalkit_cli("plugins", "--json").json()["plugins"]]
    assert names[-1] == "zero-plugin"


def test_fixtures_restore_the_previous_host(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mine=textwrap.dedent('''
        from evalkit.plugins import get_host

        BEFORE = []

        def test_a(evalkit_plugin):
            BEFORE.append(get_host())
            class P: pass
            host = evalkit_plugin(P(), "p")
            assert get_host() is host

        def test_b():
            assert get_host() is not BEFORE[0]
            assert "p" not in get_host().plugins
    '''))
    pytester.runpytest("-p", "no:cacheprovider", *PLUGIN_ARGS).assert_outcomes(passed=2)


def test_use_host_restores_on_error() -> None:
    before = get_host()
    with pytest.raises(RuntimeError), use_host(Host(autoload=False)):
        raise RuntimeError
    assert get_host() is before


def test_evalkit_cli_reports_unexpected_exit_codes_and_non_json(evalkit_host: Host, evalkit_cli: Any) -> None:
    res = evalkit_cli("list", "nothing", expect=2)
    assert "Invalid value" in res.stderr
    with pytest.raises(AssertionError, match=r"'evalkit list nothing' exited 2, expected 0"):
        evalkit_cli("list", "nothing")
    with pytest.raises(AssertionError, match="did not print JSON"):
        evalkit_cli("list", "metrics").json()
