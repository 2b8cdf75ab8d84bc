"""The ``classification`` task type: single-label, K classes, methods return class probabilities.

Contract (see :doc:`docs/src/explanation/classification.md` for the whole picture):

- A classification :class:`~evalkit.interfaces.Dataset` has ``task_type = "classification"``,
  ``target = "label"`` (int64 class indices ``0 .. K-1``), ``class_names`` (the K names, in index
  order), a labelled ``train_split`` and optionally a ``dev_split`` (validation, for tuning).
- A :class:`ClassificationMethod` is fitted twice by the runner: :meth:`Method.fit` on the
  evaluated split's sentences (no labels, as for every method), then :meth:`fit_labelled` on the
  labelled training (and validation) split; :meth:`predict` returns probabilities of shape
  ``(n, K)``, float64, finite, non-negative, each row summing to 1 (within
  :data:`ROW_SUM_ATOL`). The predicted class is the row's argmax (ties to the lowest index, as
  ``numpy.argmax``).
- Metrics of the task type take ``predictions`` of shape ``(n, K)`` and ``references`` of shape
  ``(n,)`` (class indices).

Runs store each example's K probabilities in the columns ``proba_0 .. proba_{K-1}`` of
``predictions.csv.gz`` (and the argmax in ``prediction``); see :mod:`evalkit.results`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from evalkit.errors import DataError
from evalkit.interfaces import Method

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: The task type's name.
CLASSIFICATION = "classification"
#: Largest accepted ``|row sum - 1|`` of a probability row (float32 softmax outputs pass).
ROW_SUM_ATOL = 1e-4


@dataclass(frozen=True)
class LabelledData:
    """What :meth:`ClassificationMethod.fit_labelled` learns from.

    Attributes:
        train: the training split: columns ``sentence1``, ``sentence2`` (str) and ``label`` (int64
            class indices in ``0 .. K-1``).
        classes: the K class names, in index order (``classes[label]``).
        dev: the validation split, same columns, for tuning hyper-parameters (C, tau), or ``None``.
    """

    train: pd.DataFrame
    classes: tuple[str, ...]
    dev: pd.DataFrame | None = None

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def prior(self) -> np.ndarray:
        """Training class frequencies, float64 shape ``(K,)`` summing to 1 (0 for absent classes)."""
        import numpy as np

        counts = np.bincount(self.train["label"].to_numpy(dtype=np.int64), minlength=self.n_classes)
        return counts / counts.sum()


class ClassificationMethod(Method):
    """A method for the ``classification`` task: class probabilities for each pair (or sentence).

    Subclasses implement :meth:`fit_labelled` (supervised learning, tuning on ``data.dev``) and
    :meth:`predict`. ``sentence2`` may be empty strings for single-sentence datasets.
    """

    task_types: ClassVar[tuple[str, ...]] = (CLASSIFICATION,)

    @abstractmethod
    def fit_labelled(self, data: LabelledData) -> ClassificationMethod:
        """Learn from the labelled training split (tune on ``data.dev``); returns ``self``.

        Raises:
            DataError: invalid training data (a missing column, labels outside ``0 .. K-1``).
            ConfigError: invalid parameters.
        """

    @abstractmethod
    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """Class probabilities: float64 ``(len(pairs), K)``, rows summing to 1 (see module docs)."""


def as_probabilities(
    values: Any, *, n_rows: int | None = None, n_classes: int | None = None, what: str = "probabilities",
    index: Sequence[Any] | None = None, atol: float = ROW_SUM_ATOL,
) -> np.ndarray:
    """Validate class probabilities and return them as a float64 ``(n, K)`` array.

    Checks: numeric, two-dimensional, ``n_rows`` rows and ``n_classes`` columns when given, at least
    one column, finite, non-negative, each row summing to 1 within ``atol``.

    Raises:
        DataError: the first failed check; the message starts with ``what`` (name the method and
            the split there) and lists the first offending rows (labels from ``index`` if given).
    """
    import numpy as np

    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} must be numbers: {exc}") from None
    if arr.ndim != 2:
        raise DataError(f"{what} must be a 2-D array of shape (n, K) of class probabilities, got shape {arr.shape}")
    if n_rows is not None and arr.shape[0] != n_rows:
        raise DataError(f"{what} has {arr.shape[0]} rows, expected one per example ({n_rows})")
    if arr.shape[1] < 1 or (n_classes is not None and arr.shape[1] != n_classes):
        raise DataError(f"{what} has {arr.shape[1]} columns, expected one per class ({n_classes})")

    def rows(mask: Any) -> str:
        bad = np.flatnonzero(mask)
        labels = [index[i] for i in bad[:10]] if index is not None else bad[:10].tolist()
        return f"{bad.size} rows, e.g. {labels}"

    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        raise DataError(f"{what} has non-finite values in {rows(~finite)}")
    negative = (arr < 0).any(axis=1)
    if negative.any():
        raise DataError(f"{what} has negative probabilities in {rows(negative)}")
    off = np.abs(arr.sum(axis=1) - 1.0) > atol
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise DataError(
            f"{what}: rows must sum to 1 (within {atol:g}); {rows(off)} do not "
            f"(row {index[i] if index is not None else i} sums to {arr[i].sum():.6g})"
        )
    return arr


def as_labels(values: Any, *, n_classes: int | None = None, what: str = "labels") -> np.ndarray:
    """Validate class indices: a 1-D int64 array with values in ``0 .. n_classes-1``.

    Floats holding whole numbers (labels read back from a CSV) are accepted.

    Raises:
        DataError: not 1-D, not whole numbers, or out of range (the rows are named).
    """
    import numpy as np

    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DataError(f"{what} must be one-dimensional class indices, got shape {arr.shape}")
    try:
        as_float = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be integer class indices, got dtype {arr.dtype}") from None
    bad = ~np.isfinite(as_float) | (as_float != np.round(as_float)) | (as_float < 0)
    if n_classes is not None:
        bad |= as_float >= n_classes
    if bad.any():
        rows = np.flatnonzero(bad)
        upper = f"0..{n_classes - 1}" if n_classes is not None else "0, 1, 2, ..."
        raise DataError(f"{what} must be class indices in {upper}; {rows.size} rows are not, e.g. rows "
                        f"{rows[:10].tolist()} (values {arr[rows[:3]].tolist()})")
    return as_float.astype(np.int64)


def check_classification_inputs(predictions: Any, references: Any, *, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``(probabilities (n, K), labels (n,))`` validated for a classification metric.

    Raises:
        DataError: invalid probabilities (see :func:`as_probabilities`), invalid labels, lengths
            that differ, or no rows.
    """
    proba = as_probabilities(predictions, what=f"{what}: predictions")
    labels = as_labels(references, n_classes=proba.shape[1], what=f"{what}: references")
    if labels.shape[0] != proba.shape[0]:
        raise DataError(f"{what}: {proba.shape[0]} predictions but {labels.shape[0]} references")
    if labels.shape[0] == 0:
        raise DataError(f"{what}: no rows to score")
    return proba, labels
