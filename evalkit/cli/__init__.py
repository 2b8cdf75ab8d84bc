"""The ``evalkit`` command line: a thin click layer over the Python API.

Every command module keeps heavy imports inside its function bodies, so ``evalkit --help`` only
imports click, pluggy and the (light) plugin modules. User errors (:class:`evalkit.EvalkitError`)
are printed as one message without a traceback; the exit code is the error's ``exit_code`` (2 for
usage, configuration and data errors, 3 for plugin errors).
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any

import click

from evalkit.errors import EvalkitError


class EvalkitGroup(click.Group):
    """Root group: turns evalkit errors into messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EvalkitError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted: no partial output was written; finished cells are kept, so the same "
                       "command resumes where this one stopped.", err=True)
            ctx.exit(130)


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    click.echo(f"Warning: {message}", err=True)


def build_cli() -> click.Group:
    """The root command with the core subcommands and those added by plugins."""
    from evalkit import __version__
    from evalkit.cli import check, compare, diff, hooks, listing, new_plugin, report, runs, score
    from evalkit.plugins import get_host

    @click.group(cls=EvalkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="evalkit")
    @click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
    def cli(verbose: int) -> None:
        """evalkit: compare NLP methods across datasets with numbers you can defend.

        Set EVALKIT_DATA_DIR (or pass --data-dir) to a folder holding the benchmark files;
        'evalkit list datasets' shows what each dataset expects.
        """
        level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
        logging.basicConfig(level=level, format="%(name)s: %(message)s", stream=sys.stderr)

    cli.add_command(compare.compare)
    cli.add_command(score.score)
    cli.add_command(listing.list_cmd)
    cli.add_command(listing.plugins_cmd)
    cli.add_command(check.check)
    cli.add_command(diff.diff)
    cli.add_command(report.report)
    cli.add_command(runs.runs)
    cli.add_command(runs.rescore)
    cli.add_command(hooks.hooks_cmd)
    cli.add_command(new_plugin.new_plugin)
    get_host().register_commands(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    warnings.showwarning = _show_warning
    try:
        cli = build_cli()
    except EvalkitError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    cli.main(args=argv, prog_name="evalkit")
