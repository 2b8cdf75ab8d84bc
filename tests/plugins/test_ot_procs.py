"""The process-parallel exact path: values against per-pair ``ot.emd2``, ``n_jobs``/``parallel``
handling, k-NN exactness on processes, errors from workers, and nothing left behind."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from evalkit_ot import batch, knn, procs
from evalkit_ot.batch import n_workers, ot_distances, use_processes
from evalkit_ot.solver import SolverError, prepare

from evalkit.errors import ConfigError, DataError

ot = pytest.importorskip("ot")
cdist = pytest.importorskip("scipy.spatial.distance").cdist


@pytest.fixture(scope="module", autouse=True)
def pool() -> Iterator[None]:
    """One pool for the module (starting workers is the slow part), stopped at the end."""
    yield
    procs.shutdown()


def texts(n: int, seed: int, vocab: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random texts over a small vocabulary (so pairs share words: exact zero costs), with
    repeated-word counts."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        words = rng.choice(len(vocab), size=int(rng.integers(1, 14)), replace=False)
        out.append((vocab[words], rng.integers(1, 4, size=words.size).astype(float)))
    return out


def reference(x: tuple[np.ndarray, np.ndarray], y: tuple[np.ndarray, np.ndarray], kind: str) -> float:
    """Per-pair ``ot.emd2`` on scipy's cost matrix, from the raw vectors and counts."""
    (xv, xc), (yv, yc) = x, y
    if kind == "wmd":
        return float(ot.emd2(xc / xc.sum(), yc / yc.sum(), cdist(xv, yv)))
    xm, ym = xc * np.linalg.norm(xv, axis=1), yc * np.linalg.norm(yv, axis=1)
    return float(ot.emd2(xm / xm.sum(), ym / ym.sum(), cdist(xv, yv, metric="cosine")))


@pytest.mark.parametrize("kind", ["wmd", "wrd"])
def test_process_path_equals_per_pair_emd2(kind: str) -> None:
    vocab = np.random.default_rng(7).normal(size=(40, 24)) * np.linspace(0.5, 2.0, 40)[:, None]
    first, second = texts(90, 1, vocab), texts(90, 2, vocab)
    second[3] = first[3]  # an identical pair: distance 0
    second[4] = (first[4][0][:1], first[4][1][:1] * 2)  # the second text's only word is in the first
    xs = [prepare(v, c, kind=kind) for v, c in first]
    ys = [prepare(v, c, kind=kind) for v, c in second]
    res = ot_distances(xs, ys, n_jobs=2, parallel="processes")
    assert res.parallel == "processes" and res.backend == "pot-emd" and res.n_exact == 90
    expected = np.array([reference(x, y, kind) for x, y in zip(first, second, strict=True)])
    np.testing.assert_allclose(res.values, expected, rtol=0, atol=1e-12)
    assert res.values[3] == 0.0
    assert np.all(res.values >= 0) and (kind == "wmd" or np.all(res.values <= 2))
    threads = ot_distances(xs, ys, n_jobs=2, parallel="threads")
    assert threads.parallel == "threads"
    np.testing.assert_allclose(threads.values, res.values, rtol=0, atol=1e-15)


def test_contextual_like_vectors_and_empty_texts() -> None:
    """Distinct vectors per token (no shared mass), near-duplicates (cancellation), NaN rows."""
    rng = np.random.default_rng(3)
    raw = [rng.normal(size=(int(rng.integers(2, 16)), 384)) for _ in range(120)]
    raw[1] = raw[0] + 1e-9  # near-identical vectors: the cost is recomputed from the difference
    xs = [prepare(v) for v in raw[:60]]
    ys = [prepare(v) for v in raw[60:]]
    ys[0] = prepare(raw[1])
    xs[7] = None
    res = ot_distances(xs, ys, n_jobs=-1, parallel="processes", on_empty="nan")
    assert np.isnan(res.values[7]) and np.isfinite(np.delete(res.values, 7)).all()
    for i in [0, 1, 2, 30, 59]:
        a, b = raw[i], raw[60 + i] if i else raw[1]
        ref = ot.emd2(np.full(len(a), 1 / len(a)), np.full(len(b), 1 / len(b)), cdist(a, b))
        assert res.values[i] == pytest.approx(ref, abs=1e-12)
    assert res.values[0] == pytest.approx(1e-9 * np.sqrt(384), rel=1e-6)  # each token moves to its copy


