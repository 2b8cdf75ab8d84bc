"""The bootstrap distribution of ranks: how often each method takes each rank when the examples of
every dataset are resampled.

On each of the report's shared resamples (:mod:`evalkit.htmlreport.resample`: the run's own
``--bootstrap`` resamples when it has them, else ``evalkit report --resamples`` ones, default 1000
with seed 0) the metric is recomputed per dataset for every method, the methods x datasets table
is aggregated by the table's first rule (``--aggregate``, default the mean) and ranked as the table
ranks (:func:`evalkit.aggregation.rank`: 1 = best, ties sharing the best rank). The share of
resamples giving a method rank ``k`` estimates ``P(rank = k)``, as the rank intervals of
``evalkit compare --bootstrap`` and the rank confidence sets of MTEB/HELM-style leaderboards do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.errors import EvalkitError

if TYPE_CHECKING:
    import numpy as np

    from evalkit.htmlreport.resample import Resamples
    from evalkit.interfaces import Aggregator


def replicate_tables(reps: dict[str, dict[str, Any]], table: dict[str, Any], n_resamples: int) -> np.ndarray:
    """``(B, methods, datasets)`` cells per resample; a column without predictions keeps its stored
    values on every resample, a method without a cell stays NaN (missing, as in the table)."""
    import numpy as np

    methods, cols = table["methods"], table["datasets"]
    out = np.full((n_resamples, len(methods), len(cols)), np.nan)
    for j, col in enumerate(cols):
        for i, m in enumerate(methods):
            if col in reps and m in reps[col]["values"]:
                out[:, i, j] = reps[col]["values"][m]
            elif col not in reps and table["values"][m].get(col) is not None:
                out[:, i, j] = table["values"][m][col]
    return out


def rank_counts(cube: np.ndarray, table: dict[str, Any], rule: tuple[str, Aggregator]) -> tuple[np.ndarray, int]:
    """Per resample the methods' ranks under ``rule``: ``(B, methods)`` float (NaN: unranked), and the
    number of resamples the rule could not aggregate (its policy raised, e.g. a non-positive cell
    under a geometric mean); their rows are all NaN."""
    from evalkit.aggregation import aggregate_direction

    _, agg = rule
    hib = bool(table["higher_is_better"])
    values = _stacked(cube, table, agg)
    failed = 0
    if values is None:
        values, failed = _one_by_one(cube, table, agg)
    return bulk_rank(values, higher_is_better=aggregate_direction(agg, hib)), failed


def _frame(cells: np.ndarray, index: list[str], table: dict[str, Any]) -> Any:
    import pandas as pd

    return pd.DataFrame(cells, index=index, columns=table["datasets"])


def _one_by_one(cube: np.ndarray, table: dict[str, Any], agg: Aggregator) -> tuple[np.ndarray, int]:
    """The rule applied to each resample's table in turn (NaN rows where it raised)."""
    import numpy as np

    values = np.full(cube.shape[:2], np.nan)
    failed = 0
    for b in range(cube.shape[0]):
        try:
            out = agg.aggregate(_frame(cube[b], table["methods"], table),
                                higher_is_better=bool(table["higher_is_better"]))
            values[b] = out.to_numpy(dtype=float)
        except EvalkitError:
            failed += 1
    return values, failed


