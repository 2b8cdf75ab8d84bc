"""Per-text cache of encoder outputs, in memory for a run and on disk across runs.

The store behind :class:`evalkit.encoding.EncoderOutputs` (the public interface): each distinct
text is encoded once per *namespace* (``"<kind>|<encoder identity>"``, e.g.
``"sentence-embedding|all-MiniLM-L6-v2|{...fingerprints...}"``), and the arrays are written to
disk so that a repeated run encodes nothing. :meth:`EmbeddingCache.get_joint` computes the
missing texts of several namespaces (kinds of one encoder) in one call.

On disk a namespace is a folder of shards (``<sha1>.npz``), each written atomically (temporary
file, then ``os.replace``) and never modified, so concurrent runs and interrupted runs cannot
corrupt it. Keys are the sha1 of the UTF-8 text. Reading a namespace from disk sets its folder's
mtime to now, so ``evalkit cache prune --older-than DAYS`` can drop namespaces not used since.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("evalkit.cache")


def text_key(text: str) -> str:
    """sha1 hex digest of the UTF-8 text: the cache key of one text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    """Counters of one namespace: texts served from memory, from disk, and computed."""

    memory_hits: int = 0
    disk_hits: int = 0
    computed: int = 0


class EmbeddingCache:
    """Arrays per (namespace, text). ``directory=None`` keeps them in memory only.

    Values are float32 arrays of any shape whose first axis is free (a sentence embedding of
    shape ``(dim,)``, token embeddings of shape ``(n_tokens, dim)``). ``readonly``: arrays on disk
    are used, new ones are kept in memory only (a cache folder the user cannot write to).
    """

    def __init__(self, directory: Path | None, *, readonly: bool = False) -> None:
        self.directory = directory
        self.readonly = readonly
        self._mem: dict[str, dict[str, np.ndarray]] = {}
        self._disk_loaded: set[str] = set()
        self._disk: dict[str, dict[str, np.ndarray]] = {}
        self.stats: dict[str, CacheStats] = {}

    def _ns_dir(self, namespace: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / hashlib.sha1(namespace.encode("utf-8")).hexdigest()[:20]

    def _load_disk(self, namespace: str) -> dict[str, np.ndarray]:
        import numpy as np

        if namespace in self._disk_loaded:
            return self._disk.setdefault(namespace, {})
        self._disk_loaded.add(namespace)
        store = self._disk.setdefault(namespace, {})
        folder = self._ns_dir(namespace)
        if folder is None or not folder.is_dir():
            return store
        with contextlib.suppress(OSError):
            os.utime(folder)  # last use, for 'evalkit cache prune --older-than'
        for shard in sorted(folder.glob("*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as z:
                    keys, offsets, data, shapes = z["keys"], z["offsets"], z["data"], z["shapes"]
            except Exception as exc:  # a damaged shard is skipped, never fatal
                log.warning("ignoring unreadable cache shard %s: %s", shard, exc)
                continue
            for i, k in enumerate(keys.tolist()):
                block = data[offsets[i] : offsets[i + 1]]
                store[k] = block.reshape(tuple(int(s) for s in shapes[i] if s >= 0))
        return store

    def _write_shard(self, namespace: str, items: dict[str, np.ndarray]) -> None:
        import numpy as np

        folder = self._ns_dir(namespace)
        if folder is None or not items or self.readonly:
            return
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "NAMESPACE.txt").write_text(namespace + "\n", encoding="utf-8")
        keys = list(items)
        rows = [np.asarray(items[k], dtype=np.float32) for k in keys]
        flat = [r.reshape(-1, r.shape[-1]) if r.ndim >= 1 and r.size else r.reshape(0, 0) for r in rows]
        dim = max((f.shape[1] for f in flat), default=0)
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([f.shape[0] for f in flat])
        nonempty = [f for f in flat if f.size]
        data = np.concatenate(nonempty, axis=0) if nonempty else np.zeros((0, dim), np.float32)
        shapes = np.full((len(keys), 3), -1, dtype=np.int64)
        for i, r in enumerate(rows):
            shapes[i, : r.ndim] = r.shape
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, keys=np.array(keys), offsets=offsets, data=data, shapes=shapes)
            from evalkit.fsutil import apply_umask

            apply_umask(tmp)
            os.replace(tmp, folder / f"{uuid.uuid4().hex}.npz")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_many(
        self,
        namespace: str,
        texts: Sequence[str],
        compute: Callable[[list[str]], Sequence[np.ndarray]],
    ) -> list[np.ndarray]:
        """Arrays for ``texts`` (same order), computing only texts never seen in ``namespace``.

        ``compute(distinct_missing_texts)`` must return one array per text, in order.

        Raises:
            PluginError: ``compute`` returned another number of arrays than it was given texts.
        """
        return self.get_joint({"": namespace}, "", texts, lambda missing: {"": compute(missing)})

    def get_joint(
        self,
        namespaces: Mapping[str, str],
        kind: str,
        texts: Sequence[str],
        compute: Callable[[list[str]], Mapping[str, Sequence[np.ndarray]]],
    ) -> list[np.ndarray]:
        """Arrays of ``namespaces[kind]`` for ``texts``, computing the missing texts of all
        ``namespaces`` (``{kind: namespace}``) in one call.

        ``compute(distinct_missing_texts)`` returns ``{kind: one array per text}`` for every kind of
        ``namespaces``; it is called for the texts missing from ``namespaces[kind]``. The arrays of
        the other kinds are stored for the texts they lack (texts already there are left alone). A
        text passed to ``compute`` counts once, as computed in ``namespaces[kind]``.

        Raises:
            PluginError: ``compute`` left out a kind or returned another number of arrays than texts.
        """
        namespace = namespaces[kind]
        stats = self.stats.setdefault(namespace, CacheStats())
        mem = self._mem.setdefault(namespace, {})
        keys = [text_key(t) for t in texts]
        missing: dict[str, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if k in mem or k in missing:
                stats.memory_hits += 1
            elif k in self._load_disk(namespace):
                mem[k] = self._disk[namespace][k]
                stats.disk_hits += 1
            else:
                missing[k] = t
        if missing:
            new_keys = list(missing)
            arrays = compute([missing[k] for k in new_keys])
            for other, ns in namespaces.items():
                got = arrays.get(other)
                if got is None or len(got) != len(new_keys):
                    from evalkit.errors import PluginError

                    n = "no" if got is None else len(got)
                    raise PluginError(f"encoder returned {n} arrays for {len(new_keys)} texts ({ns})")
                self._store(ns, dict(zip(new_keys, got, strict=True)))
            stats.computed += len(new_keys)
        return [mem[k] for k in keys]

    def _store(self, namespace: str, items: dict[str, np.ndarray]) -> None:
        """Keep (and write to disk) the arrays of keys ``namespace`` does not hold yet."""
        mem = self._mem.setdefault(namespace, {})
        disk = self._load_disk(namespace)
        fresh = {k: a for k, a in items.items() if k not in mem and k not in disk}
        mem.update(fresh)
        self._write_shard(namespace, fresh)

    def total_computed(self) -> int:
        """Texts computed (not found in memory or on disk) in all namespaces so far."""
        return sum(s.computed for s in self.stats.values())
