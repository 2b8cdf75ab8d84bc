"""Speed of the aggregators and the bootstrap over tasks on the GLUE snapshot (100 x 9).

Each rule is timed against a peer computation measured in the same run: scipy.stats (gmean,
hmean, pmean) row by row, a straightforward pure-Python loop over the HELM win-rate definition,
and Vote'n'Rank's Borda formula with pandas ``rank(method="max")``. Prints the ratio
peer time / evalkit time (> 1: evalkit is faster) and the wall time of a bootstrap over tasks.

Run: ``PYTHONPATH=.:plugins python benchmarks/bench_aggregators.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats


def best_of(fn: Callable[[], Any], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def helm_win_rate_loop(table: pd.DataFrame) -> list[float]:
    rates: list[list[float]] = [[] for _ in range(len(table))]
    for col in table.columns:
        vals = table[col].tolist()
        for i, v in enumerate(vals):
            others = [o for k, o in enumerate(vals) if k != i]
            rates[i].append(
                sum(1.0 if v > o else 0.5 if v == o else 0.0 for o in others) / len(others)
            )
    return [sum(r) / len(r) for r in rates]


def main() -> None:
    from evalkit.aggregation import create_aggregators
    from evalkit.bootstrap import bootstrap_tasks
    from evalkit.leaderboards.board import load_board
    from evalkit.leaderboards.snapshot import read_snapshot
    from evalkit.plugins import Host

    board = load_board("glue")
    table = read_snapshot(board).task_table(board.tasks)
    table = table[(table > 0).all(axis=1)]  # complete rows without a zero: every rule applies
    # Two-number tasks are means of 0.1-step cells, so equal task scores can differ by one ulp
    # (92.85 from 93.9/91.8 and from 92.8/92.9); evalkit's rank rules treat those as ties, the
    # plain loop would not, so both get the table rounded to 9 decimals.
    table = table.round(9)
    arr = table.to_numpy()
    host = Host(autoload=False)
    aggs = dict(
        create_aggregators(host, ["geometric", "harmonic", "power:p=2", "win_rate", "borda"])
    )
    peers: dict[str, Callable[[], Any]] = {
        "geometric": lambda: [stats.gmean(r) for r in arr],
        "harmonic": lambda: [stats.hmean(r) for r in arr],
        "power:p=2": lambda: [stats.pmean(r, 2) for r in arr],
        "win_rate": lambda: helm_win_rate_loop(table),
        "borda": lambda: (len(table) - table.rank(method="max", ascending=False)).sum(axis=1),
    }
    print(f"GLUE 2021: {table.shape[0]} systems x {table.shape[1]} tasks")
    for label, agg in aggs.items():
        ours = best_of(lambda agg=agg: agg.aggregate(table))
        peer = best_of(peers[label])
        np.testing.assert_allclose(
            agg.aggregate(table).to_numpy(), np.asarray(peers[label](), dtype=float), rtol=1e-9
        )
        print(
            f"  {label:<10} evalkit {ours * 1e3:7.2f} ms   peer {peer * 1e3:7.2f} ms   "
            f"ratio {peer / ours:6.1f}x"
        )
    rules = create_aggregators(host, ["mean", "geometric", "harmonic"])
    t0 = time.perf_counter()
    bootstrap_tasks(table, rules, n_resamples=1000, seed=0)
    print(f"  bootstrap over tasks: 1000 resamples x 3 rules in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
