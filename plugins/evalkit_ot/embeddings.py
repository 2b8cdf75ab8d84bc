"""Token vectors for texts: static word vectors (word2vec/GloVe files) or a sentence encoder's
contextual token embeddings, turned into prepared documents (:class:`~evalkit_ot.solver.Doc`).

Static vectors (:class:`StaticVectors`, :class:`StaticEmbedder`):

- Files: word2vec text (header ``"<words> <dims>"``, then ``word v1 .. vd`` per line), word2vec
  binary (same header, then per word its UTF-8 bytes, a space and ``dims`` little-endian
  float32; ``.bin`` files) and GloVe text (no header). Vectors are kept as float32, as stored.
- Tokenisation: a regular expression over the (optionally lower-cased) text, by default
  scikit-learn's ``CountVectorizer`` pattern ``(?u)\\b\\w\\w+\\b`` (words of 2+ characters);
  optional stop-word removal (``"english"``: scikit-learn's ``ENGLISH_STOP_WORDS``, or a list).
- Out-of-vocabulary policy ``oov``: ``"drop"`` (skip the token, as gensim's ``wmdistance`` and
  Kusner et al. do) or ``"error"`` (a :class:`~evalkit.DataError` naming row and token).
- A text's distinct tokens become the rows, their counts the weights (nBOW).

Contextual embeddings (:class:`ContextualEmbedder`): every word piece of a sentence-transformers
model except special tokens and padding (the ``tokens`` outputs of
:class:`evalkit.sbert.SentenceTransformerEncoder`), one row each with weight 1, shared with every
other method of a run that requests them (:mod:`evalkit.encoding`).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evalkit import ConfigError, DataError
from evalkit.encoding import TOKENS, EncoderOutputRequest, default_encoder_outputs
from evalkit_ot.solver import Doc, prepare

#: scikit-learn's CountVectorizer default: tokens of two or more word characters.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
FORMATS = ("auto", "word2vec", "word2vec-binary", "glove")
OOV_POLICIES = ("drop", "error")


@dataclass
class TokenBag:
    """A text's token vectors before preparation.

    Attributes:
        vectors: ``(n, d)`` float32 rows (distinct tokens for static vectors, word pieces for
            contextual embeddings).
        counts: ``(n,)`` float64 token counts.
        tokens: the row's token strings (static vectors) or ``None``.
        n_tokens: tokens in the text after stop-word removal, before the OOV policy.
        oov: out-of-vocabulary tokens that were dropped.
    """

    vectors: np.ndarray
    counts: np.ndarray
    tokens: list[str] | None = None
    n_tokens: int = 0
    oov: list[str] = field(default_factory=list)

    def why_empty(self) -> str:
        """Why no row is left ("" if there are rows)."""
        if len(self.counts):
            return ""
        if self.n_tokens == 0:
            return "it has no tokens (empty text, or only stop words and punctuation)"
        return f"all its {self.n_tokens} tokens are out of vocabulary (e.g. {self.oov[:3]})"


class StaticVectors:
    """Word vectors from a word2vec or GloVe file: ``words`` (list) and ``vectors`` (float32 V x d).

    Use :func:`load_vectors` (memoised per file) rather than the constructor.
    """

    def __init__(self, words: list[str], vectors: np.ndarray, source: str = "") -> None:
        self.words = words
        self.vectors = vectors
        self.source = source
        self.index: dict[str, int] = {}
        for i, w in enumerate(words):
            self.index.setdefault(w, i)  # first occurrence wins, as in gensim

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


def _header(line: bytes) -> tuple[int, int] | None:
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return None


def _read_binary(data: bytes, start: int, n: int, dim: int, limit: int | None,
                 path: Path) -> tuple[list[str], np.ndarray]:
    n = n if limit is None else min(n, limit)
    words: list[str] = []
    vecs = np.empty((n, dim), dtype=np.float32)
    pos, width = start, 4 * dim
    for i in range(n):
        while pos < len(data) and data[pos : pos + 1] in (b"\n", b"\r"):
            pos += 1
        end = data.find(b" ", pos)
        if end < 0 or end + 1 + width > len(data):
            raise DataError(f"{path}: binary word2vec file ends after {i} of {n} vectors")
        try:
            words.append(data[pos:end].decode("utf-8"))
        except UnicodeDecodeError:
            raise DataError(f"{path}: word {i + 1} is not valid UTF-8") from None
        vecs[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=end + 1)
        pos = end + 1 + width
    return words, vecs


def _read_text(lines: list[bytes], first: int, dim: int | None, limit: int | None,
               path: Path) -> tuple[list[str], np.ndarray]:
    words: list[str] = []
    rows: list[np.ndarray] = []
    for lineno, raw in enumerate(lines[first:], start=first + 1):
        if limit is not None and len(words) >= limit:
            break
        line = raw.decode("utf-8", errors="strict").rstrip("\r\n")
        if not line.strip():
            continue
        if dim is None:
            dim = len(line.rstrip().split(" ")) - 1
        parts = line.rstrip().rsplit(" ", dim)  # a word may contain spaces (GloVe 840B)
        try:
            if len(parts) != dim + 1:
                raise ValueError(f"{len(parts) - 1} numbers")
            rows.append(np.array(parts[1:], dtype=np.float32))
        except ValueError as exc:
            raise DataError(
                f"{path}:{lineno}: expected a word and {dim} numbers ({exc})") from None
        words.append(parts[0])
    if not words or dim is None:
        raise DataError(f"{path}: no word vectors found")
    return words, np.stack(rows)


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float, size: int, fmt: str, limit: int | None) -> StaticVectors:
    p = Path(path)
    data = p.read_bytes()
    nl = data.find(b"\n")
    head = _header(data[: nl if nl >= 0 else len(data)])
    if fmt == "auto":
        fmt = "glove" if head is None else ("word2vec-binary" if p.suffix == ".bin" else "word2vec")
    if fmt in ("word2vec", "word2vec-binary") and head is None:
        raise DataError(f"{path}: no word2vec header '<words> <dims>' on line 1; for GloVe files "
                        "use format='glove'")
    if fmt == "word2vec-binary":
        assert head is not None
        words, vecs = _read_binary(data, nl + 1, head[0], head[1], limit, p)
    else:
        try:
            words, vecs = _read_text(data.split(b"\n"), 0 if fmt == "glove" else 1,
                                     head[1] if head and fmt == "word2vec" else None, limit, p)
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 text ({exc}); binary files need "
                            "format='word2vec-binary'") from None
    if not np.all(np.isfinite(vecs)):
        raise DataError(f"{path}: word vectors contain NaN or inf")
    return StaticVectors(words, vecs, source=str(p))


def load_vectors(path: str | Path, *, format: str = "auto",
                 limit: int | None = None) -> StaticVectors:
    """Load word vectors (memoised per file, format and limit).

    Args:
        path: a word2vec text/binary or GloVe text file.
        format: ``"auto"`` (``.bin`` = word2vec binary; a ``"<n> <d>"`` first line = word2vec
            text; else GloVe), ``"word2vec"``, ``"word2vec-binary"`` or ``"glove"``.
        limit: read only the first ``limit`` vectors (files are usually sorted by frequency).

    Raises:
        ConfigError: unknown format. DataError: missing or malformed file (names file and line).
    """
    if format not in FORMATS:
        raise ConfigError(f"vectors format must be one of {', '.join(FORMATS)}, not {format!r}")
    p = Path(path).expanduser()
    if not p.is_file():
        raise DataError(f"word vectors file not found: {p}")
    st = p.stat()
    return _load(str(p.resolve()), st.st_mtime, st.st_size, format, limit)


class StaticEmbedder:
    """Texts to bags of static word vectors (see the module docstring for the policies)."""

    def __init__(self, vectors: StaticVectors, *, lowercase: bool = True,
                 token_pattern: str = TOKEN_PATTERN,
                 stop_words: str | Sequence[str] | None = None, oov: str = "drop") -> None:
        if oov not in OOV_POLICIES:
            raise ConfigError(f"oov must be 'drop' or 'error', not {oov!r}")
        try:
            self.pattern = re.compile(token_pattern)
        except re.error as exc:
            raise ConfigError(
                f"token_pattern {token_pattern!r} is not a regular expression: {exc}") from None
        self.vectors = vectors
        self.lowercase = lowercase
        self.oov = oov
        self.stop_words = _stop_words(stop_words)

    def tokenize(self, text: str) -> list[str]:
        """The text's tokens in order, after lower-casing and stop-word removal."""
        tokens = self.pattern.findall(text.lower() if self.lowercase else text)
        return [t for t in tokens if t not in self.stop_words] if self.stop_words else tokens

    def bag(self, text: str) -> TokenBag:
        tokens = self.tokenize(text)
        counts = Counter(t for t in tokens if t in self.vectors.index)
        oov = [t for t in dict.fromkeys(tokens) if t not in self.vectors.index]
        words = list(counts)
        rows = [self.vectors.index[w] for w in words]
        return TokenBag(self.vectors.vectors[rows], np.array([counts[w] for w in words], float),
                        words, len(tokens), oov)

    def bags(self, texts: Sequence[str]) -> list[TokenBag]:
        return [self.bag(t) for t in texts]


