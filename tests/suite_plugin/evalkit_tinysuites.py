"""A third-party-style plugin that ships suites: written only against evalkit's public API.

It registers a method (``word-overlap``) and two suites built on the built-in ``pairs`` dataset and
``spearman`` metric: ``tiny-overlap`` as a dict, ``tiny-toml`` as a suite file whose relative path
resolves against the file's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import evalkit

HERE = Path(__file__).resolve().parent
PAIRS = {"path": str(HERE.parent / "fixtures" / "pairs.csv"), "sentence1": "text_a", "sentence2": "text_b",
         "target": "similarity"}


class WordOverlap(evalkit.Method):
    """Jaccard overlap of the two sentences' lowercased word sets, in [0, 1] (test plugin)."""

    name = "word-overlap"

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        evalkit.check_pairs(pairs)
        out = []
        for a, b in zip(pairs["sentence1"], pairs["sentence2"], strict=True):
            wa, wb = set(str(a).lower().split()), set(str(b).lower().split())
            out.append(len(wa & wb) / len(wa | wb) if wa | wb else 0.0)
        return np.asarray(out, dtype=np.float64)


@evalkit.hookimpl
def register_methods(register: Any) -> None:
    register(WordOverlap)


@evalkit.hookimpl
def register_suites(register: Any) -> None:
    register({"datasets": [{"name": "tiny", "dataset": "pairs", "params": PAIRS}],
              "methods": ["word-overlap"], "metrics": ["spearman"], "aggregate": ["mean"]},
             "tiny-overlap", description="eight pairs, word overlap, Spearman")
    register(HERE / "suites" / "tiny-toml.toml")
