"""``evalkit new-plugin``: scaffold a pip-installable plugin package (see :mod:`evalkit.scaffold`)."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.registry import KINDS


@click.command("new-plugin")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="The kind of component the plugin adds.")
@click.option("--directory", "-d", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to create the package folder evalkit-NAME.")
@click.option("--task", type=click.Choice(["similarity", "classification"]), default="similarity", show_default=True,
              help="With --kind method: a similarity method (one score per pair) or a classification method "
                   "(class probabilities, trained on the dataset's labelled train split).")
def new_plugin(name: str, kind: str, directory: Path, task: str) -> None:
    """Create evalkit-NAME/, a plugin package adding the KIND called NAME.

    It holds pyproject.toml (with the 'evalkit' entry point), the module with a working example
    component, a README and tests that run evalkit's conformance checks. Then:
    cd evalkit-NAME && pip install -e ".[test]" && pytest
    """
    from evalkit.errors import ConfigError
    from evalkit.plugins import get_host
    from evalkit.scaffold import plugin_names, write_plugin

    names = plugin_names(name)
    taken = get_host().registries[kind]
    if names.name in taken:
        raise ConfigError(
            f"a {kind} named {names.name!r} is already registered by plugin {taken.get(names.name).plugin!r}; "
            "two plugins cannot register one name, so choose another"
        )
    target = write_plugin(name, kind, directory, task)
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        click.echo(str(path))
    click.echo(
        f"created {target}: the {kind} {names.name!r} in module {names.module}. Next:\n"
        f"  cd {target} && pip install -e \".[test]\" && pytest",
        err=True,
    )
