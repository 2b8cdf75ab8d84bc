"""Pair-classification tables: threshold, precision and recall columns; the majority-class row."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import f1_score, precision_score, recall_score

from evalkit.cli import build_cli
from evalkit.plugins import Host
from evalkit.suite import load_suite

ARGS = ["compare", "--datasets", "mrpc", "--methods", "majority-class,tfidf-cosine", "--metrics",
        "auto_threshold_f1", "--no-save"]


def test_pairclass_suites_have_the_majority_class_row() -> None:
    for name in ("pairclass", "pairclass-zh"):
        assert "majority-class" in [m.component for m in load_suite(name).methods]


def test_majority_class_scores_as_predicting_one_class(data_dir: Path) -> None:
    """MRPC test: predicting "paraphrase" for every pair gives F1 79.9 (2 * 1147 / (2 * 1147 + 578))."""
    doc = json.loads(CliRunner().invoke(build_cli(), [*ARGS, "--format", "json"], catch_exceptions=False).stdout)
    rec = next(r for r in doc["results"] if r["method"] == "majority-class")
    y = Host().datasets.create("mrpc").load("test", data_dir)["label"].to_numpy()
    assert rec["value"] == pytest.approx(f1_score(y, np.ones_like(y)))
    assert round(100 * rec["value"], 1) == 79.9
    assert rec["precision"] == pytest.approx(y.mean()) and rec["recall"] == 1.0


def test_table_shows_threshold_precision_and_recall(data_dir: Path) -> None:
    out = CliRunner().invoke(build_cli(), ARGS, catch_exceptions=False).stdout
    doc = json.loads(CliRunner().invoke(build_cli(), [*ARGS, "--format", "json"], catch_exceptions=False).stdout)
    block = out.split("F1 at the best threshold: threshold, precision and recall\n")[1]
    header, _, *rows = block.splitlines()
    assert header.split() == ["method", "mrpc", "threshold", "mrpc", "precision", "mrpc", "recall"]
    row = next(r for r in rows if r.strip().startswith("tfidf-cosine")).split()
    # Independent: scikit-learn's precision and recall of the decisions score >= threshold.
    test = Host().datasets.create("mrpc").load("test", data_dir)
    scores = Host().methods.create("tfidf-cosine").fit(test).predict(test)
    thr = next(r for r in doc["results"] if r["method"] == "tfidf-cosine")["threshold"]
    assert float(row[1]) == pytest.approx(thr, abs=5e-5)
    assert float(row[2]) == pytest.approx(100 * precision_score(test.label, scores >= thr), abs=0.005)
    assert float(row[3]) == pytest.approx(100 * recall_score(test.label, scores >= thr), abs=0.005)
    assert next(r for r in rows if r.strip().startswith("majority-class")).split()[3] == "100.00"
