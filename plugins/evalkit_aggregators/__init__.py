"""Built-in plugin: aggregators across datasets (columns) of a comparison table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit import Aggregator, as_score_table, hookimpl

if TYPE_CHECKING:
    import pandas as pd


class ArithmeticMean(Aggregator):
    """Arithmetic mean across datasets, unweighted (each dataset counts once)."""

    name = "mean"

    @property
    def rule(self) -> str:
        return ("arithmetic mean over datasets, each weighted equally; a method missing any cell "
                "gets no mean and no rank")

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        """Row means of ``table`` (float64); NaN for a row with a missing cell (never a partial mean).

        Raises:
            DataError: no task columns, or a cell that is not a finite number or missing.
        """
        return as_score_table(table, what="mean").mean(axis=1, skipna=False)


@hookimpl
def register_aggregators(register: Any) -> None:
    register(ArithmeticMean)
