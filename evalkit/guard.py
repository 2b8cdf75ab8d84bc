"""Calling plugin code: any failure becomes a :class:`~evalkit.errors.PluginError` naming its source.

Every call evalkit makes into a component (a method's ``fit``/``predict``, a dataset's ``load``, a
metric's ``compute``, an aggregator, a reporter) goes through :func:`plugin_call`. An exception
that is not an :class:`~evalkit.errors.EvalkitError` (a plugin's own ``ValueError``, ``KeyError``,
an ``AssertionError``), and a plugin calling ``sys.exit``, becomes a ``PluginError`` (exit code 3)
whose message names the plugin, its distribution and version, the component, the call and the cell;
the original traceback is kept in :attr:`PluginError.detail` (shown with ``evalkit -v``).
An ``EvalkitError`` a plugin raises on purpose (a :class:`~evalkit.errors.DataError` for bad input)
passes through unchanged; a ``PluginError`` gets the missing context filled in. ``KeyboardInterrupt``
is never converted.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from evalkit.errors import EvalkitError, PluginError

T = TypeVar("T")


def origin(component: Any) -> dict[str, str | None]:
    """``plugin``, ``distribution``, ``version`` and ``component`` of an object built by a registry entry.

    Objects not built through the registry are described by their class's module.
    """
    entry = getattr(component, "_evalkit_entry", None)
    kind = getattr(entry, "kind", None) or _kind_of(component)
    name = getattr(component, "display_name", "") or getattr(component, "name", "") or type(component).__name__
    return {
        "plugin": getattr(entry, "plugin", None) or type(component).__module__.split(".")[0],
        "distribution": getattr(entry, "distribution", None),
        "version": getattr(entry, "version", None),
        "component": f"{kind} {name!r}",
    }


def _kind_of(component: Any) -> str:
    from evalkit.interfaces import Aggregator, Dataset, Method, Metric, Reporter

    for cls, kind in ((Method, "method"), (Dataset, "dataset"), (Metric, "metric"),
                      (Aggregator, "aggregator"), (Reporter, "reporter")):
        if isinstance(component, cls):
            return kind
    return "component"


def describe(ctx: dict[str, Any]) -> str:
    """``plugin 'p' (distribution d 1.0), method 'm', cell X`` from a context dict."""
    parts = []
    if ctx.get("plugin"):
        dist = ctx.get("distribution")
        ver = ctx.get("version")
        where = f" (distribution {dist}{' ' + ver if ver else ''})" if dist else " (not installed as a distribution)"
        parts.append(f"plugin {ctx['plugin']!r}{where}")
    if ctx.get("component"):
        parts.append(str(ctx["component"]))
    if ctx.get("cell"):
        parts.append(f"cell {ctx['cell']}")
    return ", ".join(parts)


def plugin_failure(exc: BaseException, ctx: dict[str, Any], call: str) -> PluginError:
    """The :class:`PluginError` for ``exc`` raised by plugin code (context ``ctx``) in ``call``."""
    if isinstance(exc, SystemExit):
        what = f"called sys.exit({exc.code!r}) in {call}"
    else:
        what = f"{call} raised {type(exc).__name__}: {exc}"
    err = PluginError(f"{describe(ctx)}: {what}. This is a bug in the plugin (run with -v for its traceback); "
                      "report it to the plugin's authors.", call=call,
                      **{k: ctx.get(k) for k in ("plugin", "distribution", "version", "component", "cell")})
    err.detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))  # type: ignore[attr-defined]
    return err


def fill_context(err: PluginError, ctx: dict[str, Any], call: str) -> PluginError:
    """Add the fields ``err`` lacks from ``ctx``, and prefix the message with them once."""
    missing = {k: v for k, v in ctx.items() if v and getattr(err, k, None) is None}
    for k, v in missing.items():
        setattr(err, k, v)
    if getattr(err, "call", None) is None:
        err.call = call
    if missing and not getattr(err, "_described", False):
        err.args = (f"{describe({**ctx, **err.context()})}: {err.args[0] if err.args else ''}", *err.args[1:])
        err._described = True  # type: ignore[attr-defined]
    return err


def plugin_call(component: Any, call: str, fn: Callable[..., T], *args: Any, cell: str | None = None,
                **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, where ``fn`` is plugin code of ``component`` (see the module docstring).

    Raises:
        PluginError: ``fn`` raised something other than an ``EvalkitError``, or called ``sys.exit``.
        EvalkitError: whatever ``EvalkitError`` ``fn`` raised (a ``PluginError`` with context added).
    """
    try:
        return fn(*args, **kwargs)
    except PluginError as exc:
        raise fill_context(exc, {**origin(component), "cell": cell}, call) from None
    except EvalkitError:
        raise
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as exc:  # SystemExit included: a plugin exiting is a plugin failure
        raise plugin_failure(exc, {**origin(component), "cell": cell}, call) from None
