"""Built-in plugin: TF-IDF cosine similarity (scikit-learn), the classical baseline.

``tfidf-cosine`` fits scikit-learn's ``TfidfVectorizer`` on the sentences of the evaluated split
(both sides, no gold scores) and scores each pair by the cosine of its two L2-normalised TF-IDF
vectors, in 0..1. A sentence with no known term has a zero vector; its cosine is defined as 0.
``tfidf-char`` does the same over character 1-2-grams (``analyzer="char"``), a baseline for
Chinese and other text written without spaces, where word unigrams would be whole sentences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit import ConfigError, Method, Register, check_pairs, hookimpl

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class TfidfCosine(Method):
    """Cosine similarity of TF-IDF vectors (scikit-learn TfidfVectorizer), 0..1.

    Parameters mirror ``sklearn.feature_extraction.text.TfidfVectorizer``.

    Parameters:
        analyzer: ``word``, ``char`` or ``char_wb`` (n-grams of words or characters).
        ngram_range: smallest and largest n-gram size, as a 2-list such as ``[1, 2]``.
        lowercase: lowercase the texts before tokenising.
        sublinear_tf: use ``1 + log(tf)`` instead of the raw term frequency.
        min_df: ignore terms in fewer than this many sentences of the fitted split.
    """

    name = "tfidf"
    requires = ("numpy", "scipy", "scikit-learn")

    def __init__(
        self,
        *,
        analyzer: str = "word",
        ngram_range: tuple[int, int] | list[int] = (1, 1),
        lowercase: bool = True,
        sublinear_tf: bool = False,
        min_df: int = 1,
    ) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.lowercase = lowercase
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df

    def fit(self, pairs: pd.DataFrame) -> TfidfCosine:
        """Learn vocabulary and IDF from all sentences of ``pairs`` (columns sentence1, sentence2).

        Raises:
            DataError: ``pairs`` lacks a column or has a non-string sentence.
            ConfigError: invalid ``analyzer``, or no term survives (e.g. no pairs at all).
        """
        from sklearn.feature_extraction.text import TfidfVectorizer

        check_pairs(pairs, what=f"{self.display_name}: pairs")
        if self.analyzer not in ("word", "char", "char_wb"):
            raise ConfigError(f"tfidf: analyzer must be word, char or char_wb, not {self.analyzer!r}")
        lo, hi = tuple(self.ngram_range)
        self.vectorizer_ = TfidfVectorizer(
            analyzer=self.analyzer, ngram_range=(int(lo), int(hi)), lowercase=self.lowercase,
            sublinear_tf=self.sublinear_tf, min_df=self.min_df,
        )
        corpus = list(pairs["sentence1"]) + list(pairs["sentence2"])
        try:
            self.vectorizer_.fit(corpus)
        except ValueError as exc:  # e.g. empty vocabulary
            raise ConfigError(f"tfidf: cannot fit on these sentences: {exc}") from None
        return self

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """Cosine of each pair's TF-IDF vectors: float64, shape (n,), in 0..1."""
        import numpy as np

        check_pairs(pairs, what=f"{self.display_name}: pairs")
        if not hasattr(self, "vectorizer_"):
            self.fit(pairs)
        a = self.vectorizer_.transform(list(pairs["sentence1"]))
        b = self.vectorizer_.transform(list(pairs["sentence2"]))
        # Rows are L2-normalised (norm="l2"), so the row-wise dot product is the cosine.
        return np.asarray(a.multiply(b).sum(axis=1), dtype=np.float64).ravel()


@hookimpl
def register_methods(register: Register) -> None:
    register(TfidfCosine)
    register(TfidfCosine, "tfidf-cosine", description="TF-IDF cosine over word unigrams (scikit-learn)")
    register(TfidfCosine, "tfidf-char", params={"analyzer": "char", "ngram_range": [1, 2]},
             description="TF-IDF cosine over character 1-2-grams (for Chinese and other unsegmented text)")
