"""Assemble a run's report: the data (embedded in the page as JSON) and the figures drawn from it."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.htmlreport import tables as tbl
from evalkit.htmlreport.runs import merge_runs, run_summary

if TYPE_CHECKING:
    from evalkit.history import Source
    from evalkit.interfaces import Aggregator, Metric
    from evalkit.plugins import Host


@dataclass
class ReportOptions:
    """Settings of a run report.

    Attributes:
        baseline: the method the forest plots compare against (default: the best under the first
            aggregator of the first metric).
        n_resamples, seed, confidence: the paired bootstrap of the forest plots (default: the
            run's own ``--bootstrap`` settings, else 1000 resamples, seed 0, 95%).
        data_dir: where to reload sentence texts (default: the run's data folder, then
            ``$EVALKIT_DATA_DIR``).
        top_k: disagreements listed per dataset.
        title: the page title (default from the runs).
        stats: options of the cross-dataset tests and the significance marks (``alpha``,
            ``posthoc``, ``control``, ``marks``, ``seed``; see ``evalkit compare``); Nemenyi is
            always added for the critical difference of the CD diagram.
    """

    baseline: str | None = None
    n_resamples: int | None = None
    seed: int | None = None
    confidence: float | None = None
    data_dir: Path | None = None
    top_k: int = 5
    title: str | None = None
    stats: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Figure:
    """One figure: id, title, a one-line reading, the SVG, and the key of its data in the JSON."""

    fig_id: str
    title: str
    reading: str
    svg: str
    data_key: str
    section: str


@dataclass
class RunReport:
    """What :func:`build_run_report` returns: the JSON-ready ``data`` and the ``figures``."""

    data: dict[str, Any]
    figures: list[Figure]


def _metric_objects(source: Source, host: Host) -> dict[str, Metric]:
    from evalkit.paired import metric_object

    labels = list(dict.fromkeys(source.run.results["metric"]))
    return {label: metric_object(label, [source], host) for label in labels}


def _settings(source: Source, options: ReportOptions) -> Any:
    from evalkit.paired import PairedSettings

    boot = source.run.provenance.get("bootstrap") or {}
    return PairedSettings(
        test="bootstrap",
        n_resamples=int(options.n_resamples or boot.get("n_resamples") or 1000),
        seed=int(options.seed if options.seed is not None else boot.get("seed", 0)),
        confidence=float(options.confidence or boot.get("confidence") or 0.95),
    )


def build_run_report(
    sources: list[Source],
    *,
    host: Host | None = None,
    aggregators: list[tuple[str, Aggregator]] | None = None,
    options: ReportOptions | None = None,
) -> RunReport:
    """The report of one run, or of several merged (:func:`evalkit.htmlreport.runs.merge_runs`).

    Raises:
        ConfigError: unknown ``baseline``; runs sharing no dataset.
        DataError: runs that cannot be merged; unreadable predictions.
    """
    from evalkit.history import Source as _Source
    from evalkit.htmlreport.paired import choose_baseline, forest
    from evalkit.plugins import get_host

    host = host or get_host()
    options = options or ReportOptions()
    run = merge_runs(sources)
    merged = _Source(run, sources[0].path, sources[0].kind if len(sources) == 1 else "merged")
    aggregators = aggregators or [("mean", host.aggregators.create("mean"))]
    metrics = _metric_objects(merged, host)
    settings = _settings(merged, options)
    rules = tbl.stability_rules(host)
    data: dict[str, Any] = {
        "schema": 1,
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "title": options.title or _title(run),
        "runs": [run_summary(s) for s in sources],
        "methods": list(dict.fromkeys(run.results["method"])),
        "datasets": list(dict.fromkeys(run.results["dataset"])),
        "metrics": {},
        "figures": {},
        **options.extra,
    }
    figures: list[Figure] = []
    baseline = None
    tested = _tests(run, metrics, aggregators, options)
    for label, metric in metrics.items():
        table = tbl.metric_table(run, label, metric, aggregators)
        if table is None:
            continue
        data["metrics"][label] = table
        table["tests"], table["marks"] = tested.get(label, (None, None))
        if table["tests"] is not None:
            cd = _cd_figure(data, label, table["tests"])
            if cd is not None:
                figures.append(cd)
        baseline = baseline or choose_baseline(table, options.baseline)
        fdata = forest(merged, label, metric, table, baseline, settings)
        if fdata is not None:
            figures.append(_forest_figure(data, label, fdata, table))
        sdata = tbl.rank_stability(run, label, metric, rules)
        if sdata is not None:
            figures.append(_stability_figure(data, label, sdata))
    data["baseline"] = baseline
    from evalkit.htmlreport.sections import disagreement_data, pair_figures, sts_figures

    figures += sts_figures(run, data)
    figures += pair_figures(run, data)
    data["disagreements"] = disagreement_data(run, data, host, options)
    return RunReport(data, figures)


def _tests(run: Any, metrics: dict[str, Metric], aggregators: list[tuple[str, Aggregator]],
           options: ReportOptions) -> dict[str, tuple[Any, Any]]:
    """Per metric the cross-dataset tests and the significance marks, as ``evalkit compare``
    computes them (:func:`evalkit.report.comparison_report` with ``stats``)."""
    from evalkit.ranktests import parse_posthoc
    from evalkit.report import comparison_report

    stats = dict(options.stats or {})
    posthoc = parse_posthoc(stats.get("posthoc", "wilcoxon-holm"))
    stats["posthoc"] = ",".join([*posthoc, *(["nemenyi"] if "nemenyi" not in posthoc else [])])
    stats.setdefault("seed", options.seed or 0)
    payload = comparison_report(run, metrics, aggregators, stats=stats).payload
    out = {}
    for label in metrics:
        marks = (payload.get("tables", {}).get(label) or {}).get("marks")
        out[label] = (payload.get("tests", {}).get(label), marks)
    return out


def _cd_figure(data: dict[str, Any], label: str, tests: dict[str, Any]) -> Figure | None:
    from evalkit.htmlreport.cd import cd_data, cd_svg, reading

    cdd = cd_data(tests, label)
    if cdd is None:
        return None
    key = f"cd-{label}"
    data["figures"][key] = cdd
    title = f"{data['metrics'][label]['title']}: critical-difference diagram of mean ranks (Demšar 2006, Fig. 1)"
    return Figure(key, title, reading(cdd), cd_svg(cdd, key), key, label)


def _title(run: Any) -> str:
    res = run.results
    return (f"{res['method'].nunique()} methods on {res['dataset'].nunique()} datasets, "
            f"{res['metric'].nunique()} metrics")


def _forest_figure(data: dict[str, Any], label: str, fdata: dict[str, Any], table: dict[str, Any]) -> Figure:
    from evalkit.htmlreport.figures import forest_svg

    key = f"forest-{label}"
    data["figures"][key] = fdata
    scale = 100.0 if table["percent"] else 1.0
    good = [r for r in fdata["rows"] if (r["ci_low"] > 0 if fdata["higher_is_better"] else r["ci_high"] < 0)]
    bad = [r for r in fdata["rows"] if (r["ci_high"] < 0 if fdata["higher_is_better"] else r["ci_low"] > 0)]
    pct = f"{fdata['confidence'] * 100:g}%"
    reading = (f"Of {len(fdata['rows'])} comparisons with {fdata['baseline']}, {len(good)} are better and "
               f"{len(bad)} worse with the {pct} interval excluding 0; the rest are not distinguishable.")
    return Figure(key, f"{table['title']}: paired difference against {fdata['baseline']}", reading,
                  forest_svg(fdata, key, scale), key, label)


def _stability_figure(data: dict[str, Any], label: str, sdata: dict[str, Any]) -> Figure:
    from evalkit.htmlreport.figures import ranks_svg

    key = f"ranks-{label}"
    data["figures"][key] = sdata
    def order(rule: str) -> tuple[str, ...]:
        ranks = sdata["ranks"][rule]
        return tuple(sorted(sdata["methods"], key=lambda m: ranks.get(m) or 1e9))

    orders = {r: order(r) for r in sdata["rules"]}
    first = next(iter(orders.values()))
    changed = [r for r, o in orders.items() if o != first]
    reading = ("The order of the methods is the same under every rule." if not changed else
               f"The order changes under {', '.join(changed)} (against {sdata['rules'][0]}).")
    if sdata["skipped"]:
        reading += f" Not computable: {', '.join(sdata['skipped'])}."
    return Figure(key, f"{data['metrics'][label]['title']}: rank under each aggregation rule", reading,
                  ranks_svg(sdata, key), key, label)
