"""The ``evalkit`` command group as the documentation shows it (``docs/src/reference/cli.md``).

mkdocs-click renders a click command that a module exposes as an attribute; ``evalkit``'s group
is built at run time, because plugins add commands through the ``register_commands`` hook. This
module builds it once, with evalkit's built-in plugins only (no entry-point autoload, nothing
blocked, strict), so the reference shows what every installation has, whatever else happens to be
installed where the site is built.
"""

from __future__ import annotations

import click

from evalkit.cli import build_cli
from evalkit.plugins import Host, use_host


def reference_cli() -> click.Group:
    """The root group with the core commands and those of the built-in plugins only.

    Raises:
        PluginError: a built-in plugin failed to load or to add its commands (strict mode).
    """
    with use_host(Host(autoload=False, strict=True, blocked=())):
        return build_cli()


#: The group mkdocs-click documents (``:module: evalkit.cli.reference``, ``:command: cli``).
cli = reference_cli()
