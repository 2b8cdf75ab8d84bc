"""The largest disagreements between two methods, with the sentence texts reloaded from the data.

Saved runs store per-example predictions and gold values, not the sentences. The texts are read
again from the dataset the run's provenance names (registry name and parameters), in the data
folder the run used (or ``data_dir``), and used only when the reloaded split has the same number
of rows and the same gold value in every row as the stored predictions; otherwise the table shows
row ids and a note says why the texts are missing.

Methods score on different scales, so a disagreement is measured on percentile ranks: each
method's predictions on the dataset become their mean rank divided by ``n`` (0-1, ties averaged,
``scipy.stats.rankdata``), and the pairs with the largest ``|rank_a - rank_b|`` are listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.plugins import Host
    from evalkit.results import RunResult

from evalkit.htmlreport.tasks import evaluated, task_of

#: Pairs listed per dataset.
TOP_K = 5


def load_texts(run: RunResult, dataset: str, split: str, host: Host,
               data_dir: Path | None = None) -> tuple[pd.DataFrame | None, str]:
    """``(frame with sentence1, sentence2 and the gold column, "")`` or ``(None, reason)``."""
    from evalkit.errors import EvalkitError

    info = (run.provenance.get("datasets") or {}).get(dataset)
    if not isinstance(info, dict) or not info.get("dataset"):
        return None, f"the run's provenance does not name the dataset behind {dataset!r}"
    used = run.provenance.get("data_dir")
    folder = data_dir or (Path(used) if used and Path(used).is_dir() else None)
    try:
        ds = host.datasets.create(str(info["dataset"]), **dict(info.get("params") or {}))
        from evalkit.data import resolve_data_dir

        frame = ds.load(split, resolve_data_dir(folder))
    except EvalkitError as exc:
        return None, f"cannot reload {dataset}/{split} for its texts: {exc}"
    return frame.assign(_gold=frame[ds.target].astype(float)), ""


def disagreements(run: RunResult, method_a: str, method_b: str, host: Host, *,
                  data_dir: Path | None = None, top_k: int = TOP_K) -> list[dict[str, Any]]:
    """Per (dataset, split) both methods scored: the ``top_k`` pairs they rank most differently."""
    import numpy as np
    from scipy.stats import rankdata

    p = evaluated(run)
    if p.empty:
        return []
    out = []
    for (dataset, split), g in p.groupby(["dataset", "split"], sort=False):
        a = g[g["method"] == method_a].sort_values("row")
        b = g[g["method"] == method_b].sort_values("row")
        if a.empty or b.empty or not np.array_equal(a["row"].to_numpy(), b["row"].to_numpy()):
            continue
        n = len(a)
        ra = rankdata(a["prediction"].to_numpy(dtype=float)) / n
        rb = rankdata(b["prediction"].to_numpy(dtype=float)) / n
        gap = np.abs(ra - rb)
        top = np.argsort(-gap, kind="stable")[:top_k]
        gold = a["reference"].to_numpy(dtype=float)
        texts, note = load_texts(run, str(dataset), str(split), host, data_dir)
        if texts is not None and (len(texts) != n or not np.allclose(
                texts["_gold"].to_numpy(dtype=float)[a["row"].to_numpy()], gold, rtol=0, atol=1e-9)):
            texts, note = None, (f"the reloaded {dataset}/{split} differs from the run's examples "
                                 "(row count or gold values); texts left out")
        rows = []
        for i in top:
            row = int(a["row"].iloc[i])
            rec: dict[str, Any] = {
                "row": row, "gold": float(gold[i]),
                "prediction_a": float(a["prediction"].iloc[i]), "prediction_b": float(b["prediction"].iloc[i]),
                "rank_a": float(ra[i]), "rank_b": float(rb[i]), "gap": float(gap[i]),
            }
            if texts is not None:
                rec["sentence1"] = str(texts["sentence1"].iloc[row])
                rec["sentence2"] = str(texts["sentence2"].iloc[row])
            rows.append(rec)
        out.append({"dataset": str(dataset), "split": str(split), "method_a": method_a, "method_b": method_b,
                    "task": task_of(run, str(dataset)), "n": n, "rows": rows, "note": note})
    return out
