"""Each post-processor against its base method: McNemar's exact test on paired correctness.

A method whose parameters (in the run's provenance) include ``base`` naming another method of the
same run (by label, or by registry name when exactly one method of the run has it) is a
*post-processor* of that method, e.g. ``minilm-logreg+can`` of ``minilm-logreg``. For every such
pair, every dataset split both scored, and every metric whose per-example scores are 0/1 (accuracy),
:func:`versus_base` runs :func:`evalkit.stats.mcnemar_exact` (two-sided) on the stored per-example
predictions: the two systems classified the same examples, so only the examples one got right
and the other wrong count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from evalkit.interfaces import Table
from evalkit.results import prediction_values

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.interfaces import Metric
    from evalkit.results import RunResult

COLUMNS = ["method", "base", "dataset", "split", "metric", "base_value", "value", "delta", "base_only",
           "method_only", "p_value"]


def base_pairs(provenance: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(method label, base label)`` for every post-processor of the run (see the module docstring)."""
    methods = provenance.get("methods") or {}
    by_component: dict[str, list[str]] = {}
    for label, info in methods.items():
        by_component.setdefault(str((info or {}).get("method", label)), []).append(label)
    out = []
    for label, info in methods.items():
        base = ((info or {}).get("params") or {}).get("base")
        if not isinstance(base, str):
            continue
        if base in methods and base != label:
            out.append((label, base))
        elif len(by_component.get(base, [])) == 1:
            out.append((label, by_component[base][0]))
    return out


def _cell(preds: pd.DataFrame, method: str, dataset: str, split: str) -> tuple[Any, Any] | None:
    sub = preds[(preds["method"] == method) & (preds["dataset"] == dataset) & (preds["split"] == split)]
    if "role" in sub.columns:
        sub = sub[sub["role"] != "tune"]
    if sub.empty:
        return None
    sub = sub.sort_values("row", kind="stable")
    return prediction_values(sub), sub["reference"].to_numpy()


def versus_base(run: RunResult, metrics: dict[str, Metric]) -> pd.DataFrame:
    """One row per (post-processor, dataset split, 0/1 metric): values, discordant counts, McNemar p.

    Columns: :data:`COLUMNS` (``base_only``: examples the base got right and the method wrong;
    ``method_only``: the reverse; ``delta = value - base_value``). Empty when the run has no
    post-processor, no stored predictions, or no 0/1 per-example metric.
    """
    import numpy as np
    import pandas as pd

    from evalkit.stats import mcnemar_exact

    rows: list[dict[str, Any]] = []
    preds = run.predictions
    if preds.empty:
        return pd.DataFrame(columns=COLUMNS)
    cells = preds[["dataset", "split"]].drop_duplicates().itertuples(index=False)
    for dataset, split in list(cells):
        for method, base in base_pairs(run.provenance):
            a, b = _cell(preds, base, dataset, split), _cell(preds, method, dataset, split)
            if a is None or b is None or not np.array_equal(a[1], b[1]):
                continue
            for label, metric in metrics.items():
                ca = metric.per_example(predictions=a[0], references=a[1])
                cb = metric.per_example(predictions=b[0], references=b[1])
                if ca is None or cb is None or not (np.isin(ca, (0, 1)).all() and np.isin(cb, (0, 1)).all()):
                    continue
                t = mcnemar_exact(ca, cb)
                rows.append({"method": method, "base": base, "dataset": dataset, "split": split, "metric": label,
                             "base_value": float(np.mean(ca)), "value": float(np.mean(cb)), "delta": t.delta,
                             "base_only": int(t.distribution[0]), "method_only": int(t.distribution[1]),
                             "p_value": t.p_value})
    return pd.DataFrame(rows, columns=COLUMNS)


def versus_base_table(frame: pd.DataFrame) -> Table | None:
    """The comparison's table of :func:`versus_base` rows (values x 100), or ``None`` when empty."""
    if frame.empty:
        return None
    shown = frame.set_index("method")[["base", "dataset", "metric", "base_value", "value", "delta", "base_only",
                                       "method_only", "p_value"]].copy()
    for col in ("base_value", "value", "delta"):
        shown[col] = shown[col] * 100
    shown = shown.rename(columns={"base_value": "base x 100", "value": "method x 100", "delta": "delta x 100",
                                  "base_only": "only base right", "method_only": "only method right",
                                  "p_value": "McNemar p"})
    notes = ["McNemar's exact test (two-sided binomial test on the examples exactly one of the two got right), "
             "on the stored per-example predictions; a post-processor is a method whose 'base' parameter names "
             "another method of the run",
             "p is not corrected for multiple comparisons"]
    return Table(shown, "Post-processors against their base method (paired)", notes, digits=2,
                 column_digits={"only base right": 0, "only method right": 0, "McNemar p": 4})
