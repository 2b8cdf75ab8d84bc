"""Throughput of exact WMD and solves saved by prefetch-and-prune k-NN, against peers, in one run.

On the same inputs, pairs per second of:

- evalkit's batched exact solver (:func:`evalkit_ot.batch.ot_distances`, threads over cores),
- the naive per-pair loop ``ot.emd2(a, b, ot.dist(x, y, metric="euclidean"))`` (POT's default
  cost, fast but with ~1e-8 cancellation error for near-identical vectors) and the same loop with
  the exact cost ``ot.dist(..., backend="scipy")`` (scipy's cdist),
- gensim's ``KeyedVectors.wmdistance`` in a loop (float64 vectors, ``norm=False``),

on (1) STS-B test pairs with all-MiniLM-L6-v2 contextual token embeddings (special tokens
dropped; each token its own vector, uniform weights) and (2) all 1225 pairs of the Lee corpus
(``lee.cor``) with gensim's own static test vectors (``euclidean_vectors.bin``), tokenised with
scikit-learn's pattern and English stop words removed (as Kusner et al. 2015 remove stop words).

Then k-NN with k = 10: exact solves of :func:`evalkit_ot.knn.knn` (prefetch and prune) against
the exhaustive search, with identical neighbours required, on the STS-B test sentences and on
the 300 ``lee_background.cor`` documents.

The last line is ``speedup_vs_naive=<x> knn_solve_reduction=<y>``: the smaller of the two
datasets' ratios (evalkit against the faster naive loop; exhaustive solves over pruned solves).

Run: ``python benchmarks/bench_ot.py`` (needs EVALKIT_DATA_DIR, gensim and the offline MiniLM;
the first run encodes the STS-B test sentences into evalkit's cache).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def best_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def throughput(name: str, xs: list, ys: list, weights: tuple[list, list], gensim_docs: tuple,
               kv: object, repeats: int, n_jobs: int) -> float:
    """Print pairs/s of the four implementations on one dataset; return evalkit / fastest naive."""
    import ot
    from evalkit_ot.batch import ot_distances

    n = len(xs)
    wx, wy = weights
    pts = [(x.points, y.points, a, b) for x, y, a, b in zip(xs, ys, wx, wy, strict=True)]
    ot_distances(xs[:50], ys[:50], n_jobs=n_jobs)  # warm-up: imports, thread pool
    t_ev, res = best_time(lambda: ot_distances(xs, ys, n_jobs=n_jobs).values, repeats)

    def naive(backend: str) -> np.ndarray:
        return np.array([ot.emd2(a, b, ot.dist(x, y, metric="euclidean", backend=backend))
                         for x, y, a, b in pts])

    t_naive, v_naive = best_time(lambda: naive("auto"), repeats)
    t_exact, v_exact = best_time(lambda: naive("scipy"), repeats)
    g1, g2 = gensim_docs
    t_gensim, v_gensim = best_time(
        lambda: np.array([kv.wmdistance(d1, d2, norm=False)  # type: ignore[attr-defined]
                          for d1, d2 in zip(g1, g2, strict=True)]), 1)
    ev = np.asarray(res)
    print(f"[{name}] {n} pairs, mean tokens per text "
          f"{np.mean([x.size for x in xs] + [y.size for y in ys]):.1f}, dim {xs[0].dim}")
    rows = [("evalkit batched exact", t_ev, ev), ("naive ot.dist+ot.emd2", t_naive, v_naive),
            ("naive, scipy cdist cost", t_exact, v_exact), ("gensim wmdistance loop", t_gensim, v_gensim)]
    for label, t, v in rows:
        diff = float(np.max(np.abs(np.asarray(v) - ev)))
        print(f"  {label:26s} {n / t:10.1f} pairs/s   max |diff to evalkit| {diff:.2e}")
    speed = min(t_naive, t_exact) / t_ev
    print(f"  speedup vs the faster naive loop: {speed:.2f}x; vs gensim: {t_gensim / t_ev:.2f}x")
    return speed


def knn_check(name: str, corpus: list, queries: list[int], k: int, n_jobs: int) -> float:
    from evalkit_ot.knn import knn, knn_exhaustive

    qd = [corpus[i] for i in queries]
    knn(qd[:2], corpus, k, exclude=queries[:2], n_jobs=n_jobs)  # warm-up (imports)
    pruned = knn(qd, corpus, k, exclude=queries, n_jobs=n_jobs)
    full = knn_exhaustive(qd, corpus, k, exclude=queries, n_jobs=n_jobs)
    same = (np.array_equal(pruned.indices, full.indices)
            and np.array_equal(pruned.distances, full.distances))
    print(f"[{name} kNN] k={k}, {len(queries)} queries over {len(corpus)} texts: exact solves "
          f"{int(pruned.n_exact.sum())} (prefetch and prune) vs {int(full.n_exact.sum())} "
          f"(exhaustive) = {pruned.solve_reduction:.1f}x fewer; identical neighbours and "
          f"distances: {same}; {pruned.seconds:.2f}s vs {full.seconds:.2f}s")
    if not same:
        raise SystemExit(f"{name}: pruned k-NN differs from the exhaustive search")
    return pruned.solve_reduction


def gensim_kv(vectors: list[np.ndarray]) -> tuple[object, list[list[str]]]:
    """A float64 KeyedVectors with one key per token occurrence (contextual vectors)."""
    from gensim.models import KeyedVectors

    keys = [[f"t{d}_{i}" for i in range(len(v))] for d, v in enumerate(vectors)]
    kv = KeyedVectors(vectors[0].shape[1], count=sum(len(k) for k in keys), dtype=np.float64)
    kv.add_vectors([k for ks in keys for k in ks], np.concatenate(vectors).astype(np.float64))
    return kv, keys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stsb-pairs", type=int, default=None, help="first N STS-B test pairs (all)")
    ap.add_argument("--repeats", type=int, default=3, help="best of N timings (gensim: 1)")
    ap.add_argument("--knn-queries", type=int, default=40)
    ap.add_argument("--n-jobs", type=int, default=-1)
    args = ap.parse_args()

    from evalkit_ot.embeddings import ContextualEmbedder, StaticEmbedder, load_vectors, to_docs
    from evalkit_ot.solver import prepare
    from gensim.models import KeyedVectors
    from gensim.test.utils import datapath

    from evalkit.data import resolve_data_dir
    from evalkit.plugins import get_host

    data = resolve_data_dir(None)
    print(f"cores: {os.cpu_count()}, n_jobs={args.n_jobs}, load average "
          f"{os.getloadavg()[0]:.2f}; POT, gensim {__import__('gensim').__version__}")
    speeds, reductions = [], []

    # (1) STS-B test, contextual token embeddings.
    pairs = get_host().datasets.create("stsb").load("test", data)
    if args.stsb_pairs:
        pairs = pairs.iloc[: args.stsb_pairs]
    s1, s2 = list(pairs.sentence1), list(pairs.sentence2)
    bags = dict(zip(list(dict.fromkeys(s1 + s2)),
                    ContextualEmbedder("all-MiniLM-L6-v2").bags(list(dict.fromkeys(s1 + s2))),
                    strict=True))
    vec1 = [bags[t].vectors.astype(np.float64) for t in s1]
    vec2 = [bags[t].vectors.astype(np.float64) for t in s2]
    xs = [prepare(v) for v in vec1]
    ys = [prepare(v) for v in vec2]
    kv, keys = gensim_kv(vec1 + vec2)
    speeds.append(throughput(
        "STS-B test, MiniLM token embeddings", xs, ys,
        ([np.full(len(v), 1 / len(v)) for v in vec1], [np.full(len(v), 1 / len(v)) for v in vec2]),
        (keys[: len(vec1)], keys[len(vec1):]), kv, args.repeats, args.n_jobs))

    # (2) Lee corpus, gensim's static test vectors.
    path = Path(datapath("euclidean_vectors.bin"))
    emb = StaticEmbedder(load_vectors(path), stop_words="english")
    lee = (data / "lee" / "lee.cor").read_text(encoding="latin-1").splitlines()
    iu = np.triu_indices(len(lee), 1)
    docs = to_docs(lee, emb, kind="wmd")
    lbags = [emb.bag(t) for t in lee]
    kv64 = KeyedVectors.load_word2vec_format(str(path), binary=True, datatype=np.float64)
    toks = [emb.tokenize(t) for t in lee]
    speeds.append(throughput(
        "Lee corpus, gensim test vectors", [docs[i] for i in iu[0]], [docs[j] for j in iu[1]],
        ([lbags[i].counts / lbags[i].counts.sum() for i in iu[0]],
         [lbags[j].counts / lbags[j].counts.sum() for j in iu[1]]),
        ([toks[i] for i in iu[0]], [toks[j] for j in iu[1]]), kv64, args.repeats, args.n_jobs))

    # (3) k-NN, k = 10.
    corpus = [d for d in to_docs(list(bags), ContextualEmbedder("all-MiniLM-L6-v2"), kind="wmd")]
    step = max(1, len(corpus) // args.knn_queries)
    reductions.append(knn_check("STS-B test sentences", corpus,
                                list(range(0, len(corpus), step))[: args.knn_queries], 10,
                                args.n_jobs))
    bg = (data / "lee" / "lee_background.cor").read_text(encoding="latin-1").splitlines()
    bg_docs = to_docs(bg, emb, kind="wmd")
    step = max(1, len(bg_docs) // args.knn_queries)
    reductions.append(knn_check("Lee background documents", bg_docs,
                                list(range(0, len(bg_docs), step))[: args.knn_queries], 10,
                                args.n_jobs))
    print(f"speedup_vs_naive={min(speeds):.2f} knn_solve_reduction={min(reductions):.1f}")
    return 0


if __name__ == "__main__":
    sys.path[:0] = [p for p in (str(Path(__file__).resolve().parents[1] / "plugins"),)
                    if p not in sys.path]
    sys.exit(main())
