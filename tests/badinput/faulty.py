"""Faulty components for the bad-input corpus: each misbehaves in one documented way.

Registered as the plugin ``faulty`` (see :data:`PLUGIN`). Importable by subprocess tests too.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
import pandas as pd

import evalkit


class FaultyMethod(evalkit.Method):
    """TF-IDF-free toy scorer (length difference) that misbehaves according to ``mode``."""

    name = "faulty"

    def __init__(self, *, mode: str = "ok") -> None:
        self.mode = mode
        if mode == "init":
            raise RuntimeError("cannot build the model")

    def fit(self, pairs: pd.DataFrame) -> FaultyMethod:
        if self.mode == "fit":
            raise KeyError("vocabulary")
        return self

    def predict(self, pairs: pd.DataFrame) -> Any:
        n = len(pairs)
        base = -np.abs(pairs["sentence1"].str.len().to_numpy() - pairs["sentence2"].str.len().to_numpy())
        base = base.astype(np.float64) + np.arange(n) * 1e-3
        if self.mode == "raise":
            raise ValueError("predict blew up")
        if self.mode == "nan":
            base[1] = np.nan
            return base
        if self.mode == "inf":
            base[0] = np.inf
            return base
        if self.mode == "shape2d":
            return np.stack([base, base], axis=1)
        if self.mode == "short":
            return base[:-1]
        if self.mode == "complex":
            return base + 1j
        if self.mode == "text":
            return np.array([str(v) for v in base])
        if self.mode == "exit":
            sys.exit(0)
        if self.mode == "exit1":
            sys.exit("fatal: giving up")
        if self.mode == "slow":
            time.sleep(120)
        if self.mode == "constant":
            return np.ones(n) + np.array([4e-16 if i % 2 else -4e-16 for i in range(n)])
        return base


class FaultyMetric(evalkit.Metric):
    """A Spearman-like metric that misbehaves according to ``mode``."""

    name = "faulty-metric"
    task_types = ("sts", "pair_classification")

    def __init__(self, *, mode: str = "nan") -> None:
        self.mode = mode

    def compute(self, *, predictions: Any, references: Any) -> Any:
        if self.mode == "nan":
            return float("nan")
        if self.mode == "raise":
            raise ZeroDivisionError("division by zero in the metric")
        if self.mode == "text":
            return "high"
        if self.mode == "complex":
            return 0.5 + 0.5j
        if self.mode == "exit":
            sys.exit(3)
        return 0.5


class FaultyDataset(evalkit.Dataset):
    """A dataset whose ``load`` misbehaves according to ``mode``."""

    name = "faulty-ds"

    def __init__(self, *, mode: str = "raise") -> None:
        self.mode = mode

    def files(self, split: str | None = None) -> list[evalkit.DataFile]:
        return []

    def load(self, split: str, data_dir: Any) -> Any:
        if self.mode == "raise":
            raise IndexError("list index out of range")
        if self.mode == "notframe":
            return [("a", "b", 1.0)]
        if self.mode == "nocolumn":
            return pd.DataFrame({"sentence1": ["a", "b"], "sentence2": ["c", "d"]})
        return pd.DataFrame({"sentence1": ["a b", "c d", "e"], "sentence2": ["a", "c d e", "f g"],
                             "score": [1.0, 2.0, 3.0]})


class FaultyAggregator(evalkit.Aggregator):
    name = "faulty-agg"

    @property
    def rule(self) -> str:
        return "faulty: raises"

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        raise AttributeError("'NoneType' object has no attribute 'mean'")


class FaultyReporter(evalkit.Reporter):
    name = "faulty-rep"

    def __init__(self, *, mode: str = "raise") -> None:
        self.mode = mode

    def render(self, report: evalkit.Report) -> Any:
        if self.mode == "raise":
            raise TypeError("cannot render")
        return b"bytes, not text"


class Plugin:
    """The hooks registering the faulty components."""

    @evalkit.hookimpl
    def register_methods(self, register: Any) -> None:
        for mode in ("ok", "init", "fit", "raise", "nan", "inf", "shape2d", "short", "complex", "text", "exit",
                     "exit1", "constant", "slow"):
            register(FaultyMethod, f"faulty-{mode}", params={"mode": mode})

    @evalkit.hookimpl
    def register_metrics(self, register: Any) -> None:
        for mode in ("nan", "raise", "text", "complex", "exit"):
            register(FaultyMetric, f"metric-{mode}", params={"mode": mode})

    @evalkit.hookimpl
    def register_datasets(self, register: Any) -> None:
        for mode in ("raise", "notframe", "nocolumn", "ok"):
            register(FaultyDataset, f"ds-{mode}", params={"mode": mode})

    @evalkit.hookimpl
    def register_aggregators(self, register: Any) -> None:
        register(FaultyAggregator)

    @evalkit.hookimpl
    def register_reporters(self, register: Any) -> None:
        register(FaultyReporter, "rep-raise", params={"mode": "raise"})
        register(FaultyReporter, "rep-bytes", params={"mode": "bytes"})

    @evalkit.hookimpl
    def register_commands(self, cli: Any) -> None:
        @cli.command("explode")
        def explode() -> None:
            """A plugin command with a bug."""
            {}["missing"]


PLUGIN = Plugin()