@pytest.mark.parametrize("kind", ["wmd", "wrd"])
def test_documents_reused_across_pairs(kind: str) -> None:
    """All pairs of a small corpus (each text in many pairs, copied once into the shared file,
    laid out by first use): every value is per-pair ot.emd2 on scipy's cost, from the raw
    vectors and counts."""
    vocab = np.random.default_rng(4).normal(size=(30, 12))
    raw = texts(26, 9, vocab)
    docs = [prepare(v, c, kind=kind) for v, c in raw]
    iu = np.triu_indices(len(docs), 1)
    xs, ys = [docs[i] for i in iu[0]], [docs[j] for j in iu[1]]
    res = ot_distances(xs, ys, n_jobs=2, parallel="processes")
    assert res.parallel == "processes"
    expected = [reference(raw[i], raw[j], kind) for i, j in zip(*iu, strict=True)]
    np.testing.assert_allclose(res.values, expected, rtol=0, atol=1e-12)
    # The same pairs in reverse order (another layout of the file): the same values.
    back = ot_distances(xs[::-1], ys[::-1], n_jobs=2, parallel="processes")
    np.testing.assert_allclose(back.values[::-1], expected, rtol=0, atol=1e-12)


def test_n_jobs_as_in_joblib() -> None:
    import joblib

    cores = joblib.cpu_count()
    assert n_workers(None) == 1
    assert n_workers(1) == 1
    assert n_workers(3) == 3
    assert n_workers(-1) == cores
    assert n_workers(-2) == max(1, cores - 1)
    assert n_workers(-cores - 5) == 1
    for bad in (0, 1.5, "2", True):
        with pytest.raises(ConfigError, match="n_jobs"):
            n_workers(bad)  # type: ignore[arg-type]
    xs = [prepare(np.eye(3)[:2]), prepare(np.eye(3)[1:])]
    with pytest.raises(ConfigError, match="n_jobs"):
        ot_distances(xs, xs[::-1], n_jobs=0)
    with pytest.raises(ConfigError, match="parallel must be one of auto, threads, processes"):
        ot_distances(xs, xs[::-1], parallel="mpi")
    # One worker never starts processes.
    assert ot_distances(xs, xs[::-1], n_jobs=1, parallel="processes").parallel == "serial"


def test_auto_chooses_processes_for_large_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procs, "is_warm", lambda workers: True)
    assert not use_processes("auto", batch.PROCESS_MIN_PAIRS - 1, 2)
    assert use_processes("auto", batch.PROCESS_MIN_PAIRS, 2)
    assert not use_processes("auto", 10**6, 1)
    assert not use_processes("threads", 10**6, 2)
    assert use_processes("processes", 1, 2)
    monkeypatch.setattr(procs, "is_warm", lambda workers: False)
    assert not use_processes("auto", batch.PROCESS_MIN_PAIRS, 2)
    assert use_processes("auto", batch.PROCESS_MIN_PAIRS_COLD, 2)


