"""Plugin loading, registries and the plugin listing.

Loading order (as datasette and llm do): the built-in plugins of :data:`DEFAULT_PLUGINS` first,
then every entry point of group ``evalkit``, **one at a time**, so that a plugin that fails to
import is recorded and warned about while everything else keeps working. Environment variables:

- ``EVALKIT_STRICT_PLUGINS=1``: a plugin that fails to load is an error (exit code 3).
- ``EVALKIT_BLOCK_PLUGINS=a,b``: skip these plugins (entry-point or module names).
- ``EVALKIT_DISABLE_PLUGIN_AUTOLOAD=1``: load only the built-in plugins.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.metadata as md
import os
import traceback
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from evalkit import hookspecs
from evalkit.errors import DuplicateNameError, PluginError
from evalkit.registry import KINDS, Entry, Registry
from evalkit.suite_registry import SuiteRegistry, make_suite_register

#: Built-in plugins as (plugin name, module). They are declared as entry points too, and an entry
#: point naming one of these modules is not loaded twice.
DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    ("correlation", "evalkit_correlation"),
    ("sts", "evalkit_sts"),
    ("encoders", "evalkit_encoders"),
    ("tfidf", "evalkit_tfidf"),
    ("ot", "evalkit_ot"),
    ("aggregators", "evalkit_aggregators"),
    ("reporters", "evalkit_reporters"),
    ("pairclass", "evalkit_pairclass"),
    ("classification", "evalkit_classification"),
)

_HOOK_KIND = {
    "register_metrics": "metric",
    "register_methods": "method",
    "register_datasets": "dataset",
    "register_aggregators": "aggregator",
    "register_reporters": "reporter",
}


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded; the others still work."""


@dataclass
class PluginInfo:
    """A loaded plugin: name, where it comes from, its hooks and what it registered."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    builtin: bool
    hooks: list[str] = field(default_factory=list)
    components: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "hooks": sorted(self.hooks),
            "components": {k: sorted(v) for k, v in self.components.items() if v},
        }


@dataclass
class LoadFailure:
    """A plugin that failed to load, with the error message and traceback."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    error: str
    traceback: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "error": self.error,
        }


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> set[str]:
    return {p.strip() for p in os.environ.get(name, "").split(",") if p.strip()}


