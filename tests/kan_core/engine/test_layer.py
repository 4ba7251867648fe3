import math

import pytest
import torch

from kan_core import ConfigError, KANLayer, fit
from kan_core.engine.model import KAN
from kan_core.engine.spline import fit_coef, uniform_knots

D64 = torch.float64


def smooth_layer(in_dim=2, out_dim=3, grid=5, k=3, seed=0) -> KANLayer:
    """A float64 layer whose edges are smooth curves (sin of different frequencies) on [-1, 1]."""
    layer = KANLayer(in_dim, out_dim, grid=grid, k=k, generator=torch.Generator().manual_seed(seed)).double()
    layer.knots = uniform_knots(
        torch.full((in_dim,), -1.0, dtype=D64), torch.full((in_dim,), 1.0, dtype=D64), grid, k
    )
    layer.refresh()
    x = torch.linspace(-1, 1, 400, dtype=D64)[:, None].expand(-1, in_dim)
    freq = torch.arange(1, in_dim * out_dim + 1, dtype=D64).view(1, in_dim, out_dim) * 0.35
    with torch.no_grad():
        layer.coef.copy_(fit_coef(x, torch.sin(freq * x[:, :, None]), layer.knots, k))
    return layer


def data(n=1000, in_dim=2, lo=-1.0, hi=1.0, seed=0, dtype=D64):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, in_dim, generator=g, dtype=dtype) * (hi - lo) + lo


def test_forward_equals_sum_of_edge_values():
    layer = smooth_layer()
    x = data()
    assert torch.allclose(layer(x), layer.edge_values(x).sum(1), atol=1e-12)


def test_masked_edge_contributes_exactly_zero():
    layer = smooth_layer()
    layer.set_mask(1, 2, False)
    x = data()
    phi = layer.edge_values(x)
    assert torch.equal(phi[:, 1, 2], torch.zeros(len(x), dtype=D64))
    # Input 1 feeds output 2 only through the masked edge: changing it must not move output 2.
    x2 = x.clone()
    x2[:, 1] = data(seed=5)[:, 1]
    assert torch.equal(layer(x)[:, 2], layer(x2)[:, 2])
    assert not torch.equal(layer(x)[:, 1], layer(x2)[:, 1])


@pytest.mark.parametrize("name, fn", [("sin", torch.sin), ("exp", torch.exp), ("x^2", lambda z: z * z)])
def test_symbolic_override_is_exact(name, fn):
    layer = smooth_layer()
    a, b, c, d = 1.7, -0.3, 2.5, 0.4
    layer.set_symbolic(0, 1, name, (a, b, c, d))
    x = data()
    expected = c * fn(a * x[:, 0] + b) + d
    assert torch.allclose(layer.edge_values(x)[:, 0, 1], expected, rtol=0, atol=1e-12)
    others = layer.edge_values(x)
    others[:, 0, 1] = 0
    assert torch.allclose(layer(x)[:, 1], others.sum(1)[:, 1] + expected, atol=1e-12)
    layer.clear_symbolic(0, 1)
    assert not torch.allclose(layer.edge_values(x)[:, 0, 1], expected)


def test_unknown_symbolic_function_and_bad_edge_are_clear_errors():
    layer = KANLayer(2, 2)
    with pytest.raises(ConfigError, match="unknown function"):
        layer.set_symbolic(0, 0, "frobnicate")
    with pytest.raises(ConfigError, match="does not exist"):
        layer.set_mask(5, 0, False)


def test_layer_gradcheck_float64():
    layer = smooth_layer(in_dim=2, out_dim=2)
    layer.set_symbolic(1, 0, "sin", (1.3, 0.2, 0.8, -0.1))
    x = data(n=12).requires_grad_()
    assert torch.autograd.gradcheck(layer, (x,))
    coef = layer.coef.detach().clone().requires_grad_()

    def by_coef(c):
        return torch.func.functional_call(layer, {"coef": c}, (x.detach(),))

    assert torch.autograd.gradcheck(by_coef, (coef,))


