"""Cost of keying stored results: a cold run, a warm re-run, and the fingerprinting itself.

With an empty cache folder, runs the suite (default: ``--datasets stsb --methods
tfidf-cosine,minilm-cosine``, Spearman and Pearson) once cold (every cell computed, every text
encoded), then again warm (every cell reused), in this process, and times the key inputs of the
warm run (:func:`evalkit.fingerprint.component_inputs` for each method and dataset: code hashes,
model folder digest, library versions) with the memo warm and with it empty (the 90 MB MiniLM
folder read once). Target (issue 11): the warm run takes under a tenth of the cold one, and
every cell is reused. The last line is machine-readable:
``warm_over_cold=<ratio> keying_warm_ms=<ms> keying_cold_ms=<ms> reused=<n>/<n>``.

    EVALKIT_DATA_DIR=... python benchmarks/bench_keys.py [--datasets stsb] [--methods a,b]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="stsb")
    ap.add_argument("--methods", default="tfidf-cosine,minilm-cosine")
    args = ap.parse_args()

    from evalkit.fingerprint import FingerprintMemo, component_inputs, get_memo
    from evalkit.plugins import get_host
    from evalkit.runner import run_suite
    from evalkit.suite import ComponentSpec, Suite

    host = get_host()
    suite = Suite("bench", [ComponentSpec(d, d) for d in args.datasets.split(",")],
                  [ComponentSpec(m, m) for m in args.methods.split(",")],
                  [ComponentSpec("spearman", "spearman"), ComponentSpec("pearson", "pearson")])
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        t0 = time.perf_counter()
        cold = run_suite(suite, host=host, cache_dir=cache).provenance
        t_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = run_suite(suite, host=host, cache_dir=cache).provenance
        t_warm = time.perf_counter() - t0
        components = [host.methods.create(m.component) for m in suite.methods]
        components += [host.datasets.create(d.component) for d in suite.datasets]
        memo = get_memo(cache)
        t0 = time.perf_counter()
        for c in components:
            component_inputs(c, memo)
        keying_warm = time.perf_counter() - t0
        t0 = time.perf_counter()
        for c in components:
            component_inputs(c, FingerprintMemo(None))
        keying_cold = time.perf_counter() - t0
    total = warm["cells"]["total"]
    print(f"cold run: {t_cold:8.2f} s  ({cold['cells']['computed']} cells computed, "
          f"{cold['texts_encoded']} texts encoded)")
    print(f"warm run: {t_warm:8.2f} s  ({warm['cells']['reused']} of {total} cells reused, "
          f"{warm['texts_encoded']} texts encoded)")
    print(f"key inputs of {len(components)} components: {keying_warm * 1000:.1f} ms with the memo, "
          f"{keying_cold * 1000:.1f} ms without")
    print(f"warm_over_cold={t_warm / t_cold:.3f} keying_warm_ms={keying_warm * 1000:.1f} "
          f"keying_cold_ms={keying_cold * 1000:.1f} reused={warm['cells']['reused']}/{total}")


if __name__ == "__main__":
    main()
