"""The exit-code contract of every ``evalkit`` command (see :mod:`evalkit.errors`).

:func:`handle` turns an exception that escaped a command into a message and an exit code:

- :class:`~evalkit.errors.EvalkitError`: ``Error: <message>`` and its ``exit_code`` (2 user
  error, 3 plugin failure); no traceback unless ``-v`` is given.
- ``KeyboardInterrupt``: 130, finished cells are kept.
- the reader of the output closed the pipe (``evalkit list methods | head -1``): 141, silently,
  as a Unix tool stopped by ``SIGPIPE`` (128 + 13); the rest of the output is discarded.
- a click error (bad option, missing argument, unreadable file argument): click's message, exit 2.
- anything else is a bug in evalkit: exit 4; the traceback goes to a log file (``$EVALKIT_LOG_DIR``,
  else the per-user state folder's ``log``, else the temporary folder) whose path is printed.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import traceback
from pathlib import Path

import click

from evalkit.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PIPE, EXIT_USER, EvalkitError

ISSUES_URL = "https://github.com/evalkit/evalkit/issues"


def log_dir() -> Path:
    """Where internal-error logs go: ``$EVALKIT_LOG_DIR``, else ``<user state>/evalkit/log``."""
    env = os.environ.get("EVALKIT_LOG_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_log_dir("evalkit"))


def _traceback_text(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    detail = getattr(exc, "detail", None)
    return text + (f"\nOriginal traceback (plugin code or worker process):\n{detail}" if detail else "")


def write_crash_log(exc: BaseException) -> Path | None:
    """Write the traceback of ``exc`` with versions and arguments to a new log file; its path."""
    from evalkit import __version__

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    body = (f"evalkit {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n"
            f"command: {' '.join(sys.argv)}\ntime: {_dt.datetime.now().isoformat()}\n\n{_traceback_text(exc)}")
    import tempfile

    for folder in (log_dir(), Path(tempfile.gettempdir()) / "evalkit-log"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"crash-{stamp}-{os.getpid()}.log"
            path.write_text(body, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def _discard_stdout() -> None:
    """Point standard output at the null device, so that nothing more (Python's flush at exit
    included) writes to the closed pipe (the Python documentation's advice for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (captured output): nothing to protect
        pass


def handle(exc: BaseException, *, verbose: int = 0) -> int:
    """Print what the user needs about ``exc`` (escaped from a command) and return the exit code.

    Click's own exceptions (usage errors, ``ctx.exit``) and ``SystemExit`` are not handled here.
    """
    if isinstance(exc, EvalkitError):
        if verbose:
            click.echo(_traceback_text(exc), err=True, nl=False)
        click.echo(f"Error: {exc}", err=True)
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):
        _discard_stdout()
        return EXIT_PIPE
    if isinstance(exc, KeyboardInterrupt):
        click.echo("Interrupted: no partial output was written; finished cells are kept, so the same "
                   "command resumes where this one stopped.", err=True)
        return EXIT_INTERRUPTED
    path = write_crash_log(exc)
    where = f"the traceback is in {path}" if path else "the traceback could not be written to a log file"
    if verbose or path is None:
        click.echo(_traceback_text(exc), err=True, nl=False)
    click.echo(f"Internal error: {type(exc).__name__}: {exc}\nThis is a bug in evalkit, not in your input; "
               f"{where}. Please report it at {ISSUES_URL} with that file.", err=True)
    return EXIT_INTERNAL


def as_usage_exit(exc: click.ClickException) -> click.ClickException:
    """Click errors other than usage errors default to exit 1 (``FileError``); the contract says 2."""
    if exc.exit_code == 1:
        exc.exit_code = EXIT_USER  # type: ignore[misc]
    return exc
