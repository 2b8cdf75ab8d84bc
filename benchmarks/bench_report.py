"""Time of ``evalkit report`` on a saved run, and the size of the page (target: under 10 s).

Runs ``evalkit report RUN -o <tmp>.html`` in a fresh process, as a user would, ``--repeat`` times
and reports the best wall time, its CPU time (user + system of the child process, i.e.
``time.process_time`` of the report process; on a shared machine the CPU time is the steadier
number, the wall time grows with the load average printed alongside), and the file size. The
floor measured in the same run is a fresh process importing what the report needs (evalkit,
pandas, scipy.stats, sklearn.metrics, matplotlib.pyplot) and nothing else; the ratio report/floor
says how much the report adds to the imports.

RUN defaults to the latest saved run. The target is the default suite's run (``sts``: 7 datasets x
5 methods, full data, with predictions), as made by:

    evalkit compare                          # the default suite; saves the run with its predictions
    python benchmarks/bench_report.py        # or: python benchmarks/bench_report.py RUN_FOLDER

The last line is JSON: ``{"bench": "report", "seconds": ..., "cpu_seconds": ..., "bytes": ...,
"floor_seconds": ..., "target_seconds": 10, "ok": ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = ("import evalkit, pandas, scipy.stats, sklearn.metrics, matplotlib; matplotlib.use('Agg'); "
         "import matplotlib.pyplot")


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", default="latest", help="run folder or id [default: latest]")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    script = Path(sys.prefix, "bin", "evalkit")
    exe = [str(script)] if script.exists() else [sys.executable, "-c", "from evalkit.cli import main; main()"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.html"
        runs = [timed([*exe, "report", args.run, "-o", str(out)]) for _ in range(args.repeat)]
        size = out.stat().st_size
        floors = [timed([sys.executable, "-c", FLOOR]) for _ in range(args.repeat)]
    wall, cpu = min(runs)
    floor = min(f[0] for f in floors)
    load = os.getloadavg()[0]
    print(f"evalkit report {args.run}: {wall:.2f}s wall (best of {args.repeat}), {cpu:.2f}s CPU; "
          f"{size / 1024:.0f} KiB; import floor {floor:.2f}s (ratio {wall / floor:.1f}); "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")
    print(json.dumps({"bench": "report", "run": args.run, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                      "bytes": size, "floor_seconds": round(floor, 3), "ratio_to_floor": round(wall / floor, 2),
                      "load_average": round(load, 2), "target_seconds": 10, "ok": wall < 10}))


if __name__ == "__main__":
    main()
