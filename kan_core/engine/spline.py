"""B-spline grids and bases: a closed-form fast path for uniform grids, Cox–de Boor otherwise.

Conventions (the KAN paper's): an input dimension has G intervals on [lo, hi], extended by k knots
on each side, so `knots` has shape (in, G + 2k + 1) and there are G + k bases of degree k.
Intervals are half-open [t_m, t_{m+1}); outside the extended knots every basis is 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import torch


def extend_grid(grid: torch.Tensor, k: int) -> torch.Tensor:
    """Extend an (in, G+1) grid by k knots on each side, spaced like its end intervals."""
    left = grid[:, 1:2] - grid[:, 0:1]
    right = grid[:, -1:] - grid[:, -2:-1]
    steps = torch.arange(1, k + 1, dtype=grid.dtype, device=grid.device)
    lo = grid[:, :1] - left * steps.flip(0)
    hi = grid[:, -1:] + right * steps
    return torch.cat([lo, grid, hi], dim=1)


def uniform_knots(lo: torch.Tensor, hi: torch.Tensor, G: int, k: int) -> torch.Tensor:
    """Knots (in, G+2k+1) of a uniform grid of G intervals on [lo, hi] per input, extended by k."""
    frac = torch.arange(-k, G + k + 1, dtype=lo.dtype, device=lo.device) / G
    return lo[:, None] + (hi - lo)[:, None] * frac


def is_uniform(knots: torch.Tensor, rtol: float = 1e-5) -> bool:
    """True when every row of `knots` is equally spaced (the fast path applies)."""
    d = knots.diff(dim=1)
    h = d[:, :1]
    return bool(((d - h).abs() <= rtol * h.abs().clamp_min(1e-30)).all()) and bool((h > 0).all())


def cox_de_boor(x: torch.Tensor, knots: torch.Tensor, k: int) -> torch.Tensor:
    """Bases of degree k for any knots: x (batch, in), knots (in, M) -> (batch, in, M - k - 1)."""
    x = x.unsqueeze(-1)
    t = knots.unsqueeze(0)
    b = ((x >= t[..., :-1]) & (x < t[..., 1:])).to(x.dtype)
    for p in range(1, k + 1):
        left_den = t[..., p:-1] - t[..., : -p - 1]
        right_den = t[..., p + 1 :] - t[..., 1:-p]
        # Repeated knots give 0/0 terms that are 0 by convention.
        left = (x - t[..., : -p - 1]) / torch.where(left_den == 0, 1.0, left_den)
        right = (t[..., p + 1 :] - x) / torch.where(right_den == 0, 1.0, right_den)
        b = left * b[..., :-1] + right * b[..., 1:]
    return b


def _silu_grad(x: torch.Tensor) -> torch.Tensor:
    sig = torch.sigmoid(x)
    return sig * (1 + x * (1 - sig))


# Base functions b(x) of the edges with their derivatives (the backward below needs both).
TensorFn = Callable[[torch.Tensor], torch.Tensor]
BASE_FUNCTIONS: dict[str, tuple[TensorFn, TensorFn]] = {
    "silu": (torch.nn.functional.silu, _silu_grad),
    "identity": (lambda x: x, torch.ones_like),
    "zero": (torch.zeros_like, torch.zeros_like),
}


@lru_cache(maxsize=16)
def _terms(k: int) -> tuple[float, tuple[float, ...]]:
    """α = (1/k!)^(1/k) and the term weights (−1)^i C(k+1, i) for i < (k+1)/2.

    Scaling positions by α puts the 1/k! of the B-spline inside relu(·)^k, which saves a pass.
    """
    weights = tuple(float((-1) ** i * math.comb(k + 1, i)) for i in range((k + 2) // 2))
    return (1.0 / math.factorial(k)) ** (1.0 / k), weights


class _UniformFeaturesT(torch.autograd.Function):
    """Uniform-grid bases plus the base function, feature-major: x_t (in, B) -> (G+k+1, in, B).

    Every basis is the same cardinal B-spline shifted, written with symmetric truncated powers,
    M(t) = (1/k!) Σ_{i < c} (−1)^i C(k+1, i) · relu(c − i − |t − c|)^k with c = (k+1)/2.
    Each term is one element-wise pass over contiguous memory (no scatter, no recursion), values
    stay O(c^k) so float32 loses nothing, and out-of-range inputs get exactly 0. The last row
    holds b(x) so that the layer contracts spline and base with a single matmul. The derivative
    is formed while the terms are in cache, and only it is kept for the backward. That backward
    is itself differentiable: under `create_graph=True` (grad mode on during the backward) it
    rebuilds the derivative from x with plain torch operations, so second derivatives (a PDE's
    Laplacian through the network, KAN paper arXiv:2404.19756 Sec. 3.4) are exact.
    """

    @staticmethod
    def forward(ctx, xt, scale, offsets, k: int, base: str):  # noqa: D102
        alpha, weights = _terms(k)
        c = (k + 1) / 2
        t = torch.addcmul(offsets, xt.unsqueeze(0), scale)  # α·(position − centre), (G+k, in, B)
        d = t.abs()
        n_basis = offsets.shape[0]
        out = xt.new_empty(n_basis + 1, *xt.shape)
        need_grad = ctx.needs_input_grad[0]
        slope: torch.Tensor | None = None
        for i, w in enumerate(weights):
            r = torch.rsub(d, alpha * (c - i)).clamp_(min=0)
            if i == 0:
                torch.pow(r, k, out=out[:n_basis])
            else:
                out[:n_basis].add_(r.pow(k), alpha=w)
            if need_grad:
                g = r.pow(k - 1) if k > 1 else (r > 0).to(r.dtype)
                slope = g if slope is None else slope.add_(g, alpha=w)
        value, derivative = BASE_FUNCTIONS[base]
        out[n_basis] = value(xt)
        if need_grad and slope is not None:
            # slope ∝ −dM/d|t| ≥ 0 (B-splines fall away from their centre), so dM/dt ∝ −copysign.
            ctx.save_for_backward(torch.copysign(slope, t), derivative(xt), scale * -k, xt, scale, offsets)
            ctx.k, ctx.base = k, base
        return out

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        slope, dbase, kscale, xt, scale, offsets = ctx.saved_tensors
        if torch.is_grad_enabled():
            # backward(create_graph=True), e.g. a PDE residual needing ∂²u/∂x²: the slope above was
            # formed without a graph, so rebuild it from x with differentiable operations.
            slope, dbase = _slope(xt, scale, offsets, ctx.k, ctx.base)
            return (grad[:-1] * slope).sum(0) * kscale + grad[-1] * dbase, None, None, None, None
        grad_x = (grad[:-1] * slope).sum(0).mul_(kscale).addcmul_(grad[-1], dbase)
        return grad_x, None, None, None, None


def _slope(xt, scale, offsets, k: int, base: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The derivative terms of `_UniformFeaturesT` (slope (G+k, in, B), b'(x) (in, B)) from plain
    differentiable torch operations, so that gradients of gradients exist (any order)."""
    alpha, weights = _terms(k)
    c = (k + 1) / 2
    t = offsets + xt.unsqueeze(0) * scale
    d = t.abs()
    slope = torch.zeros_like(t)
    for i, w in enumerate(weights):
        r = torch.relu(alpha * (c - i) - d)
        slope = slope + w * (r.pow(k - 1) if k > 1 else (r > 0).to(r.dtype))
    # slope·sign(t), not copysign: copysign's own backward divides by its input (NaN at slope 0)
    return slope * torch.sign(t), BASE_FUNCTIONS[base][1](xt)


