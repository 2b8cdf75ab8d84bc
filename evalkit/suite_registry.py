"""Named suites registered by plugins through the ``register_suites`` hook.

A plugin ships a suite as a :class:`~evalkit.suite.Suite`, a dict shaped like a suite file, or the
path of a suite file (TOML, see :mod:`evalkit.suite`), with a one-line description::

    @evalkit.hookimpl
    def register_suites(register):
        register({"datasets": ["my-pairs"], "methods": ["tfidf-cosine"], "metrics": ["spearman"]},
                 "my-suite", description="my pairs, scored by Spearman's rho")
        register(Path(__file__).parent / "big.toml")          # name: the file's 'name', else its stem

``evalkit compare --suite NAME`` runs a registered suite; without ``--suite`` it runs the one suite
registered with ``default=True`` (evalkit itself names none). Two plugins registering the same
name is a :class:`~evalkit.errors.DuplicateNameError` naming both; several default suites, or
none, make ``compare`` without ``--suite`` a :class:`~evalkit.errors.ConfigError` naming the
plugins.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError, DuplicateNameError, PluginError, UnknownNameError

if TYPE_CHECKING:
    from evalkit.hookspecs import SuiteRegister
    from evalkit.plugins import Host, PluginInfo
    from evalkit.suite import Suite


@dataclass(frozen=True)
class SuiteEntry:
    """One registered suite.

    Attributes:
        name: the name users pass to ``--suite`` (a lowercase slug, as component names).
        suite: the parsed definition; :meth:`build` hands out copies.
        description: one line for ``evalkit list suites`` and ``compare --help``.
        default: whether ``compare`` runs this suite when no ``--suite`` is given.
        plugin, distribution, version: who registered it.
    """

    name: str
    suite: Suite
    description: str = ""
    default: bool = False
    plugin: str = ""
    distribution: str | None = None
    version: str | None = None

    def build(self) -> Suite:
        """A fresh copy of the suite (callers may replace its datasets, methods and metrics)."""
        return copy.deepcopy(self.suite)


class SuiteRegistry:
    """The registered suites, by name, in registration order (built-in plugins first)."""

    def __init__(self) -> None:
        self._entries: dict[str, SuiteEntry] = {}

    def add(self, entry: SuiteEntry) -> None:
        """Add a suite; a name already taken raises :class:`DuplicateNameError` naming both plugins."""
        from evalkit.registry import _NAME_RE

        if not _NAME_RE.match(entry.name):
            raise PluginError(f"plugin {entry.plugin!r} registered a suite with invalid name {entry.name!r}: "
                              "names are lowercase slugs such as 'sts' or 'pairclass-zh'.")
        other = self._entries.get(entry.name)
        if other is not None:
            raise DuplicateNameError(
                f"suite {entry.name!r} is registered by two plugins: {other.plugin!r} and {entry.plugin!r}. "
                f"Uninstall or block one of them (EVALKIT_BLOCK_PLUGINS={entry.plugin})."
            )
        self._entries[entry.name] = entry

    def get(self, name: str) -> SuiteEntry:
        """The suite called ``name``; :class:`UnknownNameError` (with did-you-mean) if none."""
        if name not in self._entries:
            raise UnknownNameError("suite", name, self._entries)
        return self._entries[name]

    def default(self) -> SuiteEntry:
        """The one suite registered with ``default=True``.

        Raises:
            ConfigError: no plugin registered a default suite, or several did (naming them).
        """
        chosen = [e for e in self._entries.values() if e.default]
        if len(chosen) == 1:
            return chosen[0]
        if not chosen:
            known = ", ".join(self._entries) or "none registered"
            raise ConfigError(f"no plugin registers a default suite: choose one with --suite NAME or a TOML file "
                              f"(registered suites: {known}; see 'evalkit list suites')")
        claims = "; ".join(f"{e.name!r} by plugin {e.plugin!r}" for e in chosen)
        raise ConfigError(f"several plugins register a default suite ({claims}): choose one with --suite NAME, "
                          f"or block all but one of those plugins (EVALKIT_BLOCK_PLUGINS)")

    def names(self) -> list[str]:
        """Names in registration order."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[SuiteEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)


