"""Render a :class:`~evalkit.htmlreport.build.RunReport` to one self-contained HTML page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.htmlreport.page import data_table, document, esc, figure_html, fmt, kv_table

if TYPE_CHECKING:
    from evalkit.htmlreport.build import Figure, RunReport

#: The only external links a report holds: the papers its methods come from.
CITATIONS = {
    "demsar2006": ("Demšar (2006), Statistical Comparisons of Classifiers over Multiple Data Sets, JMLR 7",
                   "https://jmlr.org/papers/v7/demsar06a.html"),
    "benavoli2016": ("Benavoli, Corani & Mangili (2016), Should We Really Use Post-Hoc Tests Based on "
                     "Mean-Ranks?, JMLR 17", "https://jmlr.org/papers/v17/benavoli16a.html"),
    "bergkirkpatrick2012": ("Berg-Kirkpatrick, Burkett & Klein (2012), An Empirical Investigation of "
                            "Statistical Significance in NLP, EMNLP", "https://aclanthology.org/D12-1091/"),
}


def _header(data: dict[str, Any]) -> str:
    runs = data["runs"]
    parts = [f"<p>Compared: <strong>{esc(', '.join(data['methods']))}</strong> on "
             f"<strong>{esc(', '.join(data['datasets']))}</strong>, by "
             f"{esc(', '.join(m['title'] for m in data['metrics'].values()))}. Report generated "
             f"{esc(data['generated'])}.</p>"]
    rows = [[r["run_id"], (r.get("started") or "")[:19].replace("T", " "), r.get("suite") or "",
             r.get("evalkit_version") or "", (r.get("git_commit") or "")[:14], r["path"]] for r in runs]
    parts.append(data_table(["run", "started (UTC)", "suite", "evalkit", "git commit", "path"], rows))
    for r in runs:
        prov = [("python", r.get("python")), ("platform", r.get("platform")), ("tuned on", r.get("tune_on")),
                ("data folder", r.get("data_dir")), ("bootstrap", r.get("bootstrap"))]
        prov += [(f"plugin {k}", v) for k, v in sorted(r["plugins"].items())]
        prov += [(f"method {k}", f"{v['method']} {v['params']}") for k, v in r["methods"].items()]
        prov += [(f"sha256 {k}", v) for k, v in sorted(r["data_files"].items())]
        parts.append(f"<details><summary>Provenance of run {esc(r['run_id'])}</summary>{kv_table(prov)}</details>")
    return "".join(parts)


def _cell(table: dict[str, Any], method: str, col: str, scale: float) -> str:
    v = table["values"][method].get(col)
    ci = (table["intervals"] or {}).get(method, {}).get(col)
    best = method in table["best"].get(col, [])
    marks = table.get("marks") or {}
    same = bool((marks.get("indistinct") or {}).get(method, {}).get(col)) and not best
    inner = esc(fmt(None if v is None else v * scale)) + ("\u2020" if same else "")
    if ci:
        inner += f'<span class="ci">[{esc(fmt(ci[0] * scale))}, {esc(fmt(ci[1] * scale))}]</span>'
    cls = "num win" if best else ("num same" if same else "num")
    return f'<td class="{cls}" data-v="{"" if v is None else esc(v)}">{inner}</td>'


def metric_table_html(table: dict[str, Any]) -> str:
    """One metric's table: value (and interval) per dataset, best cell highlighted; aggregates, ranks."""
    scale = 100.0 if table["percent"] else 1.0
    cols = table["datasets"]
    rules = list(table["aggregates"])
    head = ('<th>method</th>' + "".join(f'<th class="num">{esc(c)}</th>' for c in cols)
            + "".join(f'<th class="num">{esc(r)}</th><th class="num">{esc(r)} rank</th>' for r in rules))
    body = []
    for m in table["methods"]:
        cells = "".join(_cell(table, m, c, scale) for c in cols)
        for r in rules:
            v, rk = table["aggregates"][r].get(m), table["ranks"][r].get(m)
            shown = None if v is None else v * (scale if table["value_like"][r] else 1.0)
            cells += (f'<td class="num" data-v="{"" if v is None else esc(v)}">{esc(fmt(shown))}</td>'
                      f'<td class="num" data-v="{"" if rk is None else esc(rk)}">{esc(fmt(rk, 0))}</td>')
        body.append(f"<tr><td>{esc(m)}</td>{cells}</tr>")
    direction = "higher is better" if table["higher_is_better"] else "lower is better"
    caption = (f"{table['title']}{' x 100' if scale != 1 else ''}, split: {', '.join(table['splits'])} "
               f"({direction})")
    notes = [f"{k}: {v}" for k, v in table["rules"].items()]
    notes.append("highlighted: the best value of each column (ties all highlighted)")
    marks = table.get("marks") or {}
    if marks:
        notes.append("\u2020 (underlined): not significantly worse than the column's best"
                     + (f" ({marks['legend']})" if marks.get("legend") else ""))
    if table.get("tests"):
        from evalkit.ranktests import table_notes

        notes.extend(table_notes(table["tests"]))
    if table["intervals"]:
        notes.append("under each value: the bootstrap interval stored with the run (paired bootstrap over "
                     "the dataset's examples)")
    notes.append("pairs per dataset: " + ", ".join(f"{d} {n}" for d, n in table["n"].items()))
    return (f'<h3>{esc(caption)}</h3><table class="sortable"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>'
            f'<ul class="notes">{"".join(f"<li>{esc(n)}</li>" for n in notes)}</ul>')


