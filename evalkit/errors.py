"""Errors a user can cause.

Every error evalkit raises for bad input, configuration or plugins is an :class:`EvalkitError`.
The message says what was wrong, where (file, line, column, plugin) and what to do; the CLI prints
the message without a traceback and exits with :attr:`EvalkitError.exit_code`.

Exit codes follow ``evalkit check``'s contract: 1 means a regression (not an error), 2 a usage,
configuration or data error, 3 a plugin error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EvalkitError(Exception):
    """Base class of every error caused by input, configuration or plugins (exit code 2)."""

    exit_code: int = 2


class ConfigError(EvalkitError):
    """A command-line option, suite file or parameter is invalid (exit code 2)."""


class DataError(EvalkitError):
    """A data file is missing, malformed or has the wrong size (exit code 2)."""


class PluginError(EvalkitError):
    """A plugin failed to load, registered something invalid, or misbehaved (exit code 3)."""

    exit_code = 3


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
