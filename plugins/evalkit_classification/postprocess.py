"""Post-processors of class probabilities: post-hoc logit adjustment and CAN.

Both take probabilities ``p`` of shape ``(n, K)`` (rows summing to 1) and a class prior ``pi`` of
shape ``(K,)`` (the training class frequencies) and return probabilities of the same shape.

**Logit adjustment** (Menon et al. 2021, "Long-tail learning via logit adjustment", ICLR, Eq. 3,
post-hoc form)::

    p'_y  ∝  exp(log p_y - tau * log pi_y)

so the decision ``argmax_y log p_y - tau log pi_y`` favours rare classes; ``tau = 0`` is the
identity, and a uniform prior changes nothing for any ``tau`` (the shift is the same for every
class and cancels in the softmax).

**CAN**, classification with alternating normalisation (Jia et al. 2021, "When in Doubt: Improving
Classification Performance with Alternating Normalization", Findings of EMNLP, Sec. 3, Alg. 1):

1. Uncertainty of a prediction: the entropy of its ``k`` largest probabilities renormalised to
   sum 1, divided by ``log k`` (the *top-k entropy*, in 0..1). Predictions with top-k entropy
   below ``threshold`` are *confident* (the rows of ``A0``), the others *uncertain*.
2. Each uncertain prediction ``b`` is adjusted on its own: ``L = [A0; b]`` (``b`` stacked under the
   confident rows), then ``iterations`` times:

   - ``S = L ** alpha`` (element-wise power);
   - column normalisation: ``S[:, j] <- S[:, j] / sum_i S[i, j] * pi_j`` (column sums follow the
     prior);
   - row normalisation: ``L[i] <- S[i] / sum_j S[i, j]``;

   and the last row of ``L`` is ``b``'s new prediction. Confident predictions are returned unchanged.

Defaults ``k = 3``, ``threshold = 0.9``, ``alpha = 1``, ``iterations = 1`` are those of Su's (2021)
walk-through of the algorithm with reference code (kexue.fm/archives/8728); Jia et al. tune alpha,
the number of iterations and the threshold on validation data per task, so treat them as a
starting point. With ``k >= K`` the top-k entropy is the usual normalised entropy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit import ConfigError, DataError, as_probabilities

if TYPE_CHECKING:
    import numpy as np


def _prior(prior: Any, k: int, *, positive: bool) -> np.ndarray:
    import numpy as np

    pi = np.asarray(prior, dtype=np.float64)
    if pi.shape != (k,) or not np.isfinite(pi).all() or (pi < 0).any() or abs(pi.sum() - 1) > 1e-6:
        raise DataError(f"the prior must be {k} non-negative numbers summing to 1, got {pi.tolist()}")
    if positive and (pi <= 0).any():
        raise DataError(f"every class needs a positive prior, got {pi.tolist()} (a class absent from training?)")
    return pi


def logit_adjust(proba: Any, prior: Any, tau: float) -> np.ndarray:
    """``softmax(log p - tau * log pi)`` row-wise (Menon et al. 2021, post-hoc); float64 (n, K).

    ``log 0 = -inf`` for a zero probability (it stays 0); ``tau`` may be any finite number.

    Raises:
        DataError: invalid probabilities, or a prior that is not positive (for ``tau != 0``).
    """
    import numpy as np

    p = as_probabilities(proba, what="logit adjustment: probabilities")
    if not np.isfinite(tau):
        raise ConfigError(f"logit adjustment: tau must be finite, got {tau}")
    if tau == 0:
        return p.copy()
    pi = _prior(prior, p.shape[1], positive=True)
    with np.errstate(divide="ignore"):
        z = np.log(p) - tau * np.log(pi)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def top_k_entropy(proba: Any, k: int) -> np.ndarray:
    """Normalised entropy of each row's ``k`` largest probabilities (renormalised), float64 (n,) in 0..1.

    ``k`` is capped at K; ``0 log 0 = 0``.

    Raises:
        ConfigError: ``k < 2``.
    """
    import numpy as np
    from scipy.special import xlogy

    p = np.asarray(proba, dtype=np.float64)
    if not isinstance(k, int) or k < 2:
        raise ConfigError(f"CAN: k (top-k entropy) must be an integer >= 2, got {k!r}")
    k = min(k, p.shape[1])
    top = np.sort(p, axis=1)[:, -k:]
    top = top / top.sum(axis=1, keepdims=True)
    return -xlogy(top, top).sum(axis=1) / np.log(k)


def _normalise(l_conf: np.ndarray, b: np.ndarray, pi: np.ndarray, alpha: float,
               iterations: int) -> np.ndarray:
    """Alternating normalisation of ``[l_conf; b]``; returns the last row (see the module docstring)."""
    import numpy as np

    for _ in range(iterations):
        s_conf, s_b = l_conf ** alpha, b ** alpha
        col = s_conf.sum(axis=0) + s_b
        scale = np.divide(pi, col, out=np.zeros_like(col), where=col > 0)
        s_conf, s_b = s_conf * scale, s_b * scale
        rows = s_conf.sum(axis=1, keepdims=True)
        l_conf = np.divide(s_conf, rows, out=np.zeros_like(s_conf), where=rows > 0)
        total = s_b.sum()
        if total <= 0:
            raise DataError("CAN: an uncertain prediction lost all its mass (zero probability on every "
                            "class with mass in the prior); use alpha > 0")
        b = s_b / total
    return b


def can(proba: Any, prior: Any, *, k: int = 3, threshold: float = 0.9, alpha: float = 1.0,
        iterations: int = 1) -> np.ndarray:
    """CAN (Jia et al. 2021, Alg. 1) on a set of predictions; float64 (n, K). See the module docstring.

    Args:
        proba: probabilities (n, K) of the evaluated examples (the confident ones among them form A0).
        prior: class prior (K,), positive, summing to 1.
        k: top-k entropy's k (>= 2, capped at K).
        threshold: top-k entropy at or above which a prediction is uncertain (0..1).
        alpha: power applied before each column normalisation (> 0).
        iterations: alternating normalisation rounds (>= 1).

    Raises:
        DataError: invalid probabilities or prior. ConfigError: invalid parameters.
    """
    import numpy as np

    p = as_probabilities(proba, what="CAN: probabilities")
    pi = _prior(prior, p.shape[1], positive=True)
    if not 0 <= threshold <= 1:
        raise ConfigError(f"CAN: threshold must be in 0..1, got {threshold}")
    if not alpha > 0:
        raise ConfigError(f"CAN: alpha must be positive, got {alpha}")
    if not isinstance(iterations, int) or iterations < 1:
        raise ConfigError(f"CAN: iterations must be a positive integer, got {iterations!r}")
    uncertain = top_k_entropy(p, k) >= threshold
    confident = p[~uncertain]
    out = p.copy()
    for i in np.flatnonzero(uncertain):
        out[i] = _normalise(confident, p[i], pi, alpha, iterations)
    return out
