"""matplotlib (Agg) figures as inline SVG, with data texts made safe.

Text is written as SVG ``<text>`` (``svg.fonttype = "none"``), which matplotlib's SVG backend
escapes as XML character data (``<`` -> ``&lt;``, ``&`` -> ``&amp;``), so a label holding
``</svg>`` or ``<script>`` stays text inside the inline SVG. Before a data text reaches
matplotlib, :func:`label` escapes ``$`` (else matplotlib would parse ``$...$`` as mathtext) and
shortens it. matplotlib is imported lazily, only when a figure is drawn, and pyplot never.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Colour-blind-safe palette (Okabe & Ito 2008, "Color Universal Design").
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

_RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "evalkit",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "text.usetex": False,
}


def label(text: Any, limit: int = 60) -> str:
    """A data text as a safe matplotlib label: ``$`` escaped (no mathtext), at most ``limit`` chars."""
    s = str(text)
    if len(s) > limit:
        s = s[: limit - 1] + "\u2026"
    return s.replace("\\", "\\\\").replace("$", r"\$")


@contextmanager
def figure(width: float, height: float) -> Iterator[Any]:
    """A new matplotlib figure (inches) under the report's style; closed on exit."""
    import matplotlib
    from matplotlib.figure import Figure

    # A bare Figure (no pyplot: nothing global to close, no GUI backend, a lighter import);
    # savefig draws it with the SVG canvas.
    with matplotlib.rc_context(_RC):  # type: ignore[arg-type]
        yield Figure(figsize=(width, height))


def to_svg(fig: Any, fig_id: str, *, tight: bool = True) -> str:
    """The figure as an ``<svg>`` element for inline HTML (no XML prolog or DOCTYPE).

    ``tight`` crops the figure to its drawn content plus ``savefig.pad_inches`` (0.1 in), as
    ``bbox_inches="tight"`` does, but in one drawing pass: the figure is drawn once and the SVG's
    viewport (``width``, ``height``, ``viewBox``, in points) is set to the content's bounding box
    (:meth:`matplotlib.figure.Figure.get_tightbbox` after the draw). Figures laid out with fixed
    margins pass ``False``.

    Element ids matplotlib generates (clip paths) are prefixed with ``fig_id`` so that several
    SVGs in one page never share an id.
    """
    import matplotlib

    buf = io.StringIO()
    boxes: list[Any] = []
    draw = fig.draw

    def draw_and_measure(renderer: Any) -> None:
        draw(renderer)
        if tight:  # measured in the draw (dpi 72, the text sizes just computed), as bbox_inches="tight"
            boxes.append(fig.get_tightbbox(renderer))

    fig.draw = draw_and_measure
    try:
        with matplotlib.rc_context(_RC):  # type: ignore[arg-type]
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
            pad = float(matplotlib.rcParams["savefig.pad_inches"])
    finally:
        del fig.draw
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    if boxes:
        text = _crop(text, boxes[-1], fig.get_size_inches()[1], pad)
    text = re.sub(r"<[^<>]*>", lambda tag: _prefix_ids(tag.group(0), fig_id), text)  # tags only, not texts
    # Natural size from matplotlib (pt); the page's CSS shrinks it to the column (max-width: 100%).
    return text.replace("<svg ", f'<svg role="img" aria-labelledby="{fig_id}-title" ', 1)


def _crop(svg: str, box: Any, height: float, pad: float) -> str:
    """``svg`` (the root element first) with its viewport (points) set to ``box`` (a Bbox in inches
    from the bottom left of a figure ``height`` inches tall) grown by ``pad`` inches."""
    x0, y0 = (box.x0 - pad) * 72, (height - box.y1 - pad) * 72
    w, h = (box.width + 2 * pad) * 72, (box.height + 2 * pad) * 72
    head, rest = svg.split(">", 1)
    head = re.sub(r'\swidth="[^"]*"', f' width="{w:.6f}pt"', head, count=1)
    head = re.sub(r'\sheight="[^"]*"', f' height="{h:.6f}pt"', head, count=1)
    head = re.sub(r'\sviewBox="[^"]*"', f' viewBox="{x0:.6f} {y0:.6f} {w:.6f} {h:.6f}"', head, count=1)
    return head + ">" + rest


def _prefix_ids(tag: str, prefix: str) -> str:
    tag = re.sub(r'(\s)id="([^"]+)"', lambda m: f'{m.group(1)}id="{prefix}-{m.group(2)}"', tag)
    tag = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", tag)
    return re.sub(r'(xlink:)?href="#([^"]+)"', lambda m: f'{m.group(1) or ""}href="#{prefix}-{m.group(2)}"', tag)
