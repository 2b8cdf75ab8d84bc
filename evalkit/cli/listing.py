"""``evalkit list`` and ``evalkit plugins``: what is registered and by whom."""

from __future__ import annotations

import json
from typing import Any

import click

KIND_CHOICES = ["datasets", "methods", "metrics", "aggregators", "reporters", "suites"]


def _describe(entry: Any) -> dict[str, Any]:
    f = entry.factory
    info: dict[str, Any] = {
        "name": entry.name,
        "description": entry.description,
        "plugin": entry.plugin,
        "distribution": entry.distribution,
        "version": entry.version,
    }
    if entry.params:
        info["params"] = entry.params
    aliases = getattr(f, "aliases", ()) if entry.name == getattr(f, "name", None) else ()
    if aliases:
        info["aliases"] = list(aliases)
    for attr in ("task_type", "task_types", "splits", "eval_splits", "higher_is_better", "scale",
                 "target", "target_scale"):
        if hasattr(f, attr):
            v = getattr(f, attr)
            info[attr] = list(v) if isinstance(v, tuple) else v
    return info


@click.command("list")
@click.argument("kind", type=click.Choice(KIND_CHOICES))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--params", "with_params", is_flag=True,
              help="Show each component's parameters: type, default (a preset's value) and description.")
def list_cmd(kind: str, as_json: bool, with_params: bool) -> None:
    """Describe the registered datasets, methods, metrics, aggregators, reporters or suites.

    Parameters are set on the command line as NAME:KEY=VALUE,KEY=VALUE (e.g. --methods
    'sbert-cosine:batch_size=64') or under params in a suite file.
    """
    from evalkit.paramdocs import parameter_table
    from evalkit.plugins import get_host

    if kind == "suites":
        from evalkit.suite_registry import list_suites

        click.echo(list_suites(get_host().suites, as_json=as_json))
        return

    registry = get_host().registries[kind[:-1]]
    items = [_describe(e) for e in registry]
    if with_params:
        for item, entry in zip(items, registry, strict=True):
            item["parameters"] = parameter_table(entry.factory, entry.params)
    if as_json:
        click.echo(json.dumps(items, indent=2, default=str))
        return
    width = max((len(i["name"]) for i in items), default=4)
    for i in items:
        extra = []
        if "task_type" in i:
            extra.append(f"task {i['task_type']}, splits {'/'.join(i.get('splits', []))}")
        if "task_types" in i and kind != "datasets":
            extra.append("tasks " + ",".join(i["task_types"]))
        if "higher_is_better" in i and kind == "metrics":
            extra.append("higher is better" if i["higher_is_better"] else "lower is better")
        if "params" in i:
            extra.append(", ".join(f"{k}={v}" for k, v in i["params"].items()))
        if "aliases" in i:
            extra.append("aliases " + ", ".join(i["aliases"]))
        tail = f"  [{'; '.join(extra)}]" if extra else ""
        click.echo(f"{i['name']:<{width}}  {i['description']}{tail}  ({i['plugin']})")
        for p in i.get("parameters", []):
            click.echo("    " + _param_line(p))


def _param_line(p: dict[str, Any]) -> str:
    """``name (type, default 32): description`` for ``list --params``."""
    head = ", ".join(x for x in (p["type"], "required" if p["required"] else f"default {p['default']!r}") if x)
    return f"{p['name']} ({head})" + (f": {p['description']}" if p["description"] else "")


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_cmd(as_json: bool) -> None:
    """List loaded plugins with distribution, version, hooks and components, and load failures."""
    from evalkit.plugins import get_host

    listing = get_host().listing()
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    for p in listing["plugins"]:
        dist = f"{p['distribution']} {p['version']}" if p["distribution"] else "(not installed)"
        click.echo(f"{p['name']}  [{dist}]  module {p['module']}{'  built-in' if p['builtin'] else ''}")
        click.echo(f"  hooks: {', '.join(p['hooks']) or '-'}")
        for kind, names in p["components"].items():
            click.echo(f"  {kind}s: {', '.join(names)}")
    for f in listing["failures"]:
        click.echo(f"FAILED {f['name']}  [{f['distribution']} {f['version']}]: {f['error']}")
