"""Conformance checks of aggregators (:class:`evalkit.Aggregator`), on the tables of
:func:`evalkit.testing.samples.sample_table` (5 systems x 4 tasks, values in 0.2..0.9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.interfaces import Aggregator
from evalkit.testing._base import (
    CheckSkipped,
    check,
    common_metadata,
    describe_exception,
    expect_evalkit_error,
    roundtrip,
    values_equal,
)
from evalkit.testing.samples import sample_table

if TYPE_CHECKING:
    import pandas as pd


def _aggregate(agg: Aggregator, table: pd.DataFrame, where: str = "aggregate(table)", *,
               higher_is_better: bool = True) -> pd.Series:
    import pandas as pd

    out = agg.aggregate(table, higher_is_better=higher_is_better)
    assert isinstance(out, pd.Series), f"{where} returned {type(out).__name__}, not a pandas Series"
    assert out.index.equals(table.index), (
        f"{where} is indexed {list(out.index)}, not like the table's rows {list(table.index)}"
    )
    assert out.dtype.kind == "f", f"{where} has dtype {out.dtype}; return float64 values"
    return out


@check("aggregator")
def check_metadata(agg: Aggregator) -> None:
    """``name``, docstring, ``higher_is_better``, ``order_invariant`` and a stated ``rule``."""
    common_metadata(agg)
    cls = type(agg).__name__
    assert agg.higher_is_better is None or isinstance(agg.higher_is_better, bool), (
        f"{cls}.higher_is_better must be True, False, or None (the aggregate reads like the cells)"
    )
    assert isinstance(agg.order_invariant, bool), f"{cls}.order_invariant must be True or False"
    assert isinstance(agg.rule, str) and agg.rule.strip(), (
        f"{cls}.rule must state the rule printed under every table, including how zeros, "
        "negatives and missing cells are treated"
    )


@check("aggregator")
def check_result(agg: Aggregator) -> None:
    """A complete table of values in 0.2..0.9 gives one finite float per row."""
    import numpy as np

    out = _aggregate(agg, sample_table())
    assert np.isfinite(out.to_numpy()).all(), f"aggregate() of a complete positive table gave {out.tolist()}"


@check("aggregator")
def check_deterministic(agg: Aggregator) -> None:
    """The same table gives the same values, also from a fresh instance."""
    table = sample_table()
    a = _aggregate(agg, table)
    b = _aggregate(type(agg)(**agg.get_params()), table)
    assert values_equal(a, b), f"two aggregations differ: {a.tolist()} vs {b.tolist()}"


@check("aggregator")
def check_order_invariant(agg: Aggregator) -> None:
    """Reordering tasks keeps each system's value; reordering systems reorders the values."""
    import numpy as np

    if not agg.order_invariant:
        raise CheckSkipped("the aggregator declares order_invariant = False")
    table = sample_table()
    base = _aggregate(agg, table)
    cols = _aggregate(agg, table[list(reversed(table.columns))], "aggregate(columns reversed)")
    assert np.allclose(cols.to_numpy(), base.to_numpy(), rtol=1e-9, atol=1e-12), (
        f"reordering the task columns changes the values: {cols.tolist()} vs {base.tolist()}"
    )
    perm = table.index[np.random.default_rng(1).permutation(len(table))]
    rows = _aggregate(agg, table.loc[perm], "aggregate(rows permuted)")
    assert np.allclose(rows.to_numpy(), base.loc[perm].to_numpy(), rtol=1e-9, atol=1e-12), (
        "reordering the systems changes their values"
    )


@check("aggregator")
def check_dominance(agg: Aggregator) -> None:
    """A system best on every task gets the best value, one worst on every task the worst.

    Checked for tables of both directions; "best" follows ``higher_is_better`` of the aggregator,
    or of the table when the aggregator's is ``None`` (value-preserving rules).
    """
    for cells_higher in (True, False):
        table = sample_table()
        high, low = table.max() + 0.05, table.min() - 0.05
        table.loc["best"], table.loc["worst"] = (high, low) if cells_higher else (low, high)
        out = _aggregate(agg, table, higher_is_better=cells_higher)
        higher = cells_higher if agg.higher_is_better is None else agg.higher_is_better
        others = out.drop(["best", "worst"])
        if higher:
            ok = out["best"] > others.max() and out["worst"] < others.min()
        else:
            ok = out["best"] < others.min() and out["worst"] > others.max()
        assert ok, (f"with higher_is_better={cells_higher} cells, a system better than all others on every task "
                    f"gets {out['best']!r} and one worse on every task {out['worst']!r}; the others get "
                    f"{others.tolist()} (the aggregator's higher_is_better is {agg.higher_is_better})")


@check("aggregator")
def check_no_input_mutation(agg: Aggregator) -> None:
    """``aggregate`` leaves the table unchanged."""
    table = sample_table()
    table.iloc[1, 2] = float("nan")
    original = table.copy(deep=True)
    try:
        agg.aggregate(table, higher_is_better=True)
    except Exception as exc:
        from evalkit.errors import EvalkitError

        if not isinstance(exc, EvalkitError):
            raise
    assert table.equals(original), "aggregate() modified the table it was given"


@check("aggregator")
def check_empty_input(agg: Aggregator) -> None:
    """No task columns raise an evalkit error; no rows give an empty result or an evalkit error."""
    import pandas as pd

    table = sample_table()
    with expect_evalkit_error("aggregate(table with no task columns)"):
        agg.aggregate(table.iloc[:, :0], higher_is_better=True)
    try:
        out = agg.aggregate(table.iloc[:0], higher_is_better=True)
    except Exception as exc:
        from evalkit.errors import EvalkitError

        assert isinstance(exc, EvalkitError), f"aggregate(table with no rows) raised {describe_exception(exc)}"
        return
    assert isinstance(out, pd.Series) and len(out) == 0, f"aggregate(table with no rows) gave {out!r}"


@check("aggregator")
def check_bad_input(agg: Aggregator) -> None:
    """A non-numeric or infinite cell, or a non-DataFrame, raise evalkit errors."""
    table = sample_table()
    text = table.astype(object)
    text.iloc[2, 1] = "n/a"
    inf = table.copy()
    inf.iloc[0, 3] = float("inf")
    cases: list[tuple[str, Any]] = [("a text cell", text), ("an infinite cell", inf),
                                    ("a list", table.to_numpy().tolist())]
    for label, bad in cases:
        with expect_evalkit_error(f"aggregate({label})"):
            agg.aggregate(bad, higher_is_better=True)


@check("aggregator")
def check_missing_cell(agg: Aggregator) -> None:
    """A missing cell follows the stated rule: its row may get NaN, the others stay finite."""
    import numpy as np

    from evalkit.errors import EvalkitError

    table = sample_table()
    table.iloc[1, 2] = np.nan
    try:
        out = _aggregate(agg, table, "aggregate(table with a missing cell)")
    except EvalkitError:
        return  # a rule may refuse missing cells outright
    complete = out.drop(table.index[1])
    assert np.isfinite(complete.to_numpy()).all(), (
        f"rows without missing cells got {complete.tolist()} because another row has a missing cell"
    )


@check("aggregator")
def check_pickle(agg: Aggregator) -> None:
    """The aggregator pickles, and the copy aggregates the same way."""
    clone = roundtrip(agg)
    table = sample_table()
    assert values_equal(_aggregate(clone, table), _aggregate(agg, table)), "the unpickled copy aggregates differently"
