"""KAN: a stack of KAN layers with input/output standardisation and per-edge statistics on demand."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from kan_core import library
from kan_core.engine.layer import KANLayer
from kan_core.errors import ConfigError, ModelError

MAX_GRID_SAMPLES = 8192


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU; a clear error when CUDA is asked for but absent."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' requested but no GPU is available; use device='auto' or 'cpu'")
    return dev


def _parse_widths(widths: list) -> tuple[list[int], list[int]]:
    """(sum nodes, multiplication nodes) per position; [n, [s, m], 1] puts m products in a layer."""
    try:
        pairs = [(int(w), 0) if isinstance(w, int) else (int(w[0]), int(w[1])) for w in widths]
    except (TypeError, ValueError, IndexError):
        pairs = []
    ok = len(pairs) >= 2 and all(s >= 0 and m >= 0 and s + m >= 1 for s, m in pairs)
    if not ok or pairs[0][1] or pairs[-1][1]:
        raise ConfigError(
            f"widths must be like [2, 5, 1] (hidden entries may be [sums, products]), got {widths}"
        )
    return [s for s, _ in pairs], [m for _, m in pairs]


class LayerList(nn.ModuleList):
    """An `nn.ModuleList` of `KANLayer`s, typed as such for readers and type checkers."""

    def __iter__(self) -> Iterator[KANLayer]:
        return super().__iter__()  # type: ignore[return-value]

    def __getitem__(self, idx: int) -> KANLayer:  # type: ignore[override]
        return super().__getitem__(idx)  # type: ignore[return-value]


class Standardised(nn.Module):
    """A network whose inputs and outputs pass through per-column affine maps (buffers `in_shift`,
    `in_scale`, `out_shift`, `out_scale`, identity until set from data): `KAN` and `MLP`."""

    in_shift: torch.Tensor
    in_scale: torch.Tensor
    out_shift: torch.Tensor
    out_scale: torch.Tensor

    def _register_standardisation(self, n_in: int, n_out: int) -> None:
        self.register_buffer("in_shift", torch.zeros(n_in))
        self.register_buffer("in_scale", torch.ones(n_in))
        self.register_buffer("out_shift", torch.zeros(n_out))
        self.register_buffer("out_scale", torch.ones(n_out))

    @property
    def device(self) -> torch.device:
        """Where the parameters live."""
        return self.in_shift.device

    @property
    def dtype(self) -> torch.dtype:
        """Floating type of the parameters."""
        return self.in_shift.dtype


class KAN(Standardised):
    """Kolmogorov–Arnold network `KAN([n_in, …, n_out])`: (batch, n_in) -> (batch, n_out).

    A stack of `KANLayer`s (arXiv:2404.19756, Eq. 2.7). Inputs and outputs pass through a
    per-column affine map (identity until `fit` sets it from the data) so that any data scale
    trains well; formulas undo it.

    Parameters
    ----------
    widths : list of int or [int, int]
        Nodes per layer position, inputs first. A hidden entry [s, m] has s sum nodes and m
        multiplication nodes, each the product of two sub-nodes (KAN 2.0, arXiv:2408.10205).
    grid : int, default 5
        Grid intervals G of every edge's spline.
    k : int, default 3
        Spline degree.
    seed : int, default 0
        Seeds the initialisation (the global torch generator is not touched).
    device : "auto", "cpu", "cuda" or torch.device
        "auto" picks CUDA when present.
    base_fn, grid_range, noise_scale
        Passed to every `KANLayer`.

    Raises
    ------
    ConfigError
        Malformed widths or layer settings; "cuda" without a CUDA device.

    Examples
    --------
    >>> model = KAN([2, 5, 1], grid=5, k=3, seed=0, device="cpu")
    >>> model(torch.zeros(4, 2)).shape
    torch.Size([4, 1])
    """

    # Buffers (registered in __init__), declared for type checkers.
    initialized: torch.Tensor
    layers: LayerList

    def __init__(
        self,
        widths: Sequence[int | Sequence[int]],
        grid: int = 5,
        k: int = 3,
        seed: int = 0,
        device: str | torch.device = "auto",
        base_fn: str = "silu",
        grid_range: tuple[float, float] = (-1.0, 1.0),
        noise_scale: float = 0.1,
    ):
        super().__init__()
        self.spec = [w if isinstance(w, int) else list(w) for w in widths]
        sums, mults = _parse_widths(self.spec)
        self.mult = mults
        self.widths = [s + m for s, m in zip(sums, mults)]  # nodes seen by the next layer
        self.k, self.seed, self.base_fn = k, seed, base_fn
        gen = torch.Generator().manual_seed(int(seed))
        # A multiplication node multiplies two sub-nodes, each a sum of incoming edges.
        self.layers = LayerList(
            KANLayer(
                self.widths[i], sums[i + 1] + 2 * mults[i + 1], grid, k, grid_range, base_fn, noise_scale, gen
            )
            for i in range(len(sums) - 1)
        )
        self._register_standardisation(self.widths[0], self.widths[-1])
        self.register_buffer("initialized", torch.tensor(False))
        self.to(resolve_device(device))

    def config(self) -> dict:
        """Everything needed to rebuild this architecture (weights go in the state dict)."""
        return {
            "widths": self.spec,
            "grids": [layer.grid for layer in self.layers],
            "k": self.k,
            "seed": self.seed,
            "base_fn": self.base_fn,
        }

    def edges(self) -> list[dict]:
        """Every edge with its state: "spline", "pruned" or the snapped function and (a, b, c, d)."""
        out = []
        for li, layer in enumerate(self.layers):
            params = layer.sym_params.detach().double().cpu()
            for i in range(layer.in_dim):
                for j in range(layer.out_dim):
                    f = int(layer.sym[i, j])
                    state = "pruned" if layer.mask[i, j] == 0 else library.NAMES[f] if f >= 0 else "spline"
                    edge = {"layer": li, "i": i, "j": j, "state": state, "locked": bool(layer.lock[i, j])}
                    if f >= 0:
                        edge["params"] = [float(v) for v in params[i, j]]
                    out.append(edge)
        return out

    def validate(self) -> None:
        """Raise ModelError when loaded buffers are out of range (e.g. from a damaged file)."""
        for li, layer in enumerate(self.layers):
            sym_ok = bool(((layer.sym >= -1) & (layer.sym < len(library.NAMES))).all())
            mask_ok = bool(((layer.mask == 0) | (layer.mask == 1)).all())
            tensors = (layer.coef, layer.w_s, layer.w_b, layer.knots, layer.sym_params)
            finite = all(bool(torch.isfinite(t).all()) for t in tensors)
            if not (sym_ok and mask_ok and finite):
                raise ModelError(f"layer {li} holds invalid function ids, mask values or non-finite weights")

    def n_params(self) -> int:
        """Number of trainable numbers in the spline/base part (what the network learns)."""
        return sum(layer.coef.numel() + layer.w_s.numel() + layer.w_b.numel() for layer in self.layers)

    def nodes(self, position: int, z: torch.Tensor, dim: int = 1) -> torch.Tensor:
        """Sub-node values -> node values at `position` (pairs multiplied for product nodes)."""
        m = self.mult[position]
        if not m:
            return z
        s = z.shape[dim] - 2 * m
        sums, pairs = z.narrow(dim, 0, s), z.narrow(dim, s, 2 * m)
        pairs = pairs.unflatten(dim, (m, 2))
        return torch.cat([sums, pairs.select(dim + 1, 0) * pairs.select(dim + 1, 1)], dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, n_in) -> (batch, n_out)."""
        zt = ((x - self.in_shift) / self.in_scale).t().contiguous()
        for i, layer in enumerate(self.layers):
            zt = self.nodes(i + 1, layer.forward_t(zt), dim=0)
        return zt.t() * self.out_scale + self.out_shift

    def _as_input(self, x) -> torch.Tensor:
        return torch.as_tensor(x, dtype=self.dtype, device=self.device)

    @torch.no_grad()
    def set_normalization(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """Standardise inputs (and outputs) with the mean/std of the data; constant columns get scale 1."""

        def stats(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            mu, sd = t.mean(0), t.std(0, unbiased=False) if t.shape[0] > 1 else torch.zeros_like(t[0])
            return mu, torch.where(sd > 1e-12 * (1 + mu.abs()), sd, torch.ones_like(sd))

        self.in_shift[:], self.in_scale[:] = stats(self._as_input(x))
        if y is not None:
            self.out_shift[:], self.out_scale[:] = stats(self._as_input(y).reshape(-1, self.widths[-1]))

    @torch.no_grad()
    def layer_inputs(self, x, chunk: int = 8192) -> list[torch.Tensor]:
        """The input of every layer (plus the network output, last) for data x, in network units."""
        outs: list[list[torch.Tensor]] = [[] for _ in range(len(self.layers) + 1)]
        x = self._as_input(x)
        for start in range(0, x.shape[0], chunk):
            z = (x[start : start + chunk] - self.in_shift) / self.in_scale
            outs[0].append(z)
            for i, layer in enumerate(self.layers):
                z = self.nodes(i + 1, layer(z))
                outs[i + 1].append(z)
        return [torch.cat(o) for o in outs]

    @torch.no_grad()
    def update_grid(self, x, grid_eps: float = 1.0, grid: int | None = None) -> None:
        """Fit every layer's grid to the range of its inputs on data x, keeping the functions.

        `grid` also changes the number of intervals (refinement on the data's range).
        """
        x = self._as_input(x)
        if x.shape[0] > MAX_GRID_SAMPLES:
            x = x[:: -(-x.shape[0] // MAX_GRID_SAMPLES)]
        z = (x - self.in_shift) / self.in_scale
        for i, layer in enumerate(self.layers):
            layer.update_grid(z, grid_eps, grid)
            z = self.nodes(i + 1, layer(z))

    def refine(self, new_grid: int, x=None) -> "KAN":
        """Deprecated name of `refined` (it returns a copy; `KANLayer.refine` works in place)."""
        warnings.warn("KAN.refine is now KAN.refined (it returns a copy)", DeprecationWarning, stacklevel=2)
        return self.refined(new_grid, x)

    def refined(self, new_grid: int, x=None) -> "KAN":
        """A copy with G = `new_grid` intervals in every layer, the learned functions kept.

        Without data, functions are kept over each grid's current range; with data x the new
        grids span the range the data actually reach (hidden activations drift in training).
        """
        model = copy.deepcopy(self)
        if x is not None:
            model.update_grid(x, grid_eps=1.0, grid=new_grid)
        else:
            for layer in model.layers:
                layer.refine(new_grid)
        return model

    def regularization(self, x: torch.Tensor, l1: float = 1.0, entropy: float = 1.0) -> torch.Tensor:
        """The KAN paper's sparsity penalty Σ_layers (l1·Σ|φ|₁ + entropy·S) on the sample x."""
        z = (x - self.in_shift) / self.in_scale
        total = x.new_zeros(())
        for i, layer in enumerate(self.layers):
            phi = layer.edge_values(z)
            a = phi.abs().mean(0)
            s = a.sum()
            p = a / (s + 1e-12)
            total = total + l1 * s - entropy * (p * torch.log(p + 1e-12)).sum()
            z = self.nodes(i + 1, phi.sum(1))
        return total

    @torch.no_grad()
    def edge_curves(
        self, layer: int, n: int = 100, raw_units: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x (n, in) across the grid range and φ(x) (n, in, out) for every edge of a layer.

        With raw_units, layer 0's x is in the data's own units (the standardisation undone).
        """
        lay = self.layers[layer]
        lo, hi = lay.grid_range
        t = torch.linspace(0, 1, n, device=self.device, dtype=self.dtype)[:, None]
        z = lo + (hi - lo) * t
        phi = lay.edge_values(z)
        x = z * self.in_scale + self.in_shift if (layer == 0 and raw_units) else z
        return x.cpu(), phi.cpu()

    def edge_scores(self, x, chunk: int = 4096) -> dict[str, list[torch.Tensor]]:
        """Deprecated name of `attribution` (kept for one release)."""
        warnings.warn("KAN.edge_scores is now KAN.attribution", DeprecationWarning, stacklevel=2)
        return self.attribution(x, chunk)

    @torch.no_grad()
    def attribution(self, x, chunk: int = 4096) -> dict[str, list[torch.Tensor]]:
        """Edge and node attribution on data x: how much each carries (KAN paper, Sec. 2.5.1).

        Parameters
        ----------
        x : array-like or Tensor, shape (n, n_in)
            Data in the input columns' own units.
        chunk : int
            Rows evaluated at once (bounds memory).

        Returns
        -------
        dict
            "edges": per layer a (in, out) tensor of mean |φ| over the rows (in the units of the
            node the edge feeds, standardised); "nodes": per layer position a (width,) tensor.
            A hidden node's attribution is min(max incoming, max outgoing), as the KAN paper's
            pruning uses; input nodes take their strongest outgoing edge and output nodes their
            strongest incoming one; a multiplication node is as strong as its weaker factor.
        """
        x = self._as_input(x)
        sums = [torch.zeros(layer.in_dim, layer.out_dim, device=self.device) for layer in self.layers]
        for start in range(0, x.shape[0], chunk):
            z = (x[start : start + chunk] - self.in_shift) / self.in_scale
            for i, layer in enumerate(self.layers):
                phi = layer.edge_values(z)
                sums[i] += phi.abs().sum(0).float()
                z = self.nodes(i + 1, phi.sum(1))
        edges = [(s / max(x.shape[0], 1)).cpu() for s in sums]
        nodes = [edges[0].amax(1)]
        for i, (prev, nxt) in enumerate(zip(edges[:-1], edges[1:])):
            incoming = prev.amax(0)
            m = self.mult[i + 1]
            if m:  # a product node is as strong as its weaker factor
                s = incoming.shape[0] - 2 * m
                incoming = torch.cat([incoming[:s], incoming[s:].view(m, 2).amin(1)])
            nodes.append(torch.minimum(incoming, nxt.amax(1)))
        nodes.append(edges[-1].amax(0))
        return {"edges": edges, "nodes": nodes}
