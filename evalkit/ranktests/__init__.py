"""Comparing systems across datasets: mean ranks, Friedman, and post-hoc tests.

:func:`cross_dataset_tests` takes a table of systems (rows) x datasets or tasks (columns) and
returns the JSON-ready ``"tests"`` object of ``evalkit compare`` and ``evalkit leaderboard``:

- ``mean_ranks``: each system's mean rank over the datasets (1 = best on every dataset; systems
  tied on a dataset share the average rank, Demšar 2006, Sec. 3.2.2);
- ``friedman``: Friedman's chi2_F (Demšar's Eq.; ``chi2``), the tie-corrected statistic
  ``scipy.stats.friedmanchisquare`` reports (``chi2_tie_corrected``), Iman and Davenport's F_F
  (``iman_davenport_f``) with ``df1``, ``df2`` and its ``p_value``;
- one object per requested post-hoc: ``nemenyi`` (critical difference, significant pairs and the
  groups a CD diagram connects), ``wilcoxon_holm`` (every pair by Wilcoxon's signed-rank test on
  the per-dataset values, Holm-corrected: the default, after Benavoli, Corani & Mangili 2016,
  whose result does not depend on which other systems are in the table), and against a control
  ``holm`` and ``bonferroni_dunn`` (z of mean ranks, Demšar 2006);
- ``summary``: a plain-language line, ``warnings``: e.g. too few datasets for any power.

**p-values** are two-sided everywhere (H0: no difference), and adjusted p-values are compared
with ``alpha`` as ``p_adjusted <= alpha``.

**Missing cells.** Columns without any value are dropped; then each system (row) with a missing
cell is left out of the tests, and ``warnings`` names it. (The tests need complete blocks;
dropping systems keeps every dataset, which is what the tests' power rests on.)

References: J. Demšar (2006), Statistical Comparisons of Classifiers over Multiple Data Sets,
JMLR 7:1-30. A. Benavoli, G. Corani, F. Mangili (2016), Should We Really Use Post-Hoc Tests Based
on Mean-Ranks?, JMLR 17(5):1-10. R. L. Iman, J. M. Davenport (1980), Approximations of the critical
region of the Friedman statistic, Comm. Stat. 9(6). S. Holm (1979), Scand. J. Stat. 6(2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError, DataError

if TYPE_CHECKING:
    import pandas as pd

POSTHOCS = ("wilcoxon-holm", "nemenyi", "holm", "bonferroni-dunn")
DEFAULT_POSTHOC = "wilcoxon-holm"

__all__ = ["DEFAULT_POSTHOC", "POSTHOCS", "cross_dataset_tests", "parse_posthoc", "table_notes"]


def parse_posthoc(posthoc: str | Sequence[str]) -> list[str]:
    """Normalise ``posthoc`` (``"nemenyi"``, ``"wilcoxon-holm,holm"``, a list; ``"none"``) to names.

    Raises:
        ConfigError: an unknown post-hoc name.
    """
    items = posthoc.split(",") if isinstance(posthoc, str) else list(posthoc)
    out: list[str] = []
    for item in items:
        name = str(item).strip().lower().replace("_", "-")
        if name in ("", "none"):
            continue
        if name not in POSTHOCS:
            raise ConfigError(f"unknown post-hoc test {item!r}; use one or more of {', '.join(POSTHOCS)} "
                              "(comma-separated) or 'none'")
        if name not in out:
            out.append(name)
    return out


def _complete_table(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The numeric table the tests use, and warnings about what was left out (see module doc)."""
    import numpy as np
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise DataError(f"cross-dataset tests need a pandas DataFrame (systems x datasets), got {type(table).__name__}")
    if table.index.has_duplicates:
        dup = sorted({str(i) for i in table.index[table.index.duplicated()]})
        raise DataError(f"cross-dataset tests: system(s) {', '.join(dup)} appear in more than one row")
    try:
        frame = table.apply(pd.to_numeric, errors="raise").astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"cross-dataset tests: the table's cells must be numbers: {exc}") from None
    frame.index = [str(i) for i in frame.index]
    frame.columns = [str(c) for c in frame.columns]
    arr = frame.to_numpy()
    bad = np.argwhere(np.isinf(arr))
    if bad.size:
        cells = ", ".join(f"{frame.index[r]} on {frame.columns[c]}" for r, c in bad[:5])
        raise DataError(f"cross-dataset tests: infinite value(s) at {cells}")
    warnings: list[str] = []
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if empty:
        frame = frame.drop(columns=empty)
        warnings.append(f"left out dataset(s) with no value: {', '.join(empty)}")
    incomplete = frame.index[frame.isna().any(axis=1)]
    if len(incomplete):
        notes = [f"{s} (missing {', '.join(frame.columns[frame.loc[s].isna()])})" for s in incomplete]
        frame = frame.drop(index=incomplete)
        warnings.append("left out of the tests, for a missing cell: " + "; ".join(notes))
    return frame, warnings


