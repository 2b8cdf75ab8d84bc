"""Encoding helpers for direct use (outside a run's methods): sentence and token embeddings of a
sentence-transformers model through evalkit's shared encoder outputs.

The encoder itself is :class:`evalkit.sbert.SentenceTransformerEncoder` (public); methods declare
requests of it (:meth:`evalkit.Method.encoder_outputs`) instead of calling these functions. These
read the outputs of ``outputs`` when given, else :func:`evalkit.encoding.default_encoder_outputs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit.encoding import SENTENCE, TOKENS, EncoderOutputRequest, EncoderOutputs, default_encoder_outputs
from evalkit.sbert import (
    ENCODER_LIBRARIES,
    EncoderOptions,
    SentenceTransformerEncoder,
    encode_batches,
    load_model,
    model_folder,
    model_identity,
    resolve_model,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "ENCODER_LIBRARIES", "encode_batches", "encode_sentences", "encode_tokens", "load_model", "model_folder",
    "model_identity", "resolve_model",
]


def encode_sentences(
    model: str, texts: list[str], *, batch_size: int = 32, device: str | None = None,
    options: EncoderOptions | None = None, prompt: str | None = None, prompt_name: str | None = None,
    outputs: EncoderOutputs | None = None,
) -> np.ndarray:
    """Sentence embeddings, float32 of shape ``(len(texts), dim)`` (``dim`` = ``truncate_dim`` when
    set), each distinct text encoded at most once per encoder identity (model, options, prompt).

    Raises:
        ConfigError: the model cannot be loaded or rejects the prompt name.
    """
    enc = SentenceTransformerEncoder(model, batch_size=batch_size, device=device, options=options,
                                     prompt=prompt, prompt_name=prompt_name)
    return (outputs or default_encoder_outputs()).sentences(EncoderOutputRequest(enc, SENTENCE), texts)


def encode_tokens(
    model: str, texts: list[str], *, batch_size: int = 32, device: str | None = None,
    outputs: EncoderOutputs | None = None,
) -> list[np.ndarray]:
    """Contextual token embeddings, one float32 array ``(n_tokens_i, dim)`` per text (the
    ``tokens`` kind of :class:`~evalkit.sbert.SentenceTransformerEncoder`): last-layer word pieces
    without special tokens and padding; an empty text gives shape ``(0, dim)``.

    Raises:
        ConfigError: the model cannot be loaded.
    """
    enc = SentenceTransformerEncoder(model, batch_size=batch_size, device=device)
    return (outputs or default_encoder_outputs()).get(EncoderOutputRequest(enc, TOKENS), texts)
