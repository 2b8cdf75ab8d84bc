"""Public access to the registered components, for plugins that compose others by name.

Part of evalkit's public plugin API (see the API reference). A wrapper method (the built-in
``+can`` and ``+logit-adjust`` post-processors, a plugin's ensemble) names its base component in
its parameters and builds it here, from whichever plugins are loaded in the current plugin host
(the one ``evalkit`` commands use, or the isolated host of the ``evalkit_host`` test fixture).
"""

from __future__ import annotations

from typing import Any

from evalkit.errors import ConfigError
from evalkit.registry import KINDS

__all__ = ["KINDS", "create", "names"]


def _registry(kind: str) -> Any:
    if kind not in KINDS:
        raise ConfigError(f"unknown component kind {kind!r}; the kinds are {', '.join(KINDS)}")
    from evalkit.plugins import get_host

    return get_host().registries[kind]


def create(kind: str, name: str, /, **params: Any) -> Any:
    """A new instance of the component registered as ``name`` for ``kind``.

    Args:
        kind: one of :data:`KINDS` (``"metric"``, ``"method"``, ``"dataset"``, ``"aggregator"``,
            ``"reporter"``).
        name: the registered name or an alias (as ``evalkit list`` shows it); a preset's own
            parameters are bound, ``params`` override them.
        **params: keyword parameters of the component's constructor.

    Returns:
        The component (an instance of the kind's base class, e.g. :class:`evalkit.Method`).

    Raises:
        ConfigError: unknown ``kind``, or parameters the component rejects.
        PluginError: the component's constructor failed (the message names the plugin).
        UnknownNameError: no component of that kind is registered as ``name`` (the message lists
            the registered names and the closest matches).
    """
    return _registry(kind).create(name, **params)


def names(kind: str) -> list[str]:
    """The names registered for ``kind`` (sorted), as ``evalkit list KIND`` shows them.

    Raises:
        ConfigError: unknown ``kind``.
    """
    return sorted(_registry(kind).names())
