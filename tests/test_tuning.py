"""The tuning protocol through the runner: dev-fitted thresholds, cv fallback, the labelled oracle."""

from __future__ import annotations

import types
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from evalkit import Dataset, Method, hookimpl
from evalkit.plugins import Host
from evalkit.report import comparison_report
from evalkit.results import load_run
from evalkit.runner import run_suite
from evalkit.suite import suite_from_dict

RNG = np.random.default_rng(42)
LABELS = {split: (RNG.random(n) < 0.5).astype(int) for split, n in (("dev", 80), ("test", 120))}
SCORES = {split: (RNG.normal(size=y.size) + 1.5 * y).round(3) for split, y in LABELS.items()}


class ToyPairs(Dataset):
    """Pairs whose first sentence carries the score the toy method returns."""

    name = "toy-pairs"
    task_type = "pair_classification"
    splits = ("dev", "test")
    eval_splits = ("test",)
    dev_split = "dev"
    target = "label"

    def files(self, split=None):
        return []

    def load(self, split, data_dir):
        return pd.DataFrame({"sentence1": [str(v) for v in SCORES[split]], "sentence2": "x",
                             "label": LABELS[split]})


class ToyNoDev(ToyPairs):
    """The same test pairs, with no validation split."""

    name = "toy-nodev"
    splits = ("test",)
    dev_split = None


class ToyMethod(Method):
    """Reads the score back from sentence1; counts the pairs it was asked to score."""

    name = "toy-method"
    calls: ClassVar[list[int]] = []

    def predict(self, pairs):
        ToyMethod.calls.append(len(pairs))
        return pairs["sentence1"].astype(float).to_numpy()


@hookimpl
def _register_datasets(register):
    register(ToyPairs)
    register(ToyNoDev)


@hookimpl
def _register_methods(register):
    register(ToyMethod)


plugin = types.SimpleNamespace(register_datasets=_register_datasets, register_methods=_register_methods)


@pytest.fixture
def host():
    return Host(autoload=False, extra_plugins=[("toy", plugin)])


def suite(datasets=("toy-pairs",), metrics=("auto_threshold_f1", "spearman")):
    return suite_from_dict({"datasets": list(datasets), "methods": ["toy-method"], "metrics": list(metrics)},
                           name="toy", source="test")


def best_threshold_brute(s, y):
    best_t, best_v = None, -1.0
    for t in [np.inf, *np.unique(s)[::-1]]:
        v = f1_score(y, s >= t, zero_division=0)
        if v > best_v + 1e-15:
            best_t, best_v = t, v
    return best_t


def test_dev_fitted_threshold_is_applied_unchanged_to_test(host, tmp_path):
    ToyMethod.calls.clear()
    run = run_suite(suite(), host=host, data_dir=tmp_path, tune_on="dev")
    assert ToyMethod.calls == [120, 80]  # the test pairs, then the dev pairs for tuning
    row = run.results.set_index("metric").loc["auto_threshold_f1"]
    t_dev = best_threshold_brute(SCORES["dev"], LABELS["dev"])
    lower = SCORES["dev"][SCORES["dev"] < t_dev].max()
    assert lower < row["threshold"] <= t_dev  # fitted on dev
    assert row["value"] == pytest.approx(f1_score(LABELS["test"], SCORES["test"] >= row["threshold"]))
    assert (row["tuned_on"], row["tuned_split"], row["n_tune"]) == ("dev", "dev", 80)
    spearman = run.results.set_index("metric").loc["spearman"]
    assert pd.isna(spearman.get("tuned_on"))  # plain metrics are not tuned
    roles = run.predictions.groupby(["split", "role"]).size().to_dict()
    assert roles == {("dev", "tune"): 80, ("test", "eval"): 120}
    assert run.provenance["tune_on"] == "dev"


def test_no_dev_split_cross_fits_and_says_so(host, tmp_path):
    ToyMethod.calls.clear()
    run = run_suite(suite(datasets=("toy-nodev",)), host=host, data_dir=tmp_path, tune_on="dev")
    assert ToyMethod.calls == [120]
    row = run.results.set_index("metric").loc["auto_threshold_f1"]
    assert row["tuned_on"] == "cv" and row["cv_folds"] == 5
    metrics = {"auto_threshold_f1": host.metrics.create("auto_threshold_f1")}
    report = comparison_report(run, metrics, [])
    assert "tuned on: toy-nodev: 5-fold cross-fitting on the evaluated rows" in report.tables[0].notes


def test_oracle_is_labelled_in_tables_and_records(host, tmp_path):
    run = run_suite(suite(), host=host, data_dir=tmp_path, tune_on="self")
    metrics = {m: host.metrics.create(m) for m in ("auto_threshold_f1", "spearman")}
    report = comparison_report(run, metrics, [])
    titles = [t.title for t in report.tables]
    assert "ORACLE" in titles[0] and "ORACLE" not in titles[1]
    rec = next(r for r in report.payload["results"] if r["metric"] == "auto_threshold_f1")
    assert rec["oracle"] is True and rec["tuned_on"] == "self"
    best = max(f1_score(LABELS["test"], SCORES["test"] >= t) for t in np.unique(SCORES["test"]))
    assert rec["value"] == pytest.approx(best)
    assert not (run.predictions["role"] == "tune").any()


def test_saved_run_keeps_tuning_rows(host, tmp_path):
    run = run_suite(suite(), host=host, data_dir=tmp_path)
    saved = load_run(run.save(tmp_path / "runs", "r1"))
    assert set(saved.predictions["role"]) == {"tune", "eval"}
    assert saved.results.set_index("metric").loc["auto_threshold_f1", "tuned_on"] == "dev"


def test_bad_tune_on(host, tmp_path):
    from evalkit import ConfigError

    with pytest.raises(ConfigError, match="tune_on"):
        run_suite(suite(), host=host, data_dir=tmp_path, tune_on="test")

