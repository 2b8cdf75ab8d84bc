"""The report's figures, each drawn from exactly the data dict embedded in the page.

Every function takes the figure's data (as :mod:`evalkit.htmlreport.build` stores it under
``figures``) and a figure id, and returns an inline ``<svg>``; values are shown on the metric's
table scale (``scale`` = 100 for percent metrics).
"""

from __future__ import annotations

from typing import Any

from evalkit.htmlreport.svg import PALETTE, figure, label, to_svg


def forest_svg(data: dict[str, Any], fig_id: str, scale: float) -> str:
    """Paired differences vs the baseline: a point and interval per (method, dataset) row."""
    rows = data["rows"]
    height = 0.9 + 0.24 * len(rows)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    with figure(6.4, height) as fig:
        ax = fig.add_subplot()
        ys = list(range(len(rows)))[::-1]
        for k, m in enumerate(methods):
            colour = PALETTE[k % len(PALETTE)]
            mine = [(y, r) for y, r in zip(ys, rows, strict=True) if r["method"] == m]
            ok = [(y, r) for y, r in mine if r["ci_low"] is not None]
            if ok:
                ax.errorbar([r["delta"] * scale for _, r in ok], [y for y, _ in ok],
                            xerr=[[(r["delta"] - r["ci_low"]) * scale for _, r in ok],
                                  [(r["ci_high"] - r["delta"]) * scale for _, r in ok]],
                            fmt="o", color=colour, ms=4, capsize=2, lw=1.2)
            bare = [(y, r) for y, r in mine if r["ci_low"] is None]  # undefined on most resamples
            if bare:
                ax.plot([r["delta"] * scale for _, r in bare], [y for y, _ in bare], "o", mfc="none", color=colour,
                        ms=4)
        ax.axvline(0, color="#555", lw=0.8, ls="--")
        ax.set_yticks(ys, [label(f"{r['method']} on {r['dataset']}", 48) for r in rows])
        unit = " x 100" if scale != 1 else ""
        ax.set_xlabel(label(f"{data['metric']}{unit}: method - {data['baseline']} "
                            f"({'higher' if data['higher_is_better'] else 'lower'} is better)", 90))
        ax.set_ylim(-0.7, len(rows) - 0.3)
        return to_svg(fig, fig_id)


def ranks_svg(data: dict[str, Any], fig_id: str, *, highlight: list[str] | None = None) -> str:
    """Each method's rank under every rule (a line per method across the rules).

    Methods in ``highlight`` (human baselines) are drawn thick and black.
    """
    rules, methods = data["rules"], data["methods"]
    highlight = highlight or []
    worst = max([v for r in rules for v in data["ranks"][r].values() if v is not None] or [len(methods)])
    with figure(6.4, 2.6 if len(methods) <= 8 else 3.6) as fig:
        ax = fig.add_subplot()
        for i, m in enumerate(methods):
            ys = [data["ranks"][r].get(m) for r in rules]
            xs = [x for x, y in zip(range(len(rules)), ys, strict=True) if y is not None]
            human = m in highlight
            ax.plot(xs, [y for y in ys if y is not None], "o-", color="#000" if human else PALETTE[i % len(PALETTE)],
                    label=label(m, 30) + (" (human)" if human else ""), lw=2.6 if human else 1.3, ms=5)
        ax.set_xticks(range(len(rules)), [label(r, 20) for r in rules])
        ax.set_ylabel("rank (1 = best)")
        ax.set_ylim(worst + 0.5, 0.5)
        if worst <= 12:
            ax.set_yticks(range(1, int(worst) + 1))
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7 if len(methods) > 8 else 8)
        return to_svg(fig, fig_id)