def test_errors_raised_in_workers_reach_the_caller() -> None:
    rng = np.random.default_rng(5)
    xs = [prepare(rng.normal(size=(40, 8))) for _ in range(4)]
    ys = [prepare(rng.normal(size=(40, 8))) for _ in range(4)]
    with pytest.raises(SolverError, match=r"iteration limit reached.*raise max_iter"):
        ot_distances(xs, ys, n_jobs=2, parallel="processes", max_iter=2)
    with pytest.raises(DataError, match="different sizes"):
        ot_distances(xs, [prepare(rng.normal(size=(3, 5)))] * 4, n_jobs=2, parallel="processes")
    # From HEAD_MIN pairs on (a head for the workers first): a failure in the head, in the rest,
    # and texts of another size after the head.
    xs = [prepare(rng.normal(size=(40, 8))) for _ in range(300)]
    ys = [prepare(rng.normal(size=(40, 8))) for _ in range(300)]
    with pytest.raises(SolverError, match=r"iteration limit reached.*raise max_iter"):
        ot_distances(xs, ys, n_jobs=2, parallel="processes", max_iter=2)
    small = [prepare(rng.normal(size=(1, 8))) for _ in range(300)]  # 1 x 1 problems need no iteration
    with pytest.raises(SolverError, match=r"iteration limit reached"):
        ot_distances(small[:30] + xs[30:], small[:30] + ys[30:], n_jobs=2, parallel="processes", max_iter=2)
    with pytest.raises(DataError, match="different sizes"):
        ot_distances(xs, ys[:100] + [prepare(rng.normal(size=(3, 5)))] * 200, n_jobs=2, parallel="processes")
    expected = [ot.emd2(x.mass, y.mass, cdist(x.points, y.points)) for x, y in zip(xs, ys, strict=True)]
    values = ot_distances(xs, ys, n_jobs=2, parallel="processes").values  # the pool still works
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["wmd", "wrd"])
def test_knn_on_processes_is_the_exhaustive_top_k(kind: str) -> None:
    rng = np.random.default_rng(11)
    topics = rng.normal(size=(6, 16)) * 3
    corpus = []
    for _ in range(150):
        n_tok = int(rng.integers(2, 12))
        corpus.append(prepare(topics[rng.integers(6)] + rng.normal(size=(n_tok, 16)),
                              rng.integers(1, 3, size=n_tok), kind=kind))
    queries = list(range(0, 150, 10))
    qd = [corpus[i] for i in queries]
    pruned = knn.knn(qd, corpus, 5, exclude=queries, n_jobs=2, parallel="processes")
    # The reference: every distance by per-pair ot.emd2, then the 5 smallest (ties by index).
    for row, q in enumerate(queries):
        d = np.array([np.inf if j == q else float(ot.emd2(corpus[q].mass, doc.mass, cost(corpus[q], doc)))
                      for j, doc in enumerate(corpus)])
        order = np.lexsort((np.arange(d.size), d))[:5]
        assert pruned.indices[row].tolist() == order.tolist()
        np.testing.assert_allclose(pruned.distances[row], d[order], rtol=0, atol=1e-12)
    assert pruned.n_exact.sum() < pruned.n_candidates.sum()
    threads = knn.knn(qd, corpus, 5, exclude=queries, n_jobs=2, parallel="threads")
    assert np.array_equal(threads.indices, pruned.indices)
    assert np.array_equal(threads.n_exact, pruned.n_exact)
    with pytest.raises(ConfigError, match="parallel"):
        knn.knn(qd, corpus, 5, parallel="gpu")


def cost(x: object, y: object) -> np.ndarray:
    px, py = x.points, y.points  # type: ignore[attr-defined]
    if x.kind == "wmd":  # type: ignore[attr-defined]
        return cdist(px, py)
    return cdist(px, py, metric="cosine")


