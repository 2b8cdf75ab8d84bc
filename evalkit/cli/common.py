"""Helpers shared by the CLI commands: option parsing and writing output safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from evalkit.errors import ConfigError


def split_names(value: str | None) -> list[str] | None:
    """``"a,b , c"`` -> ``["a", "b", "c"]``; ``None``/empty -> ``None``."""
    if not value:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    return names or None


def write_output(text: str, output: str | None) -> None:
    """Print ``text``, or write it to ``output`` atomically (never a half-written file)."""
    if not output:
        click.echo(text, nl=not text.endswith("\n"))
        return
    path = Path(output)
    if path.parent and not path.parent.exists():
        raise ConfigError(f"--output {output}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {path}", err=True)


FORMAT_HELP = "Output format: a reporter name (table, markdown, csv, json, latex, html)."
