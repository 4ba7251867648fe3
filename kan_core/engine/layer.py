"""KANLayer: every edge i→j computes φ(x) = w_b·b(x) + w_s·Σ c B(x), or a snapped c·f(a·x+b)+d."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import nn

from kan_core import library
from kan_core.engine.spline import (
    BASE_FUNCTIONS,
    basis_t,
    extend_grid,
    features_t,
    fit_coef,
    is_uniform,
    uniform_knots,
    uniform_position,
)
from kan_core.errors import ConfigError


def _refresh_after_load(module: "KANLayer", _keys: object) -> None:
    module.refresh()


class KANLayer(nn.Module):
    """A KAN layer: `in_dim` × `out_dim` learnable edge functions; each output node sums its edges.

    Edge i→j computes φ(x) = w_b·b(x) + w_s·Σ_m c_m B_m(x) with B_m the degree-k B-splines on G
    intervals (KAN paper, arXiv:2404.19756, Eq. 2.10), or c·f(a·x + b) + d once snapped to a
    library function f. The bases are evaluated once per input and contracted with every edge in
    one matmul (the efficient-KAN layout), so no (batch, in, out) tensor is formed in training.

    Parameters
    ----------
    in_dim, out_dim : int
        Nodes in and out (≥ 1).
    grid : int, default 5
        Grid intervals G (≥ 1).
    k : int, default 3
        Spline degree (≥ 0).
    grid_range : (float, float)
        Initial grid range for every input (moved to the data by `update_grid`).
    base_fn : {"silu", "identity", "zero"}
        The residual b(x).
    noise_scale : float
        Standard deviation of the initial spline coefficients.
    generator : torch.Generator, optional
        Seeds the initialisation.

    Raises
    ------
    ConfigError
        Non-positive widths, grid < 1, k < 0 or an unknown base function.

    Notes
    -----
    `forward` takes (batch, in_dim) and returns (batch, out_dim). Buffers `mask` (1 = edge on),
    `lock` (frozen in training), `sym` (library index of a snapped edge, −1 = spline) and
    `sym_params` (a, b, c, d) describe the structure; call `refresh()` after changing them by hand.
    """

    # Buffers (registered in __init__), declared for type checkers.
    knots: torch.Tensor
    mask: torch.Tensor
    lock: torch.Tensor
    sym: torch.Tensor
    sym_train: torch.Tensor
    _numeric: torch.Tensor

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        grid: int = 5,
        k: int = 3,
        grid_range: tuple[float, float] = (-1.0, 1.0),
        base_fn: str = "silu",
        noise_scale: float = 0.1,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if in_dim < 1 or out_dim < 1 or grid < 1 or k < 0:
            raise ConfigError(
                f"invalid layer {in_dim}->{out_dim} with grid={grid}, k={k}; "
                "use positive widths, grid >= 1 and k >= 0"
            )
        if base_fn not in BASE_FUNCTIONS:
            raise ConfigError(f"unknown base_fn {base_fn!r}; choose one of {list(BASE_FUNCTIONS)}")
        self.in_dim, self.out_dim, self.k, self.base_fn = in_dim, out_dim, k, base_fn
        lo = torch.full((in_dim,), float(grid_range[0]))
        hi = torch.full((in_dim,), float(grid_range[1]))
        self.register_buffer("knots", uniform_knots(lo, hi, grid, k))
        nb = grid + k
        # (G+k, in, out): the layout that lets one matmul contract every edge's spline.
        self.coef = nn.Parameter(torch.randn(nb, in_dim, out_dim, generator=generator) * noise_scale)
        self.w_s = nn.Parameter(torch.ones(in_dim, out_dim))
        w_b = (torch.rand(in_dim, out_dim, generator=generator) * 2 - 1) / math.sqrt(in_dim)
        self.w_b = nn.Parameter(w_b)
        self.sym_params = nn.Parameter(torch.tensor([1.0, 0.0, 1.0, 0.0]).repeat(in_dim, out_dim, 1))
        self.register_buffer("mask", torch.ones(in_dim, out_dim))
        self.register_buffer("lock", torch.zeros(in_dim, out_dim, dtype=torch.bool))
        self.register_buffer("sym", torch.full((in_dim, out_dim), -1, dtype=torch.long))
        self.register_buffer("sym_train", torch.ones(in_dim, out_dim, dtype=torch.bool))
        self.register_buffer("_numeric", torch.ones(in_dim, out_dim), persistent=False)
        self.register_load_state_dict_post_hook(_refresh_after_load)
        self.refresh()

    @property
    def grid(self) -> int:
        """Number of grid intervals G."""
        return self.knots.shape[1] - 2 * self.k - 1

    def extra_repr(self) -> str:  # noqa: D102
        return f"{self.in_dim}->{self.out_dim}, grid={self.grid}, k={self.k}"

    # ----- structure: masks, locks, symbolic overrides -------------------------------------
    def refresh(self) -> None:
        """Recompute what is derived from the buffers (call after changing them directly)."""
        self._uniform = is_uniform(self.knots)
        self._position = uniform_position(self.knots, self.k) if self._uniform and self.k >= 1 else None
        self._has_lock = bool(self.lock.any())
        self._all_numeric = bool((self.mask == 1).all()) and not bool((self.sym >= 0).any())
        symbolic = (self.sym >= 0) & (self.mask > 0)
        self._numeric = self.mask * (self.sym < 0).to(self.mask.dtype)
        self._frozen = ~self.sym_train | self.lock
        self._groups: list[tuple[str, torch.Tensor, torch.Tensor]] = []
        for f in self.sym[symbolic].unique().tolist():
            ii, oo = torch.nonzero(symbolic & (self.sym == f), as_tuple=True)
            self._groups.append((library.NAMES[f], ii, oo))

    def _apply(self, fn, *args, **kwargs):  # noqa: D102
        # .to()/.double()/.cuda() move buffers; what is derived from them must follow.
        out = super()._apply(fn, *args, **kwargs)
        self.refresh()
        return out

    def _check_edge(self, i: int, j: int) -> None:
        if not (0 <= i < self.in_dim and 0 <= j < self.out_dim):
            raise ConfigError(f"edge {i}->{j} does not exist; this layer is {self.in_dim}->{self.out_dim}")

    def set_mask(self, i: int, j: int, active: bool) -> None:
        """Switch edge i→j on or off (off = exactly 0)."""
        self._check_edge(i, j)
        self.mask[i, j] = float(active)
        self.refresh()

    def set_lock(self, i: int, j: int, locked: bool) -> None:
        """Lock edge i→j so training leaves its function unchanged."""
        self._check_edge(i, j)
        self.lock[i, j] = locked
        self.refresh()

    def set_symbolic(
        self,
        i: int,
        j: int,
        name: str,
        params: tuple[float, float, float, float] = (1.0, 0.0, 1.0, 0.0),
        trainable: bool = True,
    ) -> None:
        """Replace edge i→j by c·f(a·x+b)+d with f = library[name] and params (a, b, c, d)."""
        self._check_edge(i, j)
        library.get(name)
        with torch.no_grad():
            self.sym[i, j] = library.NAMES.index(name)
            self.sym_params[i, j] = torch.as_tensor(params, dtype=self.sym_params.dtype)
            self.sym_train[i, j] = trainable
        self.refresh()

    def clear_symbolic(self, i: int, j: int) -> None:
        """Give edge i→j its spline back."""
        self._check_edge(i, j)
        self.sym[i, j] = -1
        self.refresh()

    # ----- evaluation ----------------------------------------------------------------------
    def _weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Effective spline (G+k, in, out) and base (in, out) weights: masked, locks detached."""
        coef: torch.Tensor = self.coef
        w_s: torch.Tensor = self.w_s
        w_b: torch.Tensor = self.w_b
        if self._has_lock:
            lock = self.lock
            coef = torch.where(lock, coef.detach(), coef)
            w_s = torch.where(lock, w_s.detach(), w_s)
            w_b = torch.where(lock, w_b.detach(), w_b)
        if self._all_numeric:
            return coef * w_s, w_b
        return coef * (w_s * self._numeric), w_b * self._numeric

    def _symbolic(self, xt: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """(in_idx, out_idx, values (n_edges, batch)) per group of snapped edges; xt is (in, batch)."""
        if not self._groups:
            return
        p = torch.where(self._frozen[..., None], self.sym_params.detach(), self.sym_params)
        for name, ii, oo in self._groups:
            ii, oo = ii.to(xt.device), oo.to(xt.device)
            a, b, c, d = p[ii, oo].unsqueeze(-1).unbind(1)
            yield ii, oo, c * library.FUNCTIONS[name].torch(a * xt[ii] + b) + d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, in) -> (batch, out)."""
        return self.forward_t(x.t().contiguous()).t()

    def forward_t(self, xt: torch.Tensor) -> torch.Tensor:
        """Feature-major forward (in, batch) -> (out, batch): one matmul for all spline edges."""
        w_sp, w_b = self._weights()
        feats = features_t(xt, self.knots, self.k, self._uniform, self.base_fn, self._position)
        weight = torch.cat([w_sp, w_b[None]]).reshape(-1, self.out_dim)
        out = weight.t() @ feats.reshape(-1, xt.shape[1])
        for _, oo, v in self._symbolic(xt):
            out = out.index_add(0, oo, v)
        return out

    def edge_values(self, x: torch.Tensor) -> torch.Tensor:
        """Per-edge activations φ_ij(x_i) as (batch, in, out); for statistics and plots only."""
        w_sp, w_b = self._weights()
        xt = x.t().contiguous()
        feats = features_t(xt, self.knots, self.k, self._uniform, self.base_fn, self._position)
        phi = torch.einsum("jib,jio->bio", feats, torch.cat([w_sp, w_b[None]]))
        for ii, oo, v in self._symbolic(xt):
            phi[:, ii, oo] = v.t()
        return phi

    def spline_values(self, x: torch.Tensor) -> torch.Tensor:
        """The raw spline Σ c B(x) per edge, (batch, in, out), as grid changes must keep it."""
        bases = basis_t(x.t().contiguous(), self.knots, self.k, self._uniform)
        return torch.einsum("jib,jio->bio", bases, self.coef)

    @property
    def grid_range(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(lo, hi) of the grid interior per input."""
        return self.knots[:, self.k], self.knots[:, -self.k - 1]

    # ----- grids ---------------------------------------------------------------------------
    @torch.no_grad()
    def update_grid(self, x: torch.Tensor, grid_eps: float = 1.0, grid: int | None = None) -> None:
        """Move the grid to the data in x (batch, in), keeping each edge's function on x.

        grid = grid_eps·uniform(min, max) + (1−grid_eps)·sample quantiles, as pykan's grid_eps;
        grid_eps = 1 (the default) keeps the grid uniform and the closed-form fast path.
        Inputs with a locked edge keep their grid. `grid` changes G at the same time.
        """
        G, k = grid or self.grid, self.k
        xs = x.sort(dim=0).values
        lo, hi = xs[0], xs[-1]
        flat = (hi - lo) <= 1e-6 * (1 + lo.abs() + hi.abs())
        lo, hi = torch.where(flat, lo - 1, lo), torch.where(flat, hi + 1, hi)
        if grid_eps >= 1.0:
            knots = uniform_knots(lo, hi, G, k)
        else:
            idx = torch.linspace(0, xs.shape[0] - 1, G + 1, device=x.device).round().long()
            uniform = lo[:, None] + (hi - lo)[:, None] * torch.arange(G + 1, device=x.device) / G
            knots = extend_grid(grid_eps * uniform + (1 - grid_eps) * xs[idx].T, k)
        self._replace_grid(knots, x)

    @torch.no_grad()
    def refine(self, new_grid: int) -> None:
        """Change G to `new_grid` intervals over the same range, keeping every function (least squares)."""
        if new_grid < 1:
            raise ConfigError(f"grid must be >= 1, got {new_grid}")
        k = self.k
        interior = self.knots[:, k : self.knots.shape[1] - k]
        if self._uniform:
            knots = uniform_knots(interior[:, 0], interior[:, -1], new_grid, k)
        else:
            pos = torch.linspace(0, self.grid, new_grid + 1, device=interior.device, dtype=interior.dtype)
            left = pos.floor().clamp(max=self.grid - 1).long()
            frac = pos - left
            grid = interior[:, left] * (1 - frac) + interior[:, left + 1] * frac
            knots = extend_grid(grid, k)
        n = max(20 * (new_grid + k), 400)
        t = torch.linspace(0, 1, n, device=interior.device, dtype=interior.dtype)[:, None]
        lo, hi = self.grid_range
        self._replace_grid(knots, lo + (hi - lo) * t)

    def _replace_grid(self, knots: torch.Tensor, x: torch.Tensor) -> None:
        coef = fit_coef(x, self.spline_values(x), knots, self.k)
        if knots.shape == self.knots.shape:
            # Same G: inputs feeding a locked edge keep their grid and coefficients bit for bit.
            keep = self.lock.any(dim=1)
            knots = torch.where(keep[:, None], self.knots, knots)
            self.coef.copy_(torch.where(keep[:, None], self.coef, coef))
        else:
            self.coef = nn.Parameter(coef)
        self.knots = knots.contiguous()
        self.refresh()