def _stop_words(stop_words: str | Sequence[str] | None) -> frozenset[str]:
    if stop_words is None:
        return frozenset()
    if isinstance(stop_words, str):
        if stop_words != "english":
            raise ConfigError(
                f"stop_words must be 'english', a list of words or None, not {stop_words!r}")
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return frozenset(ENGLISH_STOP_WORDS)
    return frozenset(stop_words)


class ContextualEmbedder:
    """Texts to bags of contextual token embeddings of a sentence-transformers model.

    ``read(request, texts)`` returns the ``tokens`` outputs (a method passes its
    :meth:`evalkit.Method.encoder_output`, bound to the run's shared outputs); default:
    :func:`evalkit.encoding.default_encoder_outputs`.
    """

    def __init__(self, model: str, *, batch_size: int = 32, device: str | None = None,
                 read: Callable[[EncoderOutputRequest, list[str]], list[np.ndarray]] | None = None) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.read = read

    def request(self) -> EncoderOutputRequest:
        """The ``tokens`` request of the model's :class:`~evalkit.sbert.SentenceTransformerEncoder`."""
        from evalkit.sbert import SentenceTransformerEncoder

        return EncoderOutputRequest(
            SentenceTransformerEncoder(self.model, batch_size=self.batch_size, device=self.device), TOKENS)

    def bags(self, texts: Sequence[str]) -> list[TokenBag]:
        read = self.read or default_encoder_outputs().get
        arrays = read(self.request(), list(texts))
        return [TokenBag(a, np.ones(a.shape[0]), None, a.shape[0]) for a in arrays]


