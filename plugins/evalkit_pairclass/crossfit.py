"""Stratified k-fold cross-fitting of a decision threshold: an unbiased estimate without a dev split.

The rows are split into k folds by scikit-learn's ``StratifiedKFold(n_splits=k, shuffle=True,
random_state=seed)`` (each fold keeps the label balance). For each fold, the best threshold is
fitted on the other k - 1 folds (:func:`~evalkit_pairclass.threshold.best_threshold`) and decides
the rows of the held-out fold. The decisions of all folds are pooled into one confusion matrix, so
every row is decided by a threshold that never saw its label (cross-fitting, as scikit-learn's
``cross_val_predict``), and the metric is computed once on the pooled decisions.

k is ``min(folds, count of the rarer label)`` so that every fold holds both labels (with a
single label present, ``min(folds, n)``); fewer than 2 possible folds is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalkit import DataError
from evalkit_pairclass.threshold import Confusion, best_threshold, validate


@dataclass(frozen=True)
class CrossFit:
    """Pooled out-of-fold decisions and the thresholds that made them.

    Attributes:
        confusion: counts over all rows, each decided by its fold's threshold.
        thresholds: shape ``(k,)``, the threshold fitted without fold j, in score units.
        folds: k.
        seed: the ``random_state`` of the fold split.
    """

    confusion: Confusion
    thresholds: np.ndarray
    folds: int
    seed: int


def n_folds(y: np.ndarray, folds: int) -> int:
    """The number of folds used for labels ``y`` (bool, shape (n,)); see the module docstring.

    Raises:
        DataError: fewer than 2 folds are possible (the message says how many of each label).
    """
    n_pos = int(np.count_nonzero(y))
    n_neg = y.size - n_pos
    k = min(folds, n_pos, n_neg) if n_pos and n_neg else min(folds, y.size)
    if k < 2:
        raise DataError(
            f"cross-fitting a threshold needs at least 2 rows of each label present, got "
            f"{n_pos} positive and {n_neg} negative; use a validation split (--tune-on dev) "
            "or, knowingly, the oracle (--tune-on self)"
        )
    return k


def cross_fit(
    scores: object, labels: object, *, objective: str, distance: bool = False, folds: int = 5,
    seed: int = 0,
) -> CrossFit:
    """Cross-fitted decisions for ``objective`` (``f1`` or ``accuracy``) on these rows.

    Args:
        scores, labels: shape ``(n,)``; see :func:`~evalkit_pairclass.threshold.validate`.
        objective: what each fold's threshold maximises on its training folds.
        distance: lower scores mean more similar.
        folds: the requested k (reduced as the module docstring says).
        seed: ``random_state`` of ``StratifiedKFold``.

    Raises:
        DataError: invalid input, or too few rows of a label for 2 folds.
    """
    from sklearn.model_selection import StratifiedKFold

    if folds < 2:
        from evalkit import ConfigError

        raise ConfigError(f"folds must be at least 2, got {folds}")
    s, y = validate(scores, labels)
    k = n_folds(y, folds)
    split = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    decided = np.zeros(s.size, dtype=bool)
    thresholds = np.empty(k)
    for j, (train, test) in enumerate(split.split(np.zeros(s.size), y)):
        fit = best_threshold(s[train], y[train], objective=objective, distance=distance)
        thresholds[j] = fit.threshold
        decided[test] = s[test] <= fit.threshold if distance else s[test] >= fit.threshold
    tp = int(np.count_nonzero(decided & y))
    fp = int(np.count_nonzero(decided)) - tp
    n_pos = int(np.count_nonzero(y))
    return CrossFit(Confusion(tp, fp, s.size - n_pos - fp, n_pos - tp), thresholds, k, seed)
