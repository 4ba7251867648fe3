"""The MLP baseline: a plain torch multilayer perceptron with SiLU, standardised like `KAN`.

Used by the experiments that put the KAN paper's claims (arXiv:2404.19756, Sec. 3: accuracy per
parameter, continual learning, PDE solving) next to an MLP trained as carefully (see `budget.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from kan_core.engine.model import Standardised, resolve_device
from kan_core.errors import ConfigError


class MLP(Standardised):
    """`MLP([n_in, h1, …, n_out])`: Linear layers with SiLU between them, (batch, n_in) -> (batch, n_out).

    Parameters
    ----------
    widths : sequence of int
        Nodes per layer, inputs first, at least two entries, each ≥ 1.
    seed : int
        Seeds the initial weights (PyTorch's default Kaiming-uniform initialisation).
    device : str or torch.device
        "auto" (CUDA when present), "cpu" or "cuda".

    Raises
    ------
    ConfigError
        When the widths are not at least two positive integers.

    Notes
    -----
    Inputs and outputs pass through a per-column affine map, identity until `set_normalization`
    is called, exactly as `KAN` does, so both families see the same standardised problem.
    """

    def __init__(self, widths: Sequence[int], seed: int = 0, device: str | torch.device = "auto"):
        super().__init__()
        try:
            self.widths = [int(w) for w in widths]
        except (TypeError, ValueError):
            self.widths = []
        if len(self.widths) < 2 or any(w < 1 for w in self.widths):
            raise ConfigError(f"MLP widths must be like [2, 32, 1] (positive integers), got {list(widths)}")
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(int(seed))  # nn.Linear draws from the global generator; restore it after
        try:
            layers: list[nn.Module] = []
            for a, b in zip(self.widths[:-1], self.widths[1:]):
                layers += [nn.Linear(a, b), nn.SiLU()]
            self.net = nn.Sequential(*layers[:-1])
        finally:
            torch.random.set_rng_state(gen_state)
        self.seed = seed
        self._register_standardisation(self.widths[0], self.widths[-1])
        self.to(resolve_device(device))

    def n_params(self) -> int:
        """Number of trainable numbers (weights and biases)."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, n_in) -> (batch, n_out)."""
        return self.net((x - self.in_shift) / self.in_scale) * self.out_scale + self.out_shift

    @torch.no_grad()
    def set_normalization(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """Standardise inputs (and outputs) with the data's mean/std; constant columns get scale 1."""
        for data, shift, scale in ((x, self.in_shift, self.in_scale), (y, self.out_shift, self.out_scale)):
            if data is None:
                continue
            t = torch.as_tensor(data, dtype=self.dtype, device=self.device).reshape(-1, shift.shape[0])
            mu, sd = t.mean(0), t.std(0, unbiased=False)
            shift[:] = mu
            scale[:] = torch.where(sd > 1e-12 * (1 + mu.abs()), sd, torch.ones_like(sd))
