"""Text equivalents of the figures: each figure's embedded data as an HTML table."""

from __future__ import annotations

from typing import Any

from evalkit.htmlreport.page import data_table, esc


def figure_table(key: str, d: dict[str, Any]) -> str:
    """The table under figure ``key`` (dispatch on the key's prefix)."""
    kind = key.split("-", 1)[0]
    if kind == "forest":
        rows = [[r["method"], r["dataset"], r["split"], r["delta"], r["ci_low"], r["ci_high"], r["p_value"], r["n"]]
                for r in d["rows"]]
        note = f"<p class=\"notes\">{esc(d['test'])}; delta = method - {esc(d['baseline'])}, metric's own scale; " \
               "p two-sided (shifted-null bootstrap, Berg-Kirkpatrick et al. 2012)</p>"
        return data_table(["method", "dataset", "split", "delta", "ci low", "ci high", "p", "n"], rows,
                          numeric={3, 4, 5, 6, 7}) + note
    if kind == "rankdist":
        return _rankdist_table(d)
    if kind == "ranks":
        rows = [[m, *[d["ranks"][r].get(m) for r in d["rules"]]] for m in d["methods"]]
        notes = "".join(f"<li>{esc(r)}: {esc(t)}</li>" for r, t in d["rule_text"].items())
        notes += "".join(f"<li>{esc(r)} not computable: {esc(t)}</li>" for r, t in d["skipped"].items())
        return (data_table(["method", *d["rules"]], rows, numeric=set(range(1, len(d["rules"]) + 1)))
                + f'<ul class="notes">{notes}</ul>')
    if kind == "sts" and key == "sts-scatter":
        rows = [[p["method"], p["dataset"], p["split"], p["n"], p["spearman"], p["pearson"], p["kind"]]
                for p in d["panels"]]
        return data_table(["method", "dataset", "split", "n", "Spearman's rho", "Pearson's r", "plot"], rows,
                          numeric={3, 4, 5})
    if key == "sts-bands":
        return "".join(f"<h4>{esc(e['dataset'])}/{esc(e['split'])}</h4>" + _bands_table(e) for e in d["datasets"])
    if kind == "pr":
        rows = [[i["method"], i["n"], i["positives"], i["average_precision"]] for i in d["methods"]]
        return data_table(["method", "pairs", "positives", "average precision"], rows, numeric={1, 2, 3})
    if kind == "threshold":
        rows = [[m, t["threshold"], t["value"], t["tuned_on"]] for m, t in d["tuned"].items()]
        c = d["curves"]
        best = max(range(len(c["f1"])), key=lambda i: c["f1"][i])
        rows.append(["best F1 on these rows (oracle)", c["threshold"][best], c["f1"][best], "self"])
        rows.append(["majority class " + str(d["majority"]["label"]) + " (accuracy)", None,
                     d["majority"]["accuracy"], ""])
        return data_table(["", "threshold", "value (0-1)", "tuned on"], rows, numeric={1, 2})
    if kind == "cd":
        rows = [[m, r] for m, r in d["mean_ranks"].items()]
        groups = "".join(f"<li>{esc(', '.join(g))}</li>" for g in d.get("groups", []))
        return (data_table(["method", "mean rank"], rows, numeric={1})
                + f'<p class="notes">{esc(d.get("reading_note", ""))}</p><ul class="notes">{groups}</ul>')
    return f"<pre>{esc(d)}</pre>"


def _rankdist_table(d: dict[str, Any]) -> str:
    k = len(d["methods"])
    rows = [[m, d["rank_full"].get(m), *d["probabilities"][m], d["unranked"][m], *d["rank_interval"][m]]
            for m in d["methods"]]
    pct = f"{d['confidence'] * 100:g}%"
    cols = ["method", "rank (all rows)", *[f"P(rank {r})" for r in range(1, k + 1)], "P(unranked)",
            f"rank {pct} low", f"rank {pct} high"]
    notes = [d["test"], f"{d['rule']}: {d['rule_text']}" if d["rule_text"] else d["rule"]]
    if d["n_failed"]:
        notes.append(f"{d['n_failed']} resamples the rule could not aggregate are left out")
    if d["fixed_columns"]:
        notes.append("without stored predictions, kept at their value: " + ", ".join(d["fixed_columns"]))
    return (data_table(cols, rows, numeric=set(range(1, len(cols))))
            + f'<ul class="notes">{"".join(f"<li>{esc(n)}</li>" for n in notes)}</ul>')


def _bands_table(d: dict[str, Any]) -> str:
    bands = [f"{lo:g}-{hi:g}" for lo, hi in d["bands"]]
    rows = [[m, *v["mae"]] for m, v in d["methods"].items()]
    first = next(iter(d["methods"].values()))
    rows.append(["pairs in band", *first["n"]])
    return data_table(["method", *bands], rows, numeric=set(range(1, len(bands) + 1)))
