"""Load the runs a report shows: one run, or several merged when they share datasets.

Each merged run keeps its own provenance (under ``runs``); the merged run's ``results`` and
``predictions`` are the union. Runs may add methods or datasets to each other, but a dataset in
two runs must hold the same examples (the same gold values row by row), and a cell (method,
dataset, split, metric) present in two runs must have the same value.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError, DataError
from evalkit.provenance import Provenance

if TYPE_CHECKING:
    from evalkit.history import Source
    from evalkit.results import RunResult

KEY = ["method", "dataset", "split", "metric"]


def run_summary(source: Source) -> dict[str, Any]:
    """What the report's header says about one run: id, path, times, versions, commit, data sha256."""
    prov = source.run.provenance
    files: dict[str, str] = {}
    for info in (prov.get("datasets") or {}).values():
        for path, f in ((info or {}).get("files") or {}).items():
            if isinstance(f, dict) and f.get("sha256"):
                files[str(path)] = str(f["sha256"])
    methods = {}
    for label, info in (prov.get("methods") or {}).items():
        info = info if isinstance(info, dict) else {}
        methods[str(label)] = {"method": info.get("method", label), "params": info.get("params") or {}}
    return {
        "run_id": source.path.name if source.kind == "run" else source.path.stem,
        "path": str(source.path),
        "kind": source.kind,
        "suite": prov.get("suite"),
        "started": prov.get("started"),
        "finished": prov.get("finished"),
        "evalkit_version": prov.get("evalkit_version"),
        "python": prov.get("python"),
        "platform": prov.get("platform"),
        "git_commit": prov.get("git_commit"),
        "plugins": prov.get("plugins") or {},
        "methods": methods,
        "data_files": files,
        "data_dir": prov.get("data_dir"),
        "tune_on": prov.get("tune_on"),
        "bootstrap": prov.get("bootstrap"),
    }


def _check_same_examples(runs: list[Source]) -> None:
    import numpy as np

    seen: dict[tuple[str, str], tuple[np.ndarray, str]] = {}
    for src in runs:
        p = src.run.predictions
        if p.empty:
            continue
        for (dataset, split), g in p[p["role"] != "tune"].groupby(["dataset", "split"], sort=False):
            first = g[g["method"] == g["method"].iloc[0]].sort_values("row")
            refs = first["reference"].to_numpy(dtype=np.float64)
            key = (str(dataset), str(split))
            if key in seen:
                other, where = seen[key]
                if other.shape != refs.shape or not np.array_equal(other, refs):
                    raise DataError(
                        f"cannot merge {src.label} with {where}: {dataset}/{split} holds different examples "
                        "(row counts or gold values differ); merge runs on the same data only"
                    )
            else:
                seen[key] = (refs, src.label)


def merge_runs(sources: list[Source]) -> RunResult:
    """One run holding every source's results and predictions (see the module docs).

    Raises:
        ConfigError: no sources, or several that share no dataset.
        DataError: a shared dataset holds different examples, or a cell has two different values.
    """
    import pandas as pd

    from evalkit.results import RunResult

    if not sources:
        raise ConfigError("no run to report")
    if len(sources) == 1:
        return sources[0].run
    datasets = [set(s.run.results["dataset"]) for s in sources]
    shared = set.intersection(*datasets)
    if not shared:
        raise ConfigError(
            "the runs share no dataset ("
            + "; ".join(f"{s.label}: {', '.join(sorted(d))}" for s, d in zip(sources, datasets, strict=True))
            + "); a merged report compares methods on common datasets"
        )
    _check_same_examples(sources)
    results = pd.concat([s.run.results for s in sources], ignore_index=True)
    dupes = results[results.duplicated(KEY, keep=False)]
    for _, group in dupes.groupby(KEY, sort=False):
        if group["value"].nunique() > 1:
            cell = "/".join(str(group.iloc[0][k]) for k in KEY)
            raise DataError(f"cell {cell} has different values in the merged runs ({sorted(group['value'])}); "
                            "give the methods distinct labels in each run")
    results = results.drop_duplicates(KEY, keep="first").reset_index(drop=True)
    frames = [s.run.predictions for s in sources if not s.run.predictions.empty]
    preds = pd.concat(frames, ignore_index=True) if frames else sources[0].run.predictions
    if not preds.empty:
        preds = preds.drop_duplicates(["method", "dataset", "split", "row", "role"], keep="first")
    prov: dict[str, Any] = dict(sources[0].run.provenance)  # the first run's fields win
    for k in ("methods", "metrics", "datasets"):
        merged: dict[str, Any] = {}
        for s in sources:
            for label, info in (s.run.provenance.get(k) or {}).items():
                merged.setdefault(label, info)
        prov[k] = merged
    return RunResult(results, preds.reset_index(drop=True), Provenance.from_dict(prov), Path(sources[0].path))
