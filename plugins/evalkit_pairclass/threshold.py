"""Exact best decision threshold for binary labels by sort-and-sweep, O(n log n).

Decision rule: a pair is predicted positive iff ``score >= threshold`` (for distances, where lower
means more similar, the scores are negated first, so the rule reads ``distance <= threshold``).

Search. Every threshold gives the same decisions as one of the candidates "the lowest score
predicted positive is ``v``" for a distinct score ``v``, or "nothing is positive". A candidate
whose score group holds only negatives is never better than the next higher candidate for F1 or
accuracy (it adds false positives and no true positive), so the candidates are the distinct
scores of the positives plus the all-negative decision; the all-positive decision is the lowest
positive score's candidate when no negative lies below it, and is otherwise beaten by it. Positive
and negative scores are sorted separately (``numpy.sort``, cheaper than one ``argsort`` of all
scores); ``TP`` at a candidate is read off its position among the positives and ``FP`` from a
``searchsorted`` into the negatives. Tied scores always fall on the same side, because every
candidate takes a whole score group. The maximum is exact: ties and near-ties of the floating
F1 values are settled by comparing the fractions ``2 TP / (TP + FP + P)`` in integers, and the
highest threshold (fewest positive predictions) wins among equal optima, as in
sentence-transformers' ``BinaryClassificationEvaluator``.

Reported threshold. For candidate ``v`` with next lower distinct score ``u``, the midpoint
``(u + v) / 2``; if rounding puts the midpoint on ``u`` (adjacent floats) or outside ``(u, v]``, ``v``
itself. The all-positive decision reports the lowest score, the all-negative decision the float
just above the highest score (``numpy.nextafter``), as sentence-transformers does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evalkit import DataError, as_1d_float

OBJECTIVES = ("f1", "accuracy")


@dataclass(frozen=True)
class Confusion:
    """Counts of a binary decision against 0/1 labels, with the usual rates (all 0-1).

    Division by zero gives 0, as scikit-learn's ``zero_division=0``: precision with no predicted
    positive, recall and F1 with no positive label.
    """

    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """``2 TP / (2 TP + FP + FN)``, the harmonic mean of precision and recall."""
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.n if self.n else 0.0

    def value(self, objective: str) -> float:
        return self.f1 if objective == "f1" else self.accuracy


@dataclass(frozen=True)
class ThresholdFit:
    """The best threshold for an objective and the decisions it makes on the fitted rows.

    Attributes:
        threshold: in the scores' own units; positive iff ``score >= threshold``
            (``score <= threshold`` when ``distance``).
        objective: ``f1`` or ``accuracy``.
        value: the objective at the threshold, 0-1 (the maximum over all thresholds).
        confusion: counts at the threshold.
        distance: whether lower scores meant more similar.
    """

    threshold: float
    objective: str
    value: float
    confusion: Confusion
    distance: bool


def validate(scores: Any, labels: Any, *, what: str = "scores") -> tuple[np.ndarray, np.ndarray]:
    """Check and convert: ``(float64 scores, bool labels)``, both of shape ``(n,)``, ``n >= 1``.

    Raises:
        DataError: different lengths, no rows, non-finite scores or labels other than 0/1; the
            message names the first offending rows (0-based positions).
    """
    s = as_1d_float(scores, what=what)
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise DataError(f"{what}: labels must be one-dimensional, got shape {lab.shape}")
    if s.shape != lab.shape:
        raise DataError(f"{what}: {s.size} scores but {lab.size} labels")
    if s.size == 0:
        raise DataError(f"{what}: no rows to score")
    if not np.isfinite(s).all():
        bad = np.flatnonzero(~np.isfinite(s))
        more = f" (and {bad.size - 10} more)" if bad.size > 10 else ""
        raise DataError(
            f"{what}: {bad.size} scores are NaN or infinite, at rows {bad[:10].tolist()}{more}; "
            "a threshold cannot order them"
        )
    if lab.dtype == np.bool_:
        return s, lab
    try:
        y = lab == 1
        ok = y | (lab == 0)
    except (TypeError, ValueError):  # e.g. strings: compare elementwise the slow way
        y = np.array([v == 1 for v in lab], dtype=bool)
        ok = y | np.array([v == 0 for v in lab], dtype=bool)
    ok = np.asarray(ok, dtype=bool)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        raise DataError(
            f"{what}: labels must be 0 or 1; found {lab[bad[0]]!r} at rows {bad[:10].tolist()}"
            + (f" (and {bad.size - 10} more)" if bad.size > 10 else "")
        )
    return s, np.asarray(y, dtype=bool)


def _exact_best(num: np.ndarray, den: np.ndarray) -> int:
    """Index of the largest fraction ``num / den`` (den > 0), the last one among equals.

    Floating division finds the maximum up to rounding; the few candidates within 4 ulps of it
    are then compared exactly with Python integers.
    """
    vals = num / den
    m = vals.max()
    near = np.flatnonzero(vals >= m - 4 * np.spacing(m))
    best = int(near[0])
    for j in near[1:]:
        j = int(j)
        # num[j] / den[j] >= num[best] / den[best], ties to the later (higher-threshold) candidate
        if int(num[j]) * int(den[best]) >= int(num[best]) * int(den[j]):
            best = j
    return best


def best_threshold(
    scores: Any, labels: Any, *, objective: str = "f1", distance: bool = False
) -> ThresholdFit:
    """The threshold maximising F1 or accuracy over all thresholds, exactly.

    Args:
        scores: shape ``(n,)``, finite floats; higher = more similar unless ``distance``.
        labels: shape ``(n,)``, 0/1 (or bool); 1 = positive (paraphrase, duplicate).
        objective: ``f1`` (of the positive class) or ``accuracy``.
        distance: the scores are distances (lower = more similar); they are negated first.

    Returns:
        :class:`ThresholdFit`: the threshold (see the module docstring for which one is
        reported), the optimum and the confusion counts at it. With no positive label, F1 is 0
        everywhere and the all-negative decision is returned.

    Raises:
        DataError: see :func:`validate`; ConfigError for an unknown objective.

    Time O(n log n) (two sorts and one ``searchsorted``), memory O(n).
    """
    if objective not in OBJECTIVES:
        from evalkit import ConfigError

        raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    s, y = validate(scores, labels)
    if distance:
        s = -s
    pos = np.sort(s[y])
    neg = np.sort(s[~y])
    n_pos, n_neg = pos.size, neg.size
    # Candidates, ascending threshold: each distinct positive score v (decide s >= v), then the
    # all-negative decision. tp/fp per candidate.
    if n_pos:
        first = np.empty(n_pos, dtype=bool)
        first[0] = True
        np.not_equal(pos[1:], pos[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        values = pos[starts]
        tp = np.append(n_pos - starts, 0)
        fp = np.append(n_neg - np.searchsorted(neg, values, side="left"), 0)
    else:
        starts = np.empty(0, dtype=np.intp)
        values = np.empty(0)
        tp = fp = np.zeros(1, dtype=np.int64)
    if objective == "accuracy":
        gain = tp - fp  # accuracy = (gain + n_neg) / n
        best = int(gain.size - 1 - np.argmax(gain[::-1]))
    else:
        num = 2 * tp
        den = tp + fp + n_pos
        best = tp.size - 1 if n_pos == 0 else _exact_best(num, np.maximum(den, 1))
    conf = Confusion(int(tp[best]), int(fp[best]), n_neg - int(fp[best]), n_pos - int(tp[best]))
    if best == values.size:  # all negative
        top = max(pos[-1] if n_pos else -np.inf, neg[-1] if n_neg else -np.inf)
        with np.errstate(over="ignore"):  # above the largest float: +inf, the only choice
            thr = float(np.nextafter(top, np.inf))
    else:
        v = float(values[best])
        below_pos = pos[starts[best] - 1] if starts[best] > 0 else -np.inf
        k = int(np.searchsorted(neg, v, side="left"))
        below_neg = neg[k - 1] if k > 0 else -np.inf
        u = float(max(below_pos, below_neg))
        thr = midpoint(u, v)
    if distance:
        thr = -thr
    return ThresholdFit(thr, objective, conf.value(objective), conf, distance)


def midpoint(u: float, v: float) -> float:
    """A threshold ``t`` with ``u < t <= v`` (``u < v``): ``(u + v) / 2`` unless rounding breaks that.

    ``u = -inf`` (nothing below ``v``) gives ``v``. Overflowing sums are halved first.
    """
    u, v = float(u), float(v)  # Python floats: an overflowing sum is inf, without a warning
    if u == -np.inf:
        return v
    mid = (u + v) / 2
    if not np.isfinite(mid):
        mid = u / 2 + v / 2
    return mid if u < mid <= v else v


def confusion_at(scores: Any, labels: Any, threshold: float, *, distance: bool = False) -> Confusion:
    """Counts of the decision ``score >= threshold`` (``<=`` for distances) against ``labels``.

    Raises:
        DataError: see :func:`validate`.
    """
    s, y = validate(scores, labels)
    pred = s <= threshold if distance else s >= threshold
    tp = int(np.count_nonzero(pred & y))
    fp = int(np.count_nonzero(pred)) - tp
    n_pos = int(np.count_nonzero(y))
    return Confusion(tp, fp, s.size - n_pos - fp, n_pos - tp)
