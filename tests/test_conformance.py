"""Every component the built-in plugins register passes evalkit's conformance checks.

The components are read from the registries at collection time, so a component added to a
built-in plugin (or a new plugin added to ``DEFAULT_PLUGINS``) is checked without touching this
file. Where a component's defaults cannot work on the checks' tiny inputs, ``CHECK_PARAMS`` gives
the parameters to build it with; ``EXPECTED_FAILURES`` lists checks a component is known to fail,
each with its reason (they are strict xfails: a fixed component must leave the list).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from evalkit.plugins import DEFAULT_PLUGINS, Host
from evalkit.registry import KINDS, Entry
from evalkit.testing import parametrize_with_checks

FIXTURES = Path(__file__).parent / "fixtures"

#: (kind, name) -> parameters the checks build the component with.
CHECK_PARAMS: dict[tuple[str, str], dict[str, Any]] = {
    # The power mean has no default order.
    ("aggregator", "power"): {"p": 2.0},
    # 'pairs' needs a file; this one maps its own column names, as users' files do.
    ("dataset", "pairs"): {"path": str(FIXTURES / "pairs.csv"), "sentence1": "text_a",
                           "sentence2": "text_b", "target": "similarity"},
}

#: (kind, name) -> {check: reason} for checks a built-in component cannot pass.
EXPECTED_FAILURES: dict[tuple[str, str], dict[str, str]] = {}


def builtin_entries() -> list[Entry[Any]]:
    """Every registry entry of the built-in plugins, with the parameters of ``CHECK_PARAMS``."""
    host = Host(autoload=False, strict=True, blocked=())
    out = []
    for kind in KINDS:
        for entry in host.registries[kind]:
            extra = CHECK_PARAMS.get((kind, entry.name))
            out.append(replace(entry, params={**entry.params, **extra}) if extra else entry)
    return out


ENTRIES = builtin_entries()


@parametrize_with_checks(ENTRIES, expected_failures=lambda e: EXPECTED_FAILURES.get((e.kind, e.name), {}))
def test_builtin_component(component: Any, check: Any) -> None:
    check(component)


def test_every_builtin_component_is_covered() -> None:
    """Every built-in plugin with a register_<kind> hook has all its components parametrized."""
    host = Host(autoload=False, strict=True, blocked=())
    assert set(host.plugins) == {name for name, _ in DEFAULT_PLUGINS}
    registered = {(kind, name) for p in host.plugins.values() for kind, names in p.components.items()
                  if kind in KINDS for name in names}
    assert {(e.kind, e.name) for e in ENTRIES} == registered
    assert {e.kind for e in ENTRIES} == set(KINDS)
    with_hooks = {p.name for p in host.plugins.values() if any(h != "register_commands" for h in p.hooks)}
    assert {e.plugin for e in ENTRIES} == with_hooks


@pytest.mark.parametrize("key", sorted(CHECK_PARAMS))
def test_check_params_name_registered_components(key: tuple[str, str]) -> None:
    """A stale CHECK_PARAMS entry (a renamed component) would silently check nothing."""
    assert key in {(e.kind, e.name) for e in ENTRIES}