def test_refine_keeps_the_function():
    layer = smooth_layer(grid=5)
    x = data()
    before = layer(x)
    layer.refine(10)
    assert layer.grid == 10 and layer.coef.shape == (13, 2, 3)
    # Nested uniform knots: the old spline is exactly representable.
    assert (layer(x) - before).abs().max() <= 1e-10
    layer.refine(7)  # not nested: a least-squares re-approximation (measured 7e-4 on curves up to ~2)
    assert (layer(x) - before).abs().max() <= 2e-3


@pytest.mark.parametrize("grid_eps", [1.0, 0.3])
def test_update_grid_follows_data_and_keeps_the_function(grid_eps):
    layer = smooth_layer(grid=5)
    x = data(lo=-0.5, hi=0.8)
    before = layer(x)
    layer.update_grid(x, grid_eps=grid_eps)
    lo, hi = layer.grid_range
    assert torch.allclose(lo, x.min(0).values) and torch.allclose(hi, x.max(0).values)
    assert layer._uniform == (grid_eps == 1.0)
    # Re-approximating curves up to ~2 on a grid over the data: max error measured 5.5e-4 / 7e-4.
    assert (layer(x) - before).abs().max() <= 2e-3


def test_locked_edge_is_unchanged_by_training():
    torch.manual_seed(0)
    x = data(n=256, dtype=torch.float32)
    y = torch.sin(3 * x[:, :1]) + x[:, 1:] ** 2
    model = KAN([2, 3, 1], seed=0, device="cpu")
    fit(model, x, y, steps=5, opt="adam")
    layer = model.layers[0]
    layer.set_lock(0, 1, True)
    z = (x - model.in_shift) / model.in_scale
    phi_before = layer.edge_values(z)[:, 0, 1].detach().clone()
    params_before = [p.detach().clone() for p in (layer.coef[:, 0, 1], layer.w_s[0, 1], layer.w_b[0, 1])]
    other_before = layer.coef[:, 1, 0].detach().clone()
    fit(model, x, y, steps=30, opt="adam", grid_update_every=5, grid_update_until=30)
    fit(model, x, y, steps=5, opt="lbfgs")
    assert torch.equal(layer.edge_values(z)[:, 0, 1].detach(), phi_before)
    for before, after in zip(params_before, (layer.coef[:, 0, 1], layer.w_s[0, 1], layer.w_b[0, 1])):
        assert torch.equal(before, after.detach())
    assert not torch.equal(other_before, layer.coef[:, 1, 0].detach())


def test_frozen_symbolic_parameters_stay_and_trainable_ones_move():
    x = data(n=256, dtype=torch.float32)
    y = 2.0 * torch.sin(1.5 * x[:, :1]) + x[:, 1:]
    model = KAN([2, 1], seed=0, device="cpu")
    fit(model, x, y, steps=1)
    model.layers[0].set_symbolic(0, 0, "sin", (1.0, 0.0, 1.0, 0.0), trainable=False)
    model.layers[0].set_symbolic(1, 0, "x", (1.0, 0.0, 1.0, 0.0), trainable=True)
    before = model.layers[0].sym_params.detach().clone()
    fit(model, x, y, steps=20, opt="adam")
    after = model.layers[0].sym_params.detach()
    assert torch.equal(before[0, 0], after[0, 0])
    assert not torch.equal(before[1, 0], after[1, 0])


def test_invalid_layer_config():
    with pytest.raises(ConfigError):
        KANLayer(0, 3)
    with pytest.raises(ConfigError, match="base_fn"):
        KANLayer(2, 3, base_fn="relu6")
    with torch.no_grad():
        assert math.isfinite(float(KANLayer(2, 3, k=1)(torch.zeros(4, 2)).sum()))