def uniform_position(knots: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale (in, 1), offsets (G+k, in, 1)) with α·(position of x relative to basis j's centre)
    = x·scale + offsets[j], for uniform knots; layers cache these between grid changes."""
    alpha, _ = _terms(k)
    inv_h = 1.0 / (knots[:, 1] - knots[:, 0])
    n_basis = knots.shape[1] - k - 1
    centers = torch.arange(n_basis, dtype=knots.dtype, device=knots.device) + (k + 1) / 2
    offsets = -knots[:, 0] * inv_h - centers[:, None]
    return (alpha * inv_h)[:, None].contiguous(), (alpha * offsets)[..., None].contiguous()


def features_t(
    xt: torch.Tensor,
    knots: torch.Tensor,
    k: int,
    uniform: bool | None = None,
    base: str = "silu",
    position: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Bases and base function feature-major: x_t (in, batch) -> (G+k+1, in, batch), b(x) last."""
    if uniform is None:
        uniform = is_uniform(knots)
    if uniform and k >= 1:
        scale, offsets = position if position is not None else uniform_position(knots, k)
        return _UniformFeaturesT.apply(xt, scale, offsets, k, base)
    bases = cox_de_boor(xt.t(), knots, k).permute(2, 1, 0)
    return torch.cat([bases, BASE_FUNCTIONS[base][0](xt)[None]])


def basis_t(xt: torch.Tensor, knots: torch.Tensor, k: int, uniform: bool | None = None) -> torch.Tensor:
    """Bases feature-major: x_t (in, batch) -> (G+k, in, batch)."""
    return features_t(xt, knots, k, uniform, base="zero")[:-1]


def basis(x: torch.Tensor, knots: torch.Tensor, k: int, uniform: bool | None = None) -> torch.Tensor:
    """B-spline bases (batch, in, G+k), through the closed form when the knots are uniform."""
    return basis_t(x.t(), knots, k, uniform).permute(2, 1, 0)


def fit_coef(x: torch.Tensor, y: torch.Tensor, knots: torch.Tensor, k: int) -> torch.Tensor:
    """Least-squares coefficients (G+k, in, out) so that Σ c B(x) ≈ y, with x (n, in), y (n, in, out).

    Solved on the CPU in float64 with an SVD-based solver (minimum-norm where data leave a basis
    unconstrained): exact to ~1e-12 and free of the rank/NaN trouble torch.linalg.lstsq has on
    CUDA (reported in pykan). Grid changes are rare, so the round trip costs nothing that matters.
    """
    cpu = torch.device("cpu")
    x64, y64, k64 = (t.detach().to(cpu, torch.float64) for t in (x, y, knots))
    B = basis(x64, k64, k).transpose(0, 1)  # (in, n, nb)
    sol = torch.linalg.lstsq(B, y64.transpose(0, 1), driver="gelsd").solution  # (in, nb, out)
    return sol.permute(1, 0, 2).to(y.device, y.dtype).contiguous()
