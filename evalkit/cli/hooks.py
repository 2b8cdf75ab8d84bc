"""``evalkit hooks``: the plugin hooks evalkit defines, and which loaded plugins implement them."""

from __future__ import annotations

import json

import click


@click.command("hooks")
@click.option("--markdown", "as_markdown", is_flag=True,
              help="Print the hook reference of the documentation (generated from the hookspec docstrings).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def hooks_cmd(as_markdown: bool, as_json: bool) -> None:
    """List the plugin hooks with their signature, summary and implementing plugins."""
    from evalkit.hookdocs import hook_docs, hook_reference_markdown
    from evalkit.plugins import get_host

    if as_markdown:
        click.echo(hook_reference_markdown(), nl=False)
        return
    host = get_host()
    rows = []
    for h in hook_docs():
        impls = [i.plugin_name for i in getattr(host.pm.hook, h.name).get_hookimpls()]
        rows.append({**h.to_dict(), "implemented_by": impls})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['signature']}\n  {r['summary']}\n  implemented by: {', '.join(r['implemented_by']) or '-'}")