def test_the_caller_works_too_and_results_keep_their_order() -> None:
    """run_shared: the pool (here one process for two workers) and the calling process both run
    calls, the results come back in call order, and an error from either side reaches the
    caller."""
    ex = procs.executor(2)

    def run(fn: Any, calls: list[tuple[Any, ...]]) -> list[Any]:
        return procs.run_shared(len(calls), lambda i: ex.submit(fn, *calls[i]), lambda i: fn(*calls[i]), 1)

    pids = run(os.getpid, [()] * 12)
    assert len(pids) == 12 and os.getpid() in pids and len(set(pids)) == 2
    assert run(pow, [(i, 2) for i in range(25)]) == [i * i for i in range(25)]
    for bad in (0, 24):  # the pool gets the first calls, the caller the last ones
        calls = [(str(i),) for i in range(25)]
        calls[bad] = ("not a number",)
        with pytest.raises(ValueError, match="not a number"):
            run(int, calls)

    def submit(i: int) -> Any:
        if i == 3:
            raise OSError("no room to hand call 3 over")
        return ex.submit(pow, i, 2)

    def slow(i: int) -> int:  # the caller slow: the pool reaches call 3 from a done-callback
        time.sleep(0.02)
        return i * i

    with pytest.raises(OSError, match="call 3"):
        procs.run_shared(40, submit, slow, 1)


def test_nothing_left_behind() -> None:
    """The shared file is kept between calls (rewritten in place) and removed by shutdown, which
    also stops the workers."""
    corpus = [prepare(np.random.default_rng(i).normal(size=(4, 6))) for i in range(30)]
    knn.knn(corpus[:4], corpus, 3, exclude=[0, 1, 2, 3], n_jobs=2, parallel="processes")
    path = procs.ARENA.path
    assert path is not None and os.path.exists(path)
    ot_distances(corpus[:20], corpus[10:], n_jobs=2, parallel="processes")
    assert procs.ARENA.path == path  # a smaller call reuses the file
    pids = {f.result() for f in [procs.executor(2).submit(os.getpid) for _ in range(8)]}
    assert pids and os.getpid() not in pids
    procs.shutdown()
    assert not procs.is_warm(2)
    assert procs.ARENA.path is None and not os.path.exists(path)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_shared_file_rewritten_and_regrown_between_calls() -> None:
    """Texts with private arrays (not placed in shared memory by prepare) are copied into the
    shared file per call: calls of different sizes and contents through the same file give
    per-pair ot.emd2's values on their own vectors (nothing stale from an earlier call)."""
    rng = np.random.default_rng(8)
    seen = []
    for n_pairs, dim in [(40, 16), (200, 16), (30, 16), (60, 5)]:
        raw = [rng.normal(size=(int(rng.integers(1, 10)), dim)) for _ in range(2 * n_pairs)]
        docs = [prepare(v, shared=False) for v in raw]
        assert all(d is not None and d.home is None for d in docs)
        res = ot_distances(docs[:n_pairs], docs[n_pairs:], n_jobs=2, parallel="processes")
        ref = [ot.emd2(np.full(len(a), 1 / len(a)), np.full(len(b), 1 / len(b)), cdist(a, b))
               for a, b in zip(raw[:n_pairs], raw[n_pairs:], strict=True)]
        np.testing.assert_allclose(res.values, ref, rtol=0, atol=1e-12)
        seen.append(procs.ARENA.path)
    assert seen[1] != seen[0]  # grown
    assert len(set(seen)) >= 2


def test_chunks_cover_every_pair_within_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procs, "MAX_ENTRIES", 5000)
    rng = np.random.default_rng(2)
    xs = [prepare(rng.normal(size=(int(k), 2))) for k in rng.integers(1, 120, 700)]
    ys = [prepare(rng.normal(size=(int(k), 2))) for k in rng.integers(1, 120, 700)]
    idx = np.arange(3, 700, 2)
    n = np.array([xs[i].size for i in idx.tolist()])
    m = np.array([ys[i].size for i in idx.tolist()])
    chunks = [idx[c] for c in procs.chunks(n, m, 2)]
    assert sorted(np.concatenate(chunks).tolist()) == idx.tolist()
    entries = [sum(xs[i].size * ys[i].size for i in c.tolist()) for c in chunks]
    assert all(len(c) <= procs.MAX_CHUNK for c in chunks)
    assert all(e <= 5000 or len(c) == 1 for c, e in zip(chunks, entries, strict=True))
    work = [xs[i].size * ys[i].size + xs[i].size + ys[i].size for i in np.concatenate(chunks).tolist()]
    assert work == sorted(work, reverse=True)  # largest problems first


