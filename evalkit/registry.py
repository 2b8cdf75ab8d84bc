"""Typed registries of components, one per kind, filled by the ``register_*`` hooks."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from evalkit.errors import DuplicateNameError, PluginError, UnknownNameError

T = TypeVar("T")

KINDS = ("metric", "method", "dataset", "aggregator", "reporter")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.+\-]*$")  # "+" composes: "minilm-logreg+can"


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered component.

    Attributes:
        kind: one of :data:`KINDS`.
        name: the lowercase slug users type.
        factory: class or callable building the component.
        params: preset keyword arguments bound into this entry.
        plugin: name of the plugin that registered it.
        distribution: distribution (pip package) providing the plugin, or ``None``.
        version: that distribution's version, or ``None``.
        description: one line for ``evalkit list``.
    """

    kind: str
    name: str
    factory: Any
    params: dict[str, Any] = field(default_factory=dict)
    plugin: str = ""
    distribution: str | None = None
    version: str | None = None
    description: str = ""

    def create(self, **overrides: Any) -> T:
        """Build the component with the preset params updated by ``overrides``.

        Raises:
            ConfigError: an override names a parameter the factory does not accept (with
                did-you-mean suggestions).
        """
        from evalkit.params import check_params

        kwargs = {**self.params, **overrides}
        check_params(self.kind, self.name, self.factory, kwargs, types=False, plugin=self.plugin)
        obj: T = self._build(kwargs)
        # Remember which registry entry built the object (used in provenance, tables and errors).
        with contextlib.suppress(AttributeError):
            obj.registered_name = self.name  # type: ignore[attr-defined]
        with contextlib.suppress(AttributeError):
            obj._evalkit_entry = self  # type: ignore[attr-defined]
        return obj

    def _build(self, kwargs: dict[str, Any]) -> T:
        """Call the factory; its own failures become :class:`PluginError` naming this entry."""
        from evalkit.errors import EvalkitError
        from evalkit.guard import fill_context, plugin_failure

        ctx = {"plugin": self.plugin, "distribution": self.distribution, "version": self.version,
               "component": f"{self.kind} {self.name!r}"}
        try:
            obj: T = self.factory(**kwargs)
        except PluginError as exc:
            raise fill_context(exc, ctx, "__init__") from None
        except EvalkitError:
            raise
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as exc:
            raise plugin_failure(exc, ctx, "__init__") from None
        return obj


class Registry(Generic[T]):
    """Registered components of one kind, by name."""

    def __init__(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown component kind {kind!r}")
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        #: Other names of entries (``arithmetic`` -> ``mean``), from the factory's ``aliases``.
        self.aliases: dict[str, str] = {}

    def add(self, entry: Entry[T]) -> None:
        """Add an entry; a name already taken raises :class:`DuplicateNameError` naming both."""
        if not isinstance(entry.name, str) or not _NAME_RE.match(entry.name):
            raise PluginError(
                f"plugin {entry.plugin!r} registered a {self.kind} with invalid name "
                f"{entry.name!r}: names are lowercase slugs such as 'wmd' or 'auto_threshold_f1'."
            )
        if entry.name in self._entries:
            other = self._entries[entry.name]
            raise DuplicateNameError(
                f"{self.kind} {entry.name!r} is registered by two plugins: {other.plugin!r} and "
                f"{entry.plugin!r}. Uninstall or block one of them "
                f"(EVALKIT_BLOCK_PLUGINS={entry.plugin})."
            )
        self._entries[entry.name] = entry
        # A factory's ``aliases`` class attribute names its own entry (not presets built from it).
        if entry.name == getattr(entry.factory, "name", None):
            for alias in getattr(entry.factory, "aliases", ()) or ():
                self.aliases.setdefault(alias, entry.name)

    def get(self, name: str) -> Entry[T]:
        """The entry called ``name`` (or an alias of it, when no entry has that name).

        Raises:
            UnknownNameError: no such name or alias (with did-you-mean hints).
        """
        entry = self._entries.get(name) or self._entries.get(self.aliases.get(name, ""))
        if entry is None:
            raise UnknownNameError(self.kind, name, [*self._entries, *self.aliases])
        return entry

    def create(self, name: str, **overrides: Any) -> T:
        """Shortcut for ``get(name).create(**overrides)``."""
        return self.get(name).create(**overrides)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self.aliases

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)
