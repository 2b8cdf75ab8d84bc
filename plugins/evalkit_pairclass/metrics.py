"""Pair-classification metrics: auto-threshold F1 and accuracy, and average precision.

``auto_threshold_f1`` and ``auto_threshold_accuracy`` turn similarity scores into paraphrase /
duplicate decisions with the threshold that maximises the metric, found exactly
(:func:`~evalkit_pairclass.threshold.best_threshold`), as MTEB's and sentence-transformers'
``BinaryClassificationEvaluator`` report "max F1" and "max accuracy". They are
:class:`evalkit.TunedMetric` s: the threshold is fitted on the validation split and applied
unchanged to the test split (``--tune-on dev``), cross-fitted (``cv``), or, only on request, tuned
on the evaluated rows (``self``, labelled ``oracle``). Values are on the 0-1 scale (tables show
x 100); extras: ``threshold`` (positive iff ``score >= threshold``, or ``<=`` for distances),
``precision`` and ``recall`` at it.

``average_precision`` needs no threshold: scikit-learn's ``average_precision_score`` (the area
under the precision-recall curve as a step function, ``sum_k (R_k - R_{k-1}) P_k``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from evalkit import ConfigError, Metric, MetricResult, TunedMetric, UndefinedValueError
from evalkit_pairclass.crossfit import cross_fit
from evalkit_pairclass.threshold import Confusion, best_threshold, confusion_at, validate


class _AutoThreshold(TunedMetric):
    """Base of the auto-threshold metrics (objective set by subclasses)."""

    objective: ClassVar[str] = "f1"
    task_types = ("pair_classification",)
    higher_is_better = True
    scale = "0-1"
    percent = True

    def __init__(self, *, distance: bool = False, folds: int = 5, seed: int = 0) -> None:
        """
        Args:
            distance: the scores are distances (lower = more similar): negated before the search.
            folds: k of the stratified k-fold cross-fitting (``tune_on="cv"``).
            seed: ``random_state`` of the cross-fitting folds.
        """
        self.distance = distance
        self.folds = folds
        self.seed = seed
        if not isinstance(folds, int) or folds < 2:
            raise ConfigError(f"{self.name}: folds must be an integer >= 2, got {folds!r}")

    def _result(self, conf: Confusion, threshold: float, **extra: Any) -> MetricResult:
        return MetricResult(conf.value(self.objective), {
            "threshold": threshold, "precision": conf.precision, "recall": conf.recall, **extra,
        })

    def fit(self, *, predictions: Any, references: Any) -> dict[str, Any]:
        """``{"threshold": t, "fit_value": best value on these rows}`` (see ``best_threshold``).

        Raises:
            DataError: lengths differ, no rows, non-finite scores (rows named), labels not 0/1.
        """
        fit = best_threshold(predictions, references, objective=self.objective, distance=self.distance)
        return {"threshold": fit.threshold, "fit_value": fit.value}

    def apply(self, *, predictions: Any, references: Any, fitted: Mapping[str, Any]) -> MetricResult:
        """The metric of the decisions ``score >= fitted["threshold"]`` (``<=`` for distances).

        Extras: ``threshold``, ``precision``, ``recall`` on these rows, and ``fit_value`` (the
        metric on the rows the threshold was fitted on) when ``fitted`` has it.

        Raises:
            DataError: as :meth:`fit`; ConfigError: ``fitted`` has no finite ``threshold``.
        """
        try:
            thr = float(fitted["threshold"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                f"{self.name}: fitted parameters need a numeric 'threshold', got {dict(fitted)}"
            ) from None
        if np.isnan(thr):
            raise ConfigError(f"{self.name}: the fitted threshold is NaN")
        conf = confusion_at(predictions, references, thr, distance=self.distance)
        extra = {"fit_value": float(fitted["fit_value"])} if "fit_value" in fitted else {}
        return self._result(conf, thr, **extra)

    def cross_fit(self, *, predictions: Any, references: Any) -> MetricResult:
        """Pooled out-of-fold decisions (:func:`~evalkit_pairclass.crossfit.cross_fit`).

        Extras: ``threshold`` (the median of the k fold thresholds; each fold's rows were decided by
        their own), ``threshold_min``, ``threshold_max``, ``cv_folds``, ``cv_seed``, and
        ``precision``, ``recall`` of the pooled decisions.
        """
        cf = cross_fit(predictions, references, objective=self.objective, distance=self.distance,
                       folds=self.folds, seed=self.seed)
        return self._result(
            cf.confusion, float(np.median(cf.thresholds)), threshold_min=float(cf.thresholds.min()),
            threshold_max=float(cf.thresholds.max()), cv_folds=cf.folds, cv_seed=cf.seed,
        )


class AutoThresholdF1(_AutoThreshold):
    """F1 of the positive class at the best similarity threshold (0-1), threshold fitted without leakage."""

    name = "auto_threshold_f1"
    title = "F1 at the best threshold"
    objective = "f1"


class AutoThresholdAccuracy(_AutoThreshold):
    """Accuracy at the best similarity threshold (0-1), threshold fitted without leakage."""

    name = "auto_threshold_accuracy"
    title = "Accuracy at the best threshold"
    objective = "accuracy"


class AveragePrecision(Metric):
    """Average precision of the scores for the positive label (scikit-learn), 0-1; no threshold."""

    name = "average_precision"
    title = "Average precision"
    task_types = ("pair_classification",)
    higher_is_better = True
    scale = "0-1"
    percent = True

    def __init__(self, *, distance: bool = False) -> None:
        """
        Args:
            distance: the scores are distances (lower = more similar): negated first.
        """
        self.distance = distance

    def compute(self, *, predictions: Any, references: Any) -> float:
        """``sklearn.metrics.average_precision_score(labels, scores)``, 0-1.

        Raises:
            DataError: invalid input (see ``validate``).
            UndefinedValueError: no positive label (AP undefined).
        """
        from sklearn.metrics import average_precision_score

        s, y = validate(predictions, references, what=self.name)
        if not y.any():
            raise UndefinedValueError(f"{self.name}: no positive label among {y.size} rows, so AP is undefined")
        return float(average_precision_score(y, -s if self.distance else s))
