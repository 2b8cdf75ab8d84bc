"""evalkit: an evaluation harness for NLP methods.

Public API (what plugins may import)::

    from evalkit import hookimpl, Register, Dataset, Method, Metric, Aggregator, Reporter
    from evalkit import DataFile, MetricResult, Report, Table, TunedMetric, EvalkitError, ...
    from evalkit import as_1d_float, check_finite, check_pairs, as_score_table  # validation
    from evalkit import ClassificationMethod, LabelledData, as_probabilities, as_labels  # classification

The public submodules are :mod:`evalkit.datafiles` (locate, fetch, verify and read data files; TOML),
:mod:`evalkit.statistics` (ties, ranks, bootstrap, paired tests), :mod:`evalkit.htmlpage` (HTML pages
for reporters), :mod:`evalkit.components` (build a registered component by name), :mod:`evalkit.errors`
and :mod:`evalkit.testing` (conformance checks, pytest fixtures). Every other module is internal:
``make lint`` (import-linter) keeps the built-in plugins to this API.
The Python API mirrors the command line (loaded on first use, see :mod:`evalkit.api`)::

    run = evalkit.compare(datasets="stsb", methods="tfidf-cosine", metrics="spearman")  # -> Run
    run.table()              # methods x datasets + aggregate columns, 0-1 scale
    evalkit.score(FILE, metrics="spearman"); evalkit.check(RESULTS, BASELINE); evalkit.leaderboard("glue")

Test helpers for plugin authors live in :mod:`evalkit.testing` (conformance checks, pytest fixtures).

Heavy libraries are never imported here, so ``import evalkit`` and ``evalkit --help`` stay fast.
"""

from __future__ import annotations

from typing import Any

from evalkit.classification import (
    ClassificationMethod,
    LabelledData,
    as_labels,
    as_probabilities,
    check_classification_inputs,
)
from evalkit.errors import (
    ConfigError,
    DataError,
    DuplicateNameError,
    EvalkitError,
    PluginError,
    UndefinedValueError,
    UnknownNameError,
)
from evalkit.hookspecs import Register, SuiteRegister, hookimpl
from evalkit.interfaces import (
    TUNE_ON,
    Aggregator,
    DataFile,
    Dataset,
    Method,
    Metric,
    MetricResult,
    Report,
    Reporter,
    Table,
    TunedMetric,
    as_1d_float,
    check_finite,
    json_default,
)
from evalkit.tabular import read_delimited, read_jsonl_frame
from evalkit.validation import as_score_table, check_pairs

__version__ = "0.1.0"

#: The Python API, imported on first use so that ``import evalkit`` stays light. A name here must not be
#: a submodule's (importing ``evalkit.X`` sets the attribute ``X``): ``evalkit.rescore`` is the module
#: behind ``evalkit score FILE``, so the API's rescore is ``evalkit.api.rescore``.
_API = {"compare": "evalkit.api", "score": "evalkit.api", "check": "evalkit.api", "leaderboard": "evalkit.api",
        "load": "evalkit.api", "update_baseline": "evalkit.api", "Run": "evalkit.run",
        "CheckResult": "evalkit.checking", "LeaderboardResult": "evalkit.leaderboards"}


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'evalkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])

__all__ = [
    "TUNE_ON",
    "Aggregator",
    "CheckResult",
    "ClassificationMethod",
    "ConfigError",
    "DataError",
    "DataFile",
    "Dataset",
    "DuplicateNameError",
    "EvalkitError",
    "LabelledData",
    "LeaderboardResult",
    "Method",
    "Metric",
    "MetricResult",
    "PluginError",
    "Register",
    "Report",
    "Reporter",
    "Run",
    "SuiteRegister",
    "Table",
    "TunedMetric",
    "UndefinedValueError",
    "UnknownNameError",
    "__version__",
    "as_1d_float",
    "as_labels",
    "as_probabilities",
    "as_score_table",
    "check",
    "check_classification_inputs",
    "check_finite",
    "check_pairs",
    "compare",
    "hookimpl",
    "json_default",
    "leaderboard",
    "load",
    "read_delimited",
    "read_jsonl_frame",
    "score",
    "update_baseline",
]
