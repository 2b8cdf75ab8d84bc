"""evalkit.htmlreport.svg: the one-pass tight crop against matplotlib's own bbox_inches="tight"."""

from __future__ import annotations

import io
import re

import pytest

from evalkit.htmlreport.svg import _RC, figure, to_svg


def _draw(fig) -> None:
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [3, 1, 2], label="a long legend label placed outside the axes")
    ax.set_yticks([1, 2, 3], ["short", "a much longer tick label", "x"])
    ax.set_xlabel("x label")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))


def _size(svg: str) -> tuple[float, float, list[float]]:
    head = svg[svg.index("<svg"):].split(">", 1)[0]
    width = float(re.search(r'\swidth="([\d.]+)pt"', head).group(1))
    height = float(re.search(r'\sheight="([\d.]+)pt"', head).group(1))
    box = [float(v) for v in re.search(r'\sviewBox="([^"]+)"', head).group(1).split()]
    return width, height, box


def test_crop_has_the_size_of_matplotlibs_tight_bbox() -> None:
    """The page's figures are drawn once and cropped by their viewport; the result has the size
    matplotlib's bbox_inches="tight" gives the same figure (content beyond the figure's left and
    right edges included), and the viewport has that size too."""
    import matplotlib

    with figure(4.0, 2.0) as fig:
        _draw(fig)
        svg = to_svg(fig, "f1")
    with figure(4.0, 2.0) as fig, matplotlib.rc_context(_RC):
        _draw(fig)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight")
    width, height, box = _size(svg)
    ref_width, ref_height, _ = _size(buf.getvalue())
    assert width > 4.0 * 72  # the legend outside the axes widens the page beyond the 4 in figure
    assert (width, height) == (pytest.approx(ref_width, abs=0.01), pytest.approx(ref_height, abs=0.01))
    assert box[2:] == [pytest.approx(width, abs=1e-5), pytest.approx(height, abs=1e-5)]
    assert box[0] < 0  # the long tick labels reach left of the figure's edge


def test_untight_figure_keeps_its_size() -> None:
    with figure(4.0, 2.0) as fig:
        _draw(fig)
        svg = to_svg(fig, "f2", tight=False)
    width, height, box = _size(svg)
    assert (width, height) == (pytest.approx(288.0), pytest.approx(144.0))
    assert box == [0.0, 0.0, pytest.approx(288.0), pytest.approx(144.0)]
