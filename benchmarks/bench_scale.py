"""Wall time of one grid of cells: sequential, 2 joblib processes, and 2 Dask workers.

The grid: 7 STS datasets (stsb, sickr, sts12-16) x 2 TF-IDF methods (word unigrams and character
2-5-grams) = 14 cells, each fitted and scored from scratch (no stored cells: ``cache_dir=None``).
Every backend must give identical results; the script checks that before printing timings.

    EVALKIT_DATA_DIR=../shared/data python benchmarks/bench_scale.py

Last line (machine-readable): ``speedup_jobs2=<x> speedup_dask2=<y>`` (sequential time divided
by each backend's time; includes process / cluster start-up).
"""

from __future__ import annotations

import time

from evalkit.runner import run_suite
from evalkit.suite import STS_DATASETS, ComponentSpec, Suite


def main() -> None:
    suite = Suite(
        "bench-scale",
        [ComponentSpec(d, d) for d in STS_DATASETS],
        [ComponentSpec("tfidf-word", "tfidf"),
         ComponentSpec("tfidf-char", "tfidf", {"analyzer": "char_wb", "ngram_range": [2, 5]})],
        [ComponentSpec("spearman", "spearman")],
    )
    runs = {}
    times = {}
    for name, kwargs in [("sequential", {}), ("jobs2", {"backend": "processes", "jobs": 2}),
                         ("dask2", {"backend": "dask", "jobs": 2})]:
        t0 = time.perf_counter()
        runs[name] = run_suite(suite, cache_dir=None, **kwargs)
        times[name] = time.perf_counter() - t0
        print(f"{name:>10}: {times[name]:7.2f} s  ({runs[name].provenance['cells']['computed']} cells)", flush=True)
    for name in ("jobs2", "dask2"):
        assert runs[name].results.equals(runs["sequential"].results), f"{name} results differ"
    print("results identical across backends")
    print(f"speedup_jobs2={times['sequential'] / times['jobs2']:.2f} "
          f"speedup_dask2={times['sequential'] / times['dask2']:.2f}")


if __name__ == "__main__":
    main()
