"""Baselines that ignore the text: ``majority`` and ``prior``.

Both learn only the training class frequencies (:meth:`evalkit.LabelledData.prior`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit import ClassificationMethod, LabelledData, check_pairs

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class _PriorBased(ClassificationMethod):
    def fit_labelled(self, data: LabelledData) -> _PriorBased:
        """Store the training class frequencies (``prior_``, float64 shape (K,))."""
        self.prior_ = data.prior()
        return self

    def _rows(self, pairs: pd.DataFrame) -> int:
        from evalkit import ConfigError

        check_pairs(pairs, what=f"{self.display_name}: pairs")
        if not hasattr(self, "prior_"):
            raise ConfigError(f"{self.display_name}: call fit_labelled() before predict()")
        return len(pairs)


class Majority(_PriorBased):
    """Predicts the most frequent training class with probability 1 (ties: the lowest class index).

    Accuracy equals the majority class's test share; balanced accuracy is 1/K; log loss is large
    (a wrong one-hot prediction costs -log(eps) ~ 36 nats), which is the point of a floor.
    """

    name = "majority"

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """One-hot rows of the majority class: float64 (n, K)."""
        import numpy as np

        out = np.zeros((self._rows(pairs), self.prior_.size))
        out[:, int(np.argmax(self.prior_))] = 1.0
        return out


class Prior(_PriorBased):
    """Predicts the training class distribution for every example (the best constant under log loss).

    Its argmax is the majority class, so accuracy and F1 equal ``majority``'s; its log loss is the
    entropy-like floor ``-sum_k q_k log prior_k`` (q: test class shares), and it is perfectly
    calibrated when test and training shares agree.
    """

    name = "prior"

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """The prior repeated: float64 (n, K)."""
        import numpy as np

        return np.tile(self.prior_, (self._rows(pairs), 1))
