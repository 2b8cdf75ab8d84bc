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
    from evalkit.htmlreport.resample import Resamples
    from evalkit.interfaces import Aggregator, Metric
    from evalkit.plugins import Host


@dataclass
class ReportOptions:
    """Settings of a run report.

    Attributes:
        baseline: the method the forest plots compare against (default: the best under the first
            aggregator of the first metric).
        n_resamples, seed, confidence: the paired bootstrap of the forest plots and the rank
            distributions (default: the run's own ``--bootstrap`` settings, else 1000 resamples,
            seed 0, 95%; see :mod:`evalkit.htmlreport.resample`).
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


def _resamples(run: Any, options: ReportOptions) -> Resamples | None:
    """The shared resamples: the run's ``--bootstrap`` settings, else the options' (1000, seed 0)."""
    from evalkit.htmlreport.resample import checked_settings, resamples

    if run.predictions.empty:
        return None
    boot = run.provenance.get("bootstrap") or {}
    n = int(options.n_resamples or boot.get("n_resamples") or 1000)
    seed = int(options.seed if options.seed is not None else boot.get("seed", 0))
    confidence = float(options.confidence or boot.get("confidence") or 0.95)
    checked_settings(n, confidence)
    same = bool(boot) and (n, seed, confidence) == (boot.get("n_resamples"), boot.get("seed"), boot.get("confidence"))
    return resamples(run, n, seed, confidence, "run" if same else "report")


def build_run_report(
    sources: list[Source],
    *,
    host: Host | None = None,
    aggregators: list[tuple[str, Aggregator]] | None = None,
    options: ReportOptions | None = None,
) -> RunReport:
    """The report of one run, or of several merged (:func:`evalkit.htmlreport.runs.merge_runs`).

    Raises:
        ConfigError: unknown ``baseline``; runs sharing no dataset; bad resampling settings.
        DataError: runs that cannot be merged; unreadable predictions.
    """
    from evalkit.history import Source as _Source
    from evalkit.plugins import get_host

    host = host or get_host()
    options = options or ReportOptions()
    run = merge_runs(sources)
    merged = _Source(run, sources[0].path, sources[0].kind if len(sources) == 1 else "merged")
    aggregators = aggregators or [("mean", host.aggregators.create("mean"))]
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
    figures = _metric_sections(run, _metric_objects(merged, host), aggregators, options, host, data)
    from evalkit.htmlreport.sections import disagreement_data, pair_figures, sts_figures

    figures += sts_figures(run, data)
    figures += pair_figures(run, data)
    data["disagreements"] = disagreement_data(run, data, host, options)
    return RunReport(data, figures)


def _metric_sections(run: Any, metrics: dict[str, Metric], aggregators: list[tuple[str, Aggregator]],
                     options: ReportOptions, host: Host, data: dict[str, Any]) -> list[Figure]:
    """Per metric: the table (into ``data``), the CD diagram, the forest plot, the rank figures."""
    from evalkit.htmlreport.paired import choose_baseline, forest
    from evalkit.htmlreport.resample import replicates

    rs = _resamples(run, options)
    rules = tbl.stability_rules(host)
    tested = _tests(run, metrics, aggregators, options)
    figures: list[Figure] = []
    baseline = None
    for label, metric in metrics.items():
        table = tbl.metric_table(run, label, metric, aggregators)
        if table is None:
            continue
        data["metrics"][label] = table
        table["tests"], table["marks"] = tested.get(label, (None, None))
        if table["tests"] is not None:
            figures += [f for f in [_cd_figure(data, label, table["tests"])] if f is not None]
        baseline = baseline or choose_baseline(table, options.baseline)
        reps = replicates(rs, run, label, metric) if rs is not None and len(table["methods"]) > 1 else {}
        fdata = forest(reps, label, metric, table, baseline, rs) if reps and rs is not None else None
        if fdata is not None:
            figures.append(_forest_figure(data, label, fdata, table))
        sdata = tbl.rank_stability(run, label, metric, rules)
        if sdata is not None:
            figures.append(_stability_figure(data, label, sdata))
        if reps and rs is not None:
            figures += _rankdist_figure(data, label, reps, table, aggregators[0], rs)
    data["baseline"] = baseline
    return figures


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
    rows = [r for r in fdata["rows"] if r["ci_low"] is not None]
    good = [r for r in rows if (r["ci_low"] > 0 if fdata["higher_is_better"] else r["ci_high"] < 0)]
    bad = [r for r in rows if (r["ci_high"] < 0 if fdata["higher_is_better"] else r["ci_low"] > 0)]
    pct = f"{fdata['confidence'] * 100:g}%"
    reading = (f"Of {len(fdata['rows'])} comparisons with {fdata['baseline']}, {len(good)} are better and "
               f"{len(bad)} worse with the {pct} interval excluding 0; the rest are not distinguishable"
               + (f" ({len(fdata['rows']) - len(rows)} without an interval: undefined on most resamples)."
                  if len(rows) < len(fdata["rows"]) else "."))
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


def _rankdist_figure(data: dict[str, Any], label: str, reps: dict[str, dict[str, Any]], table: dict[str, Any],
                     rule: tuple[str, Aggregator], rs: Resamples) -> list[Figure]:
    from evalkit.htmlreport.figures import rankdist_svg
    from evalkit.htmlreport.rankdist import rank_distribution, reading

    rdata = rank_distribution(reps, table, rule, rs)
    if rdata is None or not rdata["n_used"]:
        return []
    key = f"rankdist-{label}"
    data["figures"][key] = rdata
    title = f"{table['title']}: bootstrap distribution of each method's rank under the {rule[0]} rule"
    return [Figure(key, title, reading(rdata), rankdist_svg(rdata, key), key, label)]