def test_workers_are_not_restarted_for_the_shared_files_they_map() -> None:
    """loky restarts a worker whose resident memory grew by 300 MB (a leak guard); the shared
    files a worker maps count there, so the pool's workers turn the guard off at start."""
    ex = procs.executor(2)
    flag = "__import__('joblib.externals.loky.process_executor', fromlist=['_']). _USE_PSUTIL"
    assert ex.submit(eval, flag.replace(". _", "._")).result() is False


def test_chunks_shrink_towards_where_the_two_sides_meet() -> None:
    """Guided self-scheduling from both ends: by estimated work, chunks shrink from the front
    down to the smallest allowed at the meeting point (half the work for two workers), then grow
    again towards the back (until MAX_CHUNK pairs caps them)."""
    rng = np.random.default_rng(5)
    n, m = rng.integers(1, 40, 3000), rng.integers(1, 40, 3000)
    cut = procs.chunks(n, m, 2, 16)
    work = np.array([procs.pair_work(n[c], m[c], 16).sum() for c in cut])
    total = procs.pair_work(n, m, 16).sum()
    smallest = total / (4 * procs.CHUNKS_PER_WORKER * 2)
    starts = np.concatenate([[0.0], np.cumsum(work)[:-1]])
    front, back = work[starts < total / 2], work[starts >= total / 2]
    assert np.all(np.diff(front[:-1]) <= 0)  # shrinking (the last: what is left before the meeting point)
    assert front[0] > 8 * smallest and front[-2] < 1.1 * smallest
    assert back[0] < 1.1 * smallest and back.max() > 3 * back[0]
    assert sum(len(c) for c in cut) == 3000


def test_workers_freeze_their_imports_out_of_the_collector() -> None:
    """loky collects garbage in a worker once a second; over the ~150,000 objects of NumPy and
    POT that took 140 to 170 ms, which a call waited for. The workers import what they run and
    freeze it (``gc.freeze``) at start, so a collection walks only what came later."""
    import gc

    ex = procs.executor(2)
    assert ex.submit(gc.get_freeze_count).result() > 10_000
    assert ex.submit(eval, "'ot.lp.emd_wrap' in __import__('sys').modules").result() is True


def test_claimed_plan_returns_once_the_workers_are_out() -> None:
    """The claimed path returns once every worker has counted itself out of the plan, without
    waiting for the pool to deliver results: here the "pool" is a thread running the worker's
    call (no loky), and the values are those of per-pair ``ot.emd2``."""
    from concurrent.futures import ThreadPoolExecutor

    from evalkit_ot import claim

    xs, ys, slab, rows, sums, cuts = _placed_pairs(11, 60)
    with ThreadPoolExecutor(1) as pool, claim.started(slab.layout(), len(rows), "wmd", 100_000, pool, 1) as plan:
        plan.publish(rows, sums, cuts, last=True)
        values = plan.run()
    expected = [ot.emd2(x.mass, y.mass, cdist(x.points, y.points)) for x, y in zip(xs, ys, strict=True)]
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_the_caller_waits_for_every_worker_or_the_first_failure() -> None:
    """:func:`evalkit_ot.claim._all_left`: ``True`` once all workers have left the plan; ``False``
    at once when one counted itself out as failed or its future ended in an error (a dead
    process), so that the caller raises it instead of waiting."""
    from concurrent.futures import Future

    from evalkit_ot import claim
    from evalkit_ot.arena import Arena

    own = Arena()
    try:
        plan, arr = own.allocate({"gone": ((2,), "i8")})
        gone = arr["gone"]
        with claim._opened(plan) as fd:
            ok: Future = Future()
            ok.set_result(1)
            gone[:] = [2, 0]
            assert claim._all_left(fd, gone, [ok, ok], 2) is True
            gone[:] = [1, 1]
            assert claim._all_left(fd, gone, [ok, ok], 2) is False
            dead: Future = Future()
            dead.set_exception(RuntimeError("worker died"))
            gone[:] = [0, 0]
            assert claim._all_left(fd, gone, [dead], 1) is False
            running: Future = Future()
            gone[:] = [0, 0]
            late = __import__("threading").Timer(0.05, lambda: gone.__setitem__(0, 1))
            late.start()
            assert claim._all_left(fd, gone, [running], 1) is True  # waited for the count
    finally:
        own.release()


