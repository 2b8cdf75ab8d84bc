"""The HTML shell shared by every report page: inline CSS, escaping, the embedded JSON data.

Everything that comes from data or configuration goes through :func:`esc` (``html.escape`` with
quotes); the JSON data is embedded in ``<script type="application/json" id="evalkit-data">`` with
``<``, ``>`` and ``&`` written as ``\\u003c``, ``\\u003e``, ``\\u0026`` so that no string in it
can close the element. The page loads nothing from the network and needs no JavaScript; a small
inline script only makes table headers sortable.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

CSS = """
:root{--fg:#1b1b1b;--muted:#5c5c5c;--line:#d0d0d0;--win:#e3f1e0;--accent:#0072B2}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);
 max-width:1100px;margin:0 auto;padding:24px 28px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:34px 0 8px;border-bottom:2px solid var(--line);
 padding-bottom:4px}h3{font-size:15px;margin:22px 0 6px}
.sub{color:var(--muted);margin:0 0 14px}
table{border-collapse:collapse;margin:8px 0 6px;font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{text-align:left;font-weight:600;background:#f6f6f6}
td.num,th.num{text-align:right}td.win{background:var(--win);font-weight:700}td.same{text-decoration:underline}
.ci{display:block;font-size:11px;color:var(--muted);font-weight:400;white-space:nowrap}
.notes{color:var(--muted);font-size:12.5px;margin:2px 0 10px;padding-left:18px}
figure{margin:18px 0 22px;break-inside:avoid;page-break-inside:avoid}
figcaption{margin:0 0 6px}figcaption .reading{display:block;color:var(--muted)}
figure svg{max-width:100%;height:auto}
details{margin:4px 0 0}summary{cursor:pointer;color:var(--accent);font-size:12.5px}
.kv td:first-child{color:var(--muted);white-space:nowrap}
.sent{max-width:380px}.human{background:#fff3c4;font-weight:700}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
nav ol{columns:2;font-size:13px}
footer{margin-top:40px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:8px}
@media print{body{max-width:none;padding:0;font-size:11px}nav{display:none}h2{break-after:avoid}
 details{display:block}details>summary{display:none}a{color:inherit;text-decoration:none}}
"""

SORT_JS = """
document.querySelectorAll("table.sortable th").forEach(function(th,i){th.title="sort";
th.addEventListener("click",function(){var t=th.closest("table"),b=t.tBodies[0],
r=Array.prototype.slice.call(b.rows),d=th.dataset.dir==="a"?-1:1;th.dataset.dir=d===1?"a":"d";
r.sort(function(x,y){var p=x.cells[i].dataset.v,q=y.cells[i].dataset.v;
if(p!==undefined&&q!==undefined&&p!==""&&q!==""){return d*(parseFloat(p)-parseFloat(q));}
return d*x.cells[i].textContent.localeCompare(y.cells[i].textContent);});
r.forEach(function(x){b.appendChild(x);});});});
"""


def esc(text: Any) -> str:
    """``text`` as HTML text or attribute value (``&``, ``<``, ``>``, quotes escaped)."""
    return html.escape(str(text), quote=True)


def json_script(data: Any, element_id: str = "evalkit-data") -> str:
    """``data`` as an inert JSON ``<script>`` element that no string inside can close."""
    from evalkit.interfaces import json_default

    text = json.dumps(_finite(data), default=json_default, allow_nan=False, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script type="application/json" id="{esc(element_id)}">{text}</script>'


def _finite(o: Any) -> Any:
    """NaN and infinities as ``None`` (JSON has neither), recursively."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {str(k): _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o


def fmt(value: Any, digits: int = 2) -> str:
    """A number with fixed decimals, or "" for missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, (int, float)):
        return f"{value:.{digits}f}"
    return str(value)


def kv_table(rows: list[tuple[str, Any]]) -> str:
    """A two-column key/value table (values escaped)."""
    body = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows if v not in (None, "", {}))
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def data_table(columns: list[str], rows: list[list[Any]], *, numeric: set[int] | None = None,
               row_classes: list[str] | None = None) -> str:
    """A sortable table of escaped cells; columns in ``numeric`` are right-aligned with ``data-v``."""
    numeric = numeric or set()
    head = "".join(f'<th class="{"num" if i in numeric else ""}">{esc(c)}</th>' for i, c in enumerate(columns))
    body = []
    for k, row in enumerate(rows):
        cls = f' class="{esc(row_classes[k])}"' if row_classes and row_classes[k] else ""
        cells = []
        for i, v in enumerate(row):
            if i in numeric:
                val = "" if v is None else esc(v)
                cells.append(f'<td class="num" data-v="{val}">{esc(fmt(v, 4) if isinstance(v, float) else v)}</td>')
            else:
                cells.append(f"<td>{esc('' if v is None else v)}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def figure_html(number: int, fig_id: str, title: str, reading: str, svg: str, data_html: str) -> str:
    """A numbered ``<figure>``: caption (title and one-line reading), SVG, text equivalent."""
    return (f'<figure id="{esc(fig_id)}" data-figure="{esc(fig_id)}"><figcaption>'
            f'<strong id="{esc(fig_id)}-title">Figure {number}. {esc(title)}</strong>'
            f'<span class="reading">{esc(reading)}</span></figcaption>{svg}'
            f"<details><summary>Data of figure {number}</summary>{data_html}</details></figure>")


def document(title: str, body: str, data: Any, *, subtitle: str = "") -> str:
    """The whole page: ``<!DOCTYPE html>``, UTF-8, inline CSS, ``body``, the JSON data, sorting JS."""
    sub = f'<p class="sub">{esc(subtitle)}</p>' if subtitle else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="evalkit"><title>{esc(title)}</title>'
            f"<style>{CSS}</style></head><body><h1>{esc(title)}</h1>{sub}{body}"
            f"{json_script(data)}<script>{SORT_JS}</script></body></html>\n")
