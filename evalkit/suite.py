"""Suites: which datasets, methods (with parameters) and metrics a comparison runs.

A suite file is TOML::

    name = "my-sts"
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
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import ConfigError

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
    """A comparison: datasets x methods, scored with metrics, aggregated across datasets."""

    name: str
    datasets: list[ComponentSpec]
    methods: list[ComponentSpec]
    metrics: list[ComponentSpec]
    aggregate: list[str] = field(default_factory=lambda: ["mean"])
    source: str = ""


STS_DATASETS = ["stsb", "sickr", "sts12", "sts13", "sts14", "sts15", "sts16"]
DEFAULT_SUITES: dict[str, dict[str, Any]] = {
    "sts": {
        "datasets": STS_DATASETS,
        "methods": ["minilm-cosine", "minilm-whitening", "minilm-wmd", "minilm-wrd",
                    "tfidf-cosine"],
        "metrics": ["spearman", "pearson"],
        "aggregate": ["mean"],
    },
    "pairclass": {
        "datasets": ["mrpc"],
        "methods": ["minilm-cosine", "minilm-wmd", "minilm-wrd", "tfidf-cosine"],
        "metrics": ["auto_threshold_f1", "auto_threshold_accuracy", "average_precision"],
        "aggregate": ["mean"],
    },
    "sick-e": {
        "datasets": ["sick-e"],
        "methods": ["majority", "prior", "tfidf-logreg", "tfidf-logreg+logit-adjust", "tfidf-logreg+can",
                    "minilm-logreg", "minilm-logreg+logit-adjust", "minilm-logreg+can"],
        "metrics": ["accuracy", "macro_f1", "balanced_accuracy"],
        "aggregate": ["mean"],
    },
    "pairclass-zh": {
        "datasets": ["atec", "bq", "lcqmc", "pawsx"],
        "methods": ["tfidf-char"],
        "metrics": ["auto_threshold_f1", "auto_threshold_accuracy", "average_precision"],
        "aggregate": ["mean"],
    },
}


def _specs(items: Any, kind: str, where: str) -> list[ComponentSpec]:
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
            out.append(ComponentSpec(label, str(component), dict(params), tuple(splits) if splits else None))
        else:
            raise ConfigError(f"{where}: {kind}s[{i}] must be a name or a table")
    labels = [s.label for s in out]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise ConfigError(f"{where}: {kind} names must be unique, repeated: {dupes}")
    return out


def suite_from_dict(doc: dict[str, Any], *, name: str, source: str) -> Suite:
    """Build a :class:`Suite` from a parsed TOML document; raises :class:`ConfigError`."""
    unknown = set(doc) - {"name", "datasets", "methods", "metrics", "aggregate"}
    if unknown:
        raise ConfigError(f"{source}: unknown top-level keys {sorted(unknown)}")
    agg = doc.get("aggregate", ["mean"])
    if isinstance(agg, str):
        agg = [a.strip() for a in agg.split(",") if a.strip()]
    return Suite(
        name=str(doc.get("name", name)),
        datasets=_specs(doc.get("datasets"), "dataset", source),
        methods=_specs(doc.get("methods"), "method", source),
        metrics=_specs(doc.get("metrics"), "metric", source),
        aggregate=list(agg),
        source=source,
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


def load_suite(name_or_path: str) -> Suite:
    """A built-in suite by name (``sts``) or a TOML file.

    Raises:
        ConfigError: unknown suite, unreadable file, invalid TOML (with line and column).
    """
    if name_or_path in DEFAULT_SUITES:
        return suite_from_dict(DEFAULT_SUITES[name_or_path], name=name_or_path, source=f"suite {name_or_path!r}")
    path = Path(name_or_path)
    if not path.is_file():
        raise ConfigError(
            f"suite {name_or_path!r} is neither a built-in suite ({', '.join(DEFAULT_SUITES)}) "
            "nor an existing TOML file"
        )
    return suite_from_dict(read_toml(path, what="suite file"), name=path.stem, source=str(path))
