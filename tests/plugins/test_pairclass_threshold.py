"""Property tests of the exact threshold search against a brute force over every candidate."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from evalkit_pairclass.threshold import best_threshold, confusion_at, midpoint
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit import DataError


def brute_force(scores, labels, objective, distance=False):
    """Every threshold rule "score >= t" (``<=`` for distances) for t in the distinct scores and
    beyond the extreme score; exact objective values as fractions.

    Returns (best value, [decision vectors of every maximiser, from the strictest threshold]).
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    cands = sorted(set(s.tolist()), reverse=not distance)  # strictest first
    decisions = [np.zeros(s.size, bool)] + [(s <= t) if distance else (s >= t) for t in cands]
    vals = []
    for d in decisions:
        tp = int((d & y).sum())
        fp = int((d & ~y).sum())
        fn = int((~d & y).sum())
        tn = s.size - tp - fp - fn
        if objective == "f1":
            vals.append(Fraction(2 * tp, 2 * tp + fp + fn) if tp else Fraction(0))
        else:
            vals.append(Fraction(tp + tn, s.size))
    best = max(vals)
    return best, [d for d, v in zip(decisions, vals, strict=True) if v == best]


def check_against_brute_force(scores, labels, objective, distance=False):
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    fit = best_threshold(s, y, objective=objective, distance=distance)
    best, maximisers = brute_force(s, y, objective, distance)
    # 1. the optimum, exactly (same fraction -> same correctly rounded float)
    assert fit.value == float(best)
    # 2. the reported threshold reproduces an optimal decision: the strictest one
    d = (s <= fit.threshold) if distance else (s >= fit.threshold)
    assert np.array_equal(d, maximisers[0])
    conf = confusion_at(s, y, fit.threshold, distance=distance)
    assert conf == fit.confusion
    # 3. a threshold never splits ties (decisions are a function of the score)
    for v in np.unique(s):
        assert len(set(d[s == v].tolist())) == 1
    # 4. the reported threshold is the guarded midpoint between adjacent distinct scores
    t = -fit.threshold if distance else fit.threshold
    ss = -s if distance else s
    above = ss[ss >= t]
    below = ss[ss < t]
    if above.size and below.size:
        u, v = below.max(), above.min()
        with np.errstate(over="ignore"):  # (an overflow to inf is handled below)
            mid = (u + v) / 2
        expected = mid if np.isfinite(mid) and u < mid <= v else (u / 2 + v / 2 if u < u / 2 + v / 2 <= v else v)
        assert t == expected
        assert u < t <= v
    elif not above.size:  # all negative: just above the top score
        with np.errstate(over="ignore"):
            assert t == np.nextafter(ss.max(), np.inf)
    else:  # all positive: the lowest score
        assert t == ss.min()
    return fit


labels_st = st.integers(0, 1)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def scored(draw, scores=finite, min_size=1, max_size=40):
    n = draw(st.integers(min_size, max_size))
    s = draw(st.lists(scores, min_size=n, max_size=n))
    y = draw(st.lists(labels_st, min_size=n, max_size=n))
    return s, y


objectives = st.sampled_from(["f1", "accuracy"])


@settings(max_examples=200, deadline=None)
@given(scored(), objectives, st.booleans())
def test_random_scores_any_magnitude(data, objective, distance):
    check_against_brute_force(*data, objective, distance)


@settings(max_examples=200, deadline=None)
@given(scored(scores=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])), objectives, st.booleans())
def test_ties_with_mixed_labels(data, objective, distance):
    check_against_brute_force(*data, objective, distance)


@settings(max_examples=100, deadline=None)
@given(finite, st.lists(labels_st, min_size=1, max_size=30), objectives)
def test_constant_scores(value, labels, objective):
    fit = check_against_brute_force([value] * len(labels), labels, objective)
    # one score group: all positive or all negative
    assert fit.confusion.tp + fit.confusion.fp in (0, len(labels))


