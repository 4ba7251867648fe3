import numpy as np
import pytest
import torch
from scipy.interpolate import BSpline

from kan_core.engine.spline import (
    basis,
    cox_de_boor,
    extend_grid,
    features_t,
    fit_coef,
    is_uniform,
    uniform_knots,
)

D64 = torch.float64


def scipy_bases(x: np.ndarray, knots: np.ndarray, k: int) -> np.ndarray:
    """Reference: each basis element from SciPy, 0 outside its support."""
    n_basis = len(knots) - k - 1
    out = np.zeros((len(x), n_basis))
    for j in range(n_basis):
        elem = BSpline.basis_element(knots[j : j + k + 2], extrapolate=False)
        out[:, j] = np.nan_to_num(elem(x))
    return out


def nonuniform_knots(G: int, k: int, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    interior = np.sort(np.concatenate([[-1.0, 1.0], rng.uniform(-1, 1, G - 1)]))
    return extend_grid(torch.tensor(interior, dtype=D64)[None], k)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("uniform", [True, False])
def test_bases_match_scipy(k, uniform):
    G = 7
    if uniform:
        knots = uniform_knots(torch.tensor([-1.0], dtype=D64), torch.tensor([2.0], dtype=D64), G, k)
    else:
        knots = nonuniform_knots(G, k)
    assert is_uniform(knots) == uniform
    lo, hi = knots[0, 0].item() - 0.5, knots[0, -1].item() + 0.5
    x = torch.linspace(lo, hi, 2001, dtype=D64)[:, None]
    ours = basis(x, knots, k).numpy()[:, 0]
    ref = scipy_bases(x[:, 0].numpy(), knots[0].numpy(), k)
    assert np.abs(ours - ref).max() <= 1e-6


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_fast_path_equals_cox_de_boor(k):
    knots = uniform_knots(torch.tensor([-1.0, 0.0], dtype=D64), torch.tensor([1.0, 5.0], dtype=D64), 6, k)
    x = torch.rand(500, 2, dtype=D64, generator=torch.Generator().manual_seed(k)) * 10 - 3
    fast = basis(x, knots, k, uniform=True)
    generic = cox_de_boor(x, knots, k)
    assert (fast - generic).abs().max() <= 1e-12


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_partition_of_unity_inside_grid(k):
    knots = uniform_knots(torch.tensor([-2.0], dtype=D64), torch.tensor([3.0], dtype=D64), 5, k)
    x = torch.linspace(-2.0, 3.0 - 1e-9, 777, dtype=D64)[:, None]
    for uniform in (True, False):
        assert torch.allclose(basis(x, knots, k, uniform).sum(-1), torch.ones(777, 1, dtype=D64), atol=1e-12)


def test_out_of_range_and_nan_give_zero_bases():
    knots = uniform_knots(torch.tensor([0.0]), torch.tensor([1.0]), 5, 3)
    x = torch.tensor([[-5.0], [7.0], [float("inf")], [-float("inf")]])
    assert basis(x, knots, 3, uniform=True).abs().max() == 0


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("base", ["silu", "identity", "zero"])
def test_features_gradcheck(k, base):
    knots = uniform_knots(torch.tensor([-1.0, 0.0], dtype=D64), torch.tensor([1.0, 2.0], dtype=D64), 4, k)
    xt = (torch.rand(2, 40, dtype=D64, generator=torch.Generator().manual_seed(0)) * 3 - 1).requires_grad_()
    assert torch.autograd.gradcheck(lambda z: features_t(z, knots, k, True, base), (xt,))
    assert torch.autograd.gradcheck(lambda z: features_t(z, knots, k, False, base), (xt,))


def test_float32_fast_path_accuracy():
    knots = uniform_knots(torch.tensor([-3.0]), torch.tensor([3.0]), 5, 3)
    x = torch.linspace(-4, 4, 10001)[:, None]
    f32 = basis(x, knots, 3, uniform=True)
    ref = cox_de_boor(x.double(), knots.double(), 3)
    # float32 rounding of the position alone is ~1e-7·|x|/h; efficient-kan's recursion: 4e-7.
    assert (f32.double() - ref).abs().max() <= 2e-6


def test_fit_coef_recovers_a_spline():
    k, G = 3, 6
    knots = uniform_knots(torch.tensor([-1.0, 0.0], dtype=D64), torch.tensor([1.0, 4.0], dtype=D64), G, k)
    true = torch.randn(G + k, 2, 3, dtype=D64, generator=torch.Generator().manual_seed(1))
    x = torch.stack([torch.linspace(-1, 1, 300, dtype=D64), torch.linspace(0, 4, 300, dtype=D64)], 1)
    y = torch.einsum("bik,kio->bio", basis(x, knots, k), true)
    coef = fit_coef(x, y, knots, k)
    assert coef.shape == true.shape
    refit = torch.einsum("bik,kio->bio", basis(x, knots, k), coef)
    assert (refit - y).abs().max() <= 1e-10
    assert (coef - true).abs().max() <= 1e-8
