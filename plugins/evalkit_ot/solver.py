"""Exact Word Mover's Distance and Word Rotator's Distance between two texts, in float64.

A text is a weighted point cloud: token vectors ``x_1..x_n`` (shape ``(n, d)``) with non-negative
token weights ``c_1..c_n`` (counts; 1 per token by default). :func:`prepare` turns it into a
:class:`Doc` for one of the two distances:

- **WMD** (Kusner et al. 2015, "From Word Embeddings to Document Distances", ICML, Sec. 3 and
  Eq. 1): nBOW weights ``d_i = c_i / sum_k c_k`` (a repeated token adds weight), cost
  ``C_ij = ||x_i - y_j||_2`` (Euclidean distance between token vectors), and
  ``WMD = min_{T >= 0, T 1 = d, T^T 1 = d'} sum_ij T_ij C_ij``. Units: those of the vectors.
  ``normalize=True`` first scales every vector to unit length (gensim's ``wmdistance(norm=True)``).
- **WRD** (Yokoi et al. 2020, "Word Rotator's Distance", EMNLP, Sec. 4, Eq. 8-10): mass
  ``m_i = c_i ||x_i|| / sum_k c_k ||x_k||`` (the norm of a word vector encodes its importance),
  cost ``C_ij = 1 - cos(x_i, y_j)``, same transport problem; ``WRD`` lies in ``[0, 2]`` and
  ``1 - WRD`` is the similarity the paper reports.

The transport problem is solved exactly by POT's network simplex (Bonneel et al. 2011) on
float64 inputs, called directly (``ot.lp.emd_wrap.emd_c``, the routine behind ``ot.emd2``) so
that a pair costs little more than the solve itself; the value is bit-for-bit what ``ot.emd2``
returns for the same weights and cost matrix. Values in ``[-1e-12 * max(C), 0)`` (round-off)
are clipped to 0; identical inputs give exactly 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from evalkit import ConfigError, DataError, EvalkitError

#: The two distances this module defines.
KINDS = ("wmd", "wrd")
#: Entries with ``d^2 <= RECOMPUTE * (||x||^2 + ||y||^2)`` are recomputed from the difference
#: vector, so the fast ``||x||^2 + ||y||^2 - 2 x.y`` expansion never loses digits to cancellation
#: (identical vectors get exactly 0, as ``scipy.spatial.distance.cdist`` gives).
RECOMPUTE = 1e-2
#: Network-simplex iteration limit (POT's default is 100000).
MAX_ITER = 1_000_000


class SolverError(EvalkitError):
    """The exact solver did not reach optimality (iteration limit, infeasible input)."""


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is ``"wmd"`` or ``"wrd"``; raise :class:`ConfigError` otherwise."""
    if kind not in KINDS:
        raise ConfigError(f"unknown optimal-transport distance {kind!r}; use 'wmd' or 'wrd'")
    return kind


@dataclass(frozen=True, eq=False, slots=True)
class Doc:
    """One text prepared for one distance.

    Attributes:
        kind: ``"wmd"`` or ``"wrd"``.
        points: ``(n, d)`` float64, C-contiguous: the token vectors (WMD) or their unit
            directions (WRD).
        mass: ``(n,)`` float64, positive, sums to 1 (nBOW weights or WRD mass).
        sqnorm: ``(n,)`` float64 squared norms of ``points``.
        centroid: ``(d,)`` float64, ``sum_i mass_i points_i``.
        mass_sum: ``mass.sum()`` (1 up to round-off), as POT computes it.
        sqnorm_max: ``sqnorm.max()``.
        home: where :func:`prepare` placed ``points``, ``sqnorm`` and ``mass`` in shared memory
            (:mod:`evalkit_ot.store`): ``(slab, text number)``; ``None`` for private arrays (a
            copy, a pickled or a hand-made document). Not an argument: set by :func:`prepare`.
    """

    kind: str
    points: np.ndarray
    mass: np.ndarray
    sqnorm: np.ndarray = field(repr=False)
    centroid: np.ndarray = field(repr=False)
    mass_sum: float = 1.0
    sqnorm_max: float = 0.0
    home: Any = field(default=None, init=False, repr=False)

    # Slots: a batch reads an attribute of every text (its kind, its home) from memory the solves
    # have pushed out of the caches; a slot is one read where an instance dict is three.

    def __getstate__(self) -> tuple[Any, ...]:
        # A home names this process's shared rows: a copy elsewhere holds private arrays.
        return tuple(None if f.name == "home" else getattr(self, f.name) for f in fields(self))

    def __setstate__(self, state: tuple[Any, ...] | dict[str, Any]) -> None:
        names = [f.name for f in fields(self)]
        # (a dict: pickled before Doc had slots)
        values = [state.get(n) for n in names] if isinstance(state, dict) else list(state)
        for name, value in zip(names, values, strict=True):
            object.__setattr__(self, name, None if name == "home" else value)

    @property
    def size(self) -> int:
        """Number of support points (distinct tokens with positive mass)."""
        return int(self.points.shape[0])

    @property
    def dim(self) -> int:
        return int(self.points.shape[1])


