"""Public statistical helpers for aggregator and reporter plugins: ties and ranks, bootstrap
intervals, paired significance tests and multiple-comparison corrections.

Part of evalkit's public plugin API (see the API reference); each name is documented where it is
defined and re-exported here unchanged. All take and return NumPy arrays or pandas objects of
float64; randomness comes from ``numpy.random.default_rng(seed)``, so equal seeds give equal
results.

Ranks (what the built-in rank aggregators use):

- :data:`RANK_BITS`: cells that agree to this many significant bits (40, about 12 decimal digits)
  are ties; :func:`snap_ties` rounds an array to them; :func:`rank` gives 1-based ranks, ties
  sharing the best rank, NaN unranked.

Resampling and tests:

- :func:`bootstrap_tasks`: percentile intervals of aggregates and ranks by resampling the tasks
  (columns) of a systems x tasks table.
- :func:`paired_bootstrap`, :func:`paired_permutation`, :func:`mcnemar_exact` -> :class:`PairedTest`:
  the difference between two systems scored on the same examples.
- :func:`adjust_p_values`: Holm, Bonferroni or Benjamini-Hochberg adjusted p-values.

Reporters get the significance marks of a comparison ready-made: :attr:`evalkit.Table.best` and
:attr:`evalkit.Table.indistinct` (the best cell of each column, and the cells not significantly
worse than it); they need not recompute anything.
"""

from __future__ import annotations

from evalkit.aggregation import RANK_BITS, rank, snap_ties
from evalkit.bootstrap import bootstrap_tasks
from evalkit.multitest import adjust_p_values
from evalkit.stats import PairedTest, mcnemar_exact, paired_bootstrap, paired_permutation

__all__ = [
    "RANK_BITS",
    "PairedTest",
    "adjust_p_values",
    "bootstrap_tasks",
    "mcnemar_exact",
    "paired_bootstrap",
    "paired_permutation",
    "rank",
    "snap_ties",
]
