"""Suites: which datasets, methods (with parameters) and metrics a comparison runs.

A suite file is TOML::

    name = "my-sts"
    description = "English STS, two encoders"     # one line for listings (optional)
    datasets = ["stsb", "sickr"]                  # names, or tables with params/splits
    metrics = ["spearman", "pearson"]
    aggregate = ["mean"]

    [[methods]]
    name = "minilm-cosine"                        # a registered method or preset

    [[methods]]
    name = "mpnet-cosine"                         # your own label ...
    method = "sbert-cosine"                       # ... for a registered method
    params = { model = "all-mpnet-base-v2", batch_size = 64 }

    [[datasets]]                                  # a dataset with parameters
    name = "my-pairs"
    dataset = "pairs"
    params = { path = "pairs.tsv" }
    splits = ["test"]

Plugins register named suites with the ``register_suites`` hook (:mod:`evalkit.suite_registry`);
:func:`load_suite` takes such a name, a TOML path, or ``None`` for the registered default suite.

Relative paths in a suite file resolve against the suite file's folder first: a string parameter
naming a file or folder that exists relative to that folder becomes its absolute path; any other
value is left alone (the component then looks in the working directory, and ``pairs`` in the data
directory).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError

if TYPE_CHECKING:
    from evalkit.params import ParsedSpec
    from evalkit.plugins import Host

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class ComponentSpec:
    """A component to create: ``label`` (shown in tables), registry ``component``, ``params``."""

    label: str
    component: str
    params: dict[str, Any] = field(default_factory=dict)
    splits: tuple[str, ...] | None = None


@dataclass
class Suite:
    """A comparison: datasets x methods, scored with metrics, aggregated across datasets.

    ``source`` says where it was read from (a file, or ``suite 'NAME'``); ``description`` is the
    suite file's one-line ``description``.
    """

    name: str
    datasets: list[ComponentSpec]
    methods: list[ComponentSpec]
    metrics: list[ComponentSpec]
    aggregate: list[str] = field(default_factory=lambda: ["mean"])
    source: str = ""
    description: str = ""


def _relative_to(params: dict[str, Any], base: Path | None) -> dict[str, Any]:
    """``params`` with each relative path string that exists under ``base`` made absolute."""
    if base is None:
        return params
    out = dict(params)
    for key, value in params.items():
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            try:
                cand = base / value
                if cand.exists():
                    out[key] = str(cand.resolve())
            except OSError:  # not a valid path on this system: leave it to the component
                continue
    return out


def _specs(items: Any, kind: str, where: str, base: Path | None = None) -> list[ComponentSpec]:
    if items is None:
        return []
    if isinstance(items, str):
        items = [s for s in (p.strip() for p in items.split(",")) if s]
    if not isinstance(items, list):
        raise ConfigError(f"{where}: '{kind}s' must be a list, got {type(items).__name__}")
    out: list[ComponentSpec] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            out.append(ComponentSpec(item, item))
        elif isinstance(item, dict):
            label = item.get("name")
            if not isinstance(label, str) or not label:
                raise ConfigError(f"{where}: {kind}s[{i}] needs a 'name' string")
            component = item.get(kind, label)
            params = item.get("params", {})
            if not isinstance(params, dict):
                raise ConfigError(f"{where}: {kind}s[{i}].params must be a table")
            unknown = set(item) - {"name", kind, "params", "splits"}
            if unknown:
                raise ConfigError(
                    f"{where}: {kind}s[{i}] has unknown keys {sorted(unknown)}; "
                    f"allowed: name, {kind}, params" + (", splits" if kind == "dataset" else "")
                )
            splits = item.get("splits")
            out.append(ComponentSpec(label, str(component), _relative_to(dict(params), base),
                                     tuple(splits) if splits else None))
        else:
            raise ConfigError(f"{where}: {kind}s[{i}] must be a name or a table")
    labels = [s.label for s in out]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise ConfigError(f"{where}: {kind} names must be unique, repeated: {dupes}")
    return out


def suite_from_dict(doc: dict[str, Any], *, name: str, source: str, base: Path | None = None) -> Suite:
    """Build a :class:`Suite` from a parsed TOML document; raises :class:`ConfigError`.

    ``base`` is the suite file's folder: relative paths in parameters resolve against it first.
    """
    unknown = set(doc) - {"name", "description", "datasets", "methods", "metrics", "aggregate"}
    if unknown:
        raise ConfigError(f"{source}: unknown top-level keys {sorted(unknown)}")
    agg = doc.get("aggregate", ["mean"])
    if isinstance(agg, str):
        agg = [a.strip() for a in agg.split(",") if a.strip()]
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{source}: 'description' must be a string (one line)")
    return Suite(
        name=str(doc.get("name", name)),
        datasets=_specs(doc.get("datasets"), "dataset", source, base),
        methods=_specs(doc.get("methods"), "method", source, base),
        metrics=_specs(doc.get("metrics"), "metric", source, base),
        aggregate=list(agg),
        source=source,
        description=description.strip(),
    )


def read_toml(path: Path, *, what: str) -> dict[str, Any]:
    """Parse a TOML file (suites, leaderboard specs).

    Raises:
        ConfigError: unreadable file, or invalid TOML (the message has the line and column).
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None


