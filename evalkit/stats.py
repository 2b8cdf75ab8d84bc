"""Paired significance tests for the difference between two systems scored on the same examples.

Both runs score the *same* ``n`` examples (same gold ``references``). The statistic is the
difference ``delta = m(predictions_b, references) - m(predictions_a, references)`` of a metric
``m``; for a corpus-level metric (Spearman's rho, Pearson's r) ``m`` is recomputed on every
resample, for a decomposable one the per-example scores are averaged.

- :func:`paired_bootstrap`: resamples example indices with replacement, the *same* indices for
  both systems (Koehn 2004; Efron & Tibshirani 1993, ch. 13-16). Confidence interval by the
  percentile or the BCa method (as ``scipy.stats.bootstrap(..., paired=True)``); p-value by the
  shifted-null bootstrap test of Berg-Kirkpatrick et al. (2012, Sec. 2.2; Efron & Tibshirani
  1993, Sec. 16.4): the replicates ``delta*`` are shifted by the observed ``delta`` (so that H0
  holds) and the p-value is the share of shifted replicates at least as extreme as ``delta``.
- :func:`paired_permutation`: approximate randomisation (Noreen 1989; Riezler & Maxwell 2005):
  each example's two predictions are swapped between the systems with probability 1/2. Only
  meaningful when both systems' scores are on the same scale (e.g. two versions of one model).

p-values are ``(1 + count) / (1 + n_resamples)`` (Davison & Hinkley 1997, eq. 4.11), so they are
never 0. Randomness comes from ``numpy.random.default_rng(seed)``: equal seeds give equal results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from evalkit.errors import ConfigError, DataError, EvalkitError

if TYPE_CHECKING:
    import numpy as np

Alternative = Literal["two-sided", "greater", "less"]
#: ``fn(predictions, references) -> float``: a corpus-level metric.
MetricFn = Callable[["np.ndarray", "np.ndarray"], float]
#: ``fn(predictions, references) -> per-example scores (n,)`` whose mean is the metric.
PerExampleFn = Callable[["np.ndarray", "np.ndarray"], "np.ndarray"]
#: ``fn(predictions (n,), references (n,), indices (k, n)) -> (k,)``: the metric on each of k
#: resamples ``predictions[indices[i]]`` against ``references[indices[i]]``, NaN where undefined.
ResampledFn = Callable[["np.ndarray", "np.ndarray", "np.ndarray"], "np.ndarray"]

ALTERNATIVES = ("two-sided", "greater", "less")
CI_METHODS = ("percentile", "bca")
_CHUNK_ELEMENTS = 2_000_000  # indices drawn per chunk (16 MB of int64)


@dataclass(frozen=True)
class PairedTest:
    """Result of a paired test of ``delta = m(b) - m(a)``.

    Attributes:
        delta: the observed difference, on the metric's own scale.
        ci_low, ci_high: confidence interval of ``delta`` (NaN for the permutation test).
        confidence: level of the interval, e.g. 0.95.
        p_value: p-value of H0 ``delta = 0`` against ``alternative`` (in (0, 1]).
        alternative: ``two-sided``, ``greater`` (H1: b better on a higher-is-better metric, i.e.
            ``delta > 0``) or ``less`` (``delta < 0``).
        standard_error: standard deviation of the bootstrap (or permutation) distribution.
        n: number of examples; n_resamples: resamples used; n_failed: resamples on which the
            metric was undefined (e.g. constant predictions) and which were left out.
        method: ``bootstrap-percentile``, ``bootstrap-bca``, ``permutation`` or ``mcnemar-exact``.
        seed: the seed of ``numpy.random.default_rng``.
        distribution: the resampled ``delta`` values, shape ``(n_resamples - n_failed,)``; for
            McNemar's test the discordant counts ``[n01, n10]``.
    """

    delta: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    alternative: str
    standard_error: float
    n: int
    n_resamples: int
    n_failed: int
    method: str
    seed: int
    distribution: np.ndarray = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, float | int | str]:
        """JSON-ready fields (without the distribution)."""
        return {
            "delta": self.delta, "ci_low": self.ci_low, "ci_high": self.ci_high,
            "confidence": self.confidence, "p_value": self.p_value, "alternative": self.alternative,
            "standard_error": self.standard_error, "n": self.n, "n_resamples": self.n_resamples,
            "n_failed": self.n_failed, "method": self.method, "seed": self.seed,
        }


def _check_inputs(
    pred_a: np.ndarray, pred_b: np.ndarray, references: np.ndarray, n_resamples: int,
    alternative: str, confidence: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import numpy as np

    a = np.asarray(pred_a, dtype=np.float64)
    b = np.asarray(pred_b, dtype=np.float64)
    r = np.asarray(references)
    if a.ndim not in (1, 2) or a.shape != b.shape or b.shape[0] != r.shape[0]:
        raise DataError(
            f"paired test: predictions of shapes {a.shape} and {b.shape} and references of shape "
            f"{r.shape} must be 1-D scores (or (n, K) class probabilities) of equal length"
        )
    if a.shape[0] < 2:
        raise DataError(f"paired test: needs at least 2 examples, got {a.shape[0]}")
    if n_resamples < 1:
        raise ConfigError(f"n_resamples must be at least 1, got {n_resamples}")
    if alternative not in ALTERNATIVES:
        raise ConfigError(f"alternative must be one of {', '.join(ALTERNATIVES)}, not {alternative!r}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    return a, b, r


def _p_value(centred: np.ndarray, delta: float, alternative: str) -> float:
    """``(1 + #extreme) / (1 + B)`` for a null distribution ``centred`` (centred on 0)."""
    import numpy as np

    # A relative slack so that replicates equal to delta up to rounding count as "as extreme".
    eps = 1e-12 * max(1.0, abs(delta))
    if alternative == "two-sided":
        extreme = np.abs(centred) >= abs(delta) - eps
    elif alternative == "greater":
        extreme = centred >= delta - eps
    else:
        extreme = centred <= delta + eps
    return float((1 + np.count_nonzero(extreme)) / (1 + centred.size))


def _safe(fn: MetricFn, p: np.ndarray, r: np.ndarray) -> float:
    """The metric, or NaN where it is undefined on a resample (constant predictions)."""
    try:
        value = float(fn(p, r))
    except EvalkitError:
        return float("nan")
    return value


def _finish(
    dist: np.ndarray, delta: float, jackknife: np.ndarray | None, *, confidence: float,
    alternative: str, ci_method: str, n: int, n_resamples: int, seed: int,
) -> PairedTest:
    import numpy as np
    from scipy.special import ndtr, ndtri

    ok = dist[np.isfinite(dist)]
    n_failed = int(dist.size - ok.size)
    if ok.size < max(2, dist.size // 2):
        raise DataError(
            f"paired bootstrap: the metric was undefined on {n_failed} of {dist.size} resamples "
            "(too few examples, or constant predictions)"
        )
    alpha = (1 - confidence) / 2
    lo_q, hi_q = alpha, 1 - alpha
    if ci_method == "bca":
        assert jackknife is not None
        # Efron & Tibshirani (1993) eq. 14.14-14.15; scipy.stats.bootstrap(method="BCa").
        share = ((ok < delta).sum() + (ok <= delta).sum()) / (2 * ok.size)
        z0 = ndtri(share)
        jk = jackknife[np.isfinite(jackknife)]
        dev = jk.mean() - jk
        denom = 6.0 * (dev**2).sum() ** 1.5
        acc = (dev**3).sum() / denom if denom > 0 else 0.0
        z = ndtri(np.array([lo_q, hi_q]))
        adj = ndtr(z0 + (z0 + z) / (1 - acc * (z0 + z)))
        lo_q, hi_q = float(adj[0]), float(adj[1])
    ci_low, ci_high = (float(v) for v in np.quantile(ok, [lo_q, hi_q]))
    # Null distribution: the bootstrap replicates shifted by the observed delta (Berg-Kirkpatrick
    # et al. 2012: count delta* > 2 delta; Efron & Tibshirani 1993, Sec. 16.4).
    centred = ok - delta
    return PairedTest(
        delta=float(delta), ci_low=ci_low, ci_high=ci_high, confidence=confidence,
        p_value=_p_value(centred, delta, alternative), alternative=alternative,
        standard_error=float(ok.std(ddof=1)), n=n, n_resamples=n_resamples, n_failed=n_failed,
        method=f"bootstrap-{ci_method}", seed=seed, distribution=ok,
    )


def paired_bootstrap(
    metric: MetricFn,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    references: np.ndarray,
    *,
    per_example: PerExampleFn | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    ci_method: str = "percentile",
    alternative: str = "two-sided",
    seed: int = 0,
    resampled: ResampledFn | None = None,
) -> PairedTest:
    """Paired bootstrap of ``delta = metric(pred_b, refs) - metric(pred_a, refs)``.

    Args:
        metric: corpus-level metric ``fn(predictions, references) -> float``; recomputed on each
            resample for both systems (correlations do not decompose).
        pred_a, pred_b: the two systems' scores, float arrays of shape ``(n,)``, example ``i`` of
            both referring to ``references[i]``.
        references: gold values, shape ``(n,)``.
        per_example: optional ``fn(predictions, references) -> (n,)`` scores whose mean is
            ``metric``; when given, resamples average them (exact and much faster).
        resampled: optional ``fn(predictions, references, indices) -> (k,)`` computing ``metric`` on
            k resamples at once (NaN where undefined), e.g. a vectorised correlation; the drawn
            indices are the same as without it, so the result equals the loop's up to rounding.
        n_resamples: number of bootstrap resamples ``B``.
        confidence: level of the interval (0.95 gives the 2.5 and 97.5 percentiles).
        ci_method: ``percentile`` or ``bca`` (bias-corrected and accelerated; costs ``2n`` extra
            metric evaluations for the jackknife), as in ``scipy.stats.bootstrap``.
        alternative: H1 of the p-value: ``two-sided``, ``greater`` (``delta > 0``), ``less``.
        seed: seed of ``numpy.random.default_rng``; the same indices are used for both systems.

    Returns:
        :class:`PairedTest`; ``p_value`` is the shifted-null bootstrap p-value (Berg-Kirkpatrick
        et al. 2012): the share of ``delta* - delta`` at least as extreme as ``delta``.

    Raises:
        DataError: inputs of different lengths, fewer than 2 examples, or a metric undefined on
            most resamples.
        ConfigError: invalid ``n_resamples``, ``confidence``, ``ci_method`` or ``alternative``.
    """
    import numpy as np

    a, b, r = _check_inputs(pred_a, pred_b, references, n_resamples, alternative, confidence)
    if ci_method not in CI_METHODS:
        raise ConfigError(f"ci_method must be one of {', '.join(CI_METHODS)}, not {ci_method!r}")
    n, rng, bca = a.shape[0], np.random.default_rng(seed), ci_method == "bca"
    boot: _Boot
    if np.array_equal(a, b):
        # Identical predictions: every resample gives delta = 0 exactly, whatever the metric.
        float(metric(a, r))  # still raise where the metric itself is undefined
        boot = 0.0, np.zeros(n_resamples), np.zeros(n)
    elif per_example is not None:
        boot = _boot_per_example(per_example, a, b, r, rng, n_resamples, bca)
    elif resampled is not None:
        boot = _boot_resampled(metric, resampled, a, b, r, rng, n_resamples)
    else:
        boot = _boot_loop(metric, a, b, r, rng, n_resamples, bca)
    delta, dist, jackknife = boot
    return _finish(dist, delta, jackknife, confidence=confidence, alternative=alternative,
                   ci_method=ci_method, n=n, n_resamples=n_resamples, seed=seed)


_Boot = tuple[float, "np.ndarray", "np.ndarray | None"]


def _boot_per_example(per_example: PerExampleFn, a: np.ndarray, b: np.ndarray, r: np.ndarray,
                      rng: np.random.Generator, n_resamples: int, bca: bool) -> _Boot:
    """``(delta, resampled deltas, jackknife or None)`` from per-example scores (means resampled)."""
    import numpy as np

    n = a.shape[0]
    d = np.asarray(per_example(b, r), dtype=np.float64) - np.asarray(per_example(a, r), dtype=np.float64)
    if d.shape != (n,):
        raise DataError(f"per-example scores have shape {d.shape}, expected ({n},)")
    dist = np.empty(n_resamples)
    chunk = max(1, _CHUNK_ELEMENTS // n)
    for start in range(0, n_resamples, chunk):
        stop = min(n_resamples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        dist[start:stop] = d[idx].mean(axis=1)
    return float(d.mean()), dist, ((d.sum() - d) / (n - 1) if bca else None)


def _boot_resampled(metric: MetricFn, resampled: ResampledFn, a: np.ndarray, b: np.ndarray, r: np.ndarray,
                    rng: np.random.Generator, n_resamples: int) -> _Boot:
    """``(delta, resampled deltas, None)`` with the metric computed on chunks of resamples at once."""
    import numpy as np

    n = a.shape[0]
    dist = np.empty(n_resamples)
    chunk = max(1, _CHUNK_ELEMENTS // n)
    for start in range(0, n_resamples, chunk):
        stop = min(n_resamples, start + chunk)
        # One draw per resample, as in the loop of _boot_loop, so both paths see the same indices.
        idx = np.stack([rng.integers(0, n, size=n) for _ in range(start, stop)])
        dist[start:stop] = (np.asarray(resampled(b, r, idx), dtype=np.float64)
                            - np.asarray(resampled(a, r, idx), dtype=np.float64))
    return float(metric(b, r)) - float(metric(a, r)), dist, None


def _boot_loop(metric: MetricFn, a: np.ndarray, b: np.ndarray, r: np.ndarray, rng: np.random.Generator,
               n_resamples: int, bca: bool) -> _Boot:
    """``(delta, resampled deltas, jackknife or None)``, the metric recomputed on every resample."""
    import numpy as np

    n = a.shape[0]
    delta = float(metric(b, r)) - float(metric(a, r))
    dist = np.empty(n_resamples)
    for i in range(n_resamples):
        ix = rng.integers(0, n, size=n)
        dist[i] = _safe(metric, b[ix], r[ix]) - _safe(metric, a[ix], r[ix])
    jackknife = None
    if bca:
        keep = np.ones(n, dtype=bool)
        jackknife = np.empty(n)
        for i in range(n):
            keep[i] = False
            jackknife[i] = _safe(metric, b[keep], r[keep]) - _safe(metric, a[keep], r[keep])
            keep[i] = True
    return delta, dist, jackknife


def paired_permutation(
    metric: MetricFn,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    references: np.ndarray,
    *,
    per_example: PerExampleFn | None = None,
    n_resamples: int = 1000,
    alternative: str = "two-sided",
    seed: int = 0,
) -> PairedTest:
    """Approximate randomisation test of ``delta = metric(pred_b) - metric(pred_a)``.

    For each of ``n_resamples`` rounds every example's two predictions are swapped between the
    systems with probability 1/2 and ``delta`` is recomputed (Noreen 1989; Riezler & Maxwell 2005).
    With ``per_example`` this is the sign-flip test of the per-example differences. The
    confidence interval is not defined (NaN). Arguments and errors as :func:`paired_bootstrap`.
    """
    import numpy as np

    a, b, r = _check_inputs(pred_a, pred_b, references, n_resamples, alternative, 0.95)
    n = a.shape[0]
    rng = np.random.default_rng(seed)
    dist = np.empty(n_resamples)
    if np.array_equal(a, b):  # swapping identical predictions changes nothing
        float(metric(a, r))
        delta = 0.0
        dist[:] = 0.0
    elif per_example is not None:
        d = np.asarray(per_example(b, r), dtype=np.float64) - np.asarray(per_example(a, r), dtype=np.float64)
        delta = float(d.mean())
        chunk = max(1, _CHUNK_ELEMENTS // n)
        for start in range(0, n_resamples, chunk):
            stop = min(n_resamples, start + chunk)
            signs = 2.0 * rng.integers(0, 2, size=(stop - start, n)) - 1.0
            dist[start:stop] = (signs * d).mean(axis=1)
    else:
        delta = float(metric(b, r)) - float(metric(a, r))
        for i in range(n_resamples):
            swap = rng.integers(0, 2, size=n).astype(bool).reshape(-1, *([1] * (a.ndim - 1)))
            pa = np.where(swap, b, a)
            pb = np.where(swap, a, b)
            dist[i] = _safe(metric, pb, r) - _safe(metric, pa, r)
    ok = dist[np.isfinite(dist)]
    if ok.size < max(2, dist.size // 2):
        raise DataError("permutation test: the metric was undefined on most permutations")
    return PairedTest(
        delta=delta, ci_low=float("nan"), ci_high=float("nan"), confidence=float("nan"),
        p_value=_p_value(ok, delta, alternative), alternative=alternative,
        standard_error=float(ok.std(ddof=1)), n=n, n_resamples=n_resamples,
        n_failed=int(dist.size - ok.size), method="permutation", seed=seed, distribution=ok,
    )


def paired_test(
    test: str,
    metric: MetricFn,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    references: np.ndarray,
    **kwargs: object,
) -> PairedTest:
    """Dispatch to :func:`paired_bootstrap` (``test="bootstrap"``), :func:`paired_permutation`
    or :func:`mcnemar_exact` (``test="mcnemar"``, which needs ``per_example`` 0/1 scores).

    Raises:
        ConfigError: unknown ``test``.
    """
    if test == "bootstrap":
        return paired_bootstrap(metric, pred_a, pred_b, references, **kwargs)  # type: ignore[arg-type]
    if test == "permutation":
        kwargs.pop("confidence", None)
        kwargs.pop("ci_method", None)
        return paired_permutation(metric, pred_a, pred_b, references, **kwargs)  # type: ignore[arg-type]
    if test == "mcnemar":
        per_example = kwargs.get("per_example")
        if per_example is None:
            raise DataError("McNemar's test needs a metric with per-example 0/1 scores (accuracy)")
        return mcnemar_exact(per_example(pred_a, references), per_example(pred_b, references),  # type: ignore[operator]
                             alternative=str(kwargs.get("alternative", "two-sided")))
    raise ConfigError(f"unknown paired test {test!r}; use 'bootstrap', 'permutation' or 'mcnemar'")


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray, *, alternative: str = "two-sided") -> PairedTest:
    """McNemar's exact test of paired accuracy (McNemar 1947; the exact form of Edwards 1948).

    ``correct_a``, ``correct_b``: shape ``(n,)``, 1 where the system classified example ``i``
    correctly, 0 where not. Only the discordant examples count: ``n01`` (a right, b wrong) and
    ``n10`` (a wrong, b right). Under H0 (equal accuracy) ``n10 ~ Binomial(n01 + n10, 1/2)``; the
    p-value is ``scipy.stats.binomtest(n10, n01 + n10, 0.5, alternative)`` (two-sided: the exact
    two-sided binomial p-value, which for p = 1/2 equals ``statsmodels``' ``mcnemar(exact=True)``).
    ``delta`` is the accuracy difference ``(n10 - n01) / n``; no interval (NaN). With no discordant
    example the p-value is 1.

    Raises:
        DataError: arrays of different shapes, fewer than 2 examples, or values other than 0/1.
        ConfigError: unknown ``alternative``.
    """
    import numpy as np
    from scipy.stats import binomtest

    a = np.asarray(correct_a, dtype=np.float64)
    b = np.asarray(correct_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size < 2:
        raise DataError(f"McNemar's test: correctness arrays of shapes {a.shape} and {b.shape} must be 1-D, "
                        "of equal length, with at least 2 examples")
    if not (np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all()):
        raise DataError("McNemar's test needs per-example 0/1 correctness (a metric such as accuracy)")
    if alternative not in ALTERNATIVES:
        raise ConfigError(f"alternative must be one of {', '.join(ALTERNATIVES)}, not {alternative!r}")
    n01 = int(np.count_nonzero((a == 1) & (b == 0)))
    n10 = int(np.count_nonzero((a == 0) & (b == 1)))
    p = 1.0 if n01 + n10 == 0 else float(binomtest(n10, n01 + n10, 0.5, alternative=alternative).pvalue)
    return PairedTest(
        delta=(n10 - n01) / a.size, ci_low=float("nan"), ci_high=float("nan"), confidence=float("nan"),
        p_value=min(1.0, p), alternative=alternative, standard_error=float("nan"), n=int(a.size),
        n_resamples=0, n_failed=0, method="mcnemar-exact", seed=0, distribution=np.array([n01, n10], dtype=np.float64),
    )


def cell_seed(seed: int, *key: str) -> int:
    """A seed for one cell derived from ``seed`` and the cell's key, independent of cell order."""
    import zlib

    import numpy as np

    words = [seed & 0xFFFFFFFF, *(zlib.crc32(k.encode("utf-8")) for k in key)]
    return int(np.random.SeedSequence(words).generate_state(1)[0])
