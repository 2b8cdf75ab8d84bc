"""Cells: the unit of work of a run, keyed by everything that determines its predictions.

A cell is one (method, dataset, split). Its key is the sha256 of a canonical JSON document, the
cell's *key inputs*: the method's registry name and parameters, the dataset's registry name and
parameters, the split (and the validation split scored for tuning), the sha256 of every data file
the split reads, the versions of evalkit and of the plugins that provide the method and the
dataset, and for the method and the dataset :func:`evalkit.fingerprint.component_inputs`: the
source of their code (plugin packages, local packages they import, evalkit's own modules), a
fingerprint of every local file or folder a parameter names (model weights, vocabularies, word
vectors), the hub revision a model name resolves to, the versions of the libraries they declare
(``requires``) and import, the device a method given none runs on, and the row ``limit`` when the
run loads only the first rows of every split. The plan (:mod:`evalkit.plan`) is the only place
cells are keyed; the executor (:mod:`evalkit.execute`) computes them.

A finished cell's predictions and its key inputs are written atomically to
``<cell dir>/<key[:2]>/<key>.npz`` (temporary file, then ``os.replace``), so an interrupted run
(Ctrl-C, SIGKILL) keeps every finished cell, and the next identical run computes only the missing
ones. On load the stored key inputs must equal the current ones (anything else, including a cell
written by an older evalkit that stored none, is recomputed, never reused), and the file's mtime
is set to now, so ``evalkit cache prune`` can drop cells not used for a while. Changing a method
parameter changes only that method's keys. Metrics are not part of the key: scores are always
recomputed from the stored predictions, which is exact and cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.fsutil import apply_umask
from evalkit.interfaces import Dataset, Method
from evalkit.suite import ComponentSpec

if TYPE_CHECKING:
    import numpy as np

    from evalkit.plugins import Host


@dataclass(frozen=True)
class Cell:
    """One unit of work: ``method`` on ``split`` of ``dataset``."""

    method: ComponentSpec
    dataset: ComponentSpec
    split: str
    #: A second split the fitted method also scores, for metrics tuned on it (a validation split).
    tune_split: str | None = None
    #: The canonical JSON of the cell's key inputs (see :func:`cell_key_inputs`); stored with the
    #: predictions and compared on load.
    inputs: str = field(default="", compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.method.label} on {self.dataset.label}/{self.split}"


@dataclass
class CellOutcome:
    """What computing (or reusing) a cell produced."""

    key: str
    predictions: np.ndarray
    seconds: float
    texts_encoded: int
    reused: bool
    tune_predictions: np.ndarray | None = None


def canonical(obj: Any) -> str:
    """Deterministic JSON (sorted keys, no whitespace) for hashing; tuples become lists."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def cell_key_inputs(
    cell: Cell, *, method_params: dict[str, Any], dataset_params: dict[str, Any],
    file_sha256: dict[str, str], versions: dict[str, str | None],
    method_inputs: dict[str, Any] | None = None, dataset_inputs: dict[str, Any] | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """The JSON-ready document a cell's key hashes (see the module docstring for what it covers).

    ``limit`` (every split cut to its first ``limit`` rows) is part of the document only when set,
    so the keys of whole-split cells are those of earlier evalkit versions.
    """
    doc: dict[str, Any] = {
        "method": cell.method.component, "method_params": method_params,
        "dataset": cell.dataset.component, "dataset_params": dataset_params,
        "split": cell.split, "tune_split": cell.tune_split, "files": file_sha256, "versions": versions,
        "method_inputs": method_inputs or {}, "dataset_inputs": dataset_inputs or {},
    }
    if limit is not None:
        doc["limit"] = limit
    return doc


def cell_key(cell: Cell, **inputs: Any) -> str:
    """sha256 hex key of a cell: the digest of :func:`canonical` of :func:`cell_key_inputs`."""
    return hashlib.sha256(canonical(cell_key_inputs(cell, **inputs)).encode("utf-8")).hexdigest()


def key_of(inputs_json: str) -> str:
    """sha256 hex key of an already canonical key-inputs document."""
    return hashlib.sha256(inputs_json.encode("utf-8")).hexdigest()


class CellStore:
    """Finished cells' predictions on disk (``directory=None``: nothing is stored).

    ``readonly``: stored cells are reused but nothing new is written (a cache folder the user
    cannot write to).
    """

    def __init__(self, directory: Path | None, *, readonly: bool = False) -> None:
        self.directory = directory
        self.readonly = readonly

    def path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / key[:2] / f"{key}.npz"

    def load(self, key: str, inputs: str | None = None) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The stored ``(predictions, tune predictions or None)`` of ``key``, or ``None``.

        With ``inputs`` (the canonical key-inputs JSON), a cell whose stored key inputs differ, or
        that stored none, is treated as absent. A cell returned has its mtime set to now (last use).
        """
        import numpy as np

        p = self.path(key)
        if p is None or not p.is_file():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                if inputs is not None:
                    meta = json.loads(str(z["meta"])) if "meta" in z else {}
                    if canonical(meta.get("inputs")) != inputs:
                        return None
                tune = np.asarray(z["tune_predictions"], dtype=np.float64) if "tune_predictions" in z else None
                pred = np.asarray(z["predictions"], dtype=np.float64)
        except Exception:  # a damaged file is recomputed, never fatal
            return None
        with contextlib.suppress(OSError):
            os.utime(p)
        return pred, tune

    def save(
        self, key: str, predictions: np.ndarray, meta: dict[str, Any], tune_predictions: np.ndarray | None = None
    ) -> None:
        """Write atomically; concurrent writers of the same key are harmless (same content)."""
        import numpy as np

        p = self.path(key)
        if p is None or self.readonly:
            return
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".part-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                arrays: dict[str, Any] = {"predictions": predictions, "meta": np.array(canonical(meta))}
                if tune_predictions is not None:
                    arrays["tune_predictions"] = tune_predictions
                np.savez(fh, **arrays)
            apply_umask(tmp)
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def count(self) -> int:
        """Number of finished cells stored (temporary ``.part-*`` files of cells being written are not)."""
        return 0 if self.directory is None or not self.directory.is_dir() else sum(
            1 for p in self.directory.glob("*/*.npz") if not p.name.startswith("."))


def create_dataset(host: Host, spec: ComponentSpec) -> Dataset:
    """The dataset of ``spec`` (registry name and params), shown under the suite's label."""
    ds = host.datasets.create(spec.component, **spec.params)
    ds.registered_name = spec.label
    return ds


def create_method(host: Host, spec: ComponentSpec, *, device: str | None = None) -> Method:
    """The method of ``spec``, shown under the suite's label.

    ``device`` is passed when the method's factory takes a ``device`` parameter that neither the
    preset nor the suite set.

    Raises:
        ConfigError: ``spec.params`` names a parameter the method does not take.
    """
    entry = host.methods.get(spec.component)
    params = dict(spec.params)
    if device is not None and "device" not in {**entry.params, **params}:
        import inspect

        if "device" in inspect.signature(entry.factory).parameters:
            params["device"] = device
    method: Method = entry.create(**params)
    method.registered_name = spec.label
    return method
