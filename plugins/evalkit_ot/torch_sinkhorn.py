"""Batched log-domain Sinkhorn in torch: many WMD/WRD pairs in one go on a GPU (approximate).

Pairs are zero-padded to ``(B, n_max, d)`` and ``(B, m_max, d)``; padded tokens get mass 0
(log-mass ``-inf``), so they neither send nor receive anything. With ``eps_b = reg * max(C_b)``
the iterations are the log-domain (stabilised) Sinkhorn updates of the entropic problem
``min <T, C> - eps H(T)`` (Cuturi 2013; Peyre & Cuturi 2019, "Computational Optimal Transport",
Sec. 4.4, Remark 4.22), written with dual potentials ``f``, ``g``:

    f_i = -eps log sum_j b_j exp((g_j - C_ij) / eps)
    g_j = -eps log sum_i a_i exp((f_i - C_ij) / eps)
    T_ij = a_i b_j exp((f_i + g_j - C_ij) / eps)

They run until the first marginal of ``T`` is within ``tol`` (L1) of ``a`` for every pair, or
``n_iter`` iterations; the plan is the one POT's ``ot.bregman.sinkhorn_log`` computes for the
same ``reg * max(C)``. It is then rounded onto the transport polytope (Altschuler et al. 2017,
Algorithm 2), so the value ``<T, C>`` is the cost of a feasible plan: at least the exact
distance, and close to it for small ``reg``. Callers measure the gap to the exact solver (:mod:`evalkit_ot.batch`).
torch is imported only inside :func:`sinkhorn_batch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from evalkit_ot.solver import Doc

#: Pairs per torch batch (bounds the ``(B, n, m)`` cost tensor).
BATCH = 512


def sinkhorn_batch(xs: Sequence[Doc], ys: Sequence[Doc], *, reg: float = 0.05,
                   n_iter: int = 2000, tol: float = 1e-9, device: str = "cpu",
                   dtype: str = "float64", batch: int = BATCH) -> np.ndarray:
    """Entropic WMD/WRD of the pairs ``(xs[i], ys[i])``: float64 ``(n,)`` (``<T, C>`` per pair).

    Args:
        xs, ys: prepared texts of one kind, equal lengths.
        reg: regularisation relative to each pair's largest cost (``eps = reg * max(C)``).
        n_iter: iteration limit; tol: L1 marginal error at which a batch stops.
        device, dtype: torch device (``"cuda"``, ``"cpu"``) and float type of the iterations.
        batch: pairs per torch call.
    """
    import torch

    tdtype = getattr(torch, dtype)
    out = np.zeros(len(xs))
    order = np.argsort([x.size + y.size for x, y in zip(xs, ys, strict=True)], kind="stable")
    for start in range(0, len(order), batch):
        sel = order[start : start + batch]
        px = [xs[i] for i in sel]
        py = [ys[i] for i in sel]
        out[sel] = _run(px, py, reg, n_iter, tol, torch.device(device), tdtype)
    return out


def _round(t: Any, a: Any, b: Any) -> Any:
    """Batched rounding onto the transport polytope (Altschuler et al. 2017, Algorithm 2)."""
    import torch

    r = t.sum(dim=2)
    t = t * torch.where(r > 0, a / torch.where(r > 0, r, 1), 1).clamp(max=1)[:, :, None]
    c = t.sum(dim=1)
    t = t * torch.where(c > 0, b / torch.where(c > 0, c, 1), 1).clamp(max=1)[:, None, :]
    er = (a - t.sum(dim=2)).clamp(min=0)
    ec = (b - t.sum(dim=1)).clamp(min=0)
    total = er.sum(dim=1)
    return t + er[:, :, None] * ec[:, None, :] / torch.where(total > 0, total, 1)[:, None, None]


def _pad(docs: Sequence[Doc], device: Any, dtype: Any) -> tuple[Any, Any]:
    """Points ``(B, n_max, d)`` and masses ``(B, n_max)`` (0 on padding) as torch tensors."""
    import torch

    n = max(d.size for d in docs)
    pts = np.zeros((len(docs), n, docs[0].dim))
    mass = np.zeros((len(docs), n))
    for b, d in enumerate(docs):
        pts[b, : d.size] = d.points
        mass[b, : d.size] = d.mass
    return (torch.as_tensor(pts, dtype=dtype, device=device),
            torch.as_tensor(mass, dtype=dtype, device=device))


def _run(xs: Sequence[Doc], ys: Sequence[Doc], reg: float, n_iter: int, tol: float,
         device: Any, dtype: Any) -> np.ndarray:
    import torch

    x, a = _pad(xs, device, dtype)
    y, b = _pad(ys, device, dtype)
    if xs[0].kind == "wmd":
        c = torch.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist")
    else:
        c = (1.0 - x @ y.transpose(1, 2)).clamp(0.0, 2.0)
    valid = (a[:, :, None] > 0) & (b[:, None, :] > 0)
    c = torch.where(valid, c, torch.zeros_like(c))
    eps = (reg * c.amax(dim=(1, 2)).clamp_min(1e-300))[:, None, None]
    log_a = torch.log(a)  # -inf on padding
    log_b = torch.log(b)
    f = torch.zeros_like(log_a)
    g = torch.zeros_like(log_b)

    def plan() -> Any:
        return torch.exp((f[:, :, None] + g[:, None, :] - c) / eps
                         + log_a[:, :, None] + log_b[:, None, :])

    for it in range(n_iter):
        f = -eps[:, :, 0] * torch.logsumexp((g[:, None, :] - c) / eps + log_b[:, None, :], dim=2)
        g = -eps[:, 0, :] * torch.logsumexp((f[:, :, None] - c) / eps + log_a[:, :, None], dim=1)
        if it % 10 == 9 and float((plan().sum(dim=2) - a).abs().sum(dim=1).max()) < tol:
            break
    value = (_round(plan(), a, b) * c).sum(dim=(1, 2))
    return value.detach().to("cpu", torch.float64).numpy()
