"""The ``evalkit`` command line: a thin click layer over the Python API.

Every command module keeps heavy imports inside its function bodies, so ``evalkit --help`` only
imports click, pluggy and the (light) plugin modules. Every command follows one exit-code contract
(:mod:`evalkit.cli.exits`): 0 success, 1 a regression (``check``), 2 a user error, 3 a plugin
failure, 4 an internal error (traceback in a log file), 130 on Ctrl-C; no traceback for 2 and 3
unless ``-v``. Commands added by plugins follow it too: their own exceptions are plugin failures.
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import TYPE_CHECKING, Any

import click

from evalkit.cli.exits import as_usage_exit, handle
from evalkit.errors import EvalkitError

if TYPE_CHECKING:
    from evalkit.plugins import Host


class EvalkitGroup(click.Group):
    """Root group: applies the exit-code contract (:mod:`evalkit.cli.exits`) to every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            out = super().invoke(ctx)
            sys.stdout.flush()  # a reader that closed the pipe is seen here, not at exit
            return out
        except click.exceptions.Exit:
            raise
        except click.ClickException as exc:
            raise as_usage_exit(exc) from None
        except click.Abort:
            ctx.exit(handle(KeyboardInterrupt()))
        except SystemExit:
            raise
        except BaseException as exc:
            ctx.exit(handle(exc, verbose=int(ctx.params.get("verbose") or 0)))


def _guard_plugin_commands(cli: click.Group, host: Host) -> None:
    """Make exceptions escaping a plugin's command :class:`PluginError` s naming the plugin."""
    from evalkit.guard import plugin_failure

    for info in host.plugins.values():
        for name in info.components.get("command", []):
            cmd = cli.commands.get(name)
            if cmd is None or getattr(cmd, "_evalkit_guarded", False):
                continue
            ctx_info = {"plugin": info.name, "distribution": info.distribution, "version": info.version,
                        "component": f"command {name!r}"}

            def invoke(ctx: click.Context, _orig: Any = cmd.invoke, _ctx: dict[str, Any] = ctx_info) -> Any:
                try:
                    return _orig(ctx)
                except (EvalkitError, click.ClickException, click.exceptions.Exit, click.Abort,
                        SystemExit, KeyboardInterrupt, GeneratorExit):
                    raise
                except BaseException as exc:
                    raise plugin_failure(exc, _ctx, "the command") from None

            cmd.invoke = invoke  # type: ignore[method-assign]
            cmd._evalkit_guarded = True  # type: ignore[attr-defined]


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    click.echo(f"Warning: {message}", err=True)


def build_cli() -> click.Group:
    """The root command with the core subcommands and those added by plugins."""
    from evalkit import __version__
    from evalkit.cli import cache, check, compare, diff, hooks, leaderboard, listing, new_plugin, report, runs, score
    from evalkit.plugins import get_host

    @click.group(cls=EvalkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="evalkit")
    @click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
    def cli(verbose: int) -> None:
        """evalkit: compare NLP methods across datasets with numbers you can defend.

        Set EVALKIT_DATA_DIR (or pass --data-dir) to a folder holding the benchmark files;
        'evalkit list datasets' shows what each dataset expects.
        """
        warnings.showwarning = _show_warning  # also when invoked in-process (tests), not only through main()
        level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
        logging.basicConfig(level=level, format="%(name)s: %(message)s", stream=sys.stderr)

    cli.add_command(compare.compare)
    cli.add_command(score.score)
    cli.add_command(listing.list_cmd)
    cli.add_command(listing.plugins_cmd)
    cli.add_command(check.check)
    cli.add_command(diff.diff)
    cli.add_command(report.report)
    cli.add_command(leaderboard.leaderboard)
    cli.add_command(runs.runs)
    cli.add_command(runs.rescore)
    cli.add_command(hooks.hooks_cmd)
    cli.add_command(cache.cache)
    cli.add_command(new_plugin.new_plugin)
    host = get_host()
    host.register_commands(cli)
    _guard_plugin_commands(cli, host)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    warnings.showwarning = _show_warning
    try:
        cli = build_cli()
    except Exception as exc:  # plugins failing to load under strict mode, or a bug
        sys.exit(handle(exc, verbose=int("-v" in (argv or sys.argv[1:]))))
    except KeyboardInterrupt as exc:
        sys.exit(handle(exc))
    cli.main(args=argv, prog_name="evalkit")