def prepare(
    vectors: Any, weights: Any = None, *, kind: str = "wmd", normalize: bool = False,
    shared: bool = True,
) -> Doc | None:
    """Turn token vectors and weights into a :class:`Doc`, or ``None`` if nothing carries mass.

    Args:
        vectors: ``(n, d)`` array-like of token vectors (any float dtype; used as float64).
        weights: ``(n,)`` non-negative token weights (counts); ``None`` means 1 per row.
        kind: ``"wmd"`` (nBOW weights, Euclidean cost) or ``"wrd"`` (norm-proportional mass,
            cosine cost).
        normalize: WMD only: scale every vector to unit length first (gensim ``norm=True``).
        shared: place the arrays in shared memory (:mod:`evalkit_ot.store`), where worker
            processes read them without a copy per call (falls back to private arrays where
            there is no room); ``False`` for a text used once in this process.

    Rows with weight 0 are dropped, and so are zero vectors under ``normalize`` or WRD (they
    have no direction; under WRD they would carry no mass anyway).

    Returns:
        the :class:`Doc`, or ``None`` when no row is left (an empty or all-OOV text).

    Raises:
        DataError: wrong shapes, negative or non-finite weights, non-finite vectors.
    """
    check_kind(kind)
    x = np.array(vectors, dtype=np.float64, ndmin=2, copy=True)
    if x.ndim != 2:
        raise DataError(f"token vectors must be a 2-D array (tokens x dims), got shape {x.shape}")
    n = x.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != n:
        raise DataError(f"{n} token vectors but {w.shape[0]} weights")
    if not np.all(np.isfinite(x)):
        raise DataError("token vectors contain NaN or inf")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise DataError("token weights must be finite and non-negative")
    keep = w > 0
    if kind == "wrd" or normalize:
        norms = np.sqrt(np.einsum("ij,ij->i", x, x))
        keep &= norms > 0
        x, w, norms = x[keep], w[keep], norms[keep]
        x /= norms[:, None]
        if kind == "wrd":
            w = w * norms
    else:
        x, w = x[keep], w[keep]
    if x.shape[0] == 0:
        return None
    mass = w / w.sum()
    x = np.ascontiguousarray(x)
    sq = np.einsum("ij,ij->i", x, x)
    placed = None
    if shared:
        from evalkit_ot.store import STORE

        placed = STORE.place(x, sq, mass)
    if placed is None:
        home, sums = None, (float(mass.sum()), float(sq.max()))
    else:  # the slab summed its own copies, as below
        (x, sq, mass), home = placed
        sums = tuple(home[0].sums[home[1]].tolist())
    doc = Doc(kind, x, mass, sq, mass @ x, *sums)
    object.__setattr__(doc, "home", home)
    return doc


