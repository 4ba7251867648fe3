"""Second derivatives through the hand-written spline backward (needed by the PDE experiment)."""

import pytest
import torch

from kan_core import KAN
from kan_core.engine.spline import _UniformFeaturesT, uniform_knots, uniform_position
from kan_core.experiments.pde import laplacian

D64 = torch.float64


@pytest.mark.parametrize(("k", "base"), [(3, "silu"), (2, "identity")])
def test_gradgradcheck_of_the_uniform_features(k, base):
    knots = uniform_knots(torch.tensor([-1.0, -2.0], dtype=D64), torch.tensor([1.0, 0.5], dtype=D64), 5, k)
    scale, offsets = uniform_position(knots, k)
    x = (torch.rand(2, 6, dtype=D64, generator=torch.Generator().manual_seed(0)) * 2 - 1).requires_grad_()

    def f(x):
        return _UniformFeaturesT.apply(x, scale, offsets, k, base)

    assert torch.autograd.gradcheck(f, (x,))
    assert torch.autograd.gradgradcheck(f, (x,))


def test_gradgradcheck_of_a_small_kan():
    model = KAN([2, 3, 1], grid=4, seed=1, device="cpu").double()
    x = (torch.rand(5, 2, dtype=D64, generator=torch.Generator().manual_seed(2)) * 2 - 1).requires_grad_()
    assert torch.autograd.gradgradcheck(model, (x,))


def test_laplacian_and_its_parameter_gradient_match_the_pure_autograd_cox_de_boor_path():
    model = KAN([2, 4, 1], grid=5, seed=0, device="cpu").double()
    pts = torch.rand(200, 2, dtype=D64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    model.update_grid(pts)
    ref = KAN([2, 4, 1], grid=5, seed=0, device="cpu").double()
    ref.load_state_dict(model.state_dict())
    for layer in ref.layers:
        layer._uniform = False  # the generic Cox–de Boor path: plain torch operations throughout
    x = pts[:50] * 0.97
    (u1, l1), (u2, l2) = laplacian(model, x), laplacian(ref, x)
    assert torch.allclose(u1, u2, atol=1e-12) and torch.allclose(l1, l2, atol=1e-10)
    assert float(l1.detach().abs().max()) > 0.1  # a real curvature, not zeros on both sides
    for a, b in zip(model.layers, ref.layers):
        (g1,) = torch.autograd.grad(l1.sum(), a.coef, retain_graph=True)
        (g2,) = torch.autograd.grad(l2.sum(), b.coef, retain_graph=True)
        assert torch.isfinite(g1).all() and torch.allclose(g1, g2, atol=1e-9)


def test_first_order_gradients_do_not_change():
    model = KAN([2, 3, 1], grid=5, seed=0, device="cpu").double()
    x = (torch.rand(20, 2, dtype=D64, generator=torch.Generator().manual_seed(3)) * 2 - 1).requires_grad_()
    (g_fast,) = torch.autograd.grad(model(x).sum(), x)
    (g_graph,) = torch.autograd.grad(model(x).sum(), x, create_graph=True)
    assert torch.allclose(g_fast, g_graph, atol=1e-13)
