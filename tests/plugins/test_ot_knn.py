"""Prefetch-and-prune k-NN returns exactly the exhaustive search's neighbours, with fewer solves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from evalkit_ot.knn import knn, knn_exhaustive
from evalkit_ot.solver import distance, prepare

from evalkit.errors import ConfigError

pytest.importorskip("ot")


def clustered(kind: str, n: int, seed: int):
    """Texts drawn around 8 topics, so that neighbours are meaningful."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(8, 16)) * 3
    out = []
    for _ in range(n):
        t = topics[rng.integers(8)]
        n_tok = int(rng.integers(2, 12))
        out.append(prepare(t + rng.normal(size=(n_tok, 16)), rng.integers(1, 3, size=n_tok),
                           kind=kind))
    return out


@pytest.mark.parametrize("kind", ["wmd", "wrd"])
def test_same_neighbours_as_exhaustive(kind: str) -> None:
    corpus = clustered(kind, 150, seed=1)
    corpus[20] = corpus[3]  # an exact duplicate: a tie at distance 0 for query 3
    queries = [3, 10, 77, 149]
    pruned = knn([corpus[i] for i in queries], corpus, 5, exclude=queries, n_jobs=2)
    full = knn_exhaustive([corpus[i] for i in queries], corpus, 5, exclude=queries, n_jobs=1)
    assert np.array_equal(pruned.indices, full.indices)
    assert np.array_equal(pruned.distances, full.distances)
    assert pruned.indices[0, 0] == 20 and pruned.distances[0, 0] == 0.0
    assert np.all(pruned.n_exact < full.n_exact) and pruned.solve_reduction > 2
    # Brute force without any evalkit search code: sort (distance, index).
    for row, q in enumerate(queries):
        ref = sorted((distance(corpus[q], d), j) for j, d in enumerate(corpus) if j != q)[:5]
        assert pruned.indices[row].tolist() == [j for _, j in ref]


def test_ties_are_broken_by_index() -> None:
    base = prepare(np.eye(3))
    far = prepare(np.eye(3) * 5)
    assert base is not None and far is not None
    corpus = [far, base, far, base, base, far]
    res = knn([base], corpus, 4)
    assert res.indices.tolist() == [[1, 3, 4, 0]]
    assert np.array_equal(res.indices, knn_exhaustive([base], corpus, 4).indices)


def test_bad_arguments() -> None:
    corpus = clustered("wmd", 5, seed=2)
    with pytest.raises(ConfigError, match="larger than the corpus"):
        knn(corpus[:1], corpus, 6)
    with pytest.raises(ConfigError, match="at least 1"):
        knn(corpus[:1], corpus, 0)
    with pytest.raises(ConfigError, match="one kind"):
        knn(clustered("wrd", 1, seed=3), corpus, 2)


@pytest.mark.data
def test_lee_background_with_gensim_vectors(data_dir: Path) -> None:
    """Static vectors on real documents: identical neighbours, >= 5x fewer exact solves."""
    gensim_test = pytest.importorskip("gensim.test.utils")
    from evalkit_ot.embeddings import StaticEmbedder, load_vectors, to_docs

    emb = StaticEmbedder(load_vectors(gensim_test.datapath("euclidean_vectors.bin")),
                         stop_words="english")
    texts = (data_dir / "lee" / "lee_background.cor").read_text(encoding="latin-1").splitlines()
    corpus = to_docs(texts, emb, kind="wmd")
    queries = list(range(0, 300, 60))
    pruned = knn([corpus[i] for i in queries], corpus, 10, exclude=queries)
    full = knn_exhaustive([corpus[i] for i in queries], corpus, 10, exclude=queries)
    assert np.array_equal(pruned.indices, full.indices)
    assert np.array_equal(pruned.distances, full.distances)
    assert full.n_exact.sum() == 5 * 299
    assert pruned.solve_reduction >= 5
