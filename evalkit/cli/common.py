"""Helpers shared by the CLI commands: option parsing and writing output safely."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from evalkit.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


def friedman_options(*, alpha_help: str, posthoc_help: str, subject: str = "method") -> Callable[[F], F]:
    """``--alpha``, ``--posthoc`` and ``--control``: the options of the cross-dataset tests
    (Friedman's test and its post-hoc, :mod:`evalkit.stats`), declared once for every command that
    runs them (``compare``, ``report``, ``leaderboard``); each command words what they act on."""

    def apply(f: F) -> F:
        f = click.option("--control", help=f"The {subject} holm and bonferroni-dunn compare against "
                         "[default: best mean rank].")(f)
        f = click.option("--posthoc", default="wilcoxon-holm", show_default=True, help=posthoc_help)(f)
        return click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
                            show_default=True, help=alpha_help)(f)

    return apply


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
    from evalkit.run import render_report

    return render_report(reporter, report)


FORMAT_HELP = ("Output format: a reporter name (table, markdown, csv, json, latex, html) [default: from the "
               "--output extension (.txt, .md, .csv, .json, .tex, .html), else table].")

#: ``--output`` file extensions whose reporter is not found by its ``extension`` attribute alone.
EXTENSION_ALIASES = {"htm": "html", "markdown": "markdown", "latex": "latex", "text": "table"}


def format_for(fmt: str | None, output: str | None, *, extra: tuple[str, ...] = ()) -> str:
    """The reporter name for ``--format fmt`` and ``--output output``.

    Without ``--format``, the format follows the output file's extension: the reporter whose
    ``extension`` it is (``.md`` markdown, ``.csv``, ``.json``, ``.tex`` latex, ``.html`` the HTML
    report, ``.txt`` table; also ``.htm``); an unknown or missing extension gives ``table``. An
    explicit ``--format`` must agree with a known extension: ``--format json --output x.csv`` is
    an error rather than a JSON file named ``.csv``. ``extra`` are command-specific formats
    (``junit``, ``github``) that are not reporters; they are accepted with any extension.

    Raises:
        ConfigError: ``--format`` contradicts the ``--output`` extension.
    """
    inferred = None
    if output:
        ext = Path(output).suffix.lower().lstrip(".")
        if ext:
            from evalkit.plugins import get_host

            by_ext: dict[str, str] = {}
            for entry in get_host().reporters:  # the first reporter registered for an extension wins
                if isinstance(getattr(entry.factory, "extension", None), str):
                    by_ext.setdefault(entry.factory.extension, entry.name)
            for alias, name in EXTENSION_ALIASES.items():
                by_ext.setdefault(alias, name)
            inferred = by_ext.get(ext)
    if fmt is None:
        return inferred or "table"
    if inferred is not None and fmt != inferred and fmt not in extra:
        raise ConfigError(
            f"--format {fmt} contradicts --output {output}: a .{Path(output or '').suffix.lstrip('.')} "
            f"file gets the {inferred} format; drop --format, or name the file for {fmt}"
        )
    return fmt
