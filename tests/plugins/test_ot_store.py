"""Prepared texts in shared memory (evalkit_ot.store): what prepare places there, that rows are
never reused while an array views them, that empty slabs start over or go, the fallbacks (no
room, copies, forked children), and the process path reading the texts in place: values against
per-pair ``ot.emd2`` on scipy's cost matrix."""

from __future__ import annotations

import copy
import dataclasses
import gc
import multiprocessing
import os
import pickle
from collections.abc import Iterator

import numpy as np
import pytest
from evalkit_ot import handover, procs, store
from evalkit_ot.batch import ot_distances
from evalkit_ot.solver import prepare

ot = pytest.importorskip("ot")
cdist = pytest.importorskip("scipy.spatial.distance").cdist

pytestmark = pytest.mark.skipif(store.temp_root() is None, reason="no shared-memory folder")


@pytest.fixture(scope="module", autouse=True)
def pool() -> Iterator[None]:
    yield
    procs.shutdown()


def reference(a: np.ndarray, b: np.ndarray) -> float:
    """WMD of two texts with one count per token: per-pair ot.emd2 on scipy's cdist."""
    return float(ot.emd2(np.full(len(a), 1 / len(a)), np.full(len(b), 1 / len(b)), cdist(a, b)))


def raw_texts(n: int, dim: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(rng.integers(1, 12)), dim)) for _ in range(n)]


def test_prepare_places_the_arrays_in_a_shared_file() -> None:
    v = np.random.default_rng(0).normal(size=(7, 13))
    doc, private = prepare(v), prepare(v, shared=False)
    assert doc is not None and private is not None and private.home is None
    slab, number = doc.home
    row, n = slab.spans[number].tolist()
    assert n == 7 and slab.sums[number].tolist() == [doc.mass_sum, doc.sqnorm_max]
    assert os.path.dirname(slab.paths[0]) == store.temp_root()
    assert all(os.path.exists(p) for p in slab.paths)
    # the same values as private arrays, and they are the file's own rows
    for name in ("points", "sqnorm", "mass"):
        np.testing.assert_array_equal(getattr(doc, name), getattr(private, name))
    arr = store.slab_views(slab.layout())
    assert np.shares_memory(doc.points, arr["points"])
    np.testing.assert_array_equal(arr["points"][row : row + 7], v)
    np.testing.assert_array_equal(arr["mass"][row : row + 7], np.full(7, 1 / 7))
    assert doc.points.flags.c_contiguous and doc.points.dtype == np.float64


def test_one_dimensional_vectors_stay_two_dimensional() -> None:
    doc = prepare([[0.0], [10.0]], [5, 5])
    assert doc is not None and doc.home is not None
    assert doc.points.shape == (2, 1) and doc.dim == 1
    assert store.slab_views(doc.home[0].layout())["points"].ndim == 2


def test_rows_are_not_reused_while_an_array_views_them() -> None:
    kept = prepare(np.full((5, 11), 3.0))
    assert kept is not None
    points, mass = kept.points, kept.mass
    slab = kept.home[0]
    del kept
    gc.collect()
    others = [prepare(v) for v in raw_texts(400, 11, 1)]  # enough to grow the slab
    assert all(d is not None and d.home[0] is slab for d in others)
    np.testing.assert_array_equal(points, np.full((5, 11), 3.0))
    np.testing.assert_array_equal(mass, np.full(5, 0.2))


def test_an_empty_slab_starts_over_or_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [prepare(v) for v in raw_texts(50, 9, 2)]
    slab = docs[0].home[0]
    assert slab.used > 0
    del docs
    gc.collect()
    assert slab.used == 0 and slab.live == 0  # small: kept for the next texts
    again = prepare(np.ones((2, 9)))
    assert again is not None and again.home == (slab, 0)
    del again
    monkeypatch.setattr(store, "KEEP_EMPTY", 0)
    docs = [prepare(v) for v in raw_texts(20, 9, 3)]
    paths = list(docs[0].home[0].paths)
    del docs
    gc.collect()
    assert not any(os.path.exists(p) for p in paths)  # too large to keep: removed
    assert 9 not in store.STORE.slabs


def test_copies_hold_private_arrays() -> None:
    doc = prepare(np.random.default_rng(4).normal(size=(6, 5)))
    assert doc is not None and doc.home is not None
    legacy = type(doc).__new__(type(doc))  # a state pickled when Doc kept an instance dict
    legacy.__setstate__({f.name: getattr(doc, f.name) for f in dataclasses.fields(doc)})
    for other in (pickle.loads(pickle.dumps(doc)), copy.deepcopy(doc), dataclasses.replace(doc), legacy):
        assert other.home is None
        np.testing.assert_array_equal(other.points, doc.points)
        assert (other.kind, other.mass_sum, other.sqnorm_max) == (doc.kind, doc.mass_sum, doc.sqnorm_max)


def test_no_room_keeps_private_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full shared folder (posix_fallocate fails) leaves the text in private memory, and the
    process path copies it per call: the values are still per-pair ot.emd2's."""

    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    raw = raw_texts(60, 23, 5)  # a vector size no other test uses: a new slab must be made
    monkeypatch.setattr(store.os, "posix_fallocate", full)
    docs = [prepare(v) for v in raw]
    monkeypatch.undo()
    assert all(d is not None and d.home is None for d in docs)
    assert 23 not in store.STORE.slabs or store.STORE.slabs[23].used == 0
    res = ot_distances(docs[:30], docs[30:], n_jobs=2, parallel="processes")
    np.testing.assert_allclose(res.values, [reference(a, b) for a, b in zip(raw[:30], raw[30:], strict=True)],
                               rtol=0, atol=1e-12)


