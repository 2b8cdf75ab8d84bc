"""``evalkit leaderboard --format html``: the re-ranked board as one self-contained page.

The page has the summary line of each human baseline ("the human baseline ranks 16th of 97
under the mean, 16th under the geometric mean, ..."), the board's table with the human rows
highlighted, and a figure of the ranks of the leading systems and the human baselines under every
rule, drawn with :mod:`evalkit.htmlreport` (inline SVG, data embedded as JSON).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from evalkit.htmlreport.figures import ranks_svg
from evalkit.htmlreport.generic import table_html
from evalkit.htmlreport.page import data_table, document, esc, figure_html

if TYPE_CHECKING:
    from .ranking import Reranking

#: Systems shown in the rank figure besides the human baselines.
FIGURE_TOP = 10
#: Boards with more systems (complete rows) get no CD diagram: its labels would overlap.
CD_MAX = 30


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``12th``, ``13th``, ``21st``, ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def rule_name(label: str, agg: Any) -> str:
    """How a summary line names a rule: its label, with the means spelt out."""
    names = {"mean": "the mean", "geometric": "the geometric mean", "harmonic": "the harmonic mean",
             "median": "the median", "borda": "Borda", "copeland": "Copeland", "avg_rank": "the average rank",
             "win_rate": "the win rate"}
    return names.get(label, label)


def human_summaries(result: Reranking) -> list[dict[str, Any]]:
    """Per human baseline: its rank of the ranked systems under each rule, and the sentence."""
    out = []
    for human in result.humans:
        parts, ranks = [], {}
        for label, agg in result.rules:
            rk = float(result.scores[f"{label}_rank"][human])
            ranked = int(result.scores[f"{label}_rank"].notna().sum())
            if math.isnan(rk):
                parts.append(f"unranked under {rule_name(label, agg)}")
                ranks[label] = {"rank": None, "of": ranked}
                continue
            ranks[label] = {"rank": int(rk), "of": ranked}
            first = next(iter(ranks.values()))["of"]
            of = f" of {ranked}" if not parts or ranked != first else ""  # "of N" again when N changes
            parts.append(f"{ordinal(int(rk))}{of} under {rule_name(label, agg)}")
        out.append({"system": human, "ranks": ranks,
                    "sentence": f"The human baseline {human} ranks " + ", ".join(parts) + "."})
    return out


def _figure_data(result: Reranking) -> dict[str, Any]:
    order = result.order()
    shown = list(dict.fromkeys([*order[:FIGURE_TOP], *result.humans]))
    rules = [label for label, _ in result.rules]
    ranks: dict[str, dict[str, float | None]] = {}
    for r in rules:
        col = result.scores[f"{r}_rank"].astype(float)
        ranks[r] = {s: None if math.isnan(col[s]) else float(col[s]) for s in shown}
    return {"rules": rules, "methods": shown, "ranks": ranks, "humans": result.humans,
            "skipped": {}, "rule_text": {label: agg.rule for label, agg in result.rules}}


def leaderboard_html(result: Reranking, report: Any) -> str:
    """The page: summary lines, the table (human rows highlighted), the rank figure, the payload."""
    summaries = human_summaries(result)
    fig = _figure_data(result)
    data = {**report.payload, "human_summaries": summaries, "figures": {"ranks-board": fig}}
    body = "".join(f'<p class="human-summary"><strong>{esc(s["sentence"])}</strong></p>' for s in summaries)
    highlight = {h: {"human"} for h in result.humans}
    body += "".join(table_html(t, highlight=highlight) for t in report.tables)
    fig["figure_number"] = 1
    rows = [[m, *[fig["ranks"][r].get(m) for r in fig["rules"]]] for m in fig["methods"]]
    table = data_table(["system", *fig["rules"]], rows, numeric=set(range(1, len(fig["rules"]) + 1)),
                       row_classes=["human" if m in result.humans else "" for m in fig["methods"]])
    top = min(FIGURE_TOP, len(result.order()))
    line = (summaries[0]["sentence"] if summaries else
            f"Ranks of the top {top} systems under each rule; a crossing line is a change of order.")
    body += figure_html(1, "ranks-board", f"Rank of the top {top} systems and the human baselines under each rule",
                        line, ranks_svg(fig, "ranks-board", highlight=result.humans), table)
    tests = report.payload.get("tests")
    if isinstance(tests, dict):
        from evalkit.htmlreport.cd import cd_data, cd_svg, reading
        from evalkit.htmlreport.figtables import figure_table

        cdd = cd_data(tests, "score")
        if cdd is not None and len(cdd["mean_ranks"]) <= CD_MAX:  # beyond, labels cannot be read
            cdd["figure_number"] = 2
            data["figures"]["cd-board"] = cdd
            body += figure_html(2, "cd-board", "Critical-difference diagram of mean ranks over the tasks "
                                "(Demšar 2006, Fig. 1)", reading(cdd), cd_svg(cdd, "cd-board"),
                                figure_table("cd-board", cdd))
    title = report.tables[0].title if report.tables else "leaderboard"
    return document(f"evalkit leaderboard: {title}", body, data)
