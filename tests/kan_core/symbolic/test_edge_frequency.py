"""Edge fits that find many periods, refuse degenerate shapes and rank by R² before simplicity."""

import numpy as np
import pytest
import torch

from kan_core import KAN, fit
from kan_core.symbolic.edges import edge_fits, fit_edge, rank_score


@pytest.mark.parametrize("periods", [4, 7, 12])
def test_a_sine_of_many_periods_is_found_with_its_frequency(periods):
    x = np.linspace(0.0, 10.0, 101)
    w = 2 * np.pi * periods / 10.0
    y = 0.12 * np.sin(w * x + 0.4) + 0.01
    best = fit_edge(x, y)[0]
    assert best.fn in ("sin", "cos") and best.r2 > 0.99999
    assert abs(abs(best.a) - w) < 1e-3 * w


def test_no_degenerate_fit_a_line_is_a_line():
    x = np.linspace(-1, 1, 101)
    fits = fit_edge(x, 2.0 * x + 0.3)
    assert fits[0].fn == "x"
    for f in fits:  # no curved function squeezed into a near-straight stretch, no huge amplitude
        if f.fn in ("sin", "cos", "tanh", "sigmoid", "arctan"):
            assert abs(f.a) * 2 >= 0.5 - 1e-9 and abs(f.c) < 1e3


def test_a_better_fit_always_ranks_above_a_poorer_simpler_one():
    assert rank_score(0.935, 4) > rank_score(0.63, 1)
    assert rank_score(0.99999, 2) > rank_score(0.9999, 1) - 0.5  # among good fits simplicity still counts
    assert rank_score(0.60, 1) > rank_score(0.62, 4)  # noisy data: a line beats a barely better wiggle
    x = np.linspace(-1, 1, 101)
    fits = fit_edge(x, np.abs(x) ** 1.3 + 0.05 * np.sin(9 * x))  # nothing fits it well
    poor = [f for f in fits if f.r2 < 0.99 and f.fn != "0"]
    # Among poor fits an error at most 2x larger may rank higher only by being simpler.
    assert all((1 - a.r2) <= 2 * (1 - b.r2) + 1e-9 for a, b in zip(poor, poor[1:]))


def test_a_trained_edge_with_four_periods_snaps_to_a_sine():
    g = torch.Generator().manual_seed(0)
    t = torch.rand(300, 1, generator=g, dtype=torch.float64) * 8
    y = 0.12 * torch.sin(3.1 * t + 0.4)  # 3.9 periods over the range
    model = KAN([1, 1], grid=24, seed=0, device="cpu").double()
    fit(model, t, y, steps=50, opt="lbfgs")
    best = edge_fits(model, t, 0, 0, 0)[0]
    assert best.fn in ("sin", "cos") and best.r2 > 0.999
    # In the edge's own (standardised) coordinate: back to data units through the input scaling.
    assert abs(abs(best.a) / float(model.in_scale[0]) - 3.1) < 0.01
