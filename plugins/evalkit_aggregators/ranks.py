"""Rank-based aggregators: mean rank, mean win rate, Borda and Copeland counts.

They read only the order of the cells within each column, so they are unchanged by any strictly
increasing rescaling of a column, and take any finite value. Cells that agree to about 12
significant digits (40 bits) are ties (:func:`evalkit.statistics.snap_ties`). When the cells
are lower-is-better (``higher_is_better=False``, e.g. an error rate) "better" means lower.

- **mean rank** (Demšar 2006, JMLR 7, section 3.2.2): per column, rank the systems (1 = best; tied
  cells share the average of their ranks), then average a system's ranks; lower is better.
- **mean win rate** (HELM, Liang et al. 2022; ``helm.benchmark.presentation.summarize.
  compute_aggregate_row_win_rates``): per column, the share of the other systems with a cell in
  that column that the system beats, a tie counting half; averaged over the columns where the
  system has a cell (a missing cell is skipped; a column with fewer than two cells is ignored).
  0-1, higher is better.
- **Borda count** (Vote'n'Rank, Rofin et al. 2023, ``borda_ranking``): per column, one point for
  each system with a strictly worse cell (tied systems get the points of the lowest of their
  places, as Vote'n'Rank's ``rank(method="max")``), summed over the columns; higher is better.
- **Copeland score** (Vote'n'Rank ``copeland_ranking``, default variant ``lower_with_ties``): for
  every other system, one point if the system is better on more columns than it is worse, half
  a point if as many; higher is better. (Vote'n'Rank subtracts a constant 0.5 from every score;
  ranks are the same.)

Mean rank, Borda and Copeland need complete rows: a system missing any cell gets no value and no
rank and is left out of the comparison, so it does not move the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit import Aggregator
from evalkit.statistics import snap_ties

from .policy import missing_reasons, numeric_table

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_COMPLETE = (
    "a row missing any cell gets no value and no rank and is left out of the others' "
    "comparison; any finite value allowed; only the order within each column counts"
)


class CompleteRowsRankRule(Aggregator):
    """Base of the rank rules that compare complete rows only (subclasses: :meth:`scores`)."""

    def scores(self, arr: np.ndarray) -> np.ndarray:
        """One score per row of the complete ``(n, k)`` array, oriented so that larger cells win."""
        raise NotImplementedError

    def _oriented(self, table: pd.DataFrame, higher_is_better: bool) -> np.ndarray:
        arr = snap_ties(numeric_table(table, owner=f"aggregator {self.display_name!r}"))
        return arr if higher_is_better else -arr

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        """One float64 per row; NaN for rows with a missing cell (see :attr:`rule`).

        Raises:
            DataError: a cell is not a number or is infinite.
        """
        import numpy as np
        import pandas as pd

        arr = self._oriented(table, higher_is_better)
        complete = ~np.isnan(arr).any(axis=1)
        values = np.full(arr.shape[0], np.nan)
        if complete.any() and arr.shape[1]:
            values[complete] = self.scores(arr[complete])
        return pd.Series(values, index=table.index, dtype=float)

    def unscored(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> dict[str, str]:
        import numpy as np

        arr = numeric_table(table, owner=f"aggregator {self.display_name!r}")
        return missing_reasons(table, arr, np.isnan(arr).any(axis=1))


def _beats(arr: np.ndarray) -> np.ndarray:
    """``(n, n, k)`` boolean: ``out[i, l, j]`` is True when row i beats row l in column j."""
    return arr[:, None, :] > arr[None, :, :]


class MeanRank(CompleteRowsRankRule):
    """Mean over columns of each system's rank in the column (ties: average rank); lower wins."""

    name = "avg_rank"
    higher_is_better = False

    @property
    def rule(self) -> str:
        return (
            "mean rank: per column rank 1 = best, tied cells share the average of their ranks "
            "(Demšar 2006), averaged over the columns; lower is better; " + _COMPLETE
        )

    def scores(self, arr: np.ndarray) -> np.ndarray:
        from scipy.stats import rankdata

        return rankdata(-arr, method="average", axis=0).mean(axis=1)


class Borda(CompleteRowsRankRule):
    """Borda count (Vote'n'Rank): per column, a point per system with a strictly worse cell."""

    name = "borda"
    higher_is_better = True

    @property
    def rule(self) -> str:
        return (
            "Borda count (Vote'n'Rank): per column one point for each system with a strictly "
            "worse cell, summed over the columns (ties score no point between them); "
            "higher is better; " + _COMPLETE
        )

    def scores(self, arr: np.ndarray) -> np.ndarray:
        return _beats(arr).sum(axis=(1, 2)).astype(float)


class Copeland(CompleteRowsRankRule):
    """Copeland score (Vote'n'Rank): pairwise majority contests won, draws counting half."""

    name = "copeland"
    higher_is_better = True

    @property
    def rule(self) -> str:
        return (
            "Copeland score (Vote'n'Rank): one point for each other system beaten on more "
            "columns than lost, half a point for each draw; higher is better; " + _COMPLETE
        )

    def scores(self, arr: np.ndarray) -> np.ndarray:

        wins = _beats(arr).sum(axis=2)  # wins[i, l]: columns where i beats l
        won = (wins > wins.T).sum(axis=1)
        drawn = (wins == wins.T).sum(axis=1) - 1  # minus the diagonal (a row against itself)
        return (won + 0.5 * drawn).astype(float)


class WinRate(Aggregator):
    """Mean win rate (HELM): per column the share of other systems beaten, ties half; 0-1."""

    name = "win_rate"
    higher_is_better = True

    @property
    def rule(self) -> str:
        return (
            "mean win rate (HELM): per column, the share of the other systems with a cell there "
            "that the row beats, ties counting half, averaged over the columns where the row "
            "has a cell; a missing cell is skipped; columns with fewer than 2 cells are "
            "ignored; 0-1, higher is better; any finite value allowed"
        )

    def _rates(self, table: pd.DataFrame, higher_is_better: bool) -> np.ndarray:
        """``(n, k)`` per-column win rates; NaN where the row has no cell or the column < 2."""
        import numpy as np

        arr = snap_ties(numeric_table(table, owner=f"aggregator {self.display_name!r}"))
        if not higher_is_better:
            arr = -arr
        rates = np.full(arr.shape, np.nan)
        for j in range(arr.shape[1]):
            col = arr[:, j]
            present = ~np.isnan(col)
            m = int(present.sum())
            if m < 2:
                continue
            vals = col[present]
            below = (vals[:, None] > vals[None, :]).sum(axis=1)
            tied = (vals[:, None] == vals[None, :]).sum(axis=1) - 1
            rates[present, j] = (below + 0.5 * tied) / (m - 1)
        return rates

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        """One float64 in 0..1 per row; NaN for a row with no comparable cell.

        Raises:
            DataError: a cell is not a number or is infinite.
        """
        import numpy as np
        import pandas as pd

        rates = self._rates(table, higher_is_better)
        values = np.full(rates.shape[0], np.nan)
        has = ~np.isnan(rates).all(axis=1) if rates.shape[1] else np.zeros(rates.shape[0], bool)
        values[has] = np.nanmean(rates[has], axis=1)
        return pd.Series(values, index=table.index, dtype=float)

    def unscored(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> dict[str, str]:
        import numpy as np

        rates = self._rates(table, higher_is_better)
        return {
            str(table.index[i]): "no column where it and another system both have a cell"
            for i in np.flatnonzero(np.isnan(rates).all(axis=1)).tolist()
        }