def _stacked(cube: np.ndarray, table: dict[str, Any], agg: Aggregator) -> np.ndarray | None:
    """All resamples in one call, stacked as rows of one table, for a rule that scores each row
    from its own cells (the means): used only when every cell is finite (no missing-cell policy
    can act) and the stacked values equal the rule applied alone to the first, middle and last
    resamples exactly; ``None`` otherwise (then each resample is scored alone)."""
    import numpy as np

    n_res, n_methods, _ = cube.shape
    if not np.isfinite(cube).all():
        return None
    hib = bool(table["higher_is_better"])
    index = [f"{b}\x1f{m}" for b in range(n_res) for m in table["methods"]]
    try:
        stacked = agg.aggregate(_frame(cube.reshape(n_res * n_methods, -1), index, table), higher_is_better=hib)
        values = stacked.to_numpy(dtype=float).reshape(n_res, n_methods)
        for b in sorted({0, n_res // 2, n_res - 1}):
            alone = agg.aggregate(_frame(cube[b], table["methods"], table), higher_is_better=hib)
            if not np.array_equal(alone.to_numpy(dtype=float), values[b], equal_nan=True):
                return None
    except EvalkitError:
        return None
    return values


def bulk_rank(values: np.ndarray, *, higher_is_better: bool) -> np.ndarray:
    """Row-wise :func:`evalkit.aggregation.rank` of a ``(B, methods)`` array: 1 + the number of
    strictly better values after :func:`~evalkit.aggregation.snap_ties` (ties share the best
    rank, ``method="min"``); NaN stays NaN."""
    import numpy as np

    from evalkit.aggregation import snap_ties

    snapped = snap_ties(values)
    others, mine = snapped[:, None, :], snapped[:, :, None]
    better = others > mine if higher_is_better else others < mine
    return np.where(np.isnan(snapped), np.nan, 1.0 + better.sum(axis=2))


def rank_distribution(
    reps: dict[str, dict[str, Any]], table: dict[str, Any], rule: tuple[str, Aggregator], rs: Resamples,
) -> dict[str, Any] | None:
    """Per method ``P(rank = k)`` for k = 1..methods under ``rule``, with the rank interval.

    Returns ``None`` with fewer than 2 methods or no dataset with predictions. Probabilities are
    shares of the resamples the rule could aggregate (``n_used``); ``unranked`` is the share in
    which a method got no value (a missing or undefined cell). ``rank_interval`` is the percentile
    interval at ``rs.confidence`` with the lower and higher order statistics (integer bounds, as
    ``evalkit compare --bootstrap``).
    """
    import warnings

    import numpy as np

    methods = table["methods"]
    if len(methods) < 2 or not any(c in reps for c in table["datasets"]):
        return None
    ranks, failed = rank_counts(replicate_tables(reps, table, rs.n_resamples), table, rule)
    used = ranks[~np.isnan(ranks).all(axis=1)] if failed else ranks
    n_used = int(used.shape[0])
    k = len(methods)
    probs = {m: [float((used[:, i] == r).sum() / n_used) if n_used else 0.0 for r in range(1, k + 1)]
             for i, m in enumerate(methods)}
    alpha = (1 - rs.confidence) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a method never ranked: NaN bounds
        lo = np.nanquantile(used, alpha, axis=0, method="lower") if n_used else np.full(k, np.nan)
        hi = np.nanquantile(used, 1 - alpha, axis=0, method="higher") if n_used else np.full(k, np.nan)
    label, agg = rule
    return {
        "metric": table["label"], "rule": label, "rule_text": agg.rule, "methods": methods,
        "rank_full": {m: table["ranks"].get(label, {}).get(m) for m in methods},
        "probabilities": probs,
        "unranked": {m: float(np.isnan(used[:, i]).sum() / n_used) if n_used else 1.0 for i, m in enumerate(methods)},
        "rank_interval": {m: [None if np.isnan(lo[i]) else float(lo[i]), None if np.isnan(hi[i]) else float(hi[i])]
                          for i, m in enumerate(methods)},
        "fixed_columns": [c for c in table["datasets"] if c not in reps],
        "n_resamples": rs.n_resamples, "n_used": n_used, "n_failed": failed, "seed": rs.seed,
        "confidence": rs.confidence, "origin": rs.origin, "test": rs.describe(),
    }


def reading(d: dict[str, Any]) -> str:
    """One line: who ranks first how often, and the least settled method."""
    probs = d["probabilities"]
    first = max(probs, key=lambda m: probs[m][0])
    text = (f"Under the {d['rule']} rule, {first} ranks first in {probs[first][0]:.0%} of "
            f"{d['n_used']} resamples of the examples")
    settled = {m: max(p) for m, p in probs.items()}
    shaky = min(settled, key=lambda m: settled[m])
    if settled[shaky] >= 0.95:
        return text + "; every method keeps its most likely rank in at least 95% of them."
    mode = probs[shaky].index(settled[shaky]) + 1
    return text + f"; the least settled is {shaky}, at rank {mode} in only {settled[shaky]:.0%}."
