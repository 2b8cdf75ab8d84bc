"""Critical-difference diagram of one metric (Demšar 2006, "Statistical Comparisons of Classifiers
over Multiple Data Sets", JMLR 7, Fig. 1), drawn from the tests of :mod:`evalkit.ranktests`.

The axis carries the mean ranks (1 = best, on the left); each method hangs from its mean rank,
the better half labelled on the left, the rest on the right. A thick bar joins the methods of each
group the post-hoc test cannot tell apart: the groups of the first post-hoc that reports groups
(``wilcoxon_holm``, the default after Benavoli et al. 2016, or ``nemenyi``). With Nemenyi the
critical difference is drawn above the axis as in Demšar's figure.
"""

from __future__ import annotations

from typing import Any

from evalkit.htmlreport.svg import figure, label, to_svg

#: Post-hoc objects of the tests, in the order the diagram prefers their groups.
GROUPED = (("wilcoxon_holm", "Wilcoxon signed-rank, Holm-corrected"), ("nemenyi", "Nemenyi"))


def cd_data(tests: dict[str, Any], metric: str) -> dict[str, Any] | None:
    """The diagram's data: ``mean_ranks``, ``groups``, ``posthoc``, ``cd`` (Nemenyi) and ``friedman``."""
    ranks = tests.get("mean_ranks") or {}
    if len(ranks) < 2:
        return None
    chosen = next(((key, name) for key, name in GROUPED if isinstance(tests.get(key), dict)
                   and "groups" in tests[key]), None)
    nemenyi = tests.get("nemenyi") if isinstance(tests.get("nemenyi"), dict) else None
    friedman = tests.get("friedman") or {}
    return {
        "metric": metric,
        "mean_ranks": {str(k): float(v) for k, v in ranks.items()},
        "posthoc": chosen[1] if chosen else None,
        "groups": [list(g) for g in (tests[chosen[0]]["groups"] if chosen else [])],
        "cd": nemenyi.get("cd") if nemenyi else None,
        "alpha": tests.get("alpha"),
        "friedman_p": friedman.get("p_value"),
        "n_datasets": tests.get("n_datasets"),
        "summary": tests.get("summary"),
        "reading_note": tests.get("summary") or "",
    }


def cd_svg(data: dict[str, Any], fig_id: str) -> str:
    """The diagram as inline SVG."""
    ranks = sorted(data["mean_ranks"].items(), key=lambda kv: kv[1])
    k = len(ranks)
    left, right = ranks[: (k + 1) // 2], ranks[(k + 1) // 2:]
    rows = max(len(left), len(right))
    groups = [g for g in data["groups"] if len(g) > 1]
    with figure(6.4, 1.1 + 0.28 * rows + 0.12 * len(groups)) as fig:
        ax = fig.add_axes((0.22, 0.02, 0.56, 0.96))
        ax.set_axis_off()
        ax.set_xlim(0.6, k + 0.4)
        ax.set_ylim(-(rows + 1.2 + 0.4 * len(groups)), 1.6)
        ax.hlines(0, 1, k, color="#222", lw=1)
        for t in range(1, k + 1):
            ax.vlines(t, 0, 0.18, color="#222", lw=1)
            ax.text(t, 0.3, str(t), ha="center", va="bottom", fontsize=8)
        if data["cd"]:
            ax.hlines(1.2, 1, 1 + data["cd"], color="#D55E00", lw=2)
            ax.text(1 + data["cd"] / 2, 1.28, f"CD = {data['cd']:.2f}", ha="center", va="bottom", fontsize=7,
                    color="#D55E00")
        for i, (name, r) in enumerate(left):
            y = -(i + 0.9)
            ax.plot([r, r, 0.75], [0, y, y], color="#0072B2", lw=0.9)
            ax.text(0.72, y, label(f"{name} ({r:.2f})", 40), ha="right", va="center", fontsize=8)
        for i, (name, r) in enumerate(right):
            y = -(i + 0.9)
            ax.plot([r, r, k + 0.25], [0, y, y], color="#0072B2", lw=0.9)
            ax.text(k + 0.28, y, label(f"{name} ({r:.2f})", 40), ha="left", va="center", fontsize=8)
        for j, g in enumerate(groups):
            xs = [data["mean_ranks"][m] for m in g if m in data["mean_ranks"]]
            y = -(rows + 0.8 + 0.4 * j)
            ax.hlines(y, min(xs) - 0.03, max(xs) + 0.03, color="#000", lw=3.5)
        return to_svg(fig, fig_id)


def reading(data: dict[str, Any]) -> str:
    """One line: the tests' summary (Friedman and the post-hoc) and what the bars mean."""
    p = data.get("friedman_p")
    head = data.get("summary") or (f"Friedman p = {p:.3g} over {data['n_datasets']} datasets" if p is not None
                                   else "no Friedman test")
    bars = f" Thick bars join methods that {data['posthoc']} cannot tell apart." if data["posthoc"] else ""
    return head[:1].upper() + head[1:] + "." + bars
