"""Encoder cosine similarity and BERT-whitening."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit import ConfigError, DataError, Method, check_pairs
from evalkit_encoders.encoding import ENCODER_LIBRARIES, encode_sentences, model_folder

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def paired_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two ``(n, d)`` arrays in float64; a zero vector gives cosine 0."""
    import numpy as np

    a = a.astype(np.float64, copy=False)
    b = b.astype(np.float64, copy=False)
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    denom = na * nb
    dot = np.einsum("ij,ij->i", a, b)
    return np.divide(dot, denom, out=np.zeros_like(dot), where=denom > 0)


class EncoderCosine(Method):
    """Cosine similarity of sentence-transformers embeddings (-1..1), as MTEB scores STS.

    Parameters:
        model: sentence-transformers model name or local folder.
        batch_size: sentences per forward pass (MTEB's default is 32).
        device: torch device (``cpu``, ``cuda``); default: sentence-transformers' choice.
    """

    name = "sbert-cosine"
    requires = ENCODER_LIBRARIES

    def __init__(self, *, model: str = "all-MiniLM-L6-v2", batch_size: int = 32, device: str | None = None) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = device

    def local_inputs(self) -> dict[str, str]:
        """The folder the model loads from, when the name resolves to one (the shipped MiniLM)."""
        folder = model_folder(self.model)
        return {"model": folder} if folder is not None else {}

    def _embed(self, pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        check_pairs(pairs, what=f"{self.display_name}: pairs")
        s1, s2 = list(pairs["sentence1"]), list(pairs["sentence2"])
        emb = encode_sentences(self.model, s1 + s2, batch_size=self.batch_size, device=self.device)
        return emb[: len(s1)], emb[len(s1):]

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """Cosine of each pair's embeddings: float64, shape (n,), in -1..1."""
        a, b = self._embed(pairs)
        return paired_cosine(a, b)


class Whitening(EncoderCosine):
    """BERT-whitening (Su et al. 2021, Eq. 1-6): cosine after ``(x - mu) W[:, :k]``.

    ``mu`` is the mean and ``W = U diag(1/sqrt(s))`` comes from the SVD ``U diag(s) U^T`` of the
    covariance of the fitted sentences' embeddings (both sides of every pair, as in the paper's
    code); ``k`` keeps the first k whitened dimensions (``None`` keeps every direction of non-zero
    variance: the numerical rank, as ``numpy.linalg.matrix_rank`` computes it). Fitting uses
    sentences only, never gold scores.
    """

    name = "sbert-whitening"

    def __init__(
        self, *, model: str = "all-MiniLM-L6-v2", k: int | None = None, batch_size: int = 32,
        device: str | None = None,
    ) -> None:
        super().__init__(model=model, batch_size=batch_size, device=device)
        self.k = k

    def fit(self, pairs: pd.DataFrame) -> Whitening:
        """Compute ``mu`` (shape (d,)) and ``W`` (shape (d, k)) from the pairs' sentences.

        Raises:
            ConfigError: ``k`` is not in 1..d.
            DataError: fewer than 2 sentences, or ``k`` above the covariance's numerical rank.
        """
        import numpy as np

        a, b = self._embed(pairs)
        x = np.concatenate([a, b]).astype(np.float64)
        if x.shape[0] < 2:
            raise DataError("whitening needs at least 2 sentences to estimate a covariance")
        d = x.shape[1]
        self.mu_ = x.mean(axis=0)
        cov = np.cov(x.T)
        u, s, _ = np.linalg.svd(cov)
        # Numerical rank with numpy.linalg.matrix_rank's tolerance. Encoders can have dead
        # dimensions (all-MiniLM-L6-v2 has 3 of 384 with variance ~1e-19); the paper's 1/sqrt(s)
        # would blow them up, so zero-variance directions are dropped.
        rank = int(np.sum(s > s[0] * d * np.finfo(np.float64).eps))
        if self.k is None:
            k = rank
        else:
            k = int(self.k)
            if not 1 <= k <= d:
                raise ConfigError(f"whitening: k must be between 1 and the embedding size {d}, got {self.k}")
            if k > rank:
                raise DataError(
                    f"whitening: k={k} but the covariance of {x.shape[0]} sentences has only {rank} "
                    "directions with non-zero variance; choose k <= that or fit on more sentences"
                )
        self.k_ = k
        self.W_ = u[:, :k] / np.sqrt(s[:k])
        return self

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """Cosine of the whitened embeddings: float64, shape (n,), in -1..1."""
        if not hasattr(self, "W_"):
            self.fit(pairs)
        a, b = self._embed(pairs)
        return paired_cosine((a - self.mu_) @ self.W_, (b - self.mu_) @ self.W_)
