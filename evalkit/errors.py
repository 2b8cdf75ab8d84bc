"""Errors a user can cause.

Every error evalkit raises for bad input, configuration or plugins is an :class:`EvalkitError`.
The message says what was wrong, where (file, line, column, plugin) and what to do; the CLI prints
the message without a traceback and exits with :attr:`EvalkitError.exit_code`.

Exit codes (one contract for every command, see ``docs/src/reference/exit-codes.md``):

====  ==========================================================================================
code  meaning
====  ==========================================================================================
0     success
1     a regression was found (``evalkit check``); not an error
2     a user error: bad option, file, configuration or data (:class:`ConfigError`, :class:`DataError`)
3     a plugin failed: an exception in plugin code, invalid output (wrong shape, non-finite or
      non-real predictions, NaN where a number is due), a plugin calling ``sys.exit``
      (:class:`PluginError`, naming plugin, distribution, version, component and cell)
4     an internal error of evalkit: the traceback is written to a log file whose path is printed
130   interrupted (Ctrl-C); finished cells are kept
141   the output's reader closed the pipe (``| head``): silent, as a Unix tool stopped by SIGPIPE
====  ==========================================================================================
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

#: Exit codes of the command line (see the module docstring).
EXIT_OK, EXIT_REGRESSION, EXIT_USER, EXIT_PLUGIN, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
#: The reader of the output closed the pipe: 128 + SIGPIPE, as a Unix tool killed by that signal.
EXIT_PIPE = 141


class EvalkitError(Exception):
    """Base class of every error caused by input, configuration or plugins (exit code 2)."""

    exit_code: int = 2


class ConfigError(EvalkitError):
    """A command-line option, suite file or parameter is invalid (exit code 2)."""


class DataError(EvalkitError):
    """A data file is missing, malformed or has the wrong size (exit code 2)."""


class UndefinedValueError(DataError):
    """A statistic is mathematically undefined on these inputs (e.g. a correlation of constant scores).

    Raised by metrics; :func:`evalkit.tuning.score_metric` turns it into an explicit *undefined*
    cell (value NaN with the reason in the ``undefined`` extra, printed as ``undefined`` with a
    note), never a number. Outside scoring it is a :class:`DataError` (exit code 2).
    """


class PluginError(EvalkitError):
    """A plugin failed to load, registered something invalid, or misbehaved (exit code 3).

    Attributes (``None`` when unknown):
        plugin: the plugin's name (``evalkit_ot``, a third-party entry point name).
        distribution: the pip distribution providing it, and ``version`` its version.
        component: ``"method 'minilm-wmd'"``, ``"metric 'spearman'"``, ...
        call: what was called (``predict``, ``compute``, ``load``, ...).
        cell: the cell being computed (``"minilm-wmd on stsb/test"``), if any.
    """

    exit_code = 3

    def __init__(self, message: str, *, plugin: str | None = None, distribution: str | None = None,
                 version: str | None = None, component: str | None = None, call: str | None = None,
                 cell: str | None = None) -> None:
        super().__init__(message)
        self.plugin, self.distribution, self.version = plugin, distribution, version
        self.component, self.call, self.cell = component, call, cell

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the context (and a worker's traceback text) across process boundaries (joblib, Dask).
        return (_rebuild_plugin_error, (type(self), self.args, dict(self.__dict__)))

    def context(self) -> dict[str, str | None]:
        """The named fields as a dict (for JSON output and logs)."""
        return {"plugin": self.plugin, "distribution": self.distribution, "version": self.version,
                "component": self.component, "call": self.call, "cell": self.cell}


def _rebuild_plugin_error(cls: type[PluginError], args: tuple[Any, ...], ctx: dict[str, Any]) -> PluginError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    for k, v in ctx.items():
        setattr(err, k, v)
    return err


class DuplicateNameError(PluginError):
    """Two plugins registered a component of the same kind under the same name."""


class UnknownNameError(ConfigError):
    """A component name that no plugin registered; the message suggests close matches."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(known) if known else "(none registered)"
        super().__init__(
            f"unknown {kind} {name!r}.{hint} Known {kind}s: {listing}. "
            f"Run 'evalkit list {kind}s' for descriptions."
        )
        self.kind = kind
        self.name = name
        self.known = known
        self.suggestions = close

    def __reduce__(self) -> tuple[type[UnknownNameError], tuple[str, str, list[str]]]:
        # Rebuild from the constructor's arguments so the error survives pickling (worker processes).
        return (type(self), (self.kind, self.name, self.known))