class Host:
    """The loaded plugins, the five registries built from them and the registered :attr:`suites`.

    Build with :func:`get_host` (cached per process) or directly for an isolated set of plugins
    (tests: ``Host(autoload=False, extra_plugins=[...])``).

    Raises:
        PluginError: a plugin failed to load under strict mode, has a misspelled hook, or two
            plugins registered the same name (:class:`DuplicateNameError`).
    """

    def __init__(
        self,
        *,
        autoload: bool | None = None,
        strict: bool | None = None,
        blocked: Iterable[str] | None = None,
        extra_plugins: Iterable[tuple[str, object]] = (),
        builtins: bool = True,
    ) -> None:
        self.autoload = not _env_flag("EVALKIT_DISABLE_PLUGIN_AUTOLOAD") if autoload is None else autoload
        self.strict = _env_flag("EVALKIT_STRICT_PLUGINS") if strict is None else strict
        self.blocked = _env_list("EVALKIT_BLOCK_PLUGINS") if blocked is None else set(blocked)
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.failures: list[LoadFailure] = []
        self.registries: dict[str, Registry[Any]] = {k: Registry(k) for k in KINDS}
        #: Named suites from the ``register_suites`` hooks.
        self.suites = SuiteRegistry()
        self._load(builtins, extra_plugins)
        self._call_register_hooks()

    # -- loading -------------------------------------------------------------------------------
    def _is_blocked(self, name: str, module: str) -> bool:
        return name in self.blocked or module in self.blocked

    def _fail(self, failure: LoadFailure) -> None:
        self.failures.append(failure)
        where = f" (distribution {failure.distribution} {failure.version})" if failure.distribution else ""
        head = f"evalkit plugin {failure.name!r}{where} failed to load: {failure.error}."
        fix = f"fix or uninstall it, or skip it with EVALKIT_BLOCK_PLUGINS={failure.name}."
        if self.strict:
            raise PluginError(f"{head} EVALKIT_STRICT_PLUGINS=1 makes this an error: {fix}")
        warnings.warn(f"{head} Other plugins still work; {fix}", PluginLoadWarning, stacklevel=3)

    def _register_plugin(
        self, name: str, module: str, obj: object, dist: str | None, version: str | None, builtin: bool
    ) -> None:
        try:
            self.pm.register(obj, name=name)
        except ValueError as exc:  # already registered under this name
            raise PluginError(f"plugin name {name!r} is used twice: {exc}") from None
        except pluggy.PluginValidationError as exc:
            self._fail(LoadFailure(name, module, dist, version, f"invalid hook: {exc}"))
            return
        hooks = sorted(
            h.name for h in self.pm.get_hookcallers(obj) or [] if h.name.startswith("register_")
        )
        self.plugins[name] = PluginInfo(name, module, dist, version, builtin, hooks, {})

    def _load(self, builtins: bool, extra_plugins: Iterable[tuple[str, object]]) -> None:
        from evalkit import __version__

        loaded_modules: set[str] = set()
        if builtins:
            for name, module in DEFAULT_PLUGINS:
                if self._is_blocked(name, module):
                    continue
                try:
                    mod = importlib.import_module(module)
                except Exception as exc:
                    self._fail(
                        LoadFailure(name, module, "evalkit", __version__, f"{type(exc).__name__}: {exc}",
                                    traceback.format_exc())
                    )
                    continue
                self._register_plugin(name, module, mod, "evalkit", __version__, True)
                loaded_modules.add(module)
        for name, obj in extra_plugins:
            module = getattr(obj, "__name__", type(obj).__name__)
            self._register_plugin(name, module, obj, None, None, False)
        if self.autoload:
            for ep in sorted(md.entry_points(group=hookspecs.PROJECT_NAME), key=lambda e: e.name):
                module = ep.value.split(":")[0]
                if module in loaded_modules or ep.name in self.plugins:
                    continue
                dist = ep.dist.name if ep.dist is not None else None
                version = ep.dist.version if ep.dist is not None else None
                if self._is_blocked(ep.name, module):
                    continue
                try:
                    obj = ep.load()
                except Exception as exc:  # a broken plugin must not break the others
                    self._fail(
                        LoadFailure(ep.name, module, dist, version, f"{type(exc).__name__}: {exc}",
                                    traceback.format_exc())
                    )
                    continue
                self._register_plugin(ep.name, module, obj, dist, version, False)
                loaded_modules.add(module)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"plugin {getattr(exc, 'plugin', '?')!r} has a hook evalkit does not define: {exc}. "
                "Check the spelling against evalkit.hookspecs."
            ) from None

    # -- registration ----------------------------------------------------------------------------
    def _call_register_hooks(self) -> None:
        makers: dict[str, Any] = {h: functools.partial(self._make_register, kind) for h, kind in _HOOK_KIND.items()}
        makers["register_suites"] = functools.partial(make_suite_register, self.suites)
        for hook_name, make_register in makers.items():
            caller = getattr(self.pm.hook, hook_name)
            # get_hookimpls() is in registration order: built-ins first, then entry points.
            for impl in caller.get_hookimpls():
                info = self.plugins.get(impl.plugin_name)
                if info is None:
                    continue
                register = make_register(info)
                try:
                    impl.function(register=register)
                except (DuplicateNameError, PluginError):
                    raise
                except Exception as exc:
                    self._hook_raised(info, hook_name, exc)

    def _hook_raised(self, info: PluginInfo, hook_name: str, exc: Exception) -> None:
        """A plugin's hook raised: an error for built-ins and in strict mode, else a load failure
        (warning) so that the other plugins keep working. Call from the ``except`` block."""
        if self.strict or info.builtin:
            raise PluginError(
                f"plugin {info.name!r} raised in {hook_name}: {type(exc).__name__}: {exc}"
            ) from exc
        self._fail(LoadFailure(info.name, info.module, info.distribution, info.version,
                               f"{hook_name} raised {type(exc).__name__}: {exc}", traceback.format_exc()))

    def _make_register(self, kind: str, info: PluginInfo) -> hookspecs.Register:
        registry = self.registries[kind]

        def register(
            factory: Any,
            name: str | None = None,
            *,
            params: dict[str, Any] | None = None,
            description: str | None = None,
        ) -> None:
            if not callable(factory):
                raise PluginError(f"plugin {info.name!r} registered a {kind} that is not callable: {factory!r}")
            name = name or getattr(factory, "name", None)
            if not name:
                raise PluginError(
                    f"plugin {info.name!r} registered a {kind} without a name: give it a class "
                    f"attribute 'name' or pass name=..."
                )
            if description is None:
                doc = (getattr(factory, "__doc__", None) or "").strip()
                description = doc.splitlines()[0] if doc else ""
            registry.add(
                Entry(kind, name, factory, dict(params or {}), info.name, info.distribution,
                      info.version, description)
            )
            info.components.setdefault(kind, []).append(name)

        return register

    # -- access ----------------------------------------------------------------------------------
    @property
    def metrics(self) -> Registry[Any]:
        return self.registries["metric"]

    @property
    def methods(self) -> Registry[Any]:
        return self.registries["method"]

    @property
    def datasets(self) -> Registry[Any]:
        return self.registries["dataset"]

    @property
    def aggregators(self) -> Registry[Any]:
        return self.registries["aggregator"]

    @property
    def reporters(self) -> Registry[Any]:
        return self.registries["reporter"]

    def register_commands(self, cli: Any) -> None:
        """Call every plugin's ``register_commands(cli)`` and record the commands each one added.

        Commands appear under ``components["command"]`` in :meth:`listing`. A plugin that replaces
        a command another plugin (or the core) defined raises :class:`DuplicateNameError`; a
        third-party plugin whose hook raises is treated like one that fails to load (a warning,
        or :class:`PluginError` under strict mode).
        """
        for impl in self.pm.hook.register_commands.get_hookimpls():
            info = self.plugins.get(impl.plugin_name)
            if info is None:
                continue
            before = dict(cli.commands)
            try:
                impl.function(cli=cli)
            except Exception as exc:
                cli.commands.clear()
                cli.commands.update(before)
                self._hook_raised(info, "register_commands", exc)
                continue
            replaced = sorted(n for n, cmd in before.items() if cli.commands.get(n) is not cmd)
            if replaced:
                owners = {n: self._command_owner(n) for n in replaced}
                cli.commands.clear()
                cli.commands.update(before)
                raise DuplicateNameError(
                    "; ".join(f"command {n!r} is defined by {owners[n]} and by plugin {info.name!r}"
                              for n in replaced)
                    + f". Rename the plugin's command, or block it (EVALKIT_BLOCK_PLUGINS={info.name})."
                )
            known = info.components.setdefault("command", [])  # build_cli may run more than once
            known.extend(n for n in sorted(set(cli.commands) - set(before)) if n not in known)

    def _command_owner(self, command: str) -> str:
        for info in self.plugins.values():
            if command in info.components.get("command", []):
                return f"plugin {info.name!r}"
        return "evalkit itself"

    def plugin_versions(self) -> dict[str, str | None]:
        """``{plugin name: version}`` for provenance records."""
        return {p.name: p.version for p in self.plugins.values()}

    def listing(self) -> dict[str, Any]:
        """What ``evalkit plugins --json`` prints: plugins and load failures."""
        return {
            "plugins": [p.to_dict() for p in self.plugins.values()],
            "failures": [f.to_dict() for f in self.failures],
        }


_HOST: Host | None = None


def get_host() -> Host:
    """The process-wide :class:`Host`, built on first use from the environment's settings."""
    global _HOST
    if _HOST is None:
        _HOST = Host()
    return _HOST


def reset_host() -> None:
    """Forget the cached :class:`Host` (tests, or after installing a plugin)."""
    global _HOST
    _HOST = None


@contextlib.contextmanager
def use_host(host: Host) -> Iterator[Host]:
    """Make ``host`` the process-wide :class:`Host` (what :func:`get_host` returns) inside a block.

    For tests: the CLI, :func:`evalkit.runner.run_suite` and every other caller of
    :func:`get_host` then see exactly ``host``'s plugins. The previous host (or none) is restored
    on exit, also when the block raises::

        with use_host(Host(autoload=False, extra_plugins=[("mine", my_plugin)])):
            result = CliRunner().invoke(build_cli(), ["plugins", "--json"])
    """
    global _HOST
    previous = _HOST
    _HOST = host
    try:
        yield host
    finally:
        _HOST = previous


def plugin_module(name: str) -> ModuleType | None:
    """The module object of a loaded plugin, or ``None``."""
    obj = get_host().pm.get_plugin(name)
    return obj if isinstance(obj, ModuleType) else None