def _placed_pairs(seed: int, n: int = 40) -> tuple[list, list, Any, np.ndarray, np.ndarray, list[np.ndarray]]:
    """``n`` random pairs placed in one slab, with their plan's rows, sums and chunks."""
    rng = np.random.default_rng(seed)
    xs = [prepare(rng.normal(size=(int(rng.integers(2, 9)), 6))) for _ in range(n)]
    ys = [prepare(rng.normal(size=(int(rng.integers(2, 9)), 6))) for _ in range(n)]
    slab, ix, iy = procs.in_one_slab(xs, ys)  # type: ignore[misc]
    spans, msum = slab.spans, slab.sums[:, 0]
    rows = np.stack([spans[ix, 0], spans[ix, 1], spans[iy, 0], spans[iy, 1]], axis=1)
    sums = np.stack([msum[ix], msum[iy]], axis=1)
    return xs, ys, slab, rows, sums, procs.chunks(rows[:, 1], rows[:, 3], 2, 6)


def test_workers_started_early_wait_for_the_plan() -> None:
    """:func:`evalkit_ot.claim.started` submits the workers before the plan exists: they wait on
    the plan's lock (not done after 0.3 s of the caller's planning), then solve it with the
    caller (per-pair ``ot.emd2`` values); a plan left unwritten, or a block left by an error,
    lets them go without work, and the next plan runs as usual."""
    from concurrent.futures import Future, ThreadPoolExecutor

    from evalkit_ot import claim

    xs, ys, slab, rows, sums, cuts = _placed_pairs(3)
    expected = [ot.emd2(x.mass, y.mass, cdist(x.points, y.points)) for x, y in zip(xs, ys, strict=True)]
    submitted: list[Future] = []

    class Watched(ThreadPoolExecutor):
        def submit(self, *args: Any, **kwargs: Any) -> Future:  # type: ignore[override]
            submitted.append(super().submit(*args, **kwargs))
            return submitted[-1]

    with Watched(1) as pool:
        with claim.started(slab.layout(), len(rows), "wmd", 100_000, pool, 1) as plan:
            time.sleep(0.3)  # the caller planning
            assert len(submitted) == 1 and not submitted[0].done()
            plan.publish(rows, sums, cuts, last=True)
            values = plan.run()
        np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
        assert submitted[0].result() >= 1  # the worker solved chunks
        with claim.started(slab.layout(), len(rows), "wmd", 100_000, pool, 1):
            pass
        assert submitted[1].result() == 0  # left without work
        with (pytest.raises(DataError, match="while planning"),
              claim.started(slab.layout(), len(rows), "wmd", 100_000, pool, 1)):
            raise DataError("while planning")
        assert submitted[2].result() == 0
        half = procs.chunks(rows[:20, 1], rows[:20, 3], 2, 6)
        with claim.started(slab.layout(), 20, "wmd", 100_000, pool, 1) as plan:
            plan.publish(rows[:20], sums[:20], half, last=True)
            np.testing.assert_allclose(plan.run(), expected[:20], rtol=0, atol=1e-12)


