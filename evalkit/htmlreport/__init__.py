"""``evalkit report``: one self-contained HTML page that shows which method is better, and why.

The page holds, for a saved run (or several merged): the provenance (versions, models, data
sha256, git commit, run ids); per metric the table with bootstrap intervals and the best cell
highlighted, a forest plot of paired differences against a baseline method per dataset, each
method's rank under the mean, geometric and harmonic means, Borda and Copeland, and the bootstrap
distribution of its rank (:mod:`evalkit.htmlreport.rankdist`, on the resamples of
:mod:`evalkit.htmlreport.resample`); for STS the
predicted-vs-gold small multiples and the error by gold band; for pair classification F1 and
accuracy against the threshold, the precision-recall curve and the majority-class baseline; the
largest disagreements between two methods with their sentences. Figures are inline SVG drawn by
matplotlib (Agg), the CSS is inline, nothing is loaded from the network, and the data of every
figure is embedded as JSON (``<script type="application/json" id="evalkit-data">``).

Public API: :func:`run_report_html`, :func:`tables_html` (any :class:`evalkit.Report`),
:func:`build_run_report` / :func:`render_run_report`, :class:`ReportOptions`, and the page helpers in
:mod:`evalkit.htmlreport.page` (``document``, ``esc``, ``data_table``, ``figure_html``) for plugins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.htmlreport.build import ReportOptions, RunReport, build_run_report
from evalkit.htmlreport.generic import tables_html
from evalkit.htmlreport.render import render_run_report

if TYPE_CHECKING:
    from evalkit.history import Source
    from evalkit.interfaces import Aggregator
    from evalkit.plugins import Host

__all__ = ["ReportOptions", "RunReport", "build_run_report", "render_run_report", "run_report_html",
           "tables_html"]


def run_report_html(
    sources: list[Source],
    *,
    host: Host | None = None,
    aggregators: list[tuple[str, Aggregator]] | None = None,
    options: ReportOptions | None = None,
    **extra: Any,
) -> str:
    """The HTML page of the runs in ``sources`` (see :func:`build_run_report` for the errors)."""
    return render_run_report(build_run_report(sources, host=host, aggregators=aggregators, options=options))
