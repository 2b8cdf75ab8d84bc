""":class:`Run`: what :func:`evalkit.compare` and :func:`evalkit.score` return.

A ``Run`` wraps the stored model of a run (:class:`evalkit.results.RunResult`: the tidy results
frame, the per-example predictions and the provenance) together with the metric and aggregator
objects that score and rank it, so that a notebook gets the numbers the CLI prints
(:meth:`Run.table`), the report every reporter renders (:meth:`Run.report`) and the saved run
folder (:meth:`Run.save`, :meth:`Run.load`) from one object. Mirrors the result objects of
lm-evaluation-harness (``simple_evaluate``'s dict) and MTEB (``mteb.evaluate``'s results).

This module imports neither the executor nor pandas at import time.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.bootstrap import ExampleBootstrap
    from evalkit.interfaces import Aggregator, Metric, Report
    from evalkit.plugins import Host
    from evalkit.results import RunResult


def new_run_id() -> str:
    """``YYYYmmdd-HHMMSS-<6 hex>`` (local time): sortable and unique, the name of a run folder."""
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def render_report(reporter: Any, report: Report) -> str:
    """``reporter.render(report)`` called as plugin code.

    Raises:
        PluginError: the reporter raised, or returned something other than text (names the plugin).
    """
    from evalkit.errors import PluginError
    from evalkit.guard import origin, plugin_call

    text = plugin_call(reporter, "render", reporter.render, report)
    if not isinstance(text, str):
        raise PluginError(f"{origin(reporter)['component']}: render returned {type(text).__name__}, not text",
                          call="render", **origin(reporter))
    return text


def provenance_dict(provenance: Any) -> dict[str, Any]:
    """A run's provenance as the JSON-ready dict saved in ``run.json``.

    Accepts the typed :class:`evalkit.provenance.Provenance` (anything with ``to_dict()``) or a
    plain dict (runs saved by earlier versions, ``score`` and ``rescore`` records).
    """
    if provenance is None:
        return {}
    to_dict = getattr(provenance, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else dict(provenance)


def set_provenance(run: RunResult, key: str, value: Any) -> None:
    """Record ``value`` under ``key`` in ``run``'s provenance (:meth:`Provenance.with_record`)."""
    run.provenance = run.provenance.with_record(key, value)