def to_docs(texts: Sequence[str], embedder: Any, *, kind: str, normalize: bool = False,
            on_empty: str = "error", what: str = "text", row_offset: int = 0) -> list[Doc | None]:
    """Prepared documents for ``texts`` (identical texts share one :class:`Doc`).

    Args:
        embedder: a :class:`StaticEmbedder` (whose ``oov="error"`` raises on the first
            out-of-vocabulary token) or :class:`ContextualEmbedder`.
        kind, normalize: see :func:`~evalkit_ot.solver.prepare`.
        on_empty: ``"error"`` raises for a text with nothing left; ``"nan"`` returns ``None``.
        what: the texts' role in messages (``"sentence1"``, ``"prediction"``).
        row_offset: added to row numbers in messages.

    Raises:
        DataError: naming the row, the role, the text and the reason.
    """
    oov = getattr(embedder, "oov", "drop")
    distinct = list(dict.fromkeys(texts))
    bags = dict(zip(distinct, embedder.bags(distinct), strict=True))
    docs: dict[str, Doc | None] = {}
    out: list[Doc | None] = []
    for row, text in enumerate(texts):
        bag = bags[text]
        if oov == "error" and bag.oov:
            raise DataError(
                f"row {row + row_offset} ({what}): token {bag.oov[0]!r} has no word vector "
                f"(oov='error'); text: {text[:80]!r}. Use oov='drop' to skip unknown tokens")
        if text not in docs:
            docs[text] = prepare(bag.vectors, bag.counts, kind=kind, normalize=normalize)
        doc = docs[text]
        if doc is None and on_empty == "error":
            reason = bag.why_empty() or "its token vectors are all zero"
            raise DataError(
                f"row {row + row_offset} ({what}): {kind} is undefined because {reason}; text: "
                f"{text[:80]!r}. Fix the data, or set on_empty='nan' to score such rows as NaN")
        out.append(doc)
    return out
