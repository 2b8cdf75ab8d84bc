"""Methods that post-process another classification method's probabilities: ``logit-adjust`` and ``can``.

A wrapper names its base method by registry name (``base``, any classification method or preset,
including another wrapper's preset, so post-processors chain) with optional ``base_params``. The
runner fits the wrapper like any classification method; the wrapper fits its base on the same
data, then

- ``logit-adjust`` tunes ``tau`` on the validation split's base predictions (grid ``taus``, the
  value maximising ``objective``; ties: the smallest tau, the identity when 0 ties) unless ``tau``
  is given, and applies :func:`~evalkit_classification.postprocess.logit_adjust`;
- ``can`` applies :func:`~evalkit_classification.postprocess.can` to the evaluated split's base
  predictions as a set (the confident ones among them are A0).

The prior is the training class frequencies. A fitted base is shared, within one process, by the
wrappers of the same base on the same data (``minilm-logreg``, ``minilm-logreg+can`` and
``minilm-logreg+logit-adjust`` train the probe once).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from evalkit import ClassificationMethod, ConfigError, LabelledData, PluginError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: Menon et al.'s post-hoc tau grid is not fixed; 0 .. 2 in steps of 0.1 covers their tau = 1.
DEFAULT_TAUS = tuple(round(0.1 * i, 1) for i in range(21))
OBJECTIVES = ("balanced_accuracy", "accuracy", "macro_f1")
_FITTED: OrderedDict[str, Any] = OrderedDict()  # digest -> fitted base method (a few entries)


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        if hasattr(part, "to_numpy"):  # a DataFrame: its sentences and labels
            for col in ("sentence1", "sentence2", "label"):
                if col in part.columns:
                    h.update("\x1f".join(map(str, part[col].tolist())).encode("utf-8"))
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()


class _PostProcessor(ClassificationMethod):
    """Base of the wrappers: creates, fits and calls the base method."""

    prior_: np.ndarray
    base_: ClassificationMethod

    def _init_base(self, base: str, base_params: dict[str, Any] | None) -> None:
        self.base = base
        self.base_params = base_params
        if not isinstance(base, str) or not base:
            raise ConfigError(f"{self.name}: 'base' must name a classification method, got {base!r}")
        if base_params is not None and not isinstance(base_params, dict):
            raise ConfigError(f"{self.name}: 'base_params' must be a table of parameters, got {base_params!r}")

    def fit(self, pairs: pd.DataFrame) -> _PostProcessor:
        """Remember the evaluated split's sentences (the base is fitted on them in :meth:`fit_labelled`)."""
        super().fit(pairs)
        self.fit_pairs_ = pairs
        return self

    def _fit_base(self, data: LabelledData) -> ClassificationMethod:
        from evalkit import components

        pairs = getattr(self, "fit_pairs_", None)
        key = _digest(self.base, self.base_params or {}, data.classes, data.train, data.dev,
                      pairs if pairs is not None else "")
        if key in _FITTED:
            _FITTED.move_to_end(key)
            return _FITTED[key]
        method = components.create("method", self.base, **(self.base_params or {}))
        if not isinstance(method, ClassificationMethod):
            raise ConfigError(f"{self.display_name}: base {self.base!r} is not a classification method "
                              f"(task types {list(method.task_types)})")
        method.registered_name = self.base
        if pairs is not None:
            method.fit(pairs)
        method.fit_labelled(data)
        _FITTED[key] = method
        while len(_FITTED) > 8:
            _FITTED.popitem(last=False)
        return method

    def _base_predict(self, pairs: pd.DataFrame) -> np.ndarray:
        from evalkit import DataError, as_probabilities

        if not hasattr(self, "base_"):
            raise ConfigError(f"{self.display_name}: call fit_labelled() before predict()")
        proba = self.base_.predict(pairs)
        try:
            return as_probabilities(proba, n_rows=len(pairs), n_classes=self.prior_.size,
                                    what=f"{self.display_name}: base {self.base!r} predictions")
        except DataError as exc:
            raise PluginError(str(exc)) from None