@dataclass
class Run:
    """A scored run: results, per-example predictions, provenance, and how to table them.

    Attributes:
        result: the stored model (:class:`evalkit.results.RunResult`).
        metrics: ``{label: Metric}`` of the metric labels in ``results``.
        aggregators: ``[(label, Aggregator)]`` ranking the methods across datasets in
            :meth:`table` and :meth:`report` (``[]``: no aggregate columns).
        bootstrap: the paired bootstrap over examples (``compare(bootstrap=N)``), or ``None``.
        stats: the options of the cross-dataset tests and significance marks of :meth:`report`
            (``alpha``, ``posthoc``, ``control``, ``marks``, ``seed``), or ``None`` for none.
        payload: extra top-level entries of the report's JSON payload (``suite``, ``source``).
        run_id: the folder name the run is (or will be) saved under.
    """

    result: RunResult
    metrics: dict[str, Metric]
    aggregators: list[tuple[str, Aggregator]] = field(default_factory=list)
    bootstrap: ExampleBootstrap | None = None
    stats: dict[str, Any] | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    run_id: str = field(default_factory=new_run_id)

    def __repr__(self) -> str:
        res = self.results

        def names(col: str) -> list[str]:
            return list(dict.fromkeys(map(str, res[col]))) if col in res.columns else []

        return (f"Run({self.run_id!r}, methods={names('method')}, datasets={names('dataset')}, "
                f"metrics={names('metric')}, scores={len(res)}, path={str(self.path) if self.path else None!r})")

    @property
    def results(self) -> pd.DataFrame:
        """The tidy results: one row per (method, dataset, split, metric).

        Columns ``method``, ``dataset``, ``split``, ``metric`` (str), ``value`` (float64, on the
        metric's own scale: correlations -1..1, F1 and accuracy 0-1), ``n`` (int, pairs scored),
        plus metric extras (``threshold``, ``precision``, ``recall``, ``tuned_on``, ...) and, with
        a bootstrap, ``ci_low``/``ci_high`` (same scale). See :mod:`evalkit.results`.
        """
        return self.result.results

    @property
    def predictions(self) -> pd.DataFrame:
        """Per-example predictions: one row per (method, dataset, split, row).

        Columns ``method``, ``dataset``, ``split``, ``row`` (int, the example's index in the
        split), ``prediction`` (float64, the method's score), ``reference`` (the gold value),
        ``role`` (``eval``, or ``tune`` for rows only used to fit tuned metrics), and
        ``proba_0 .. proba_{K-1}`` for classification cells. Empty for ``score`` runs of a file.
        """
        return self.result.predictions

    @property
    def provenance(self) -> Any:
        """The run's provenance as stored: a typed :class:`evalkit.provenance.Provenance`, or the
        dict of runs saved by earlier versions; :meth:`provenance_dict` gives the JSON form."""
        return self.result.provenance

    def provenance_dict(self) -> dict[str, Any]:
        """The provenance as the JSON-ready dict saved in ``run.json``."""
        return provenance_dict(self.result.provenance)

    @property
    def path(self) -> Path | None:
        """The run folder once saved (or loaded), else ``None``."""
        return self.result.run_dir

    def table(self, metric: str | None = None) -> pd.DataFrame:
        """The comparison table of one metric: the numbers of the CLI table, unscaled.

        Rows are methods (index ``method``), columns the datasets (``dataset/split`` when a
        dataset was scored on several splits), then for each aggregator its value column
        ``<label>`` and its rank column ``<label> rank``, as ``evalkit compare`` prints them.
        Values are float64 on the metric's own scale (correlations -1..1, F1 0-1: the CLI shows
        them x 100); value-based aggregates share that scale, rank-based ones (mean rank, win rate,
        Borda, Copeland) keep theirs; ranks are 1-based (ties share the best rank), NaN where a
        method has no value.

        Args:
            metric: a metric label of the run [default: the first].

        Raises:
            ConfigError: ``metric`` is not a metric label of the run.
            DataError: a cell violates an aggregator's policy (e.g. a geometric mean of a value <= 0).
        """
        from evalkit.aggregation import aggregate, pivot

        label = self._metric_label(metric)
        table = pivot(self.results, label)
        agg = aggregate(table, self.aggregators, higher_is_better=self.metrics[label].higher_is_better)
        out = table.copy()
        for lab, _ in self.aggregators:
            out[lab] = agg[lab]
        for lab, _ in self.aggregators:
            out[f"{lab} rank"] = agg[f"{lab}_rank"]
        return out

    def _metric_label(self, metric: str | None) -> str:
        labels = [lab for lab in self.metrics if (self.results["metric"] == lab).any()]
        if metric is None:
            if not labels:
                raise ConfigError("the run has no scores to table")
            return labels[0]
        if metric not in labels:
            raise ConfigError(f"metric {metric!r} is not in the run; its metrics: {', '.join(labels) or 'none'}")
        return metric

    def report(self) -> Report:
        """The :class:`~evalkit.interfaces.Report` any reporter renders (what the CLI prints).

        One table per metric (display scale: x 100 for percentages), the tests and marks when
        :attr:`stats` is set, bootstrap interval tables, and a JSON payload on the metric's scale
        (:func:`evalkit.report.comparison_report`).
        """
        from evalkit.report import comparison_report

        return comparison_report(self.result, self.metrics, self.aggregators, extra_payload=self.payload,
                                 bootstrap=self.bootstrap, stats=self.stats)

    def render(self, fmt: str = "table", *, host: Host | None = None) -> str:
        """The run rendered by reporter ``fmt`` (``table``, ``markdown``, ``csv``, ``json``, ``latex``)
        or, for ``html``, the self-contained HTML report page (:mod:`evalkit.htmlreport`).

        Raises:
            UnknownNameError: no reporter ``fmt``.
            PluginError: the reporter failed or returned no text.
        """
        from evalkit.plugins import get_host

        host = host or get_host()
        if fmt == "html":
            from evalkit.history import Source
            from evalkit.htmlreport import ReportOptions, run_report_html

            source = Source(self.result, Path(self.path or f"unsaved {self.payload.get('suite', '')} run"), "run")
            return run_report_html([source], host=host, aggregators=self.aggregators,
                                   options=ReportOptions(stats=self.stats or {}))
        return render_report(host.reporters.create(fmt), self.report())

    def save(self, runs_dir: Path | str | None = None) -> Path:
        """Save the run as ``runs_dir / run_id`` (results, predictions, provenance) and return it.

        Args:
            runs_dir: [default: ``$EVALKIT_RUNS_DIR`` or the user data dir]. A run already saved
                there is not written twice.

        Raises:
            ConfigError: the runs folder cannot be created or written.
            DataError: a different run folder of that id exists.
        """
        from evalkit.fsutil import check_writable
        from evalkit.history import default_runs_dir

        folder = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        if self.path is not None and self.path.parent.resolve() == folder.resolve() and self.path.is_dir():
            return self.path
        check_writable(folder, what="runs folder", is_file=False)
        return self.result.save(folder, self.run_id)

    @classmethod
    def load(cls, ref: str | Path = "latest", *, runs_dir: Path | str | None = None,
             aggregate: str | list[str] | None = None, host: Host | None = None) -> Run:
        """A saved run: a run folder, a run id or unique id prefix, or ``latest``.

        Its metrics are rebuilt from the provenance (label, registry name, parameters).

        Args:
            aggregate: aggregators of :meth:`table` (as ``compare``) [default: mean].

        Raises:
            ConfigError: no such run; a results JSON (no predictions) instead of a run folder.
            DataError: a malformed run folder (the message names the file).
            UnknownNameError: a metric of the run that no plugin registers any more.
        """
        from evalkit.history import default_runs_dir, load_source
        from evalkit.plugins import get_host

        host = host or get_host()
        folder = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        source = load_source(ref, runs_dir=folder)
        if source.kind != "run":
            raise ConfigError(f"{source.label} is a results JSON, not a run folder")
        prov = provenance_dict(source.run.provenance)
        metrics = metrics_from_provenance(prov, host)
        aggregators = make_aggregators(host, aggregate)
        return cls(source.run, metrics, aggregators, payload={"suite": prov.get("suite")},
                   run_id=source.path.name)


