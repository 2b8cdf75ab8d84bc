"""Classification metrics: accuracy, macro-F1, balanced accuracy, log loss, expected calibration error.

Task type ``classification``: ``predictions`` are class probabilities of shape ``(n, K)`` (rows
summing to 1), ``references`` class indices of shape ``(n,)``; the predicted class is the row's
argmax (:func:`evalkit.check_classification_inputs` validates both). The first four are
scikit-learn's functions with every one of the K classes passed as ``labels`` (so a class the
classifier never predicts counts, as a 0 F1), the last is Guo et al.'s (2017) binned estimator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit import ConfigError, Metric, check_classification_inputs

if TYPE_CHECKING:
    import numpy as np


class _ClassificationMetric(Metric):
    task_types = ("classification",)
    higher_is_better = True
    scale = "0-1"
    percent = True
    optimum = 1.0

    def _inputs(self, predictions: Any, references: Any) -> tuple[np.ndarray, np.ndarray]:
        return check_classification_inputs(predictions, references, what=self.name)


class Accuracy(_ClassificationMetric):
    """Accuracy: the share of examples whose argmax class is the gold class, 0-1 (sklearn ``accuracy_score``)."""

    name = "accuracy"
    title = "Accuracy"

    def compute(self, *, predictions: Any, references: Any) -> float:
        """``sklearn.metrics.accuracy_score(references, predictions.argmax(1))``, 0-1.

        Raises:
            DataError: invalid probabilities or labels, lengths differ, no rows.
        """
        from sklearn.metrics import accuracy_score

        p, y = self._inputs(predictions, references)
        return float(accuracy_score(y, p.argmax(axis=1)))

    def per_example(self, *, predictions: Any, references: Any) -> np.ndarray:
        """1.0 where the argmax class is the gold class, else 0.0 (float64, shape (n,)); McNemar's input."""
        p, y = self._inputs(predictions, references)
        return (p.argmax(axis=1) == y).astype("float64")


class MacroF1(_ClassificationMetric):
    """Macro-F1: the unweighted mean over the K classes of each class's F1, 0-1 (sklearn ``f1_score``)."""

    name = "macro_f1"
    title = "Macro-F1"

    def compute(self, *, predictions: Any, references: Any) -> float:
        """``f1_score(references, argmax, labels=range(K), average="macro", zero_division=0)``, 0-1.

        A class neither predicted nor present has F1 0 (``zero_division=0``), as scikit-learn does
        when given ``labels``.
        """
        from sklearn.metrics import f1_score

        p, y = self._inputs(predictions, references)
        return float(f1_score(y, p.argmax(axis=1), labels=list(range(p.shape[1])), average="macro",
                              zero_division=0))


class BalancedAccuracy(_ClassificationMetric):
    """Balanced accuracy: the mean over classes of each class's recall, 0-1 (sklearn ``balanced_accuracy_score``).

    Classes absent from the references are left out of the mean (scikit-learn's definition,
    Brodersen et al. 2010); a majority-class predictor scores 1/K.
    """

    name = "balanced_accuracy"
    title = "Balanced accuracy"

    def compute(self, *, predictions: Any, references: Any) -> float:
        """``sklearn.metrics.balanced_accuracy_score(references, argmax)``, 0-1."""
        import warnings

        from sklearn.metrics import balanced_accuracy_score

        p, y = self._inputs(predictions, references)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "y_pred contains classes not in y_true"
            return float(balanced_accuracy_score(y, p.argmax(axis=1)))


class LogLoss(_ClassificationMetric):
    """Log loss (cross-entropy) of the probabilities, in nats, lower is better (sklearn ``log_loss``)."""

    name = "log_loss"
    title = "Log loss (nats)"
    higher_is_better = False
    scale = "0-inf"
    percent = False
    optimum = 0.0

    def compute(self, *, predictions: Any, references: Any) -> float:
        """Mean of :meth:`per_example`; equals ``sklearn.metrics.log_loss(y, p, labels=range(K))``."""
        return float(self.per_example(predictions=predictions, references=references).mean())

    def per_example(self, *, predictions: Any, references: Any) -> np.ndarray:
        """``-log p[i, y_i]`` with ``p`` clipped to ``[eps, 1 - eps]`` (float64 machine epsilon) as
        scikit-learn clips, so a zero probability of the gold class costs about 36 nats, not inf."""
        import numpy as np

        p, y = self._inputs(predictions, references)
        eps = np.finfo(np.float64).eps
        return -np.log(np.clip(p[np.arange(y.size), y], eps, 1 - eps))


class ExpectedCalibrationError(_ClassificationMetric):
    """Expected calibration error (Guo et al. 2017, Eq. 3) over equal-width confidence bins, 0-1, lower is better.

    Confidence is each example's largest probability; it falls in bin ``b`` (of ``n_bins``, default
    15 as in Guo et al.) when ``(b - 1) / n_bins < confidence <= b / n_bins`` (a confidence of
    exactly 0 goes to the first bin). ``ECE = sum_b |B_b| / n * |acc(B_b) - conf(B_b)|`` where
    ``acc`` is the share of the bin's examples whose argmax is right and ``conf`` their mean
    confidence; empty bins contribute 0.
    """

    name = "ece"
    title = "Expected calibration error"
    higher_is_better = False
    optimum = 0.0

    def __init__(self, *, n_bins: int = 15) -> None:
        """
        Args:
            n_bins: number of equal-width bins over (0, 1] (>= 1).
        """
        self.n_bins = n_bins
        if not isinstance(n_bins, int) or isinstance(n_bins, bool) or n_bins < 1:
            raise ConfigError(f"ece: n_bins must be a positive integer, got {n_bins!r}")

    def compute(self, *, predictions: Any, references: Any) -> float:
        """ECE on the 0-1 scale (tables show x 100); see the class docstring."""
        import numpy as np

        p, y = self._inputs(predictions, references)
        conf = p.max(axis=1)
        correct = (p.argmax(axis=1) == y).astype(np.float64)
        # ceil(conf * n_bins) - 1 puts conf in ((b-1)/n_bins, b/n_bins] into bin b - 1 (0-based).
        bins = np.clip(np.ceil(conf * self.n_bins).astype(np.int64) - 1, 0, self.n_bins - 1)
        gap = np.bincount(bins, weights=correct - conf, minlength=self.n_bins)
        return float(np.abs(gap).sum() / y.size)