def suite_from_file(path: Path) -> Suite:
    """The suite of a TOML file; its name is the file's ``name``, else its stem.

    Raises:
        ConfigError: unreadable file, invalid TOML (with line and column), an invalid suite.
    """
    return suite_from_dict(read_toml(path, what="suite file"), name=path.stem, source=str(path),
                           base=path.resolve().parent)


def load_suite(name_or_path: str | None = None, *, host: Host | None = None) -> Suite:
    """A suite registered by a plugin (``sts``), a TOML file, or with ``None`` the default suite.

    Names are looked up in ``host``'s suites (default: :func:`evalkit.plugins.get_host`); the
    default suite is the one a plugin registers with ``default=True``
    (:meth:`evalkit.suite_registry.SuiteRegistry.default`). Each call returns a fresh copy.

    Raises:
        ConfigError: unknown suite (with did-you-mean), no or several default suites, unreadable
            file, invalid TOML (with line and column).
    """
    from evalkit.plugins import get_host

    suites = (host or get_host()).suites
    if name_or_path is None:
        return suites.default().build()
    if name_or_path in suites:
        return suites.get(name_or_path).build()
    path = Path(name_or_path)
    if not path.is_file():
        import difflib

        close = difflib.get_close_matches(name_or_path, suites.names(), n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(
            f"suite {name_or_path!r} is neither a registered suite ({', '.join(suites.names()) or 'none'}) "
            f"nor an existing TOML file.{hint} Run 'evalkit list suites' for descriptions."
        )
    return suite_from_file(path)


def override_specs(current: list[ComponentSpec], option: str | None) -> list[ComponentSpec]:
    """The components of a ``--methods``/``--datasets``/``--metrics`` value (:mod:`evalkit.params`
    syntax) replacing ``current``; a name that is one of ``current``'s labels takes that spec, with
    the option's parameters updating the suite's.

    Raises:
        ConfigError: malformed syntax, repeated labels.
    """
    from evalkit.params import parse_specs

    parsed = parse_specs(option)
    if parsed is None:
        return current
    by_label = {s.label: s for s in current}
    return [_from_parsed(p, by_label.get(p.name)) for p in parsed]


def _from_parsed(p: ParsedSpec, base: ComponentSpec | None) -> ComponentSpec:
    if base is None:
        return ComponentSpec(p.label, p.name, dict(p.params))
    label = base.label if p.label == p.name else p.label
    return ComponentSpec(label, base.component, {**base.params, **p.params}, base.splits)


def check_suite_params(host: Host, suite: Suite) -> None:
    """Check every component name and parameter (names, did-you-mean, types) before running.

    Raises:
        UnknownNameError: a component no plugin registered.
        ConfigError: a parameter the component does not take, or a value of the wrong type.
    """
    from evalkit.params import check_params

    for kind, specs in (("dataset", suite.datasets), ("method", suite.methods), ("metric", suite.metrics)):
        for spec in specs:
            entry = host.registries[kind].get(spec.component)
            check_params(kind, spec.component, entry.factory, spec.params, plugin=entry.plugin)
