"""Validation helpers for plugins: the input contracts of methods and aggregators.

Both raise :class:`~evalkit.errors.DataError` with a message naming what is wrong and where, so
the command line shows a message instead of a traceback; both are re-exported by :mod:`evalkit`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

def check_pairs(pairs: Any, *, what: str = "pairs") -> pd.DataFrame:
    """Validate the sentence pairs handed to :meth:`Method.fit` / :meth:`Method.predict`.

    ``pairs`` must be a :class:`pandas.DataFrame` with columns ``sentence1`` and ``sentence2``
    holding strings (other columns are ignored). Returns ``pairs`` unchanged, so a method can write
    ``pairs = check_pairs(pairs, what=f"{self.name}: pairs")``.

    Raises:
        DataError: not a DataFrame, a column missing, or a value that is not a string (``None``,
            NaN, a number); the message names the column and the first rows concerned.
    """
    import pandas as pd

    from evalkit.errors import DataError

    if not isinstance(pairs, pd.DataFrame):
        raise DataError(
            f"{what} must be a pandas DataFrame with columns sentence1 and sentence2, "
            f"got {type(pairs).__name__}"
        )
    missing = [c for c in ("sentence1", "sentence2") if c not in pairs.columns]
    if missing:
        raise DataError(f"{what}: missing column(s) {missing}; the frame has {list(pairs.columns)}")
    for col in ("sentence1", "sentence2"):
        bad = [i for i, v in zip(pairs.index, pairs[col], strict=True) if not isinstance(v, str)]
        if bad:
            more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
            raise DataError(f"{what}: column {col} has {len(bad)} values that are not strings, "
                            f"at rows {bad[:10]}{more}")
    return pairs


def as_score_table(table: Any, *, what: str = "table") -> pd.DataFrame:
    """Validate the methods x tasks table handed to :meth:`Aggregator.aggregate`.

    Returns a float64 copy of ``table`` (a :class:`pandas.DataFrame`; rows: systems, columns:
    tasks). Missing cells stay NaN, for the aggregator's own missing-cell rule.

    Raises:
        DataError: not a DataFrame, no task columns, a cell that is not a number, or an infinite
            cell; the message names the systems and tasks concerned.
    """
    import numpy as np
    import pandas as pd

    from evalkit.errors import DataError

    if not isinstance(table, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame (rows: systems, columns: tasks), "
                        f"got {type(table).__name__}")
    if table.shape[1] == 0:
        raise DataError(f"{what} has no task columns: there is nothing to aggregate")
    numeric = table.apply(pd.to_numeric, errors="coerce").astype("float64")
    bad = numeric.isna() & table.notna()
    for mask, problem in ((bad.to_numpy(), "not numbers"), (np.isinf(numeric.to_numpy()), "infinite")):
        if mask.any():
            rows, cols = np.nonzero(mask)
            named = [f"{table.index[r]}/{table.columns[c]}" for r, c in zip(rows[:10], cols[:10], strict=True)]
            raise DataError(f"{what}: {int(mask.sum())} cells are {problem}, at (system/task) {named}")
    return numeric
