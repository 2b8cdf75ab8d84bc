"""Cheap lower bounds on WMD and WRD, for pruning nearest-neighbour search.

For WMD (Kusner et al. 2015, Sec. 4):

- **Word Centroid Distance** ``WCD = ||X d - X' d'||`` (Eq. 4 ff.): the distance between the
  nBOW-weighted centroids; ``WCD <= WMD`` by the triangle inequality. One vector per text, so a
  query's WCD to a whole corpus is one matrix-vector product.
- **Relaxed WMD** ``RWMD = max(l1, l2)`` with ``l1 = sum_i d_i min_j C_ij`` (drop the constraint
  on the second marginal: every token moves to its nearest token of the other text) and ``l2``
  the same from the other side; ``RWMD <= WMD``.

and a tighter one that keeps part of the dropped constraint:

- **Capped relaxation** (the "iterative constrained transfers" bound, ICT, of Atasu &
  Mittelholzer 2019, "Linear-Complexity Data-Parallel Earth Mover's Distance Approximations",
  ICML): keep the capacity ``T_ij <= d'_j`` that every feasible plan satisfies while dropping
  the second marginal. The problem separates by rows and is solved exactly by sending each
  token's mass to its nearest tokens in order, at most ``d'_j`` to token ``j``. ``RWMD <= ICT
  <= WMD``, side by side; the bound is the larger of the two directions.

Any potentials give one more bound, by weak duality of the transport linear program:

- **c-transform bound**: for any ``u`` on the first text's tokens, ``v_j = min_i (C_ij - u_i)``
  and then ``u'_i = min_j (C_ij - v_j)`` satisfy ``u'_i + v_j <= C_ij``, so
  ``sum_i d_i u'_i + sum_j d'_j v_j <= WMD`` (Peyre & Cuturi 2019, "Computational Optimal
  Transport", Sec. 3.1 and 5.1 on c-transforms). With ``u = 0`` this is RWMD's second side; with
  the optimal potentials of the *same query against a near neighbour* (which the k-NN search has
  just solved) it is usually far tighter, since a query token's potential says how costly it is
  to move that token whatever the other text.

Note that ``WCD <= RWMD`` does **not** hold in general (Kusner et al. observe that RWMD is
usually the tighter bound, they do not prove an order): for ``x = {0: 1/2, 10: 1/2}`` and
``y = {0: 1/10, 10: 9/10}`` on the real line, ``RWMD = 0`` while ``WCD = WMD = 4``. Pruning
therefore uses ``max(WCD, ICT)``.

For WRD, with unit directions ``u_i``, ``v_j`` and masses ``m``, ``m'``:

- **Centroid bound** ``1/2 ||sum_i m_i u_i - sum_j m'_j v_j||^2 <= WRD``: since
  ``1 - cos(u, v) = 1/2 ||u - v||^2`` for unit vectors and ``||.||^2`` is convex, Jensen's
  inequality over any transport plan gives the bound (the WRD analogue of WCD).
- **Relaxed WRD** and the capped relaxation: as for RWMD and ICT with the cost ``1 - cos`` (the
  argument never uses the triangle inequality).

All bounds are float64 and in the units of their distance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evalkit_ot.solver import Doc, cost_matrix, same_doc


def centroid_bound(x: Doc, y: Doc) -> float:
    """WCD for WMD documents, ``1/2 ||c_x - c_y||^2`` for WRD documents (a lower bound, float)."""
    diff = x.centroid - y.centroid
    if x.kind == "wmd":
        return float(np.sqrt(diff @ diff))
    return float(0.5 * (diff @ diff))


def centroid_bounds(query: Doc, corpus: Sequence[Doc]) -> np.ndarray:
    """:func:`centroid_bound` of ``query`` to every document of ``corpus``: float64 ``(n,)``."""
    cents = np.stack([d.centroid for d in corpus]) if len(corpus) else np.zeros((0, query.dim))
    diff = cents - query.centroid
    sq = np.einsum("ij,ij->i", diff, diff)
    return np.sqrt(sq) if query.kind == "wmd" else 0.5 * sq


def relaxed_bound(x: Doc, y: Doc, cost: np.ndarray | None = None) -> float:
    """RWMD (WMD documents) or relaxed WRD (WRD documents): ``max(l1, l2)``, a lower bound.

    ``cost`` may pass the ``(n, m)`` cost matrix if it is already known.
    """
    if same_doc(x, y):
        return 0.0
    c = cost_matrix(x, y) if cost is None else cost
    l1 = float(x.mass @ c.min(axis=1))
    l2 = float(y.mass @ c.min(axis=0))
    return max(l1, l2, 0.0)


def _capped_side(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """``min sum T_ij C_ij`` s.t. ``sum_j T_ij = a_i``, ``0 <= T_ij <= b_j``: greedy by row."""
    order = np.argsort(c, axis=1, kind="stable")
    cs = np.take_along_axis(c, order, axis=1)
    bs = b[order]
    before = np.cumsum(bs, axis=1) - bs
    flow = np.minimum(bs, np.maximum(a[:, None] - before, 0.0))
    return float(np.einsum("ij,ij->", flow, cs))


def capped_bound(x: Doc, y: Doc, cost: np.ndarray | None = None) -> float:
    """The capped relaxation (ICT) of WMD/WRD: ``max`` over both directions, a lower bound.

    ``cost`` may pass the ``(n, m)`` cost matrix if it is already known.
    """
    if same_doc(x, y):
        return 0.0
    c = cost_matrix(x, y) if cost is None else cost
    return max(_capped_side(c, x.mass, y.mass), _capped_side(c.T, y.mass, x.mass), 0.0)


def dual_bound(x: Doc, y: Doc, potentials: np.ndarray, cost: np.ndarray | None = None) -> float:
    """The best c-transform bound over the rows of ``potentials`` ``(p, n)`` (potentials on
    ``x``'s tokens, e.g. optimal duals of ``x`` against other texts): a lower bound, float."""
    if potentials.size == 0:
        return 0.0
    c = cost_matrix(x, y) if cost is None else cost
    v = (c[None, :, :] - potentials[:, :, None]).min(axis=1)  # (p, m)
    u = (c[None, :, :] - v[:, None, :]).min(axis=2)  # (p, n)
    return max(float((u @ x.mass + v @ y.mass).max()), 0.0)


def wcd(x: Doc, y: Doc) -> float:
    """Word Centroid Distance (Kusner et al. 2015) between two WMD documents."""
    if x.kind != "wmd" or y.kind != "wmd":
        raise ValueError("wcd needs documents prepared with kind='wmd'")
    return centroid_bound(x, y)


def rwmd(x: Doc, y: Doc) -> float:
    """Relaxed Word Mover's Distance (Kusner et al. 2015) between two WMD documents."""
    if x.kind != "wmd" or y.kind != "wmd":
        raise ValueError("rwmd needs documents prepared with kind='wmd'")
    return relaxed_bound(x, y)
