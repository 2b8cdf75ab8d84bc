"""``evalkit list`` and ``evalkit plugins``: what is registered and by whom."""

from __future__ import annotations

import json
from typing import Any

import click

KIND_CHOICES = ["datasets", "methods", "metrics", "aggregators", "reporters"]


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
    for attr in ("task_type", "task_types", "splits", "eval_splits", "higher_is_better", "scale",
                 "target", "target_scale"):
        if hasattr(f, attr):
            v = getattr(f, attr)
            info[attr] = list(v) if isinstance(v, tuple) else v
    return info


@click.command("list")
@click.argument("kind", type=click.Choice(KIND_CHOICES))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(kind: str, as_json: bool) -> None:
    """Describe the registered datasets, methods, metrics, aggregators or reporters."""
    from evalkit.plugins import get_host

    registry = get_host().registries[kind[:-1]]
    items = [_describe(e) for e in registry]
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
        tail = f"  [{'; '.join(extra)}]" if extra else ""
        click.echo(f"{i['name']:<{width}}  {i['description']}{tail}  ({i['plugin']})")


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
