"""The tuning protocol: where a :class:`~evalkit.interfaces.TunedMetric` fits its parameters.

One function, :func:`score_metric`, scores predictions with any metric; for a tuned metric it
follows ``tune_on`` (see :data:`evalkit.interfaces.TUNE_ON`) and records where the parameters were
fitted in the result's extras, so every JSON record and table says so:

==========  ==================================================  =====================================
tune_on     parameters fitted on                                extras added
==========  ==================================================  =====================================
``dev``     the validation split's predictions (``fit`` data)   ``tuned_on="dev"``, ``tuned_split``,
                                                                ``n_tune``, ``tuned_rows`` (which
                                                                rows, when the dataset says)
``cv``      k-fold cross-fitting on the evaluated rows          ``tuned_on="cv"``
``self``    the evaluated rows themselves (the oracle)          ``tuned_on="self"``, ``oracle=True``
==========  ==================================================  =====================================

``dev`` without fitting data (a dataset with no validation split, or the validation split being
the one evaluated) falls back to ``cv``, and the record says ``cv``. Plain metrics ignore
``tune_on`` and get no extras from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evalkit.errors import ConfigError, PluginError, UndefinedValueError
from evalkit.interfaces import TUNE_ON, Metric, MetricResult, TunedMetric


@dataclass(frozen=True)
class FitData:
    """Labelled predictions a tuned metric may be fitted on (the validation split's)."""

    predictions: Any
    references: Any
    split: str
    #: Which rows those are, for notes (:meth:`evalkit.interfaces.Dataset.describe_split`).
    rows: str = ""


def check_tune_on(tune_on: str) -> str:
    """Return ``tune_on`` if it is one of :data:`TUNE_ON`; raise :class:`ConfigError` otherwise."""
    if tune_on not in TUNE_ON:
        raise ConfigError(f"tune_on must be one of {', '.join(TUNE_ON)}, not {tune_on!r}")
    return tune_on


def effective_tune_on(tune_on: str, fit: FitData | None) -> str:
    """The mode actually used: ``dev`` without fitting data becomes ``cv``."""
    check_tune_on(tune_on)
    return "cv" if tune_on == "dev" and fit is None else tune_on


def _as_result(out: Any, metric: Metric, label: str, cell: str | None) -> tuple[float, dict[str, Any]]:
    import math

    from evalkit.guard import describe, origin

    extras: dict[str, Any] = {}
    if isinstance(out, MetricResult):
        value, extras = out.value, dict(out.extras)
    else:
        value = out
    ctx = {**origin(metric), "cell": cell}
    if isinstance(value, (bool, complex)) or bool(getattr(value, "imag", False)):
        raise PluginError(f"{describe(ctx)}: compute returned {value!r}, not a real number", call="compute", **ctx)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise PluginError(f"{describe(ctx)}: returned {value!r}, not a number", call="compute", **ctx) from None
    if not math.isfinite(value):
        raise PluginError(
            f"{describe(ctx)}: returned {value} where a number is due; a metric that is undefined on "
            "these inputs must raise evalkit.errors.UndefinedValueError with the reason", call="compute", **ctx)
    return value, extras


def score_metric(
    metric: Metric,
    label: str,
    predictions: Any,
    references: Any,
    *,
    tune_on: str = "dev",
    fit: FitData | None = None,
    cell: str | None = None,
) -> tuple[float, dict[str, Any]]:
    """Score ``predictions`` against ``references`` with ``metric``: ``(value, extras)``.

    Args:
        metric: a plain :class:`Metric` (``compute``) or a :class:`TunedMetric` (protocol above).
        label: the metric's name in the suite, for error messages.
        predictions, references: the evaluated rows (1-D, equal length).
        tune_on: ``dev``, ``cv`` or ``self``; only used by tuned metrics.
        fit: the validation split's labelled predictions, for ``tune_on="dev"``.
        cell: what is being scored (``"tfidf-cosine on stsb/test"``), for error messages.

    A value that is undefined on these inputs (the metric raised
    :class:`~evalkit.errors.UndefinedValueError`, e.g. a correlation of constant scores) is
    returned as ``(nan, {"undefined": reason})``: tables print ``undefined`` and the reason.

    Raises:
        ConfigError: ``tune_on`` is not one of :data:`TUNE_ON`.
        DataError: invalid inputs (raised by the metric).
        PluginError: the metric raised (other than an ``EvalkitError``), or returned something
            that is not a finite real number (NaN where a number is due).
    """
    try:
        return _score(metric, label, predictions, references, tune_on=tune_on, fit=fit, cell=cell)
    except UndefinedValueError as exc:
        return float("nan"), {"undefined": str(exc)}


def _score(metric: Metric, label: str, predictions: Any, references: Any, *, tune_on: str,
           fit: FitData | None, cell: str | None) -> tuple[float, dict[str, Any]]:
    from evalkit.guard import plugin_call

    def call(name: str, **kwargs: Any) -> Any:
        return plugin_call(metric, name, getattr(metric, name), cell=cell, **kwargs)

    if not isinstance(metric, TunedMetric):
        return _as_result(call("compute", predictions=predictions, references=references), metric, label, cell)
    mode = effective_tune_on(tune_on, fit)
    added: dict[str, Any] = {"tuned_on": mode}
    if mode == "dev":
        assert fit is not None
        fitted = call("fit", predictions=fit.predictions, references=fit.references)
        out = call("apply", predictions=predictions, references=references, fitted=fitted)
        added.update(tuned_split=fit.split, n_tune=len(fit.predictions))
        if fit.rows:
            added["tuned_rows"] = fit.rows
    elif mode == "self":
        fitted = call("fit", predictions=predictions, references=references)
        out = call("apply", predictions=predictions, references=references, fitted=fitted)
        added["oracle"] = True
    else:
        out = call("cross_fit", predictions=predictions, references=references)
    value, extras = _as_result(out, metric, label, cell)
    extras.update(added)
    return value, extras
