"""Cells: the unit of work of a run, keyed by everything that determines its predictions.

A cell is one (method, dataset, split). Its key is the sha256 of a canonical JSON document holding
the method's registry name and parameters, the dataset's registry name and parameters, the split,
the sha256 of every data file the split reads, and the versions of evalkit and of the plugins that
provide the method and the dataset. A finished cell's predictions are written atomically to
``<cell dir>/<key[:2]>/<key>.npz`` (temporary file, then ``os.replace``), so an interrupted run
(Ctrl-C, SIGKILL) keeps every finished cell, and the next identical run computes only the missing
ones. Changing a method parameter changes only that method's keys. Metrics are not part of the
key: scores are always recomputed from the stored predictions, which is exact and cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.classification import CLASSIFICATION
from evalkit.errors import EvalkitError, PluginError
from evalkit.interfaces import Dataset, Method, as_1d_float, check_finite
from evalkit.suite import ComponentSpec

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from evalkit.plugins import Host


@dataclass(frozen=True)
class Cell:
    """One unit of work: ``method`` on ``split`` of ``dataset``."""

    method: ComponentSpec
    dataset: ComponentSpec
    split: str
    #: A second split the fitted method also scores, for metrics tuned on it (a validation split).
    tune_split: str | None = None

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


def cell_key(
    cell: Cell, *, method_params: dict[str, Any], dataset_params: dict[str, Any],
    file_sha256: dict[str, str], versions: dict[str, str | None],
) -> str:
    """sha256 hex key of a cell (see the module docstring for what it covers)."""
    doc = {
        "method": cell.method.component, "method_params": method_params,
        "dataset": cell.dataset.component, "dataset_params": dataset_params,
        "split": cell.split, "tune_split": cell.tune_split, "files": file_sha256, "versions": versions,
    }
    return hashlib.sha256(canonical(doc).encode("utf-8")).hexdigest()


class CellStore:
    """Finished cells' predictions on disk (``directory=None``: nothing is stored)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / key[:2] / f"{key}.npz"

    def load(self, key: str) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The stored ``(predictions, tune predictions or None)`` of ``key``, or ``None``."""
        import numpy as np

        p = self.path(key)
        if p is None or not p.is_file():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                tune = np.asarray(z["tune_predictions"], dtype=np.float64) if "tune_predictions" in z else None
                return np.asarray(z["predictions"], dtype=np.float64), tune
        except Exception:  # a damaged file is recomputed, never fatal
            return None

    def save(
        self, key: str, predictions: np.ndarray, meta: dict[str, Any], tune_predictions: np.ndarray | None = None
    ) -> None:
        """Write atomically; concurrent writers of the same key are harmless (same content)."""
        import numpy as np

        p = self.path(key)
        if p is None:
            return
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".part-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                arrays: dict[str, Any] = {"predictions": predictions, "meta": np.array(canonical(meta))}
                if tune_predictions is not None:
                    arrays["tune_predictions"] = tune_predictions
                np.savez(fh, **arrays)
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def count(self) -> int:
        """Number of finished cells stored."""
        return 0 if self.directory is None or not self.directory.is_dir() else sum(
            1 for _ in self.directory.glob("*/*.npz"))


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


def compute_cell(
    cell: Cell,
    key: str,
    *,
    data_dir: Path,
    cache_dir: Path | None,
    cell_dir: Path | None,
    device: str | None = None,
    progress: bool = False,
    host: Host | None = None,
    frames: dict[tuple[str, str], pd.DataFrame] | None = None,
) -> CellOutcome:
    """Fit and run the cell's method on its split, validate and store the predictions.

    Runs in the calling process or in a worker (``host`` defaults to the worker's own
    :func:`evalkit.plugins.get_host`). ``device`` is passed to methods that take a ``device``
    parameter and were not given one. ``frames`` holds splits the caller already loaded, keyed by
    (dataset label, split); other splits are loaded here (worker processes load their own).

    Raises:
        PluginError: the method returned the wrong number of scores or non-finite scores.
        EvalkitError: anything the dataset or method raises for bad input.
    """
    from evalkit.cache import _PROGRESS, EmbeddingCache, release_cache, set_progress, use_cache
    from evalkit.plugins import get_host

    host = host or get_host()
    t0 = time.perf_counter()
    ds = create_dataset(host, cell.dataset)
    loaded = frames or {}

    def load(split: str) -> pd.DataFrame:
        frame = loaded.get((cell.dataset.label, split))
        return ds.load(split, data_dir) if frame is None else frame

    frame = load(cell.split)
    method = create_method(host, cell.method, device=device)
    cache = EmbeddingCache(cache_dir)
    token, ptoken = use_cache(cache), set_progress(progress)
    where = f"method {cell.method.label!r} on {cell.dataset.label}/{cell.split}"
    tune_pred = None
    try:
        method.fit(frame[["sentence1", "sentence2"]])
        if ds.task_type == CLASSIFICATION:
            fit_classifier(method, ds, load, where)
        pred = checked_predict(method, frame, where, n_classes=len(ds.class_names) or None)
        if cell.tune_split:
            # The same fitted instance scores the validation pairs that tuned metrics fit on.
            tune_frame = load(cell.tune_split)
            tune_pred = checked_predict(method, tune_frame, f"{where} (scoring {cell.tune_split} for tuning)",
                                        n_classes=len(ds.class_names) or None)
    finally:
        release_cache(token)
        _PROGRESS.reset(ptoken)
    CellStore(cell_dir).save(key, pred, {"cell": cell.label, "params": method.get_params()}, tune_pred)
    return CellOutcome(key, pred, time.perf_counter() - t0, cache.total_computed(), False, tune_pred)


def fit_classifier(method: Any, ds: Dataset, load: Any, where: str) -> None:
    """Fit a classification method on the dataset's labelled ``train_split`` (and ``dev_split``).

    Raises:
        ConfigError: the method is not a :class:`~evalkit.classification.ClassificationMethod`.
        PluginError: the dataset declares no ``train_split`` or ``class_names``.
    """
    from evalkit.classification import ClassificationMethod, LabelledData
    from evalkit.errors import ConfigError

    if not isinstance(method, ClassificationMethod):
        raise ConfigError(f"{where}: {ds.display_name!r} is a classification dataset, but the method is not a "
                          f"classification method (its task types: {list(method.task_types)})")
    if not ds.train_split or not ds.class_names:
        raise PluginError(f"classification dataset {ds.display_name!r} must declare train_split and class_names")
    cols = ["sentence1", "sentence2", "label"]
    dev = load(ds.dev_split)[cols] if ds.dev_split else None
    fitted = method.fit_labelled(LabelledData(load(ds.train_split)[cols], tuple(ds.class_names), dev))
    if fitted is not method:
        raise PluginError(f"{where}: fit_labelled() must return self")


def checked_predict(method: Any, frame: Any, where: str, n_classes: int | None = None) -> np.ndarray:
    """``method.predict`` on ``frame``'s pairs, checked: float64, one finite score per pair.

    For a classification method (``n_classes`` given): class probabilities of shape
    ``(len(frame), n_classes)``, validated by :func:`evalkit.classification.as_probabilities`.

    Raises:
        PluginError: wrong number of scores, or non-finite scores (naming the rows); for
            probabilities, any failed check of ``as_probabilities``.
    """
    if n_classes is not None:
        from evalkit.classification import as_probabilities

        try:
            return as_probabilities(method.predict(frame[["sentence1", "sentence2"]]), n_rows=len(frame),
                                    n_classes=n_classes, what=f"{where} predictions")
        except EvalkitError as exc:
            raise PluginError(str(exc)) from None
    pred = as_1d_float(method.predict(frame[["sentence1", "sentence2"]]), what=f"{where} predictions")
    if pred.shape[0] != len(frame):
        raise PluginError(f"{where} returned {pred.shape[0]} scores for {len(frame)} pairs")
    try:
        check_finite(pred, what=where)
    except EvalkitError as exc:
        raise PluginError(str(exc)) from None
    return pred