def sts_scatter_svg(panels: list[dict[str, Any]], points: dict[tuple[str, str], Any], fig_id: str) -> str:
    """Predicted vs gold small multiples: rows datasets, columns methods (vector hexbin when large).

    The panels share one set of axes, each in its own unit cell with a frame: x runs over the
    method's score range (printed under each column), y over the dataset's gold range (printed
    left of each row), so the figure costs a few artists per panel instead of a full matplotlib
    Axes with ticks. Each panel prints Spearman's rho (x 100) and n; a hexbin has
    :data:`HEX_GRID` cells across.
    """
    datasets = list(dict.fromkeys(p["dataset"] for p in panels))
    methods = list(dict.fromkeys(p["method"] for p in panels))
    by = {(p["method"], p["dataset"]): p for p in panels}
    xr = {m: _range([points[k][0] for k in points if k[0] == m]) for m in methods}
    yr = {d: _range([points[k][1] for k in points if k[1] == d]) for d in datasets}
    rows, cols = len(datasets), len(methods)
    with figure(1.3 * cols + 1.1, 1.1 * rows + 0.7) as fig:
        ax = fig.add_axes((0.9 / (1.3 * cols + 1.1), 0.35 / (1.1 * rows + 0.7),
                           1.3 * cols / (1.3 * cols + 1.1) - 0.01, 1.1 * rows / (1.1 * rows + 0.7)))
        ax.set_axis_off()
        ax.set_xlim(0, cols)
        ax.set_ylim(0, rows + 0.25)
        for i, d in enumerate(datasets):
            top = rows - i
            ax.text(-0.06, top - 0.5, label(d, 16) + f"\ngold {yr[d][0]:.3g}-{yr[d][1]:.3g}", fontsize=6.5,
                    ha="right", va="center")
            for j, m in enumerate(methods):
                if i == 0:
                    ax.text(j + 0.5, rows + 0.05, label(m, 22), fontsize=7, ha="center", va="bottom")
                if i == rows - 1:
                    ax.text(j + 0.5, -0.04, f"{xr[m][0]:.3g} .. {xr[m][1]:.3g}", fontsize=6, ha="center", va="top")
                p = by.get((m, d))
                if p is not None:
                    _sts_panel(ax, p, points[(m, d)], (j, top - 1), xr[m], yr[d])
        ax.text(cols / 2, -0.22, "prediction (the method's score; its range under each column)", fontsize=7,
                ha="center", va="top")
        return to_svg(fig, fig_id)


#: Hexagons across a predicted-vs-gold panel (few: every one is a vector path in the SVG).
HEX_GRID = 12
#: Margin inside each panel's unit cell.
_PAD = 0.06


def _range(arrays: list[Any]) -> tuple[float, float]:
    lo = min(float(a.min()) for a in arrays)
    hi = max(float(a.max()) for a in arrays)
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def _sts_panel(ax: Any, p: dict[str, Any], xy: Any, corner: tuple[int, int],
               xr: tuple[float, float], yr: tuple[float, float]) -> None:
    """One panel in the unit cell at ``corner``: x and y mapped linearly from their ranges."""
    from matplotlib.patches import Rectangle

    x0, y0 = corner
    x = x0 + _PAD + (1 - 2 * _PAD) * (xy[0] - xr[0]) / (xr[1] - xr[0])
    y = y0 + _PAD + (1 - 2 * _PAD) * (xy[1] - yr[0]) / (yr[1] - yr[0])
    # clip_on=False: everything lies inside its cell, and a clipped artist costs a <g clip-path>
    # element per hexagon or point in the SVG.
    ax.add_patch(Rectangle((x0 + 0.02, y0 + 0.02), 0.96, 0.96, fill=False, lw=0.6, ec="#999", clip_on=False))
    if p["kind"] == "hexbin":
        ax.hexbin(x, y, gridsize=HEX_GRID, cmap="Blues", mincnt=1, linewidths=0, clip_on=False,
                  extent=(x0 + _PAD, x0 + 1 - _PAD, y0 + _PAD, y0 + 1 - _PAD))
    else:
        ax.scatter(x, y, s=3, alpha=0.35, color=PALETTE[0], linewidths=0, clip_on=False)
    rho = "n/a" if p["spearman"] is None else f"{p['spearman'] * 100:.1f}"
    ax.text(x0 + 0.06, y0 + 0.94, f"rho {rho}, n {p['n']}", fontsize=5.5, va="top", ha="left")