def parse_definition(definition: Any, name: str | None) -> Suite:
    """A :class:`Suite` from what a plugin registered: a ``Suite``, a mapping or a TOML path.

    A mapping has the keys of a suite file (``datasets``, ``methods``, ``metrics``, ``aggregate``,
    optionally ``name`` and ``description``); paths in a TOML file resolve against its folder.

    Raises:
        ConfigError: an invalid definition (unknown keys, malformed entries, unreadable TOML).
        TypeError: ``definition`` is none of the three.
    """
    from evalkit.suite import Suite, suite_from_dict, suite_from_file

    if isinstance(definition, Suite):
        suite = copy.deepcopy(definition)
        if name:
            suite.name = name
        return suite
    if isinstance(definition, Mapping):
        label = name or str(definition.get("name", ""))
        suite = suite_from_dict(dict(definition), name=label, source=f"suite {label!r}")
    elif isinstance(definition, (str, Path)):
        suite = suite_from_file(Path(definition))
    else:
        raise TypeError(f"a suite is a Suite, a dict or the path of a TOML file, not {type(definition).__name__}")
    if name:
        suite.name = name
    return suite


def make_suite_register(registry: SuiteRegistry, info: PluginInfo) -> SuiteRegister:
    """The ``register`` callable handed to one plugin's ``register_suites`` hook."""

    def register(suite: Any, name: str | None = None, *, description: str | None = None,
                 default: bool = False) -> None:
        try:
            parsed = parse_definition(suite, name)
        except (ConfigError, TypeError) as exc:
            what = f"suite {name!r}" if name else "suite"
            raise PluginError(f"plugin {info.name!r} registered an invalid {what}: {exc}", plugin=info.name,
                              distribution=info.distribution, version=info.version) from None
        if not parsed.name:
            raise PluginError(f"plugin {info.name!r} registered a suite without a name: pass name=... or set "
                              "'name' in the definition", plugin=info.name)
        text = description if description is not None else parsed.description or _summary(parsed)
        registry.add(SuiteEntry(parsed.name, parsed, text, bool(default), info.name, info.distribution,
                                info.version))
        info.components.setdefault("suite", []).append(parsed.name)

    return register


def _summary(suite: Suite) -> str:
    return f"{len(suite.datasets)} datasets x {len(suite.methods)} methods"


def suite_claim(entry: SuiteEntry) -> str:
    """One line saying what suite ``entry`` runs (so ``compare --help`` cannot drift from it)."""
    s = entry.suite

    def names(specs: Any) -> str:
        return ", ".join(spec.component for spec in specs)

    return (f"--suite {entry.name}: methods {names(s.methods)}; datasets {names(s.datasets)}; "
            f"metrics {names(s.metrics)}; aggregate {', '.join(s.aggregate)}")


def suites_help(host: Host | None = None) -> str:
    """The registered suites for ``compare --help``: a heading naming the default suite, then a
    click ``\\b`` block with one :func:`suite_claim` per line."""
    from evalkit.plugins import get_host

    suites = (host or get_host()).suites
    try:
        default = f"with no --suite option: {suites.default().name}"
    except ConfigError as exc:
        default = f"with no --suite option: an error, {exc}"
    if not len(suites):
        return f"No plugin registers a suite ({default})."
    lines = "\n".join(suite_claim(e) for e in suites)
    return f"Suites registered by plugins ({default}):\n\n\b\n{lines}"


def describe_suite(entry: SuiteEntry) -> dict[str, Any]:
    """What ``evalkit list suites --json`` prints for one suite: names of its components, who
    registered it and whether it is the default."""
    s = entry.suite
    return {"name": entry.name, "description": entry.description, "default": entry.default,
            "plugin": entry.plugin, "distribution": entry.distribution, "version": entry.version,
            "datasets": [d.label for d in s.datasets], "methods": [m.label for m in s.methods],
            "metrics": [m.label for m in s.metrics], "aggregate": list(s.aggregate)}


def list_suites(registry: SuiteRegistry, *, as_json: bool = False) -> str:
    """``evalkit list suites``: one line per suite (``NAME  description  [default]  (plugin)``)
    followed by its datasets, methods and metrics, or a JSON list of :func:`describe_suite`."""
    import json

    items = [describe_suite(e) for e in registry]
    if as_json:
        return json.dumps(items, indent=2)
    width = max((len(i["name"]) for i in items), default=4)
    lines = []
    for i in items:
        flag = "  [default]" if i["default"] else ""
        lines.append(f"{i['name']:<{width}}  {i['description']}{flag}  ({i['plugin']})")
        for key in ("datasets", "methods", "metrics", "aggregate"):
            lines.append(f"    {key}: {', '.join(i[key])}")
    return "\n".join(lines) if lines else "(no suites registered)"
