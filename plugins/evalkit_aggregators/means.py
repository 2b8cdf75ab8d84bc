"""Value-based aggregators: arithmetic, geometric, harmonic and power means, and the median.

All weight the columns (datasets, tasks) equally and keep the cells' scale (a mean of 0-100
scores is on 0-100) and direction (the mean of an error is lower-is-better). The power mean of
order p (Hardy, Littlewood & Polya 1934, ch. II; ``scipy.stats.pmean``) is
``M_p(x) = (mean(x ** p)) ** (1 / p)``, with ``M_0 = exp(mean(log x))`` the geometric mean
(``scipy.stats.gmean``) and ``M_-1 = 1 / mean(1 / x)`` the harmonic mean (``scipy.stats.hmean``).
For any row of positive cells ``M_p`` does not decrease with p, so AM >= GM >= HM, with
equality exactly when the row is constant.

Domains: the arithmetic mean (p = 1) and the median take any finite value; a power mean with
p > 0 needs cells >= 0 (a negative value to a fractional power is not real); p <= 0, so the
geometric and harmonic means, need cells > 0. A cell outside the domain follows the
``nonpositive`` policy and a missing cell the ``missing`` policy (see :mod:`.policy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from evalkit import Aggregator, ConfigError, DataError

from .policy import (
    describe_cells,
    missing_reasons,
    numeric_table,
    parse_missing,
    parse_nonpositive,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class CellwiseAggregator(Aggregator):
    """Base of the value-based rules: policies applied cell by cell, then a row-wise reduction.

    Subclasses set ``title`` and implement :meth:`reduce`; rules with a restricted domain
    override :meth:`domain`.
    """

    title: ClassVar[str] = ""
    missing: str = "exclude"
    nonpositive: str = "error"

    def rule_name(self) -> str:
        """The rule's name in messages and in :attr:`rule` (``"geometric mean"``)."""
        return self.title

    def domain(self) -> tuple[str, str] | None:
        """``(">", "0")`` or ``(">=", "0")`` when cells must satisfy it, ``None`` for any value."""
        return None

    def reduce(self, arr: np.ndarray) -> np.ndarray:
        """Row-wise value of a 2-D float array whose NaN cells are to be ignored."""
        raise NotImplementedError

    # -- the stated policies ---------------------------------------------------------------
    def _owner(self) -> str:
        return f"aggregator {self.display_name!r}"

    def _policy_text(self) -> str:
        parts = []
        dom = self.domain()
        if dom is None:
            parts.append("any finite value allowed")
        else:
            op, bound = dom
            bad = "<= 0" if op == ">" else "< 0"
            policy = parse_nonpositive(self.nonpositive, owner=self._owner())
            if policy.mode == "error":
                parts.append(
                    f"every cell must be {op} {bound}: a cell {bad} is an error "
                    "(nonpositive=skip or shift=C chooses otherwise)"
                )
            elif policy.mode == "skip":
                parts.append(
                    f"a row with a cell {bad} gets no value and no rank (nonpositive=skip)"
                )
            else:
                parts.append(
                    f"computed on cell + {policy.shift:g} (nonpositive=shift={policy.shift:g}); "
                    f"a shifted cell {bad} is an error"
                )
        if parse_missing(self.missing, owner=self._owner()) == "exclude":
            parts.append("a row missing any cell gets no value and no rank")
        else:
            parts.append("missing cells are skipped (the rule is applied to the cells a row has)")
        return "; ".join(parts)

    @property
    def rule(self) -> str:
        return f"{self.rule_name()} over the columns, each weighted equally; " + self._policy_text()

    def _prepare(self, table: pd.DataFrame) -> tuple[np.ndarray, dict[str, str]]:
        """The cells to reduce (NaN where ignored) and the unscored rows with their reasons.

        Raises:
            DataError: non-numeric or infinite cells, or cells outside the domain under
                ``nonpositive="error"`` (or still outside it after a shift).
        """
        import numpy as np

        owner = self._owner()
        arr = numeric_table(table, owner=owner).copy()
        missing_mode = parse_missing(self.missing, owner=owner)
        nan = np.isnan(arr)
        unscored = nan.any(axis=1) if missing_mode == "exclude" else nan.all(axis=1)
        reasons = missing_reasons(table, arr, unscored)
        dom = self.domain()
        if dom is not None:
            policy = parse_nonpositive(self.nonpositive, owner=owner)
            if policy.mode == "shift":
                arr = arr + policy.shift
            with np.errstate(invalid="ignore"):
                outside = (arr <= 0) if dom[0] == ">" else (arr < 0)
            outside &= ~unscored[:, None]
            if outside.any():
                cond = f"{dom[0]} {dom[1]}"
                if policy.mode == "skip":
                    rows = outside.any(axis=1)
                    for i in np.flatnonzero(rows).tolist():
                        cells = ", ".join(
                            f"{table.columns[j]} = {arr[i, j]:g}"
                            for j in np.flatnonzero(outside[i]).tolist()
                        )
                        reasons[str(table.index[i])] = f"cell not {cond}: {cells}"
                    unscored = unscored | rows
                else:
                    n_rows = int(outside.any(axis=1).sum())
                    shifted = (
                        f" after the shift of {policy.shift:g}" if policy.mode == "shift" else ""
                    )
                    raise DataError(
                        f"{owner}: the {self.rule_name()} needs every cell {cond}, but {n_rows} "
                        f"row{'s' if n_rows > 1 else ''} {'have' if n_rows > 1 else 'has'} cells "
                        f"that are not{shifted}: {describe_cells(table, arr, outside)}. Choose "
                        "nonpositive='skip' (those rows get no value and no rank) or "
                        "nonpositive='shift=C' (add C to every cell first); on the command line "
                        "--nonpositive skip or --nonpositive shift=C."
                    )
        arr[unscored] = np.nan
        return arr, reasons

    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        """One float64 per row (NaN for the rows the policies leave unscored); see :attr:`rule`.

        Raises:
            DataError: see :meth:`_prepare`.
        """
        import numpy as np
        import pandas as pd

        arr, _ = self._prepare(table)
        values = np.full(arr.shape[0], np.nan)
        scored = ~np.isnan(arr).all(axis=1)
        if scored.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                values[scored] = self.reduce(arr[scored])
        return pd.Series(values, index=table.index, dtype=float)

    def unscored(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> dict[str, str]:
        """Rows without a value and why (missing cells, or a skipped cell outside the domain)."""
        return self._prepare(table)[1]


class ArithmeticMean(CellwiseAggregator):
    """Arithmetic mean across columns, unweighted (each dataset or task counts once)."""

    name = "mean"
    #: Other names accepted by ``--aggregate`` and suite files.
    aliases: ClassVar[tuple[str, ...]] = ("arithmetic", "am")
    title = "arithmetic mean"

    def __init__(self, *, missing: str = "exclude") -> None:
        self.missing = missing
        parse_missing(missing, owner=self._owner())

    def reduce(self, arr: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.nanmean(arr, axis=1)


class Median(CellwiseAggregator):
    """Median across columns (the mean of the two middle cells for an even count)."""

    name = "median"
    title = "median"

    def __init__(self, *, missing: str = "exclude") -> None:
        self.missing = missing
        parse_missing(missing, owner=self._owner())

    def reduce(self, arr: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.nanmedian(arr, axis=1)


class PowerMean(CellwiseAggregator):
    """Power (generalised, Hölder) mean of order p across columns: (mean(x ** p)) ** (1 / p)."""

    name = "power"
    aliases: ClassVar[tuple[str, ...]] = ()
    title = "power mean"

    def __init__(
        self, *, p: float | None = None, nonpositive: str = "error", missing: str = "exclude"
    ) -> None:
        self.p = p
        self.nonpositive = nonpositive
        self.missing = missing
        owner = self._owner()
        if (
            p is None
            or isinstance(p, bool)
            or not isinstance(p, (int, float))
            or p != p
            or abs(p) == float("inf")
        ):
            raise ConfigError(
                f"{owner}: the power mean needs a finite order p, e.g. 'power:p=2' "
                f"(p=1 arithmetic, p=0 geometric, p=-1 harmonic); got p={p!r}"
            )
        parse_nonpositive(nonpositive, owner=owner)
        parse_missing(missing, owner=owner)

    def order(self) -> float:
        return float(self.p)  # type: ignore[arg-type]

    def rule_name(self) -> str:
        return f"power mean of order p={self.order():g}"

    def domain(self) -> tuple[str, str] | None:
        p = self.order()
        if p == 1:
            return None
        return (">", "0") if p <= 0 else (">=", "0")

    def reduce(self, arr: np.ndarray) -> np.ndarray:
        """``(mean(x ** p)) ** (1 / p)``, computed in log space so that it is stable for any p.

        With ``z = p * log(x)`` and ``m = max z = p * log(x*)``:
        ``log M_p = log(x*) + log1p(mean(expm1(p * (log(x) - log(x*))))) / p``.
        This never overflows, is exact on constant rows, and tends to ``mean(log x)`` (the
        geometric mean) as p -> 0, where the direct formula (and ``scipy.stats.pmean``) collapses
        to 1 once ``x ** p`` rounds to 1.0.
        """
        import numpy as np

        p = self.order()
        if p == 1:
            return np.nanmean(arr, axis=1)
        logs = np.log(arr)
        # M_p differs from the geometric mean by a factor of about exp(p/2 * var(log x)): below
        # |p| = 1e-100 that is far under float64 resolution, while p * log(x) would lose digits
        # (subnormal p). So such orders are the p -> 0 limit.
        if abs(p) < 1e-100:
            return np.exp(np.nanmean(logs, axis=1))
        # m = max(p * log x) is reached at the largest log x for p > 0, the smallest for p < 0;
        # writing z - m = p * (log x - log x*) keeps constant rows exact even for subnormal p.
        top = np.nanmax(logs, axis=1) if p > 0 else np.nanmin(logs, axis=1)
        out = np.zeros(arr.shape[0])  # a row of zeros (p > 0) has M_p = 0
        ok = np.isfinite(top)
        shifted = np.expm1(p * (logs[ok] - top[ok, None]))
        out[ok] = np.exp(top[ok] + np.log1p(np.nanmean(shifted, axis=1)) / p)
        return out


class GeometricMean(PowerMean):
    """Geometric mean across columns, exp(mean(log x)); every cell must be > 0."""

    name = "geometric"
    #: Other names accepted by ``--aggregate`` and suite files.
    aliases: ClassVar[tuple[str, ...]] = ("gm",)

    def __init__(self, *, nonpositive: str = "error", missing: str = "exclude") -> None:
        super().__init__(p=0.0, nonpositive=nonpositive, missing=missing)

    def rule_name(self) -> str:
        return "geometric mean"


class HarmonicMean(PowerMean):
    """Harmonic mean across columns, 1 / mean(1 / x); every cell must be > 0."""

    name = "harmonic"
    #: Other names accepted by ``--aggregate`` and suite files.
    aliases: ClassVar[tuple[str, ...]] = ("hm",)

    def __init__(self, *, nonpositive: str = "error", missing: str = "exclude") -> None:
        super().__init__(p=-1.0, nonpositive=nonpositive, missing=missing)

    def rule_name(self) -> str:
        return "harmonic mean"
