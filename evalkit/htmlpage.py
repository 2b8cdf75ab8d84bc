"""Public HTML helpers for reporter plugins: one self-contained page (UTF-8, inline CSS and
JavaScript, no network) in the style of evalkit's own reports.

Part of evalkit's public plugin API (see the API reference); the functions are re-exported
unchanged from evalkit's report renderer.

- :func:`tables_html`: a whole page of any :class:`evalkit.Report`'s tables, the report's payload
  embedded as JSON (``<script type="application/json" id="evalkit-data">``).
- :func:`document`: a whole page from a title, an HTML body and JSON-serialisable data.
- :func:`data_table`: a sortable ``<table>``; :func:`figure_html`: a numbered ``<figure>`` holding
  an SVG and its text equivalent; :func:`esc`: HTML-escape any value (text or attribute).
"""

from __future__ import annotations

from evalkit.htmlreport.generic import tables_html
from evalkit.htmlreport.page import data_table, document, esc, figure_html

__all__ = ["data_table", "document", "esc", "figure_html", "tables_html"]
