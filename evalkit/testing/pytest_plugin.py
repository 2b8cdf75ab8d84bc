"""pytest fixtures for testing evalkit plugins, loaded automatically (entry point ``pytest11``).

- ``evalkit_host``: an isolated :class:`evalkit.plugins.Host` (the built-in plugins only, entry
  points not loaded, strict), which :func:`evalkit.plugins.get_host` returns during the test, so
  the CLI and :func:`evalkit.runner.run_suite` see exactly these plugins.
- ``evalkit_plugin``: ``evalkit_plugin(plugin, name=None) -> Host`` registers a plugin (a module
  or an object with ``@evalkit.hookimpl`` functions) on top of the isolated host for this test only.
- ``evalkit_cli``: ``evalkit_cli(*args, expect=0) -> CliResult`` runs the ``evalkit`` command line
  in-process (click's ``CliRunner``) against the current host, asserts the exit code, and gives
  ``stdout``, ``stderr`` and ``json()``.

Example::

    import evalkit_kendall

    def test_listed(evalkit_plugin, evalkit_cli):
        evalkit_plugin(evalkit_kendall)
        listing = evalkit_cli("plugins", "--json").json()
        assert "kendall" in [p["name"] for p in listing["plugins"]]

This module is imported by every pytest run in an environment where evalkit is installed, so it
imports nothing heavy at module level and all its fixture names start with ``evalkit_``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from evalkit.plugins import Host


@dataclass
class CliResult:
    """The outcome of one ``evalkit`` command run by ``evalkit_cli``."""

    args: list[str]
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    def json(self) -> Any:
        """``stdout`` parsed as JSON; an AssertionError showing the output when it is not JSON."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(
                f"'evalkit {' '.join(self.args)}' did not print JSON ({exc}).\n"
                f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
            ) from None


def run_cli(args: list[str], *, input: str | None = None, env: Mapping[str, str] | None = None,
            expect: int | None = 0) -> CliResult:
    """Run ``evalkit ARGS`` in-process against :func:`evalkit.plugins.get_host`'s plugins.

    Args:
        args: command-line arguments (converted with ``str``).
        input: text for standard input.
        env: environment variables set while the command runs.
        expect: the exit code to assert (``None``: do not check).
    """
    from click.testing import CliRunner

    from evalkit.cli import build_cli
    from evalkit.errors import EvalkitError

    args = [str(a) for a in args]
    try:
        cli = build_cli()
    except EvalkitError as exc:  # as evalkit.cli.main does when plugins fail under strict mode
        result = CliResult(args, exc.exit_code, "", f"Error: {exc}\n", exc)
    else:
        r = CliRunner().invoke(cli, args, input=input, env=dict(env or {}), prog_name="evalkit")
        raised = r.exception if not isinstance(r.exception, SystemExit) else None
        result = CliResult(args, r.exit_code, r.stdout, r.stderr, raised)
    if expect is not None and result.exit_code != expect:
        detail = ""
        if result.exception is not None:
            import traceback

            detail = "".join(traceback.format_exception(result.exception))
        raise AssertionError(
            f"'evalkit {' '.join(args)}' exited {result.exit_code}, expected {expect}.\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}{detail}"
        )
    return result


@pytest.fixture
def evalkit_host() -> Iterator[Host]:
    """An isolated plugin host: built-in plugins only, no entry points, strict, for this test."""
    from evalkit.plugins import Host, use_host

    host = Host(autoload=False, strict=True, blocked=())
    with use_host(host):
        yield host


@pytest.fixture
def evalkit_plugin(evalkit_host: Host) -> Iterator[Callable[..., Host]]:
    """``register(plugin, name=None) -> Host``: add a plugin to the isolated host for this test."""
    from evalkit.plugins import Host, use_host

    plugins: list[tuple[str, object]] = []
    with contextlib.ExitStack() as stack:

        def register(plugin: object, name: str | None = None) -> Host:
            label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
            plugins.append((label, plugin))
            host = Host(autoload=False, strict=True, blocked=(), extra_plugins=list(plugins))
            stack.enter_context(use_host(host))
            return host

        yield register


@pytest.fixture
def evalkit_cli() -> Callable[..., CliResult]:
    """``evalkit_cli(*args, input=None, env=None, expect=0) -> CliResult``: run the CLI in-process."""

    def invoke(*args: Any, input: str | None = None, env: Mapping[str, str] | None = None,
               expect: int | None = 0) -> CliResult:
        return run_cli(list(args), input=input, env=env, expect=expect)

    return invoke
