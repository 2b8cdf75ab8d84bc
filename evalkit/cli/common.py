"""Helpers shared by the CLI commands: option parsing and writing output safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from evalkit.errors import ConfigError


def split_names(value: str | None) -> list[str] | None:
    """``"a,b , c"`` -> ``["a", "b", "c"]``; ``None``/empty -> ``None``."""
    if not value:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    return names or None


def check_output(*outputs: str | None) -> None:
    """Fail now (exit 2), before any work, if an ``--output``-like file cannot be written."""
    from evalkit.fsutil import check_writable

    for output in outputs:
        if output and output != "-":
            check_writable(Path(output), what="--output", is_file=True)


def write_output(text: str, output: str | None) -> None:
    """Print ``text``, or write it to ``output`` atomically (never a half-written file).

    The file follows the umask (see :mod:`evalkit.fsutil`).

    Raises:
        ConfigError: the folder of ``output`` does not exist or cannot be written.
    """
    from evalkit.fsutil import atomic_write

    if not output or output == "-":
        click.echo(text, nl=not text.endswith("\n"))
        return
    path = Path(output)
    check_output(output)
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise ConfigError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
    click.echo(f"wrote {path}", err=True)


def render(reporter: Any, report: Any) -> str:
    """``reporter.render(report)`` as plugin code: its failures and non-text output are plugin errors."""
    from evalkit.errors import PluginError
    from evalkit.guard import origin, plugin_call

    text = plugin_call(reporter, "render", reporter.render, report)
    if not isinstance(text, str):
        raise PluginError(f"{origin(reporter)['component']}: render returned {type(text).__name__}, not text",
                          call="render", **origin(reporter))
    return text


FORMAT_HELP = "Output format: a reporter name (table, markdown, csv, json, latex, html)."