def _check_sizes(frame: pd.DataFrame, alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1 (exclusive), got {alpha}")
    k, n = frame.shape
    if k < 2:
        raise DataError(f"cross-dataset tests need at least 2 systems with a value on every dataset, got {k}")
    if n < 2:
        raise DataError(f"cross-dataset tests need at least 2 datasets, got {n}")


def cross_dataset_tests(
    table: pd.DataFrame,
    *,
    higher_is_better: bool = True,
    alpha: float = 0.05,
    posthoc: str | Sequence[str] = DEFAULT_POSTHOC,
    control: str | None = None,
) -> dict[str, Any]:
    """Friedman's test and post-hoc tests of a systems x datasets table (see the module doc).

    Args:
        table: rows = systems (index: unique names), columns = datasets/tasks, numeric cells on
            any scale (only their order within each column matters, except for the Wilcoxon
            tests, which use the differences). NaN cells follow the missing-cell policy above.
        higher_is_better: how to read the cells (``False`` for errors and distances).
        alpha: significance level of every test, in (0, 1).
        posthoc: one of or a list of ``wilcoxon-holm``, ``nemenyi``, ``holm``,
            ``bonferroni-dunn`` (a comma-separated string works too); ``"none"`` for only Friedman.
        control: the system ``holm`` and ``bonferroni-dunn`` compare against; by default the
            best mean rank (``control_from`` says so).

    Returns:
        A JSON-ready dict: ``alpha``, ``posthoc`` (list), ``alternative`` ("two-sided"),
        ``n_datasets``, ``n_methods``, ``datasets``, ``higher_is_better``, ``mean_ranks``
        {system: rank}, ``friedman``, one object per post-hoc (keys ``nemenyi``,
        ``wilcoxon_holm``, ``holm``, ``bonferroni_dunn``), ``summary`` and ``warnings``.

    Raises:
        DataError: not a DataFrame, non-numeric or infinite cells, duplicate systems, fewer than
            2 complete systems or 2 datasets.
        ConfigError: bad ``alpha``, an unknown post-hoc, or ``control`` not among the systems.
    """
    from evalkit.ranktests.friedman import friedman_test, rank_matrix
    from evalkit.ranktests.posthoc import control_tests, nemenyi, rank_order, wilcoxon_holm
    from evalkit.ranktests.summary import power_warnings, summary_line

    chosen = parse_posthoc(posthoc)
    frame, warnings = _complete_table(table)
    _check_sizes(frame, alpha)
    names = list(frame.index)
    values = frame.to_numpy()
    ranks = rank_matrix(values, higher_is_better=higher_is_better)
    mean = ranks.mean(axis=1)
    k, n = values.shape
    tests: dict[str, Any] = {
        "alpha": alpha, "posthoc": chosen, "alternative": "two-sided", "n_datasets": n, "n_methods": k,
        "datasets": list(frame.columns), "higher_is_better": higher_is_better,
        "mean_ranks": {s: float(r) for s, r in zip(names, mean, strict=True)},
        "friedman": friedman_test(ranks),
    }
    if "nemenyi" in chosen:
        tests["nemenyi"] = nemenyi(names, mean, n, alpha)
    if "wilcoxon-holm" in chosen:
        tests["wilcoxon_holm"] = wilcoxon_holm(names, values, mean, alpha, higher_is_better=higher_is_better)
    against = [p for p in chosen if p in ("holm", "bonferroni-dunn")]
    if against:
        ctrl, source = _control(control, names, mean, table)
        for key, res in control_tests(names, mean, n, alpha, ctrl, against).items():
            res["control_from"] = source
            tests[key] = res
    ordered = [names[i] for i in rank_order(names, mean)]
    tests["warnings"] = warnings + power_warnings(tests, k * (k - 1) // 2)
    tests["summary"] = summary_line(tests, ordered)
    return tests


def _control(control: str | None, names: list[str], mean: Any, table: pd.DataFrame) -> tuple[str, str]:
    """``(control system, where it came from)``: the given one, else the best mean rank.

    Raises:
        ConfigError: ``control`` is not among the tested systems (says whether it was left out).
    """
    from evalkit.ranktests.posthoc import rank_order

    if control is None:
        return names[rank_order(names, mean)[0]], "best mean rank"
    if str(control) in names:
        return str(control), "given"
    where = "was left out for a missing cell" if str(control) in map(str, table.index) else "is not a system"
    raise ConfigError(f"control {control!r} {where}; systems tested: {', '.join(names)}")


def table_notes(tests: dict[str, Any]) -> list[str]:
    """Lines to print under a table: Friedman's result, each post-hoc, the summary and warnings."""
    from evalkit.ranktests.summary import table_notes as _notes

    return _notes(tests)
