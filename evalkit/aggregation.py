"""Comparison tables (methods x datasets) and aggregation across datasets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.interfaces import Aggregator


def pivot(results: pd.DataFrame, metric: str, split: str | None = None) -> pd.DataFrame:
    """Methods x datasets table of ``metric`` values (first-seen order kept; missing cells NaN).

    When a dataset was evaluated on several splits and ``split`` is ``None``, columns are named
    ``dataset/split``.
    """
    import pandas as pd

    sub = results[results["metric"] == metric]
    if split is not None:
        sub = sub[sub["split"] == split]
    if sub.empty:
        return pd.DataFrame()
    multi = sub.groupby("dataset")["split"].nunique().max() > 1
    col = sub["dataset"] + "/" + sub["split"] if multi else sub["dataset"]
    sub = sub.assign(_col=col)
    methods = list(dict.fromkeys(sub["method"]))
    cols = list(dict.fromkeys(sub["_col"]))
    table = sub.pivot_table(index="method", columns="_col", values="value", aggfunc="first")
    table = table.reindex(index=methods, columns=cols)
    table.index.name = "method"
    table.columns.name = None
    return table


def rank(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """1-based ranks, ties sharing the best rank (``method="min"``); NaN stays unranked (NaN)."""
    return values.rank(ascending=not higher_is_better, method="min", na_option="keep")


def aggregate(
    table: pd.DataFrame,
    aggregators: list[tuple[str, Aggregator]],
    *,
    higher_is_better: bool = True,
) -> pd.DataFrame:
    """For each aggregator, a value column ``<label>`` and a rank column ``<label>_rank``.

    Raises:
        ConfigError: an aggregator returned a result not indexed like the table's rows.
        DataError: a cell violates an aggregator's policy (raised by the aggregator).
    """
    import pandas as pd

    out = pd.DataFrame(index=table.index)
    for label, agg in aggregators:
        values = agg.aggregate(table, higher_is_better=higher_is_better)
        if not values.index.equals(table.index):
            raise ConfigError(f"aggregator {label!r} returned values for rows {list(values.index)}")
        out[label] = values.astype(float)
        out[f"{label}_rank"] = rank(out[label], higher_is_better=agg.higher_is_better)
    return out
