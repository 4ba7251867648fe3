"""CUDA path: run on a machine with an NVIDIA GPU; skipped cleanly without one."""

import math

import pytest
import torch

from kan_core import KAN, fit

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]


def test_auto_picks_cuda_and_matches_cpu():
    model = KAN([3, 4, 2], seed=0)
    assert model.device.type == "cuda"
    x = torch.randn(257, 3)
    cpu = KAN([3, 4, 2], seed=0, device="cpu")
    with torch.no_grad():
        assert torch.allclose(model(x.cuda()).cpu(), cpu(x), atol=1e-5)


def test_training_and_grid_changes_on_cuda():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(1000, 2, generator=g) * 2 - 1
    y = torch.exp(torch.sin(math.pi * X[:, :1]) + X[:, 1:] ** 2)
    model = KAN([2, 5, 1], seed=0, device="cuda")
    hist = fit(model, X, y, steps=40, opt="lbfgs", grid_update_every=10, lamb=1e-4)
    assert hist.train_rmse[-1] < 2e-2
    fine = model.refined(10)
    with torch.no_grad():
        assert (fine(X.cuda()) - model(X.cuda())).abs().max() < 1e-3
    scores = model.attribution(X)
    assert scores["edges"][0].device.type == "cpu"


def test_adam_minibatch_on_cuda_checks_every_ten_steps():
    X = torch.randn(512, 4)
    y = X[:, :1] * X[:, 1:2]
    seen = []
    fit(
        KAN([4, 3, 1], device="cuda"),
        X,
        y,
        steps=30,
        opt="adam",
        batch_size=128,
        callback=lambda s, m: seen.append(s),
    )
    assert seen == [10, 20, 30]
