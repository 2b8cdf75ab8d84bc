"""Full-run regression check of the plan -> execute -> score pipeline against main's stored results.

``benchmarks/reference/main_{sts,pairclass}_results.csv`` are the ``results.csv`` of full runs
(whole splits, a fresh empty cache folder) of the default suite and of ``--suite pairclass`` made by evalkit's main
branch before ``run_suite`` was split into plan, execute and score. This script runs both suites
again (cache disabled, so every cell is computed) and compares every value as written to CSV
(floats by their shortest round-trip ``repr``): any difference is a regression. The 150-row
version of the same check is ``tests/test_pipeline_identity.py``; the full default suite takes
about 6 minutes on a quiet 2-core machine.

Run with ``make reproduce`` (needs EVALKIT_DATA_DIR and the offline model package). Exits 1 on
any difference, naming the first differing value of each column.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pandas as pd

from evalkit.runner import run_suite
from evalkit.suite import load_suite

REFERENCE = Path(__file__).parent / "reference"


def compare(suite_name: str) -> list[str]:
    """Differences between a fresh full run of ``suite_name`` and main's stored results."""
    want = pd.read_csv(REFERENCE / f"main_{suite_name}_results.csv", dtype=str, keep_default_na=False)
    t0 = time.perf_counter()
    run = run_suite(load_suite(suite_name), cache_dir=None)
    buf = io.StringIO()
    run.results.to_csv(buf, index=False)
    buf.seek(0)
    got = pd.read_csv(buf, dtype=str, keep_default_na=False)
    print(f"{suite_name}: {len(got)} results in {time.perf_counter() - t0:.1f}s")
    if list(got.columns) != list(want.columns) or len(got) != len(want):
        return [f"{suite_name}: columns {list(got.columns)} x {len(got)} rows, main had "
                f"{list(want.columns)} x {len(want)} rows"]
    problems = []
    for col in want.columns:
        diff = (got[col] != want[col]).to_numpy().nonzero()[0]
        if diff.size:
            i = int(diff[0])
            problems.append(f"{suite_name}: {col!r} differs in {diff.size} rows, first row {i}: "
                            f"{got[col].iloc[i]!r} (now) != {want[col].iloc[i]!r} (main)")
    return problems


def main() -> int:
    problems = [p for name in ("sts", "pairclass") for p in compare(name)]
    for p in problems:
        print(p)
    print("bit-identical to main" if not problems else f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
