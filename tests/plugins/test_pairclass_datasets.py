"""MRPC and the Chinese sets on the real files: sizes and balance as published, splits as documented."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from evalkit_pairclass.datasets import ATEC, BQ, LCQMC, MRPC, PAWSX

from evalkit import ConfigError

pytestmark = pytest.mark.data

# (split: rows, positives), from the data folder's LOADING.md / README (published sizes)
EXPECTED = {
    ATEC: {"validation": (20000, 3688), "test": (20000, 3610)},
    BQ: {"validation": (10000, 5000), "test": (10000, 5000)},
    LCQMC: {"validation": (8802, 4402), "test": (12500, 6250)},
}


@pytest.mark.parametrize("cls", list(EXPECTED))
def test_chinese_sets_sizes_and_balance(cls, data_dir):
    ds = cls()
    for split, (rows, pos) in EXPECTED[cls].items():
        df = ds.load(split, data_dir)
        assert (len(df), int(df["label"].sum())) == (rows, pos)
        assert df["label"].dtype == np.int64 and list(df.columns[:3]) == ["sentence1", "sentence2", "label"]


def test_chinese_quotes_are_kept_verbatim(data_dir):
    df = BQ().load("test", data_dir)
    assert (df["sentence2"] == '"免费领取""饿了么""红包"').sum() == 1  # QUOTE_NONE, as CoSENT reads it


def test_pawsx_placeholder_rows(data_dir):
    dropped = PAWSX().load("test", data_dir)
    kept = PAWSX(keep_placeholders=True).load("test", data_dir)
    assert (len(dropped), len(kept)) == (1975, 2000)  # official PAWS-X zh test size / every line
    ns = kept[(kept.sentence1 == "NS") | (kept.sentence2 == "NS")]
    assert len(ns) == 25 and (ns["label"] == 0).all()
    assert len(PAWSX().load("validation", data_dir)) == 1984


def test_mrpc_splits(data_dir):
    ds = MRPC()
    test = ds.load("test", data_dir)
    assert (len(test), int(test["label"].sum())) == (1725, 1147)
    train, dev = ds.load("train", data_dir), ds.load("dev", data_dir)
    # dev (408, GLUE's size) and train partition the 4076-pair train file (2753 positive)
    assert (len(train), len(dev)) == (3668, 408)
    assert int(train["label"].sum()) + int(dev["label"].sum()) == 2753
    assert not set(train["line"]) & set(dev["line"])
    # stratified: the dev share of positives is the file's, to one pair
    assert abs(int(dev["label"].sum()) - 408 * 2753 / 4076) < 1
    # the documented recipe, re-derived here: per label (0 then 1) one default_rng(seed)
    # permutation of that label's rows, the first round-off-adjusted share kept
    labels = np.concatenate([train["label"], dev["label"]])[np.argsort(np.concatenate([train["line"], dev["line"]]))]
    rng = np.random.default_rng(0)
    picked = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == 0))[:132],
                                     rng.permutation(np.flatnonzero(labels == 1))[:276]]))
    assert np.array_equal(np.sort(dev["line"].to_numpy()) - 2, picked)  # line 1 is the header
    other = MRPC(seed=1).load("dev", data_dir)
    assert set(other["line"]) != set(dev["line"])
    with pytest.raises(ConfigError):
        MRPC(dev_size=5000)


def test_compare_pawsx_with_the_char_tfidf_baseline(data_dir, tmp_path):
    """End to end: threshold fitted on PAWS-X validation, applied to test, recorded in the JSON."""
    from sentence_transformers.sentence_transformer.evaluation.binary_classification import (
        BinaryClassificationEvaluator,
    )

    from evalkit.cli import build_cli

    args = ["compare", "--suite", "pairclass-zh", "--datasets", "pawsx", "--methods", "tfidf-char",
            "--data-dir", str(data_dir),
            "--format", "json", "--runs-dir", str(tmp_path)]
    result = CliRunner().invoke(build_cli(), args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    recs = {r["metric"]: r for r in payload["results"] if r["method"] == "tfidf-char"}
    f1 = recs["auto_threshold_f1"]
    assert (f1["method"], f1["n"], f1["tuned_on"], f1["tuned_split"], f1["n_tune"]) == (
        "tfidf-char", 1975, "dev", "validation", 1984)
    assert 0 < f1["value"] <= 1 and "threshold" in f1
    # the dev threshold is the best on the validation scores, as sentence-transformers finds it
    from evalkit.results import load_run

    run = load_run(tmp_path / next(p.name for p in tmp_path.iterdir()))
    preds = run.predictions[run.predictions["method"] == "tfidf-char"]
    dev = preds[preds["role"] == "tune"]
    st_f1, *_ = BinaryClassificationEvaluator.find_best_f1_and_threshold(
        dev["prediction"].to_numpy(), dev["reference"].to_numpy(), True)
    assert f1["fit_value"] == pytest.approx(st_f1, abs=1e-12)
    test = preds[preds["role"] == "eval"]
    from sklearn.metrics import f1_score

    assert f1["value"] == pytest.approx(f1_score(test["reference"], test["prediction"] >= f1["threshold"]))
