"""Suggest network: the quick screens pick log space, oscillations, additive and product structure."""

import numpy as np

from kan_core.discovery.suggest import suggest_network


def test_a_product_of_powers_goes_to_log_space_without_a_hidden_layer():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, (200, 3))
    y = 3.0 * X[:, 0] * X[:, 1] ** 2 / X[:, 2]
    s = suggest_network(X, y, ["a", "b", "c"])
    assert (s.hidden, s.log_space) == ("", True) and "product of powers" in s.why


def test_an_oscillation_gets_a_grid_for_its_periods_and_a_damped_one_a_product_node():
    t = np.sort(np.random.default_rng(1).uniform(0, 8, 300))[:, None]
    s = suggest_network(t, 0.12 * np.sin(3.1 * t[:, 0] + 0.4), ["t"])
    assert s.hidden == "" and not s.log_space and s.grid >= 6 * 3.9 - 1 and "3.9 periods" in s.why
    d = suggest_network(t, 0.12 * np.exp(-0.3 * t[:, 0]) * np.sin(3.1 * t[:, 0]), ["t"])
    assert d.hidden == "[0, 1]" and "decays" in d.why


def test_additive_and_product_structure():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (300, 2))
    assert suggest_network(X, np.sin(X[:, 0]) + X[:, 1] ** 2, ["x", "y"]).hidden == ""
    assert suggest_network(X, X[:, 0] * X[:, 1] + X[:, 0], ["x", "y"]).hidden == "[1, 1]"