def test_systems_without_fallocate_or_flock_keep_private_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "SUPPORTED", False)
    doc = prepare(np.ones((3, 4)))
    assert doc is not None and doc.home is None


def _child_prepares(conn: object) -> None:
    doc = prepare(np.full((4, 17), 9.0))
    conn.send((doc.home[0].paths[0], os.getpid() == doc.home[0].owner))  # type: ignore[attr-defined]


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_a_forked_child_leaves_the_parents_slab_alone() -> None:
    parent = prepare(np.full((3, 17), 1.0))
    assert parent is not None
    ctx = multiprocessing.get_context("fork")
    here, there = ctx.Pipe()
    child = ctx.Process(target=_child_prepares, args=(there,))
    child.start()
    child_path, child_owns = here.recv()
    child.join()
    assert child.exitcode == 0 and child_owns
    assert child_path != parent.home[0].paths[0]
    assert not os.path.exists(child_path)  # the child removed its own slab at exit
    assert all(os.path.exists(p) for p in parent.home[0].paths)
    np.testing.assert_array_equal(parent.points, np.full((3, 17), 1.0))


@pytest.mark.parametrize("kind", ["wmd", "wrd"])
def test_process_path_reads_the_texts_in_place(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts prepared in rounds (the slab grows between them, so the workers map it again) and
    pairs mixing rounds: per-pair ot.emd2's values, with no copy into the per-call file."""

    def no_copy(*args: object, **kwargs: object) -> None:
        raise AssertionError("texts in one slab were copied")

    monkeypatch.setattr(handover, "share_plan", no_copy)
    raw = raw_texts(600, 19 if kind == "wmd" else 21, 6)
    docs = []
    for lo in range(0, 600, 150):
        docs += [prepare(v, kind=kind) for v in raw[lo : lo + 150]]
        rng = np.random.default_rng(lo)
        i, j = rng.integers(0, len(docs), 250), rng.integers(0, len(docs), 250)
        assert procs.in_one_slab([docs[k] for k in i], [docs[k] for k in j]) is not None
        res = ot_distances([docs[k] for k in i], [docs[k] for k in j], n_jobs=2, parallel="processes")
        assert res.parallel == "processes"
        if kind == "wmd":
            ref = [reference(raw[a], raw[b]) for a, b in zip(i, j, strict=True)]
        else:
            ref = []
            for a, b in zip(i, j, strict=True):
                xm, ym = np.linalg.norm(raw[a], axis=1), np.linalg.norm(raw[b], axis=1)
                ref.append(float(ot.emd2(xm / xm.sum(), ym / ym.sum(), cdist(raw[a], raw[b], metric="cosine"))))
        np.testing.assert_allclose(res.values, ref, rtol=0, atol=1e-12)


def test_a_replaced_slab_is_mapped_anew(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slab removed when empty and a new one of the same vector size: the workers map the new
    file, not their kept mapping of the old one."""
    monkeypatch.setattr(store, "KEEP_EMPTY", 0)
    for seed in (7, 8):
        raw = raw_texts(300, 29, seed)
        docs = [prepare(v) for v in raw]
        res = ot_distances(docs[:150], docs[150:], n_jobs=2, parallel="processes")
        np.testing.assert_allclose(res.values, [reference(a, b) for a, b in zip(raw[:150], raw[150:], strict=True)],
                                   rtol=0, atol=1e-12)
        del docs, res
        gc.collect()
        assert 29 not in store.STORE.slabs


def test_mixed_private_and_shared_texts_are_copied() -> None:
    raw = raw_texts(80, 31, 9)
    docs = [prepare(v, shared=i % 2 == 0) for i, v in enumerate(raw)]
    assert procs.in_one_slab(docs[:40], docs[40:]) is None
    res = ot_distances(docs[:40], docs[40:], n_jobs=2, parallel="processes")
    np.testing.assert_allclose(res.values, [reference(a, b) for a, b in zip(raw[:40], raw[40:], strict=True)],
                               rtol=0, atol=1e-12)


def test_a_slab_emptied_while_placing_is_removed_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """A collection inside prepare (possibly inside a call to loky's resource tracker) that
    empties a slab defers removing its files until that prepare is done."""
    monkeypatch.setattr(store, "KEEP_EMPTY", 0)
    doc = prepare(np.ones((4, 41)))
    assert doc is not None
    paths = list(doc.home[0].paths)
    with store.STORE.lock:
        store.STORE._placing = True  # as if this collection ran inside place()
        try:
            del doc
            gc.collect()
            assert all(os.path.exists(p) for p in paths)
        finally:
            store.STORE._placing = False
    other = prepare(np.ones((2, 43)))
    assert other is not None
    assert not any(os.path.exists(p) for p in paths)


def test_texts_prepared_in_another_thread_during_a_call() -> None:
    """One thread prepares texts of the same vector size (growing the slab, replacing its
    tables) while another computes distances on the process path: every call's values are
    per-pair ot.emd2's."""
    import threading

    raw = raw_texts(400, 47, 10)
    docs = [prepare(v) for v in raw]
    stop = threading.Event()
    made: list[object] = []

    def grow() -> None:
        rng = np.random.default_rng(11)
        while not stop.is_set() and len(made) < 20_000:
            made.append(prepare(rng.normal(size=(int(rng.integers(1, 12)), 47))))

    other = threading.Thread(target=grow)
    other.start()
    try:
        ref = [reference(a, b) for a, b in zip(raw[:200], raw[200:], strict=True)]
        for _ in range(5):
            res = ot_distances(docs[:200], docs[200:], n_jobs=2, parallel="processes")
            np.testing.assert_allclose(res.values, ref, rtol=0, atol=1e-12)
    finally:
        stop.set()
        other.join()
    assert len(made) > 0