@settings(max_examples=100, deadline=None)
@given(st.lists(finite, min_size=1, max_size=30), st.integers(0, 1), objectives, st.booleans())
def test_single_class(scores, label, objective, distance):
    fit = check_against_brute_force(scores, [label] * len(scores), objective, distance)
    assert fit.value == (1.0 if label == 1 or objective == "accuracy" else 0.0)


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e6, 1e6), st.lists(st.tuples(st.integers(0, 6), labels_st), min_size=1, max_size=30),
       objectives, st.booleans())
def test_adjacent_floats(base, steps_labels, objective, distance):
    # scores a few ulps apart: midpoints round onto a neighbour and must be guarded
    scores = []
    for k, _ in steps_labels:
        x = base
        for _ in range(k):
            x = np.nextafter(x, np.inf)
        scores.append(x)
    check_against_brute_force(scores, [lab for _, lab in steps_labels], objective, distance)


def test_reversed_distances_equal_negated_similarities():
    rng = np.random.default_rng(7)
    d = rng.gamma(2.0, size=200).round(2)
    y = (rng.random(200) < 1 / (1 + d)).astype(int)
    for objective in ("f1", "accuracy"):
        as_distance = best_threshold(d, y, objective=objective, distance=True)
        as_similarity = best_threshold(-d, y, objective=objective)
        assert as_distance.value == as_similarity.value
        assert as_distance.threshold == -as_similarity.threshold
        assert as_distance.confusion == as_similarity.confusion
        check_against_brute_force(d, y, objective, distance=True)


def local_search(scores, labels):
    """Hill-climbing from the median candidate, as a bisection-like search would: the strawman."""
    cands = np.unique(scores)
    i = cands.size // 2

    def f1(t):
        d = scores >= t
        tp = (d & labels).sum()
        return 2 * tp / (d.sum() + labels.sum())

    while True:
        nbrs = [j for j in (i - 1, i + 1) if 0 <= j < cands.size and f1(cands[j]) > f1(cands[i])]
        if not nbrs:
            return f1(cands[i])
        i = max(nbrs, key=lambda j: f1(cands[j]))


def test_several_local_maxima_of_f1():
    # Labels by descending score: 10 positives, 3 negatives, 5 positives, 2 negatives. F1 peaks at
    # 10 predicted positives (0.8, the middle candidate), dips, and peaks higher at 18 (10/11).
    # Hill-climbing from the middle candidate stops on the lower peak.
    scores = np.arange(20, 0, -1, dtype=float)
    labels = np.array([1] * 10 + [0] * 3 + [1] * 5 + [0] * 2, dtype=bool)
    fit = check_against_brute_force(scores, labels, "f1")
    assert local_search(scores, labels) == pytest.approx(0.8)
    assert fit.value == pytest.approx(10 / 11)
    assert (fit.confusion.tp, fit.confusion.fp) == (15, 3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4)), min_size=2, max_size=8), objectives)
def test_multimodal_blocks(blocks, objective):
    # alternating runs of positives and negatives of random lengths: many local optima
    labels: list[int] = []
    for i, (extra, length) in enumerate(blocks):
        labels += [i % 2 == 0] * (length + extra)
    scores = np.linspace(1, 0, len(labels))
    check_against_brute_force(scores, labels, objective)


def test_midpoint_guard():
    u = 1.0
    v = np.nextafter(1.0, 2.0)
    assert midpoint(u, v) == v  # (u + v) / 2 rounds to u: take v
    assert midpoint(-np.inf, 3.0) == 3.0
    big = np.finfo(float).max
    assert midpoint(big / 2, big) == pytest.approx(0.75 * big)  # the sum would overflow


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_scores_name_rows(bad):
    s = [0.1, 0.2, bad, 0.4, bad]
    with pytest.raises(DataError, match=r"rows \[2, 4\]"):
        best_threshold(s, [0, 1, 0, 1, 1])


def test_invalid_labels_and_shapes():
    with pytest.raises(DataError, match=r"0 or 1.*rows \[1\]"):
        best_threshold([0.1, 0.2, 0.3], [0, 2, 1])
    with pytest.raises(DataError, match="3 scores but 2 labels"):
        best_threshold([0.1, 0.2, 0.3], [0, 1])
    with pytest.raises(DataError, match="no rows"):
        best_threshold([], [])