def metrics_from_provenance(prov: dict[str, Any], host: Host) -> dict[str, Metric]:
    """``{label: Metric}`` rebuilt from a provenance's ``metrics`` records (name and parameters)."""
    out = {}
    for label, info in (prov.get("metrics") or {}).items():
        info = info if isinstance(info, dict) else {}
        out[label] = host.metrics.create(info.get("metric", label), **(info.get("params") or {}))
    return out


def make_aggregators(host: Host, aggregate: str | Sequence[str] | None, *,
                     nonpositive: str | None = None, missing: str | None = None) -> list[tuple[str, Aggregator]]:
    """Aggregators from ``"mean,power:p=2"`` or ``["mean", "power:p=2"]`` [default: mean].

    Raises:
        ConfigError: a malformed spec or parameters. UnknownNameError: an unknown aggregator.
    """
    from evalkit.aggregation import create_aggregators

    specs = spec_list(aggregate) or ["mean"]
    return create_aggregators(host, specs, nonpositive=nonpositive, missing=missing)


def spec_list(value: str | Sequence[str] | None) -> list[str] | None:
    """Component specs ``NAME[@LABEL][:KEY=VALUE,...]`` from one comma-separated string or a list.

    ``None`` or empty gives ``None``; each list item may itself hold several comma-separated specs.
    """
    from evalkit.params import split_specs

    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"component specs must be strings like 'NAME:KEY=VALUE', got {item!r}")
        out.extend(split_specs(item) or [])
    return out or None
