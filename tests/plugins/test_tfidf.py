"""TF-IDF cosine against a brute-force computation of the textbook formula."""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from evalkit_tfidf import TfidfCosine

PAIRS = pd.DataFrame({
    "sentence1": ["A man is playing a guitar.", "The cat sat on the mat", "Nothing shared", "Stocks fell"],
    "sentence2": ["A man plays the guitar.", "the cat is on the mat", "at all here", "Stocks fell sharply today"],
})


def brute_force(pairs: pd.DataFrame) -> np.ndarray:
    """Smoothed IDF ln((1+n)/(1+df)) + 1, raw counts, L2 norm, cosine (scikit-learn's documented defaults)."""
    tok = lambda s: re.findall(r"(?u)\b\w\w+\b", s.lower())  # noqa: E731
    docs = [tok(s) for s in list(pairs.sentence1) + list(pairs.sentence2)]
    n = len(docs)
    df = Counter(t for d in docs for t in set(d))
    idf = {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}

    def vec(s: str) -> dict[str, float]:
        tf = Counter(tok(s))
        v = {t: c * idf[t] for t, c in tf.items()}
        norm = math.sqrt(sum(x * x for x in v.values()))
        return {t: x / norm for t, x in v.items()} if norm else {}

    out = []
    for a, b in zip(pairs.sentence1, pairs.sentence2, strict=True):
        va, vb = vec(a), vec(b)
        out.append(sum(va[t] * vb.get(t, 0.0) for t in va))
    return np.array(out)


def test_matches_brute_force() -> None:
    got = TfidfCosine().fit(PAIRS).predict(PAIRS)
    assert got.dtype == np.float64 and got.shape == (4,)
    np.testing.assert_allclose(got, brute_force(PAIRS), atol=1e-12)
    assert got[2] == 0.0  # no shared term


def test_char_ngrams_and_identical_texts() -> None:
    pairs = pd.DataFrame({"sentence1": ["花呗怎么还款", "abc"], "sentence2": ["花呗怎么还款", "xyz"]})
    got = TfidfCosine(analyzer="char", ngram_range=[1, 2]).fit(pairs).predict(pairs)
    assert got[0] == pytest.approx(1.0) and got[1] == 0.0
