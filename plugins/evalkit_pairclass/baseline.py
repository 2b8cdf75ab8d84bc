"""``majority-class``: the trivial baseline of pair classification.

Every pair gets the same score (1.0), so any thresholded decision puts all pairs in one class: the
auto-threshold F1 search predicts the positive class for every pair (F1 = 2P / (2P + N) for P
positive and N negative pairs, the all-positive baseline quoted for MRPC: 79.9 on its test split),
auto-threshold accuracy predicts the majority class of the rows it was tuned on, and average
precision equals the share of positive pairs. A method must beat this row to have learnt anything
from the sentences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit import Method, check_pairs

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class MajorityClass(Method):
    """Majority-class baseline: one constant score for every pair (one predicted class)."""

    name = "majority-class"
    task_types = ("pair_classification",)

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """``1.0`` for every pair: float64, shape (n,)."""
        import numpy as np

        check_pairs(pairs, what=f"{self.display_name}: pairs")
        return np.ones(len(pairs), dtype=np.float64)
