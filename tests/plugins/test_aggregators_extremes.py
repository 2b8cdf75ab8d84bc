"""Power, geometric and harmonic means on values spanning 1e-300 to 1e300, against 60-digit decimal
arithmetic; and the documented order of the missing and nonpositive policies on one row."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
import pandas as pd
import pytest

from evalkit.errors import DataError
from evalkit.plugins import get_host

ROWS = [
    [1e-300, 1e300],
    [1e300, 1e300, 1e-300],
    [1e-300, 1e-300, 1e-300],
    [1e300, 1e299, 1e298, 1e-300],
    [1e-300, 2e-300, 1.0, 3e150],
    [5e-324 * 1e10, 1e300],  # a subnormal-adjacent cell
]


def _reference(row: list[float], p: float) -> float:
    """``(mean(x ** p)) ** (1 / p)`` (``exp(mean(log x))`` for p = 0) with 60 significant digits."""
    with localcontext() as ctx:
        ctx.prec = 60
        xs = [Decimal(x) for x in row]
        if p == 0:
            return float((sum(x.ln() for x in xs) / len(xs)).exp())
        dp = Decimal(p)
        mean = sum(x**dp for x in xs) / len(xs)
        return float(mean ** (1 / dp))


@pytest.mark.parametrize("spec, p", [("harmonic", -1.0), ("geometric", 0.0), ("power:p=2", 2.0),
                                     ("power:p=3", 3.0), ("power:p=0.5", 0.5), ("power:p=-2", -2.0),
                                     ("power:p=-0.25", -0.25), ("power:p=7", 7.0)])
def test_means_span_1e_minus_300_to_1e300(spec: str, p: float) -> None:
    from evalkit.aggregation import create_aggregators

    width = max(len(r) for r in ROWS)
    table = pd.DataFrame([r + [np.nan] * (width - len(r)) for r in ROWS],
                         index=[f"s{i}" for i in range(len(ROWS))], columns=[f"t{j}" for j in range(width)])
    # missing="skip" so rows of different lengths are averaged over the cells they have
    (label, agg), = create_aggregators(get_host(), [spec], missing="skip")
    out = agg.aggregate(table)
    for i, row in enumerate(ROWS):
        assert out.iloc[i] == pytest.approx(_reference(row, p), rel=1e-12), (label, row)


@pytest.mark.parametrize("missing, nonpositive, expect", [
    ("exclude", "error", "missing"),  # the row is already out for its missing cell: no error
    ("exclude", "skip", "missing"),
    ("skip", "skip", "cell not > 0"),
    ("skip", "error", DataError),  # its present cells are checked: the error names the cell
])
def test_row_with_a_missing_and_a_nonpositive_cell(missing: str, nonpositive: str, expect: object) -> None:
    from evalkit.aggregation import create_aggregators

    table = pd.DataFrame({"t1": [0.5, 0.0], "t2": [0.7, np.nan], "t3": [0.9, 0.4]}, index=["ok", "both"])
    (_, agg), = create_aggregators(get_host(), ["geometric"], missing=missing, nonpositive=nonpositive)
    if expect is DataError:
        with pytest.raises(DataError, match=r"both.*t1"):
            agg.aggregate(table)
        return
    out = agg.aggregate(table)
    assert out["ok"] == pytest.approx((0.5 * 0.7 * 0.9) ** (1 / 3)) and np.isnan(out["both"])
    reason = agg.unscored(table)["both"]
    assert str(expect) in reason
