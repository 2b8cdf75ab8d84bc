"""Comparison tables (methods x datasets) and aggregation across datasets.

- :func:`pivot`: the tidy results of one metric as a methods x datasets table.
- :func:`rank`: 1-based ranks, ties sharing the best rank.
- :func:`parse_aggregator_spec` / :func:`create_aggregators`: ``"power:p=2"`` style names from the
  command line or a suite file to aggregator objects, with shared parameters (command-line
  shorthands) passed to every aggregator that declares a parameter of that name.
- :func:`aggregate`: each aggregator's value and rank per row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from evalkit.interfaces import Aggregator
    from evalkit.plugins import Host

#: Significant bits compared when ranking (40 bits: about 12 decimal digits): values that agree
#: to that precision are ties, so that floating-point noise (``87.05`` vs ``87.05000000000001``)
#: never breaks a tie.
RANK_BITS = 40


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


def snap_ties(values: Any) -> np.ndarray:
    """``values`` (any shape, float64) rounded to :data:`RANK_BITS` significant bits.

    Rank-based rules compare snapped cells, so that values equal up to floating-point noise tie.
    NaN, infinities and zeros are unchanged; works at any magnitude (no overflow).
    """
    import numpy as np

    arr = np.array(values, dtype=float)
    finite = np.isfinite(arr)
    mantissa, exponent = np.frexp(arr[finite])
    arr[finite] = np.ldexp(np.round(mantissa * 2.0**RANK_BITS) / 2.0**RANK_BITS, exponent)
    return arr


def rank(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """1-based ranks, ties sharing the best rank (``method="min"``); NaN stays unranked (NaN).

    Values that agree to :data:`RANK_BITS` significant bits (about 12 digits) count as tied.
    """
    import pandas as pd

    snapped = pd.Series(
        snap_ties(values.to_numpy(dtype=float)), index=values.index, name=values.name
    )
    return snapped.rank(ascending=not higher_is_better, method="min", na_option="keep")


def parse_aggregator_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"power:p=2"`` -> ``("power", {"p": 2})``; ``"mean"`` -> ``("mean", {})``.

    The syntax of every component on the command line (:mod:`evalkit.params`): parameters follow
    the name after ``:``, separated by ``,`` or ``:`` (``power:p=2,nonpositive=skip``), values read
    as TOML scalars (a bare word is a string).

    Raises:
        ConfigError: an empty name or a parameter without ``=``.
    """
    from evalkit.params import parse_spec

    if not spec.strip() or spec.strip().startswith(":"):
        raise ConfigError(
            f"aggregator {spec!r}: the name is empty (expected e.g. 'mean' or 'power:p=2')"
        )
    parsed = parse_spec(spec)
    return parsed.name, dict(parsed.params)


def _accepts(factory: Any, param: str) -> bool:
    import inspect

    try:
        return param in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def create_aggregators(host: Host, specs: list[str], /, **shared: Any) -> list[tuple[str, Aggregator]]:
    """Build ``(label, aggregator)`` pairs from specs such as ``["mean", "power:p=2"]``.

    The label is the spec as written, or ``LABEL`` of ``NAME@LABEL:...``. Each keyword in
    ``shared`` (a command-line shorthand such as ``--nonpositive skip``, given here as
    ``nonpositive="skip"``) goes to every aggregator whose factory has a parameter of that name,
    unless the spec sets it itself; ``None`` means not given. evalkit knows no such names: they are
    whatever parameters the aggregators declare.

    Raises:
        ConfigError: a malformed spec, a duplicate label, invalid parameters, or a shared
            parameter that none of the aggregators takes (naming the registered ones that do).
        UnknownNameError: an aggregator no plugin registered.
    """
    from evalkit.params import check_params, parse_spec

    given = {key: value for key, value in shared.items() if value is not None}
    out: list[tuple[str, Aggregator]] = []
    used: set[str] = set()
    for spec in specs:
        name, params = parse_aggregator_spec(spec)
        label = parse_spec(spec).label
        if any(label == other for other, _ in out):
            raise ConfigError(f"aggregator {label!r} is listed twice")
        entry = host.aggregators.get(name)
        check_params("aggregator", name, entry.factory, params, plugin=entry.plugin)
        for key, value in given.items():
            if _accepts(entry.factory, key):
                params.setdefault(key, value)
                used.add(key)
        out.append((label, entry.create(**params)))
    unused = [key for key in given if key not in used]
    if unused:
        _unused_shared(host, specs, unused[0], given[unused[0]])
    return out


def _unused_shared(host: Host, specs: list[str], key: str, value: Any) -> None:
    """Raise the :class:`ConfigError` of a shared parameter that none of ``specs`` takes."""
    takers = sorted(e.name for e in host.aggregators if _accepts(e.factory, key))
    raise ConfigError(
        f"--{key} {value} applies to none of the aggregators {', '.join(specs)}; it is "
        f"taken by {', '.join(takers) or '(none registered)'}"
    )


def aggregate(
    table: pd.DataFrame,
    aggregators: list[tuple[str, Aggregator]],
    *,
    higher_is_better: bool = True,
) -> pd.DataFrame:
    """For each aggregator, a value column ``<label>`` and a rank column ``<label>_rank``.

    Ranks are 1-based with ties sharing the best rank (:func:`rank`); they follow the
    aggregator's own ``higher_is_better``, or the table's when the aggregator's is ``None``.

    Raises:
        PluginError: an aggregator raised, or returned a result not indexed like the table's rows.
        DataError: a cell violates an aggregator's policy (raised by the aggregator).
    """
    import pandas as pd

    labels = [label for label, _ in aggregators]
    clash = sorted(
        {lab for lab in labels if lab.endswith("_rank") and lab[: -len("_rank")] in labels}
    )
    if clash or len(set(labels)) != len(labels):
        raise ConfigError(
            f"aggregator labels {labels} collide ({', '.join(clash) or 'repeated'}): "
            "the rank column "
            "of aggregator X is named X_rank; give the aggregators distinct labels"
        )
    from evalkit.errors import PluginError
    from evalkit.guard import describe, origin, plugin_call

    out = pd.DataFrame(index=table.index)
    for label, agg in aggregators:
        values = plugin_call(agg, "aggregate", agg.aggregate, table, higher_is_better=higher_is_better)
        if not isinstance(values, pd.Series) or not values.index.equals(table.index):
            rows = list(values.index) if isinstance(values, pd.Series) else type(values).__name__
            raise PluginError(f"{describe(origin(agg))}: aggregate returned values for rows {rows}, not one "
                              f"per row of the table {list(table.index)}", call="aggregate", **origin(agg))
        try:
            out[label] = values.astype(float)
        except (TypeError, ValueError):
            raise PluginError(f"{describe(origin(agg))}: aggregate returned values that are not numbers",
                              call="aggregate", **origin(agg)) from None
        out[f"{label}_rank"] = rank(
            out[label], higher_is_better=aggregate_direction(agg, higher_is_better)
        )
    return out


def aggregate_direction(agg: Aggregator, cells_higher_is_better: bool) -> bool:
    """Whether a larger value of ``agg`` is better, given how the cells read."""
    own = getattr(agg, "higher_is_better", None)
    return cells_higher_is_better if own is None else bool(own)
