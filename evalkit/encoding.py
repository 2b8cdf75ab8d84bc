"""Shared encoder outputs: the public contract between encoders, methods and the executor.

An :class:`Encoder` turns texts into outputs of a named *kind*:

- ``"sentence"`` (:data:`SENTENCE`): one float32 array of shape ``(dim,)`` per text;
- ``"tokens"`` (:data:`TOKENS`): one float32 array of shape ``(n_tokens, dim)`` per text (an
  empty text gives ``(0, dim)``).

Its :attr:`Encoder.identity` is a stable string naming everything that determines the outputs
(the model, a fingerprint of its weights, the options, the library versions, the device); outputs
are cached per ``(identity, kind)`` and text.

A method declares the outputs it needs by returning :class:`EncoderOutputRequest` objects from
:meth:`evalkit.Method.encoder_outputs` (default: none, and nothing changes for it). Before a cell
runs, the executor hands the method the run's :class:`EncoderOutputs` through
:meth:`evalkit.Method.bind_encoder_outputs`; the method reads its outputs with
:meth:`evalkit.Method.encoder_output`. The run's :class:`EncoderOutputs` knows every request of
every method of the run, so:

- each ``(encoder identity, kind)`` is computed once per distinct text for the whole run, whatever
  the number of methods and cells reading it (through evalkit's per-text cache, in memory for the
  run and on disk across runs, :mod:`evalkit.cache`);
- when a run requests several kinds of one encoder and the encoder says it computes them together
  (:attr:`Encoder.joint`), a text's kinds come from one pass (the sentence embedding and the token
  embeddings of one forward pass of a transformer).

Outside a run (a notebook calling ``predict``, a metric), :meth:`~evalkit.Method.encoder_output`
falls back to :func:`default_encoder_outputs`, a process-wide context over the user cache.

The fingerprint helpers an encoder needs for its identity are re-exported here:
:func:`auto_device`, :func:`code_fingerprint`, :func:`hub_revision`, :func:`library_versions`,
:func:`path_fingerprint` (see :mod:`evalkit.fingerprint`).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from evalkit.cache import EmbeddingCache
from evalkit.errors import ConfigError, PluginError
from evalkit.fingerprint import auto_device, code_fingerprint, hub_revision, library_versions, path_fingerprint

if TYPE_CHECKING:
    import numpy as np

    from evalkit.interfaces import Method

__all__ = [
    "KINDS", "SENTENCE", "TOKENS", "Encoder", "EncoderOutputRequest", "EncoderOutputs", "auto_device",
    "bind_method", "code_fingerprint", "default_encoder_outputs", "hub_revision", "library_versions",
    "path_fingerprint", "run_encoder_outputs", "use_default_encoder_outputs",
]

#: One float32 ``(dim,)`` array per text.
SENTENCE = "sentence"
#: One float32 ``(n_tokens, dim)`` array per text.
TOKENS = "tokens"
KINDS = (SENTENCE, TOKENS)
#: The cache's namespace prefix of each kind (the names evalkit's cache has always used).
_NS_PREFIX = {SENTENCE: "sentence-embedding", TOKENS: "token-embedding"}


class Encoder(ABC):
    """Texts to outputs of named kinds (:data:`KINDS`), with a stable identity.

    Subclasses set :attr:`kinds`, implement :attr:`identity` and :meth:`encode`, and set
    :attr:`joint` when one :meth:`encode` call computes several kinds from one pass. An encoder is
    pickled to worker processes: keep loaded models out of its attributes (memoise them elsewhere).
    """

    #: The kinds :meth:`encode` can compute.
    kinds: ClassVar[tuple[str, ...]] = (SENTENCE,)

    @property
    def joint(self) -> bool:
        """Whether :meth:`encode` computes several of :attr:`kinds` from one pass over the texts,
        giving each kind exactly the arrays it computes for that kind alone. Default ``False``."""
        return False

    @property
    @abstractmethod
    def identity(self) -> str:
        """Everything that determines the outputs (model, weights fingerprint, options, library
        versions, device), as one string; two encoders with equal identities are interchangeable.
        The batch size is not part of it (as in MTEB's cache)."""

    @abstractmethod
    def encode(
        self, texts: list[str], kinds: tuple[str, ...], *, progress: bool = False
    ) -> dict[str, list[np.ndarray]]:
        """``{kind: one float32 array per text, in order}`` for each of ``kinds`` (a subset of
        :attr:`kinds`; several only when :attr:`joint`). ``progress``: show a progress bar.

        Raises:
            ConfigError: the model cannot be loaded or an option is invalid.
            PluginError: the model returned something of the wrong shape.
        """

    def namespace(self, kind: str) -> str:
        """The cache namespace of ``kind`` outputs: ``"<kind prefix>|<identity>"``."""
        return f"{_NS_PREFIX.get(kind, kind)}|{self.identity}"


@dataclass(frozen=True, eq=False)
class EncoderOutputRequest:
    """A method's request for the ``kind`` outputs (:data:`KINDS`) of ``encoder``.

    Raises:
        ConfigError: ``kind`` is not one of the encoder's :attr:`Encoder.kinds`.
    """

    encoder: Encoder
    kind: str = SENTENCE

    def __post_init__(self) -> None:
        if self.kind not in self.encoder.kinds:
            raise ConfigError(f"encoder {type(self.encoder).__name__} computes {', '.join(self.encoder.kinds)}, "
                              f"not {self.kind!r}")

    @property
    def key(self) -> tuple[str, str]:
        """``(encoder identity, kind)``: requests with equal keys share their outputs."""
        return self.encoder.identity, self.kind


class EncoderOutputs:
    """The encoder outputs of a run: computed once per (encoder identity, kind) and distinct text.

    Args:
        cache: where outputs are kept (default: in memory only).
        requests: every request of the run's methods (see :meth:`declare`); the kinds requested of
            one encoder are computed in one pass when it is :attr:`~Encoder.joint`.
        progress: show encoders' progress bars.

    Pickling (to worker processes) keeps the cache's folder, not the arrays held in memory.
    """

    def __init__(self, cache: EmbeddingCache | None = None, requests: Iterable[EncoderOutputRequest] = (),
                 *, progress: bool = False) -> None:
        self.cache = cache if cache is not None else EmbeddingCache(None)
        self.progress = progress
        self._kinds: dict[str, set[str]] = {}
        for request in requests:
            self.declare(request)

    def declare(self, request: EncoderOutputRequest) -> None:
        """Note that the run reads ``request`` (so a joint encoder computes its kind alongside)."""
        self._kinds.setdefault(request.encoder.identity, set()).add(request.kind)

    def kinds_computed(self, request: EncoderOutputRequest) -> tuple[str, ...]:
        """The kinds one encoder pass computes for ``request``: its own kind, plus the other
        declared kinds of its encoder when the encoder is joint (in :data:`KINDS` order)."""
        enc = request.encoder
        wanted = {request.kind} | (self._kinds.get(enc.identity, set()) if enc.joint else set())
        return tuple(k for k in (*KINDS, *sorted(wanted - set(KINDS))) if k in wanted and k in enc.kinds)

    def get(self, request: EncoderOutputRequest, texts: Sequence[str]) -> list[np.ndarray]:
        """The ``request.kind`` output of each text (same order; one array per text, shapes as in
        :data:`KINDS`), encoding only texts never encoded for that (identity, kind).

        Raises:
            ConfigError, PluginError: as the encoder's :meth:`~Encoder.encode`, or it returned
                another number of arrays than texts.
        """
        enc, kinds = request.encoder, self.kinds_computed(request)

        def compute(missing: list[str]) -> dict[str, list[np.ndarray]]:
            out = enc.encode(missing, kinds, progress=self.progress)
            if not isinstance(out, dict):
                raise PluginError(f"{type(enc).__name__}.encode returned {type(out).__name__}, not a dict of kinds")
            return out

        return self.cache.get_joint({k: enc.namespace(k) for k in kinds}, request.kind, list(texts), compute)

    def sentences(self, request: EncoderOutputRequest, texts: Sequence[str]) -> np.ndarray:
        """:meth:`get` stacked: float32 ``(len(texts), dim)`` (``(0, 0)`` for no texts)."""
        import numpy as np

        rows = self.get(request, texts)
        return np.stack(rows).astype(np.float32, copy=False) if rows else np.zeros((0, 0), np.float32)

    @property
    def texts_encoded(self) -> int:
        """Texts encoded so far (a text encoded for several kinds in one pass counts once)."""
        return self.cache.total_computed()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["cache"] = EmbeddingCache(self.cache.directory, readonly=self.cache.readonly)
        return state


def run_encoder_outputs(methods: Iterable[Method], *, cache_dir: Path | None, readonly: bool = False,
                        progress: bool = False) -> EncoderOutputs:
    """The :class:`EncoderOutputs` of a run of ``methods`` (each method's
    :meth:`~evalkit.Method.encoder_outputs` declared), cached in ``cache_dir`` (``None``: memory).

    Raises:
        PluginError: a method's ``encoder_outputs()`` raised or returned something other than a
            list of :class:`EncoderOutputRequest` (naming the method).
    """
    outputs = EncoderOutputs(EmbeddingCache(cache_dir, readonly=readonly), progress=progress)
    for method in methods:
        for request in requests_of(method):
            outputs.declare(request)
    return outputs


def requests_of(method: Method) -> list[EncoderOutputRequest]:
    """``method.encoder_outputs()``, checked.

    Raises:
        PluginError: it raised a non-evalkit error or returned something other than a list of
            :class:`EncoderOutputRequest` (naming the method).
    """
    from evalkit.errors import EvalkitError

    name = method.display_name or type(method).__name__
    try:
        got = list(method.encoder_outputs())
    except EvalkitError:
        raise
    except Exception as exc:
        raise PluginError(f"method {name!r}: encoder_outputs() raised {type(exc).__name__}: {exc}") from None
    bad = [r for r in got if not isinstance(r, EncoderOutputRequest)]
    if bad:
        raise PluginError(f"method {name!r}: encoder_outputs() must return EncoderOutputRequest objects, "
                          f"got {type(bad[0]).__name__}")
    return got


def bind_method(method: Method, outputs: EncoderOutputs) -> None:
    """Declare ``method``'s requests in ``outputs`` and bind them to it (what the executor does
    before ``fit``); a method that requests nothing is left untouched."""
    requests = requests_of(method)
    for request in requests:
        outputs.declare(request)
    if requests:
        method.bind_encoder_outputs(outputs)


_DEFAULT: contextvars.ContextVar[EncoderOutputs | None] = contextvars.ContextVar(
    "evalkit_default_encoder_outputs", default=None)
_PROCESS_DEFAULT: list[EncoderOutputs] = []


def default_encoder_outputs() -> EncoderOutputs:
    """The outputs a method reads when no run bound any (direct use of ``predict``, metrics):
    the one set by :func:`use_default_encoder_outputs`, else a process-wide context over
    ``<user cache>/embeddings`` (memory only when ``EVALKIT_NO_CACHE`` is set)."""
    active = _DEFAULT.get()
    if active is not None:
        return active
    if not _PROCESS_DEFAULT:
        from evalkit.data import user_cache_dir

        directory = None if os.environ.get("EVALKIT_NO_CACHE") else user_cache_dir() / "embeddings"
        _PROCESS_DEFAULT.append(EncoderOutputs(EmbeddingCache(directory)))
    return _PROCESS_DEFAULT[0]


@contextlib.contextmanager
def use_default_encoder_outputs(outputs: EncoderOutputs) -> Iterator[EncoderOutputs]:
    """Within the block, :func:`default_encoder_outputs` is ``outputs`` (tests, conformance checks)."""
    token = _DEFAULT.set(outputs)
    try:
        yield outputs
    finally:
        _DEFAULT.reset(token)
