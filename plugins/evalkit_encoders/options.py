"""Encoder options that sentence-transformers and MTEB users set, and what each one changes.

==========================  =================================================  =====================
option                      sentence-transformers call                         part of
==========================  =================================================  =====================
``trust_remote_code``       ``SentenceTransformer(..., trust_remote_code=)``    model load, cache
``dtype``                   ``SentenceTransformer(..., model_kwargs=            model load, cache
                            {"torch_dtype": ...})``
``max_seq_length``          ``model.max_seq_length = n`` (tokens; longer        model load, cache
                            texts are truncated)
``prompt``, ``prompt_name`` ``encode(prompt=)`` / ``encode(prompt_name=)``     cache
``normalize_embeddings``    ``encode(normalize_embeddings=)``                  cache
``truncate_dim``            ``encode(truncate_dim=)`` (Matryoshka: the first    cache
                            n dimensions)
``precision``               ``quantize_embeddings(all texts, precision)``,     applied after cache
                            as ``encode(precision=)`` does to its inputs
==========================  =================================================  =====================

Every option is a method parameter, hence part of the stored-result key of a cell
(:func:`evalkit.cells.cell_key` hashes ``get_params()``); the options that change the vectors
are part of the embedding-cache namespace, so the cache never returns vectors computed with
other options. ``precision`` is applied after the cache, to the float32 embeddings of all the
sentences one ``predict`` call scores (both sides), exactly as ``encode(texts, precision=...)``
quantizes over the texts it was given (int8/uint8 ranges calibrated on them); that keeps the
quantization independent of which texts happened to be cached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit import ConfigError
from evalkit.sbert import EncoderOptions

if TYPE_CHECKING:
    import numpy as np

PRECISIONS = ("float32", "int8", "uint8", "binary", "ubinary")
DTYPES = ("float32", "float16", "bfloat16")

__all__ = ["DTYPES", "PRECISIONS", "EncoderOptions", "check_options", "quantized"]


def _positive_int(name: str, value: Any, owner: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"{owner}: {name} must be a positive integer or none, got {value!r}")


def check_options(
    owner: str, *, precision: str, dtype: str | None, max_seq_length: int | None, truncate_dim: int | None,
    prompt: str | None, prompt_name: str | None,
) -> None:
    """Raise :class:`~evalkit.ConfigError` (naming ``owner`` and the option) for invalid values."""
    if precision not in PRECISIONS:
        raise ConfigError(f"{owner}: precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if dtype is not None and dtype not in DTYPES:
        raise ConfigError(f"{owner}: dtype must be one of {', '.join(DTYPES)} or none, got {dtype!r}")
    _positive_int("max_seq_length", max_seq_length, owner)
    _positive_int("truncate_dim", truncate_dim, owner)
    if prompt is not None and prompt_name is not None:
        raise ConfigError(f"{owner}: give prompt (the text) or prompt_name (a prompt of the model's "
                          "configuration), not both")


def quantized(emb: np.ndarray, precision: str) -> np.ndarray:
    """``emb`` (float32, ``(n, d)``) as sentence-transformers' ``quantize_embeddings`` gives it,
    returned as float64 vectors that cosine can compare.

    ``float32`` is returned unchanged; ``int8``/``uint8`` are the quantized integers (ranges from
    these rows); ``binary``/``ubinary`` (one bit per dimension, ``x > 0``) are unpacked to +-1, so
    that the cosine of two vectors is ``1 - 2 * hamming / d``.
    """
    import numpy as np

    if precision == "float32" or emb.size == 0:
        return emb
    try:
        from sentence_transformers import quantize_embeddings
    except ImportError:
        raise ConfigError("precision needs sentence-transformers; install evalkit[encoders]") from None
    q = np.asarray(quantize_embeddings(emb, precision=precision))  # type: ignore[arg-type]
    if precision in ("binary", "ubinary"):
        packed = (q.astype(np.int16) + 128).astype(np.uint8) if precision == "binary" else q.astype(np.uint8)
        bits = np.unpackbits(packed, axis=1)[:, : emb.shape[1]]
        return bits.astype(np.float64) * 2.0 - 1.0
    return q.astype(np.float64)
