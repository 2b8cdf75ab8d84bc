"""The runner: grid of methods x datasets x metrics, tidy results, provenance, encoding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

import evalkit
from evalkit.errors import ConfigError, PluginError
from evalkit.plugins import Host
from evalkit.runner import run_suite
from evalkit.suite import ComponentSpec, Suite


def suite(datasets, methods, metrics) -> Suite:
    def specs(items):
        return [i if isinstance(i, ComponentSpec) else ComponentSpec(i, i) for i in items]

    return Suite("t", specs(datasets), specs(methods), specs(metrics))


@pytest.fixture
def pairs_file(tmp_path: Path) -> ComponentSpec:
    f = tmp_path / "pairs.tsv"
    rows = ["sentence1\tsentence2\tscore", "a cat sat\ta cat sat down\t4.5", "dogs bark\tcats meow\t1.0",
            "the sun is hot\tthe sun is very hot\t4.0", "I like tea\tstock markets fell\t0.0"]
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return ComponentSpec("tiny", "pairs", {"path": str(f)})


def test_tidy_results_and_predictions(pairs_file: ComponentSpec, tmp_path: Path) -> None:
    run = run_suite(suite([pairs_file], ["tfidf-cosine"], ["spearman", "pearson"]),
                    host=Host(autoload=False), data_dir=tmp_path, cache_dir=None)
    assert list(run.results.columns) == ["method", "dataset", "split", "metric", "value", "n"]
    assert run.results[["method", "dataset", "split", "metric"]].values.tolist() == [
        ["tfidf-cosine", "tiny", "test", "spearman"], ["tfidf-cosine", "tiny", "test", "pearson"]]
    preds = run.predictions
    assert preds["reference"].tolist() == [4.5, 1.0, 4.0, 0.0]
    # Re-scoring the stored predictions with scipy gives the reported value.
    rho = spearmanr(preds["prediction"], preds["reference"]).statistic
    assert run.results.loc[0, "value"] == pytest.approx(rho)
    prov = run.provenance
    assert prov["evalkit_version"] == evalkit.__version__
    assert prov["methods"]["tfidf-cosine"]["params"]["analyzer"] == "word"
    assert prov["plugins"]["tfidf"] == evalkit.__version__
    assert len(prov["datasets"]["tiny"]["files"][pairs_file.params["path"]]["sha256"]) == 64


def test_metric_that_fits_no_dataset_is_rejected(pairs_file: ComponentSpec, tmp_path: Path) -> None:
    class Bleu(evalkit.Metric):
        name = "bleu"
        task_types = ("generation",)

        def compute(self, *, predictions, references):
            return 0.0

    class P:
        @evalkit.hookimpl
        def register_metrics(self, register):
            register(Bleu)

    host = Host(autoload=False, extra_plugins=[("p", P())])
    with pytest.raises(ConfigError, match="metric 'bleu' applies to task types \\['generation'\\]"):
        run_suite(suite([pairs_file], ["tfidf-cosine"], ["bleu"]), host=host, data_dir=tmp_path)


def test_bad_method_output_is_a_plugin_error(pairs_file: ComponentSpec, tmp_path: Path) -> None:
    class Broken(evalkit.Method):
        name = "broken"

        def predict(self, pairs: pd.DataFrame) -> np.ndarray:
            out = np.zeros(len(pairs))
            out[1] = np.inf
            return out

    class P:
        @evalkit.hookimpl
        def register_methods(self, register):
            register(Broken)

    host = Host(autoload=False, extra_plugins=[("p", P())])
    with pytest.raises(PluginError, match=r"plugin 'p'.*method 'broken', cell broken on tiny/test: predict "
                       r"returned 1 non-finite scores \(NaN or inf\) at rows \[1\]"):
        run_suite(suite([pairs_file], ["broken"], ["spearman"]), host=host, data_dir=tmp_path)


@pytest.mark.model
def test_stsb_minilm_reproduces_mteb(data_dir: Path, tmp_path: Path) -> None:
    """MTEB publishes 82.03 (cosine Spearman, STS-B test) for all-MiniLM-L6-v2; a second run with
    the same cache folder encodes nothing."""
    s = suite(["stsb"], ["minilm-cosine"], ["spearman"])
    first = run_suite(s, host=Host(autoload=False), data_dir=data_dir, cache_dir=tmp_path)
    assert round(first.results.loc[0, "value"] * 100, 2) == 82.03
    assert first.provenance["texts_encoded"] > 2000
    second = run_suite(s, host=Host(autoload=False), data_dir=data_dir, cache_dir=tmp_path)
    assert second.provenance["texts_encoded"] == 0
    assert second.provenance["cells"] == {**first.provenance["cells"], "computed": 0, "reused": 1}
    assert second.results.loc[0, "value"] == first.results.loc[0, "value"]
    # Even a recomputed cell (--force) re-encodes nothing: embeddings come from the cache.
    third = run_suite(s, host=Host(autoload=False), data_dir=data_dir, cache_dir=tmp_path, force=True)
    assert third.provenance["cells"]["computed"] == 1 and third.provenance["texts_encoded"] == 0
    assert third.results.loc[0, "value"] == pytest.approx(first.results.loc[0, "value"], abs=1e-12)


@pytest.mark.model
def test_cosine_whitening_wmd_wrd_encode_each_sentence_once(data_dir: Path, tmp_path: Path) -> None:
    """One forward pass per distinct sentence for four methods over one encoder, whatever their
    order in the suite (the token pass also stores the sentence embeddings)."""
    stsb = Host(autoload=False).datasets.create("stsb").load("test", data_dir).iloc[:40]
    f = tmp_path / "slice.tsv"
    stsb[["sentence1", "sentence2", "score"]].to_csv(f, sep="\t", index=False)
    s = suite([ComponentSpec("slice", "pairs", {"path": str(f), "quoting": "none"})],
              ["minilm-cosine", "minilm-whitening", "minilm-wmd", "minilm-wrd"], ["spearman"])
    run = run_suite(s, host=Host(autoload=False), data_dir=tmp_path, cache_dir=tmp_path / "cache")
    distinct = len(set(stsb["sentence1"]) | set(stsb["sentence2"]))
    assert run.provenance["texts_encoded"] == distinct
    assert list(run.results["method"]) == ["minilm-cosine", "minilm-whitening", "minilm-wmd", "minilm-wrd"]