def bands_svg(entries: list[dict[str, Any]], fig_id: str) -> str:
    """Calibrated mean absolute error per gold band, a line per method, the datasets side by side
    on one axis (a block of bands per dataset, named above it)."""
    methods = list(dict.fromkeys(m for e in entries for m in e["methods"]))
    starts, ticks, names = [], [], []
    x = 0
    for e in entries:
        starts.append(x)
        ticks += [x + k for k in range(len(e["bands"]))]
        names += [f"{lo:g}" for lo, _ in e["bands"]]
        x += len(e["bands"]) + 1
    with figure(max(4.2, 0.26 * x + 1.8), 2.6) as fig:
        ax = fig.add_subplot()
        for i, m in enumerate(methods):
            xs: list[float] = []
            ys: list[float] = []
            for start, e in zip(starts, entries, strict=True):
                mae = e["methods"].get(m, {}).get("mae", [])
                xs += [start + k for k, v in enumerate(mae) if v is not None] + [float("nan")]
                ys += [v for v in mae if v is not None] + [float("nan")]
            ax.plot(xs, ys, "o-", color=PALETTE[i % len(PALETTE)], label=label(m, 30), ms=2.5, lw=1)
        ax.set_xticks(ticks, names, fontsize=6)
        top = ax.get_ylim()[1]
        for start, e in zip(starts, entries, strict=True):
            ax.text(start + (len(e["bands"]) - 1) / 2, top, label(e["dataset"], 14), ha="center", va="bottom",
                    fontsize=7)
        ax.set_xlabel("gold band (lower edge, gold units), per dataset")
        ax.set_ylabel("mean |error|, gold units")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
        return to_svg(fig, fig_id)


def threshold_svg(data: dict[str, Any], fig_id: str) -> str:
    """F1 and accuracy (x 100) against the threshold; the tuned threshold and majority baseline."""
    c = data["curves"]
    with figure(4.4, 2.5) as fig:
        ax = fig.add_subplot()
        ax.plot(c["threshold"], [v * 100 for v in c["f1"]], color=PALETTE[0], label="F1", lw=1.3)
        ax.plot(c["threshold"], [v * 100 for v in c["accuracy"]], color=PALETTE[1], label="accuracy", lw=1.3)
        ax.axhline(data["majority"]["accuracy"] * 100, color="#777", ls=":", lw=1,
                   label="majority-class accuracy")
        for k, (metric, t) in enumerate(data["tuned"].items()):
            ax.axvline(t["threshold"], color=PALETTE[2 + k], ls="--", lw=1,
                       label=label(f"{metric} threshold ({t['tuned_on'] or 'tuned'})", 50))
        ax.set_xlabel(label(f"threshold on {data['method']}'s score", 60))
        ax.set_ylabel("x 100")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
        return to_svg(fig, fig_id)


def pr_svg(items: list[dict[str, Any]], fig_id: str) -> str:
    """Precision-recall curves of every method on one dataset, with the positive rate."""
    with figure(4.4, 2.6) as fig:
        ax = fig.add_subplot()
        for i, d in enumerate(items):
            ax.plot(d["pr"]["recall"], [p * 100 for p in d["pr"]["precision"]], color=PALETTE[i % len(PALETTE)],
                    lw=1.3, label=label(f"{d['method']} (AP {d['average_precision'] * 100:.1f})", 44))
        rate = items[0]["positives"] / items[0]["n"] * 100
        ax.axhline(rate, color="#777", ls=":", lw=1, label=f"positive rate {rate:.1f}")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision x 100")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
        return to_svg(fig, fig_id)


def rankdist_svg(data: dict[str, Any], fig_id: str) -> str:
    """Stacked bars of ``P(rank = k)`` per method (best full-data rank on top), darkest for rank 1."""
    import matplotlib

    probs, methods = data["probabilities"], data["methods"]
    order = sorted(methods, key=lambda m: (data["rank_full"].get(m) or 1e9, methods.index(m)))
    k = len(methods)
    cmap = matplotlib.colormaps["viridis"]
    with figure(6.4, 0.8 + 0.28 * k) as fig:
        ax = fig.add_subplot()
        ys = list(range(k))[::-1]
        left = [0.0] * k
        for r in range(k):
            widths = [probs[m][r] * 100 for m in order]
            if not any(widths):
                continue
            ax.barh(ys, widths, left=left, height=0.7, color=cmap(r / max(k - 1, 1)), linewidth=0,
                    label=f"rank {r + 1}")
            left = [a + w for a, w in zip(left, widths, strict=True)]
        ax.set_yticks(ys, [label(m, 40) for m in order])
        ax.set_xlim(0, 100)
        ax.set_xlabel(label(f"% of {data['n_used']} bootstrap resamples ({data['rule']} rule)", 80))
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7 if k > 8 else 8,
                  ncol=1 if k <= 12 else 2)
        return to_svg(fig, fig_id)