def _objective(name: str, proba: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    pred = proba.argmax(axis=1)
    if name == "accuracy":
        return float(accuracy_score(y, pred))
    if name == "macro_f1":
        return float(f1_score(y, pred, labels=list(range(proba.shape[1])), average="macro", zero_division=0))
    return float(balanced_accuracy_score(y, pred))


class LogitAdjusted(_PostProcessor):
    """Post-hoc logit adjustment (Menon et al. 2021) of a base method: ``softmax(log p - tau log prior)``.

    Parameters:
        base: registry name of the classification method to adjust; base_params: its parameters.
        tau: fixed tau, or ``None`` (default) to tune it on the validation split.
        taus: the grid tau is tuned over (default 0, 0.1, ..., 2).
        objective: what the tuned tau maximises on the validation split: ``balanced_accuracy``
            (default; logit adjustment targets the balanced error), ``accuracy`` or ``macro_f1``.

    Fitted: ``tau_`` (the tau used), ``dev_scores_`` ({tau: objective}), ``prior_``.
    """

    name = "logit-adjust"

    def __init__(self, *, base: str = "minilm-logreg", base_params: dict[str, Any] | None = None,
                 tau: float | None = None, taus: list[float] | tuple[float, ...] = DEFAULT_TAUS,
                 objective: str = "balanced_accuracy") -> None:
        self._init_base(base, base_params)
        self.tau = tau
        self.taus = taus
        self.objective = objective
        if objective not in OBJECTIVES:
            raise ConfigError(f"logit-adjust: objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
        if tau is None and not taus:
            raise ConfigError("logit-adjust: give tau, or a non-empty grid taus to tune it on")

    def fit_labelled(self, data: LabelledData) -> LogitAdjusted:
        """Fit the base, then tune tau on ``data.dev`` (tau = 0 without a validation split and no ``tau``)."""
        from evalkit_classification.postprocess import logit_adjust

        self.prior_ = data.prior()
        self.base_ = self._fit_base(data)
        self.dev_scores_: dict[float, float] = {}
        if self.tau is not None:
            self.tau_ = float(self.tau)
        elif data.dev is None:
            self.tau_ = 0.0
        else:
            dev_proba = self._base_predict(data.dev)
            y = data.dev["label"].to_numpy()
            for t in sorted(float(t) for t in self.taus):
                self.dev_scores_[t] = _objective(self.objective, logit_adjust(dev_proba, self.prior_, t), y)
            best = max(self.dev_scores_.values())
            self.tau_ = min(t for t, v in self.dev_scores_.items() if v == best)
        return self

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """The base's probabilities, logit-adjusted with ``tau_``: float64 (n, K)."""
        from evalkit_classification.postprocess import logit_adjust

        return logit_adjust(self._base_predict(pairs), self.prior_, self.tau_)


class CANAdjusted(_PostProcessor):
    """CAN (Jia et al. 2021): uncertain predictions re-normalised against the confident ones and the prior.

    Parameters:
        base, base_params: as ``logit-adjust``.
        k, threshold, alpha, iterations: see :func:`evalkit_classification.postprocess.can`
            (defaults 3, 0.9, 1, 1).

    ``predict`` treats the pairs it is given as one evaluation set (the runner passes a whole
    split), so a prediction depends on the other examples' confident predictions
    (``order_invariant`` still holds: reordering the pairs only reorders the output).
    """

    name = "can"

    def __init__(self, *, base: str = "minilm-logreg", base_params: dict[str, Any] | None = None, k: int = 3,
                 threshold: float = 0.9, alpha: float = 1.0, iterations: int = 1) -> None:
        self._init_base(base, base_params)
        self.k = k
        self.threshold = threshold
        self.alpha = alpha
        self.iterations = iterations

    def fit_labelled(self, data: LabelledData) -> CANAdjusted:
        """Fit the base and store the training prior ``prior_``."""
        self.prior_ = data.prior()
        self.base_ = self._fit_base(data)
        return self

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """CAN applied to the base's probabilities of ``pairs``: float64 (n, K)."""
        from evalkit_classification.postprocess import can

        return can(self._base_predict(pairs), self.prior_, k=self.k, threshold=self.threshold, alpha=self.alpha,
                   iterations=self.iterations)