def test_process_path_with_texts_outside_the_first_texts_slab() -> None:
    """The workers start for the first text's slab; when another text has private arrays the
    call lets them go and copies the texts instead: values as per-pair ``ot.emd2``, on worker
    processes."""
    rng = np.random.default_rng(5)
    raw_x = [rng.normal(size=(int(rng.integers(2, 9)), 6)) for _ in range(60)]
    raw_y = [rng.normal(size=(int(rng.integers(2, 9)), 6)) for _ in range(60)]
    xs = [prepare(v) for v in raw_x]
    ys = [prepare(v, shared=i % 2 == 0) for i, v in enumerate(raw_y)]
    out = ot_distances(xs, ys, n_jobs=2, parallel="processes")
    assert out.parallel == "processes"
    expected = [ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), cdist(x, y))
                for x, y in zip(raw_x, raw_y, strict=True)]
    np.testing.assert_allclose(out.values, expected, rtol=0, atol=1e-12)


class PublishSpy:
    """Records each :meth:`evalkit_ot.claim.Plan.publish` call: (pairs, last)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from evalkit_ot import claim

        self.calls: list[tuple[int, bool]] = []
        real = claim.Plan.publish

        def publish(plan: Any, rows: np.ndarray, sums: np.ndarray, cuts: list, last: bool) -> None:
            self.calls.append((int(sum(len(c) for c in cuts)), last))
            real(plan, rows, sums, cuts, last)

        monkeypatch.setattr(claim.Plan, "publish", publish)


@pytest.mark.parametrize("kind", ["wmd", "wrd"])
def test_head_then_rest_equals_per_pair_emd2(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """From HEAD_MIN pairs on, the first 1/HEAD of the pairs go to the workers first, then the
    rest: every value as per-pair ``ot.emd2``, identical pairs 0 in both parts."""
    spy = PublishSpy(monkeypatch)
    vocab = np.random.default_rng(8).normal(size=(50, 12)) * np.linspace(0.5, 2.0, 50)[:, None]
    first, second = texts(300, 3, vocab), texts(300, 4, vocab)
    for i in (2, 250):  # one identical pair in the head, one in the rest
        second[i] = first[i]
    xs = [prepare(v, c, kind=kind) for v, c in first]
    ys = [prepare(v, c, kind=kind) for v, c in second]
    res = ot_distances(xs, ys, n_jobs=2, parallel="processes")
    head = 300 // procs.HEAD
    assert spy.calls == [(head - 1, False), (300 - head - 1, True)]
    expected = np.array([reference(x, y, kind) for x, y in zip(first, second, strict=True)])
    np.testing.assert_allclose(res.values, expected, rtol=0, atol=1e-12)
    assert res.values[2] == 0.0 and res.values[250] == 0.0


def test_head_in_place_and_the_rest_copied(monkeypatch: pytest.MonkeyPatch) -> None:
    """A private text after the head: the head is solved where it lies, the plan closes, and
    the rest is copied (:mod:`evalkit_ot.handover`); a private text in the head: nothing is
    published and everything is copied. Values as per-pair ``ot.emd2`` either way."""
    spy = PublishSpy(monkeypatch)
    rng = np.random.default_rng(9)
    raw_x = [rng.normal(size=(int(rng.integers(2, 9)), 6)) for _ in range(320)]
    raw_y = [rng.normal(size=(int(rng.integers(2, 9)), 6)) for _ in range(320)]
    expected = [ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), cdist(x, y))
                for x, y in zip(raw_x, raw_y, strict=True)]
    xs = [prepare(v) for v in raw_x]
    for private in (300, 5):
        ys = [prepare(v, shared=i != private) for i, v in enumerate(raw_y)]
        spy.calls.clear()
        out = ot_distances(xs, ys, n_jobs=2, parallel="processes")
        np.testing.assert_allclose(out.values, expected, rtol=0, atol=1e-12)
        head = 320 // procs.HEAD
        assert spy.calls == ([(head, False), (0, True)] if private == 300 else [(0, True)])


def test_workers_wait_while_the_plan_is_open() -> None:
    """A worker that has solved the head (published with ``last=False``) waits for the rest
    instead of leaving, then takes its share of it; the values are per-pair ``ot.emd2``."""
    from concurrent.futures import ThreadPoolExecutor

    from evalkit_ot import claim

    xs, ys, slab, rows, sums, _ = _placed_pairs(4, 60)
    expected = [ot.emd2(x.mass, y.mass, cdist(x.points, y.points)) for x, y in zip(xs, ys, strict=True)]
    head = [np.arange(0, 5), np.arange(5, 10)]
    rest = procs.chunks(rows[10:, 1], rows[10:, 3], 2, 6)
    with ThreadPoolExecutor(1) as pool, claim.started(slab.layout(), len(rows), "wmd", 100_000, pool, 1) as plan:
        plan.publish(rows[:10], sums[:10], head, last=False)
        deadline = time.monotonic() + 10
        while plan.arr["ends"][0] < 2 and time.monotonic() < deadline:  # the worker takes the head
            time.sleep(0.01)
        time.sleep(0.2)  # the head solved by now: the worker waits for more
        assert plan.arr["ends"][0] == 2 and plan.arr["gone"][0] == 0
        plan.publish(rows[10:], sums[10:], rest, last=True)
        with pytest.raises(ValueError, match="closed"):
            plan.publish(rows[:1], sums[:1], [np.arange(1)], last=True)
        values = plan.run()
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
    assert plan.arr["gone"][0] == 1


def test_a_head_start_moves_the_meeting_point_towards_the_front() -> None:
    """``chunks(..., ahead=w)``: the front has done ``w`` already, so the two sides meet where
    the front's share is (total + w) / 2 - w, and the chunks are smallest there."""
    rng = np.random.default_rng(6)
    n, m = rng.integers(1, 40, 3000), rng.integers(1, 40, 3000)
    total = procs.pair_work(n, m, 16).sum()
    cut = procs.chunks(n, m, 2, 16, ahead=total / 2)
    work = np.array([procs.pair_work(n[c], m[c], 16).sum() for c in cut])
    starts = np.concatenate([[0.0], np.cumsum(work)[:-1]])
    smallest = total / (4 * procs.CHUNKS_PER_WORKER * 2)
    at = starts[np.argmin(work[:-1])]  # where the smallest chunk begins (the last: the leftover)
    assert abs(at - total / 4) <= 2 * smallest
    assert sorted(np.concatenate(cut).tolist()) == list(range(3000))


