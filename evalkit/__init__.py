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

Heavy libraries are never imported here, so ``import evalkit`` and ``evalkit --help`` stay fast.
"""

from __future__ import annotations

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
from evalkit.hookspecs import Register, hookimpl
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
)
from evalkit.tabular import read_delimited, read_jsonl_frame
from evalkit.validation import as_score_table, check_pairs

__version__ = "0.1.0"

__all__ = [
    "TUNE_ON",
    "Aggregator",
    "ClassificationMethod",
    "ConfigError",
    "DataError",
    "DataFile",
    "Dataset",
    "DuplicateNameError",
    "EvalkitError",
    "LabelledData",
    "Method",
    "Metric",
    "MetricResult",
    "PluginError",
    "Register",
    "Report",
    "Reporter",
    "Table",
    "TunedMetric",
    "UndefinedValueError",
    "UnknownNameError",
    "__version__",
    "as_1d_float",
    "as_labels",
    "as_probabilities",
    "as_score_table",
    "check_classification_inputs",
    "check_finite",
    "check_pairs",
    "hookimpl",
    "read_delimited",
    "read_jsonl_frame",
]