def figure_data_html(fig: Figure, data: dict[str, Any]) -> str:
    """The figure's text equivalent: its data as a table."""
    from evalkit.htmlreport.figtables import figure_table

    return figure_table(fig.data_key, data["figures"][fig.data_key])


def _disagreements_html(items: list[dict[str, Any]]) -> str:
    parts = []
    for it in items:
        cols = ["row", "gold", f"{it['method_a']} (score, percentile)", f"{it['method_b']} (score, percentile)",
                "sentence 1", "sentence 2"]
        rows = [[r["row"], fmt(r["gold"], 2), f"{r['prediction_a']:.3f} ({r['rank_a'] * 100:.0f})",
                 f"{r['prediction_b']:.3f} ({r['rank_b'] * 100:.0f})", r.get("sentence1", ""),
                 r.get("sentence2", "")] for r in it["rows"]]
        parts.append(f"<h3>{esc(it['dataset'])}/{esc(it['split'])}: {esc(it['method_a'])} vs "
                     f"{esc(it['method_b'])}</h3>" + data_table(cols, rows)
                     + (f'<p class="notes">{esc(it["note"])}</p>' if it["note"] else ""))
    return "".join(parts)


def render_run_report(report: RunReport) -> str:
    """The whole page of a run report."""
    data = report.data
    numbered = {f.fig_id: i + 1 for i, f in enumerate(report.figures)}
    for f in report.figures:
        data["figures"][f.data_key]["figure_number"] = numbered[f.fig_id]
    sections: list[tuple[str, str, str]] = []
    for label, table in data["metrics"].items():
        figs = [f for f in report.figures if f.section == label]
        sections.append((f"metric-{label}", table["title"], metric_table_html(table) + _figures(figs, data, numbered)))
    for key, title in (("sts", "Semantic textual similarity"), ("pairs", "Pair classification")):
        figs = [f for f in report.figures if f.section == key]
        if figs:
            sections.append((key, title, _figures(figs, data, numbered)))
    if data.get("disagreements"):
        sections.append(("disagreements", "Largest disagreements", '<p class="sub">Pairs the two methods rank most '
                         "differently (percentile of each method's score on the dataset).</p>"
                         + _disagreements_html(data["disagreements"])))
    nav = "<nav><ol>" + "".join(f'<li><a href="#{esc(i)}">{esc(t)}</a></li>' for i, t, _ in sections) + "</ol></nav>"
    body = _header(data) + nav + "".join(f'<section id="{esc(i)}"><h2>{esc(t)}</h2>{b}</section>'
                                         for i, t, b in sections)
    body += _footer()
    return document(f"evalkit report: {data['title']}", body, data,
                    subtitle=f"baseline for paired differences: {data.get('baseline')}")


def _figures(figs: list[Figure], data: dict[str, Any], numbered: dict[str, int]) -> str:
    return "".join(figure_html(numbered[f.fig_id], f.fig_id, f.title, f.reading, f.svg, figure_data_html(f, data))
                   for f in figs)


def _footer() -> str:
    refs = "".join(f'<li><a class="cite" rel="noreferrer" href="{esc(url)}">{esc(text)}</a></li>'
                   for text, url in CITATIONS.values())
    return f"<footer>Made by evalkit; no network needed to read it. References:<ol>{refs}</ol></footer>"