def test_a_waiting_worker_leaves_when_its_parent_has_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker waiting on an open plan stops waiting once the process that started it has
    ended (its parent process id changes): a caller killed while planning leaves no worker
    polling forever."""
    from concurrent.futures import ThreadPoolExecutor

    from evalkit_ot import claim

    _, _, slab, rows, sums, _ = _placed_pairs(12, 20)
    with ThreadPoolExecutor(1) as pool, claim.started(slab.layout(), len(rows), "wmd", 100_000, pool, 1) as plan:
        plan.publish(rows[:4], sums[:4], [np.arange(4)], last=False)
        time.sleep(0.2)
        assert plan.arr["gone"][0] == 0  # waiting
        ppid = os.getppid()
        monkeypatch.setattr(claim.os, "getppid", lambda: ppid + 1)
        deadline = time.monotonic() + 5
        while plan.arr["gone"][0] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert plan.arr["gone"][0] == 1 and plan.arr["gone"][1] == 0


@pytest.mark.parametrize("pairs", [20, 300])
def test_only_identical_pairs_on_processes(pairs: int) -> None:
    """Every pair holds one text twice (nothing to solve, in the head or the rest): all 0."""
    rng = np.random.default_rng(13)
    docs = [prepare(rng.normal(size=(int(rng.integers(1, 6)), 4))) for _ in range(pairs)]
    out = ot_distances(docs, docs, n_jobs=2, parallel="processes")
    assert out.parallel == "processes" and np.array_equal(out.values, np.zeros(pairs))
    twins = [prepare(d.points) for d in docs]  # equal content, other objects
    mixed = ot_distances(docs, twins[:pairs // 2] + docs[pairs // 2:], n_jobs=2, parallel="processes")
    assert np.array_equal(mixed.values, np.zeros(pairs))
