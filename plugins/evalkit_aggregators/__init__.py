"""Built-in plugin: aggregators across the columns (datasets, tasks) of a comparison table.

Value-based rules (:mod:`.means`): ``mean`` (arithmetic), ``geometric``, ``harmonic``,
``power`` (order ``p``, e.g. ``power:p=2``) and ``median``. Rank-based rules
(:mod:`.ranks`): ``avg_rank`` (mean rank), ``win_rate`` (HELM), ``borda`` and ``copeland``
(Vote'n'Rank). Each states its policy for zeros, negatives and missing cells in its ``rule``,
printed under every table
(:mod:`.policy`: ``nonpositive`` = error | skip | shift=C, ``missing`` = exclude | skip).
"""

from __future__ import annotations

from evalkit import Register, hookimpl

from .means import ArithmeticMean, GeometricMean, HarmonicMean, Median, PowerMean
from .policy import Nonpositive, parse_missing, parse_nonpositive
from .ranks import Borda, Copeland, MeanRank, WinRate

__all__ = [
    "ArithmeticMean",
    "Borda",
    "Copeland",
    "GeometricMean",
    "HarmonicMean",
    "MeanRank",
    "Median",
    "Nonpositive",
    "PowerMean",
    "WinRate",
    "parse_missing",
    "parse_nonpositive",
]


@hookimpl
def register_aggregators(register: Register) -> None:
    for cls in (
        ArithmeticMean,
        GeometricMean,
        HarmonicMean,
        PowerMean,
        Median,
        MeanRank,
        WinRate,
        Borda,
        Copeland,
    ):
        register(cls)
