"""``evalkit new-plugin``: write a pip-installable plugin package that passes its own tests.

:func:`render_plugin` returns the files (path -> text) of a package ``evalkit-<name>`` holding one
component of the chosen kind: ``pyproject.toml`` with its ``evalkit`` entry point, the module
``evalkit_<name>/__init__.py`` (a working example: Kendall's tau, Jaccard word overlap, a TSV
dataset, a worst-case aggregator, a reStructuredText reporter), ``py.typed``, a README and
``tests/`` using :mod:`evalkit.testing`. :func:`write_plugin` writes them atomically.
The templates are the files in ``evalkit/scaffold/templates``; ``{{key}}`` marks a substitution.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from evalkit.errors import ConfigError
from evalkit.registry import KINDS

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")

#: kind -> (hook, one-line description, extra dependencies, usage example)
_KIND_INFO: dict[str, tuple[str, str, list[str], str]] = {
    "metric": ("register_metrics", "Kendall's tau-b rank correlation between scores and gold.", ["scipy>=1.10"],
               "evalkit compare --datasets stsb --methods tfidf-cosine --metrics spearman,{name}"),
    "method": ("register_methods", "Jaccard similarity of the word sets of two sentences.", [],
               "evalkit compare --datasets stsb --methods {name},tfidf-cosine --metrics spearman"),
    "dataset": ("register_datasets", "Sentence pairs with 0-5 similarity scores from a TSV file.", [],
                "# put the pairs in $EVALKIT_DATA_DIR/{name}/test.tsv (sentence1, sentence2, score)\n"
                "evalkit compare --datasets {name} --methods tfidf-cosine --metrics spearman"),
    "aggregator": ("register_aggregators", "Worst-case score across datasets.", [],
                   "evalkit compare --datasets stsb,sickr --methods tfidf-cosine --metrics spearman "
                   "--aggregate mean,{name}"),
    "reporter": ("register_reporters", "reStructuredText tables for Sphinx documents.", [],
                 "evalkit compare --datasets stsb --methods tfidf-cosine --metrics spearman --format {name}"),
}


@dataclass(frozen=True)
class PluginNames:
    """The names a plugin package uses, derived from the component's name."""

    name: str
    distribution: str
    module: str
    class_name: str


def plugin_names(name: str) -> PluginNames:
    """``kendall-tau`` -> distribution ``evalkit-kendall-tau``, module ``evalkit_kendall_tau``,
    class ``KendallTau``.

    Raises:
        ConfigError: ``name`` is not a lowercase slug, or starts with ``evalkit``.
    """
    if not _NAME.match(name):
        raise ConfigError(
            f"plugin name {name!r} must be a lowercase slug: letters, digits and single '-' or '_' "
            "between them, starting with a letter (e.g. 'kendall' or 'word-overlap')"
        )
    if name.startswith("evalkit"):
        raise ConfigError(f"give the component's own name (not {name!r}): the package is called "
                          "evalkit-<name> already")
    parts = re.split(r"[-_]", name)
    return PluginNames(name, f"evalkit-{name}", "evalkit_" + "_".join(parts),
                       "".join(p.capitalize() for p in parts))


def _template(filename: str) -> str:
    return (resources.files("evalkit.scaffold") / "templates" / filename).read_text(encoding="utf-8")


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    leftover = re.findall(r"\{\{\w+\}\}", text)
    if leftover:  # pragma: no cover - a template bug
        raise AssertionError(f"unfilled template keys {leftover}")
    return text


#: ``task="classification"`` (kind ``method``): a classification method returning class probabilities.
_CLASSIFICATION_METHOD: tuple[str, str, list[str], str] = ("register_methods",
                          "Nearest class centroid of the word-overlap similarity, as probabilities.", [],
                          "evalkit compare --datasets sick-e --methods {name},majority --metrics accuracy,macro_f1")
TASKS = ("similarity", "classification")


def render_plugin(name: str, kind: str, task: str = "similarity") -> dict[str, str]:
    """The package's files as ``{relative path: text}``.

    ``task="classification"`` (only with ``kind="method"``) scaffolds a
    :class:`~evalkit.ClassificationMethod` (probabilities of shape (n, K)) instead of a similarity
    method.

    Raises:
        ConfigError: an invalid name, an unknown kind or task, or a task other than similarity for
            another kind than method.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown component kind {kind!r}; choose one of {', '.join(KINDS)}")
    if task not in TASKS or (task != "similarity" and kind != "method"):
        raise ConfigError(f"task {task!r}: choose one of {', '.join(TASKS)}; 'classification' is for --kind method")
    from evalkit import __version__

    n = plugin_names(name)
    classification = task == "classification"
    hook, description, deps, usage = _CLASSIFICATION_METHOD if classification else _KIND_INFO[kind]
    stem = "classification_method" if classification else kind
    values = {
        "name": n.name, "distribution": n.distribution, "module": n.module, "class_name": n.class_name,
        "kind": kind, "hook": hook, "description": description,
        "description_lower": description[0].lower() + description[1:],
        "dependencies": ", ".join(f'"{d}"' for d in [f"evalkit>={__version__}", *deps]),
        "usage": usage.format(name=n.name),
        "stdlib_imports": "import hashlib\nfrom pathlib import Path\n" if kind == "dataset" else "",
        "thirdparty_imports": "import pytest\n" if kind in ("metric", "method", "dataset") else "",
    }
    values["kind_tests"] = _fill(_template(f"test_{stem}.py.tmpl"), values)
    return {
        "pyproject.toml": _fill(_template("pyproject.toml.tmpl"), values),
        "README.md": _fill(_template("README.md.tmpl"), values),
        f"{n.module}/__init__.py": _fill(_template(f"{stem}.py.tmpl"), values),
        f"{n.module}/py.typed": "",
        f"tests/test_{n.module}.py": _fill(_template("test_common.py.tmpl"), values),
    }


def write_plugin(name: str, kind: str, directory: str | os.PathLike[str] = ".", task: str = "similarity") -> Path:
    """Write the package into ``directory/evalkit-<name>`` and return that folder.

    The files are written to a temporary folder beside it and renamed into place, so the folder
    either does not exist or is complete.

    Raises:
        ConfigError: an invalid name or kind, a missing ``directory``, or a target that exists.
    """
    files = render_plugin(name, kind, task)
    parent = Path(directory)
    if not parent.is_dir():
        raise ConfigError(f"folder {parent} does not exist")
    target = parent / plugin_names(name).distribution
    if target.exists():
        raise ConfigError(f"{target} already exists; remove it or choose another name or --directory")
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}."))
    umask = os.umask(0)
    os.umask(umask)
    try:
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the package folder should not be
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
