"""Task sections of a run report: STS figures, pair-classification figures, disagreements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.htmlreport import tasks

if TYPE_CHECKING:
    from evalkit.htmlreport.build import Figure, ReportOptions
    from evalkit.plugins import Host
    from evalkit.results import RunResult


def _fig(*args: Any) -> Figure:
    from evalkit.htmlreport.build import Figure

    return Figure(*args)


def sts_figures(run: RunResult, data: dict[str, Any]) -> list[Figure]:
    """Predicted-vs-gold small multiples and, per dataset, the error by gold band."""
    import numpy as np

    from evalkit.htmlreport.figures import bands_svg, sts_scatter_svg

    sts_cells = tasks.cells(run, "sts")
    panels = tasks.sts_panels(run, sts_cells)
    if not panels:
        return []
    out = []
    points = {}
    for method, dataset, _split, g in sts_cells:
        points[(method, dataset)] = (g["prediction"].to_numpy(dtype=np.float64),
                                     g["reference"].to_numpy(dtype=np.float64))
    key = "sts-scatter"
    data["figures"][key] = {"panels": panels, "hexbin_from": tasks.HEXBIN_FROM}
    rated = [p for p in panels if p["spearman"] is not None]
    best = max(rated, key=lambda p: p["spearman"]) if rated else None
    reading = ("Each panel plots one method's score (x) against the gold score (y); a tight monotone band "
               "means a high Spearman's rho." + (f" Highest rho: {best['method']} on {best['dataset']} "
                                                 f"({best['spearman'] * 100:.1f})." if best else ""))
    out.append(_fig(key, "STS: predicted vs gold (hexbin above "
                    f"{tasks.HEXBIN_FROM} pairs)", reading, sts_scatter_svg(panels, points, key), key, "sts"))
    entries = tasks.sts_bands(run, sts_cells)
    if entries:
        key = "sts-bands"
        data["figures"][key] = {"datasets": entries}
        out.append(_fig(key, "STS: error by gold-score band, per dataset", _bands_reading(entries),
                        bands_svg(entries, key), key, "sts"))
    return out


def _bands_reading(entries: list[dict[str, Any]]) -> str:
    """Where the methods err most: the band most methods of most datasets err most in."""
    worst: list[str] = []
    for entry in entries:
        for v in entry["methods"].values():
            if any(e is not None for e in v["mae"]):
                k = max((e, i) for i, e in enumerate(v["mae"]) if e is not None)[1]
                lo, hi = entry["bands"][k]
                worst.append(f"{lo:g}-{hi:g}")
    text = ("Mean absolute error of each method's scores mapped linearly onto the gold scale, by gold band, "
            "the datasets side by side.")
    if worst:
        common = max(set(worst), key=worst.count)
        text += f" The largest error falls in band {common} for {worst.count(common)} of {len(worst)} method-datasets."
    return text


def pair_figures(run: RunResult, data: dict[str, Any]) -> list[Figure]:
    """Per pair-classification dataset: the PR curves, then F1/accuracy vs threshold per method."""
    from evalkit.htmlreport.figures import pr_svg, threshold_svg

    items = tasks.pair_curves(run)
    out = []
    for dataset in dict.fromkeys(i["dataset"] for i in items):
        these = [i for i in items if i["dataset"] == dataset]
        key = f"pr-{dataset}"
        data["figures"][key] = {"dataset": dataset, "methods": these}
        best = max(these, key=lambda i: i["average_precision"])
        reading = (f"Highest average precision: {best['method']} ({best['average_precision'] * 100:.1f}); "
                   f"a classifier guessing at random stays at the positive rate "
                   f"({these[0]['positives'] / these[0]['n'] * 100:.1f}).")
        out.append(_fig(key, f"{dataset}: precision-recall curves", reading, pr_svg(these, key), key, "pairs"))
        for item in these:
            key = f"threshold-{dataset}-{item['method']}"
            data["figures"][key] = item
            best_f1 = max(item["curves"]["f1"]) * 100
            tuned = item["tuned"]
            at = "; ".join(f"{m} at the tuned threshold {t['threshold']:.3g}: {t['value'] * 100:.1f}"
                           for m, t in tuned.items())
            reading = (f"Best F1 over all thresholds on these rows (an oracle): {best_f1:.1f}"
                       + (f"; {at}" if at else "")
                       + f"; majority-class accuracy {item['majority']['accuracy'] * 100:.1f}.")
            out.append(_fig(key, f"{dataset}, {item['method']}: F1 and accuracy against the threshold",
                            reading, threshold_svg(item, key), key, "pairs"))
    return out


def disagreement_data(run: RunResult, data: dict[str, Any], host: Host, options: ReportOptions) -> list[Any]:
    """The largest disagreements between the baseline and the best other method."""
    from evalkit.htmlreport.texts import disagreements

    baseline = data.get("baseline")
    if baseline is None or not data["metrics"]:
        return []
    first = next(iter(data["metrics"].values()))
    ranks: dict[str, float | None] = next(iter(first["ranks"].values()), {})
    others = [m for m in first["methods"] if m != baseline and ranks.get(m) is not None]
    if not others:
        return []
    other = min(others, key=lambda m: ranks[m] or 0.0)
    return disagreements(run, baseline, other, host, data_dir=options.data_dir, top_k=options.top_k)