def euclidean_cost(x: np.ndarray, y: np.ndarray, xsq: np.ndarray | None = None,
                   ysq: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distances ``C_ij = ||x_i - y_j||``: float64 ``(n, m)`` from ``(n, d)``, ``(m, d)``.

    Uses ``||x||^2 + ||y||^2 - 2 x.y`` (BLAS) and recomputes from the difference vector every
    entry where that expansion could lose digits (see :data:`RECOMPUTE`), so the result agrees
    with ``scipy.spatial.distance.cdist`` to about 1e-14 relative and is exactly 0 for identical
    vectors.
    """
    return _euclidean(x, y, xsq, ysq)[0]


def _euclidean(x: np.ndarray, y: np.ndarray, xsq: np.ndarray | None, ysq: np.ndarray | None,
               top: float | None = None, out: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """:func:`euclidean_cost` and whether any pair of vectors was close (only then can a cost
    be exactly 0). Few NumPy calls: this runs once per pair. ``top`` may pass
    ``max(xsq) + max(ysq)``; ``out`` an ``(n, m)`` C-contiguous float64 array to fill."""
    xsq = np.einsum("ij,ij->i", x, x) if xsq is None else xsq
    ysq = np.einsum("ij,ij->i", y, y) if ysq is None else ysq
    d2 = np.dot(x, y.T, out=out)
    d2 *= -2.0
    d2 += xsq[:, None]
    d2 += ysq
    # Cheap screen: no entry can be close unless the smallest d^2 is within RECOMPUTE of the
    # largest possible ||x||^2 + ||y||^2.
    if top is None:
        top = float(xsq.max()) + float(ysq.max())
    close = float(d2.min()) <= RECOMPUTE * top
    if close:
        i, j = np.nonzero(d2 <= RECOMPUTE * np.add.outer(xsq, ysq))
        close = bool(i.size)
        if close:
            diff = x[i] - y[j]
            d2[i, j] = np.einsum("ij,ij->i", diff, diff)
            np.maximum(d2, 0.0, out=d2)
    return np.sqrt(d2, out=d2), close


def cosine_cost(x: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``C_ij = 1 - cos(x_i, y_j)`` for unit rows: float64 ``(n, m)``, clipped to ``[0, 2]``
    (written into ``out`` if given)."""
    c = np.dot(x, y.T, out=out)
    np.subtract(1.0, c, out=c)
    return np.clip(c, 0.0, 2.0, out=c)


def cost_matrix(x: Doc, y: Doc) -> np.ndarray:
    """The ground cost between two prepared texts: Euclidean (WMD) or ``1 - cos`` (WRD)."""
    return cost_and_flag(x, y)[0]


def cost_and_flag(x: Doc, y: Doc, out: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """:func:`cost_matrix` and whether a cost may be exactly 0 (WMD's shared mass); ``out`` may
    pass a C-contiguous float64 ``(n, m)`` array to fill."""
    if x.kind != y.kind:
        raise ConfigError(f"cannot compare a {x.kind} document with a {y.kind} document")
    if x.dim != y.dim:
        raise DataError(f"token vectors of different sizes: {x.dim} and {y.dim}")
    if x.kind == "wmd":
        return _euclidean(x.points, y.points, x.sqnorm, y.sqnorm, x.sqnorm_max + y.sqnorm_max, out)
    return cosine_cost(x.points, y.points, out), False


EmdFn = Callable[[np.ndarray, np.ndarray, np.ndarray, int],
                 tuple[float, int, np.ndarray, np.ndarray]]


def _load_emd() -> EmdFn:
    """``emd(a, b, M, max_iter) -> (cost, result_code, u, v)``: POT's network simplex, no
    wrappers; ``u``, ``v`` are the optimal dual potentials of ``a``'s and ``b``'s points."""
    try:
        from ot.lp.emd_wrap import emd_c

        def emd(a: np.ndarray, b: np.ndarray, m: np.ndarray,
                max_iter: int) -> tuple[float, int, np.ndarray, np.ndarray]:
            out = emd_c(a, b, m, max_iter, 1)
            return float(out[1]), int(out[-1]), out[2], out[3]

        emd(np.ones(1), np.ones(1), np.zeros((1, 1)), 10)
    except Exception:  # POT moved its private routine: use the public one (slower, same value)
        import warnings

        import ot

        def emd(a: np.ndarray, b: np.ndarray, m: np.ndarray,
                max_iter: int) -> tuple[float, int, np.ndarray, np.ndarray]:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value, log = ot.emd2(a, b, m, numItermax=max_iter, center_dual=False, log=True)
            return float(value), 3 if caught else 1, np.asarray(log["u"]), np.asarray(log["v"])

    return emd


_EMD: EmdFn | None = None

_RESULT = {0: "infeasible (weights not on the simplex)", 2: "unbounded",
           3: "iteration limit reached before optimality"}


def emd_value(a: np.ndarray, b: np.ndarray, cost: np.ndarray, *, max_iter: int = MAX_ITER,
              duals: list[np.ndarray] | None = None,
              sums: tuple[float, float] | None = None) -> float:
    """Exact optimal transport cost ``min <T, C>`` between histograms ``a`` (n,) and ``b`` (m,).

    As ``ot.emd2``: ``b`` is rescaled to ``a``'s total, ``cost`` must be float64 and C-contiguous.
    If ``duals`` is a list, the optimal dual potentials ``u`` (of ``a``'s points) and ``v`` (of
    ``b``'s) are appended to it. ``sums`` may pass ``(a.sum(), b.sum())`` if already known.

    Raises:
        SolverError: the simplex did not reach optimality (raise ``max_iter`` for huge texts).
    """
    global _EMD
    if _EMD is None:
        _EMD = _load_emd()
    sa, sb = (a.sum(), b.sum()) if sums is None else sums
    if sa != 1.0 or sb != 1.0:
        b = b * sa / sb  # the same operations as ot.emd2, so the same bits
    value, code, u, v = _EMD(a, b, cost, max_iter)
    if code != 1:
        raise SolverError(
            f"exact optimal transport failed for a {cost.shape[0]}x{cost.shape[1]} problem: "
            f"{_RESULT.get(code, f'result code {code}')}; raise max_iter (now {max_iter})"
        )
    if duals is not None:
        duals.extend((u, v))
    return value


def finish(value: float, kind: str, cost: np.ndarray | float) -> float:
    """Clip round-off: tiny negatives to 0 (and WRD to at most 2). ``cost``: the cost matrix,
    or its largest entry.

    Raises:
        SolverError: a clearly negative value (a bug, never round-off).
    """
    if value < 0.0:
        top = cost if isinstance(cost, float) else float(cost.max())
        if value < -1e-12 * max(top, 1.0):
            raise SolverError(f"optimal transport returned a negative cost {value!r}")
        return 0.0
    if kind == "wrd" and value > 2.0:
        return 2.0
    return value


def same_doc(x: Doc, y: Doc) -> bool:
    """Whether two prepared texts are identical (then their distance is exactly 0)."""
    return x is y or (
        x.points.shape == y.points.shape
        and x.mass_sum == y.mass_sum
        and x.sqnorm_max == y.sqnorm_max
        and np.array_equal(x.mass, y.mass)
        and np.array_equal(x.points, y.points)
    )


def drop_shared_mass(
    a: np.ndarray, b: np.ndarray, cost: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """For a metric cost (WMD), remove the mass both texts hold at the same point.

    Where ``C_ij == 0`` (the same vector in both texts), ``min(a_i, b_j)`` stays put in some
    optimal plan: with a metric ground cost the optimal cost depends only on ``mu - nu``
    (Kantorovich-Rubinstein duality; Villani 2003, "Topics in Optimal Transportation", Thm. 1.14),
    so ``WMD(mu, nu) = OT(mu - min(mu, nu), nu - min(mu, nu))``. Returns the smaller problem
    ``(a', b', C', rows, cols)`` (the rows and columns with mass left), or ``None`` when nothing
    is shared. Not valid for WRD, whose cost ``1 - cos = |u - v|^2 / 2`` is not a metric.
    """
    zi, zj = np.nonzero(cost == 0.0)
    if zi.size == 0:
        return None
    a, b = a.copy(), b.copy()
    for i, j in zip(zi.tolist(), zj.tolist(), strict=True):
        m = min(a[i], b[j])
        a[i] -= m
        b[j] -= m
    rows, cols = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    return a[rows], b[cols], np.ascontiguousarray(cost[np.ix_(rows, cols)]), rows, cols


def exact_distance(x: Doc, y: Doc, cost: np.ndarray, *, max_iter: int = MAX_ITER,
                   duals: list[np.ndarray] | None = None, may_share: bool = True) -> float:
    """Exact WMD or WRD of two prepared texts given their cost matrix (round-off clipped).

    WMD pairs first drop the mass they share (:func:`drop_shared_mass`: a smaller problem, the
    same optimum); ``may_share=False`` says no cost is 0 and skips that step. If ``duals`` is a
    list, dual potentials for all of ``x``'s tokens are appended to it (feasible with ``v``; on
    dropped rows the c-transform of ``v``).
    """
    share = may_share and x.kind == "wmd"
    reduced = drop_shared_mass(x.mass, y.mass, cost) if share else None
    if reduced is None:
        out: list[np.ndarray] = []
        value = emd_value(x.mass, y.mass, cost, max_iter=max_iter, duals=out,
                          sums=(x.mass_sum, y.mass_sum))
        if duals is not None:
            duals.append(out[0])
        return finish(value, x.kind, cost)
    a, b, c, rows, cols = reduced
    if a.size == 0 or b.size == 0:
        if duals is not None:
            duals.append(np.zeros(x.size))
        return 0.0
    out = []
    value = emd_value(a, b, c, max_iter=max_iter, duals=out)
    if duals is not None:
        u = (cost[:, cols] - out[1][None, :]).min(axis=1)
        u[rows] = out[0]
        duals.append(u)
    return finish(value, x.kind, cost)


def distance(x: Doc, y: Doc, *, max_iter: int = MAX_ITER) -> float:
    """Exact WMD or WRD between two prepared texts (see the module docstring), float."""
    if same_doc(x, y):
        return 0.0
    c, may_share = cost_and_flag(x, y)
    return exact_distance(x, y, c, max_iter=max_iter, may_share=may_share)


def _pair(x: Any, y: Any, xw: Any, yw: Any, kind: str, normalize: bool) -> tuple[Doc, Doc]:
    dx = prepare(x, xw, kind=kind, normalize=normalize, shared=False)
    dy = prepare(y, yw, kind=kind, normalize=normalize, shared=False)
    if dx is None or dy is None:
        raise DataError(
            f"{kind}: {'the first' if dx is None else 'the second'} text has no token vector with "
            "positive weight; the distance to an empty text is undefined"
        )
    return dx, dy


def wmd(x: Any, y: Any, x_weights: Any = None, y_weights: Any = None, *,
        normalize: bool = False) -> float:
    """Word Mover's Distance (Kusner et al. 2015, Eq. 1) between two texts' token vectors.

    Args:
        x, y: ``(n, d)`` and ``(m, d)`` token vectors.
        x_weights, y_weights: token counts (default 1 each); nBOW weights are counts / total.
        normalize: unit-normalise the vectors first (gensim's ``norm=True``).

    Returns:
        WMD >= 0 in the vectors' units (float).

    Raises:
        DataError: an empty text, bad shapes or values. SolverError: no optimum reached.
    """
    return distance(*_pair(x, y, x_weights, y_weights, "wmd", normalize))


def wrd(x: Any, y: Any, x_weights: Any = None, y_weights: Any = None) -> float:
    """Word Rotator's Distance (Yokoi et al. 2020, Eq. 8-10) between two texts' token vectors.

    Mass is proportional to ``count * ||vector||``, cost is ``1 - cos``. Returns a float in
    ``[0, 2]``; ``1 - WRD`` is the similarity. Raises as :func:`wmd`.
    """
    return distance(*_pair(x, y, x_weights, y_weights, "wrd", False))
