"""Reproduce MTEB's published STS scores of all-MiniLM-L6-v2 with evalkit's `minilm-cosine`.

Published numbers (cosine Spearman x 100, MTEB leaderboard / the model card's MTEB results):
STS-B 82.03, SICK-R 77.58 (9,927 pairs), STS12 72.37, STS13 80.60, STS14 75.59, STS15 85.39,
STS16 78.99. Exits 1 when any dataset differs by more than 0.1 point.

Run with `make reproduce` (needs EVALKIT_DATA_DIR and the offline model package).
"""

from __future__ import annotations

import sys

from evalkit.runner import run_suite
from evalkit.suite import ComponentSpec, Suite

MTEB = {"stsb": 82.03, "sickr": 77.58, "sts12": 72.37, "sts13": 80.60, "sts14": 75.59, "sts15": 85.39, "sts16": 78.99}


def main() -> int:
    suite = Suite(
        "mteb-sts",
        [ComponentSpec(d, d) for d in MTEB],
        [ComponentSpec("minilm-cosine", "minilm-cosine")],
        [ComponentSpec("spearman", "spearman")],
    )
    run = run_suite(suite, progress=True)
    worst = 0.0
    print(f"{'dataset':8} {'evalkit':>8} {'MTEB':>8} {'diff':>6}")
    for rec in run.records():
        ours = rec["value"] * 100
        diff = ours - MTEB[rec["dataset"]]
        worst = max(worst, abs(diff))
        print(f"{rec['dataset']:8} {ours:8.2f} {MTEB[rec['dataset']]:8.2f} {diff:+6.2f}")
    print(f"max_abs_diff={worst:.3f}")
    return 0 if worst <= 0.1 else 1


if __name__ == "__main__":
    sys.exit(main())
