"""SICK-E end to end on the real files: the loader against an independent pandas read, and a small
run of the ``sick-e`` suite on a slice whose stored predictions feed bootstrap, diff, check and
rescore."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evalkit.suite import ComponentSpec, load_suite

CLASSES = ["ENTAILMENT", "NEUTRAL", "CONTRADICTION"]
FILES = {"train": "SICK_train.txt", "trial": "SICK_trial.txt", "test": "SICK_test_annotated.txt"}


def pandas_labels(data_dir: Path, split: str) -> list[str]:
    """The entailment column read as LOADING.md recommends (pandas, no quoting)."""
    import pandas as pd

    frame = pd.read_csv(data_dir / "sick" / "semeval2014" / FILES[split], sep="\t", quoting=csv.QUOTE_NONE,
                        dtype=str, keep_default_na=False, encoding="utf-8")
    return [s.strip() for s in frame["entailment_judgment"]]


@pytest.mark.parametrize(("split", "rows"), [("train", 4500), ("trial", 500), ("test", 4927)])
def test_sick_e_labels_match_an_independent_read(data_dir: Path, split: str, rows: int) -> None:
    from evalkit_classification.datasets import SICKE

    frame = SICKE().load(split, data_dir)
    expected = pandas_labels(data_dir, split)
    assert len(frame) == rows == len(expected)
    assert [CLASSES[i] for i in frame["label"]] == expected
    shares = np.bincount(frame["label"], minlength=3) / rows
    # The "about 57/29/14%": NEUTRAL, ENTAILMENT, CONTRADICTION.
    assert shares[1] == pytest.approx(0.57, abs=0.01)
    assert shares[0] == pytest.approx(0.29, abs=0.01)
    assert shares[2] == pytest.approx(0.14, abs=0.01)
    assert SICKE(limit=30).load(split, data_dir)["label"].tolist() == frame["label"].tolist()[:30]


def run_slice(data_dir: Path, methods: list[str], limit: int) -> Any:
    from evalkit.runner import run_suite

    suite = load_suite("sick-e")
    suite.datasets = [ComponentSpec("sick-e", "sick-e", {"limit": limit})]
    suite.methods = [s for s in suite.methods if s.label in methods]
    assert [s.label for s in suite.methods] == methods
    return run_suite(suite, data_dir=data_dir)


def test_sick_e_suite_on_a_slice_and_its_stored_predictions(data_dir: Path, tmp_path: Path,
                                                            evalkit_cli: Any) -> None:
    from evalkit.aggregation import create_aggregators
    from evalkit.bootstrap import bootstrap_examples
    from evalkit.history import load_source, rescore
    from evalkit.paired import PairedSettings, diff_runs
    from evalkit.plugins import get_host
    from evalkit.results import load_run
    from evalkit.versus_base import versus_base

    methods = ["majority", "prior", "tfidf-logreg", "tfidf-logreg+logit-adjust", "tfidf-logreg+can"]
    run = run_slice(data_dir, methods, limit=300)
    res = run.results.set_index(["method", "metric"])["value"]
    # majority predicts NEUTRAL (the training majority): its accuracy is NEUTRAL's share of the slice,
    # its balanced accuracy 1/3 and its macro-F1 the F1 of NEUTRAL over 3 (sklearn convention).
    test_labels = pandas_labels(data_dir, "test")[:300]
    share = test_labels.count("NEUTRAL") / 300
    assert res[("majority", "accuracy")] == pytest.approx(share)
    assert res[("prior", "accuracy")] == pytest.approx(share)
    assert res[("majority", "balanced_accuracy")] == pytest.approx(1 / 3)
    assert res[("majority", "macro_f1")] == pytest.approx((2 * share / (1 + share)) / 3)
    assert res[("tfidf-logreg", "accuracy")] > share  # trained on the first 300 training pairs only
    assert run.provenance["datasets"]["sick-e"]["classes"] == CLASSES

    saved = load_run(run.save(tmp_path / "runs", "slice"))
    probs = saved.predictions.filter(like="proba_").to_numpy()
    assert probs.shape == (5 * 300, 3) and np.allclose(probs.sum(axis=1), 1.0)

    # Rescoring the stored probabilities reproduces every value.
    again = rescore(saved).results.set_index(["method", "metric"])["value"]
    assert np.allclose(again.loc[res.index], res)

    # Bootstrap over examples of the stored (n, K) predictions.
    host = get_host()
    metrics = {m: host.metrics.create(m) for m in ("accuracy", "macro_f1")}
    boot = bootstrap_examples(saved, metrics, create_aggregators(host, ["mean"]), n_resamples=50)
    cell = boot.cells.set_index(["method", "metric"]).loc[("tfidf-logreg", "accuracy")]
    assert cell["ci_low"] <= res[("tfidf-logreg", "accuracy")] <= cell["ci_high"]

    # Post-processors against their base: McNemar's counts agree with the stored predictions.
    vs = versus_base(saved, metrics).set_index("method")
    assert set(vs.index) == {"tfidf-logreg+logit-adjust", "tfidf-logreg+can"}
    preds = saved.predictions
    right = {m: (preds[preds.method == m]["prediction"].to_numpy() == preds[preds.method == m]["reference"].to_numpy())
             for m in ("tfidf-logreg", "tfidf-logreg+can")}
    assert vs.loc["tfidf-logreg+can", "base_only"] == int((right["tfidf-logreg"] & ~right["tfidf-logreg+can"]).sum())

    # diff of the run against itself: McNemar for accuracy, bootstrap for macro-F1; nothing differs.
    src = load_source(str(saved.run_dir))
    cells, _ = diff_runs(src, src, settings=PairedSettings(test="mcnemar", n_resamples=50))
    assert (cells["delta"] == 0).all() and (cells["p_value"] == 1.0).all()
    # check passes against itself with a significance requirement (needs the stored predictions).
    evalkit_cli("check", str(saved.run_dir), "--baseline", str(saved.run_dir), "--significance", "0.05",
                "--test", "mcnemar", "--n-resamples", "50")


@pytest.mark.model
def test_minilm_probe_and_can_on_a_slice(data_dir: Path) -> None:
    run = run_slice(data_dir, ["minilm-logreg", "minilm-logreg+can"], limit=300)
    acc = run.results[run.results.metric == "accuracy"].set_index("method")["value"]
    share = pandas_labels(data_dir, "test")[:300].count("NEUTRAL") / 300
    assert acc["minilm-logreg"] > share
    assert abs(acc["minilm-logreg+can"] - acc["minilm-logreg"]) < 0.1
