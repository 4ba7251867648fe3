import numpy as np
import pytest
import torch

from kan_core import KAN
from kan_core.engine.prune import keep_strongest, prune

X = torch.as_tensor(np.random.default_rng(0).uniform(-1, 1, (64, 3)))


def constant_edges(widths, values):
    """A KAN whose every edge is the constant φ = c (x with a = 0, b = 1), so its attribution is |c|."""
    model = KAN(widths, seed=0, device="cpu").double()
    for layer, table in zip(model.layers, values):
        for i, row in enumerate(table):
            for j, c in enumerate(row):
                layer.set_symbolic(i, j, "x", (0.0, 1.0, c, 0.0))
    return model


def masks(model):
    return [layer.mask.tolist() for layer in model.layers]


def test_constant_edges_have_their_constant_as_attribution():
    """What the other tests build on: mean |φ| of φ = c is |c| on any data."""
    model = constant_edges([3, 2, 1], [[[1.0, -0.5], [0.25, 2.0], [0.0, 3.0]], [[4.0], [-0.125]]])
    edges = model.attribution(X[:, :3])["edges"]
    assert torch.allclose(edges[0], torch.tensor([[1.0, 0.5], [0.25, 2.0], [0.0, 3.0]]))
    assert torch.allclose(edges[1], torch.tensor([[4.0], [0.125]]))


def test_edges_below_the_share_of_their_layers_strongest_are_masked():
    # Layer 0: strongest 2.0, threshold 0.1 → cut at 0.2; layer 1: strongest 1.0 → cut at 0.1.
    model = constant_edges([3, 2, 1], [[[1.0, 0.5], [0.19, 0.21], [-2.0, 0.0]], [[1.0], [-0.09]]])
    before = masks(model)
    pruned, n = prune(model, X, threshold=0.1)
    assert masks(pruned) == [[[1, 1], [0, 1], [1, 0]], [[1], [0]]]
    assert n == 3
    assert masks(model) == before  # the original is untouched
    assert pruned is not model and pruned.layers[0].mask.data_ptr() != model.layers[0].mask.data_ptr()


def test_already_masked_edges_are_not_counted_again():
    model = constant_edges([2, 2, 1], [[[1.0, 1e-4], [1.0, 1.0]], [[1.0], [1.0]]])
    model.layers[0].set_mask(1, 0, False)  # attribution 0, below any threshold, but already off
    pruned, n = prune(model, X[:, :2], threshold=1e-2)
    assert masks(pruned) == [[[1, 0], [0, 1]], [[1], [1]]]
    assert n == 1
    assert prune(pruned, X[:, :2], threshold=1e-2)[1] == 0  # pruning again changes nothing


def test_a_hidden_node_without_inputs_loses_its_outgoing_edges():
    # Both edges into hidden node 2 are tiny; its outgoing edge (strong, 1.0) must go too.
    model = constant_edges([2, 3, 1], [[[1.0, 1.0, 1e-4], [1.0, 1.0, 2e-4]], [[1.0], [1.0], [1.0]]])
    pruned, n = prune(model, X[:, :2], threshold=1e-2)
    assert masks(pruned) == [[[1, 1, 0], [1, 1, 0]], [[1], [1], [0]]]
    assert n == 3


@pytest.mark.parametrize(
    "widths, dead, kept",
    [
        # [2, [0, 1], 1]: layer 0 feeds the product's two factors (sub-nodes 0 and 1).
        ([2, [0, 1], 1], 1, []),
        # [2, [1, 1], 1]: sub-node 0 is a sum node, 1 and 2 the product's factors; kill factor 1.
        ([2, [1, 1], 1], 1, [0]),
        ([2, [1, 1], 1], 2, [0]),
    ],
)
def test_a_product_node_dies_with_either_factor(widths, dead, kept):
    n_sub = widths[1][0] + 2 * widths[1][1]
    layer0 = [[1e-4 if j == dead else 1.0 for j in range(n_sub)] for _ in range(2)]
    layer1 = [[1.0] for _ in range(widths[1][0] + widths[1][1])]
    pruned, n = prune(constant_edges(widths, [layer0, layer1]), X[:, :2], threshold=1e-2)
    assert [row[dead] for row in masks(pruned)[0]] == [0, 0]
    product = widths[1][0]  # the product node's index among layer 1's inputs
    alive = [i for i, row in enumerate(masks(pruned)[1]) if row[0]]
    assert alive == kept and product not in alive
    assert n == 2 + 1


def test_a_sum_node_lives_on_with_one_input():
    model = constant_edges([2, [1, 1], 1], [[[1e-4, 1.0, 1.0], [1.0, 1.0, 1.0]], [[1.0], [1.0]]])
    pruned, n = prune(model, X[:, :2], threshold=1e-2)
    assert masks(pruned) == [[[0, 1, 1], [1, 1, 1]], [[1], [1]]] and n == 1


def test_pruning_exactly_zero_spline_edges_keeps_the_function():
    model = KAN([3, 3, 1], seed=0, device="cpu").double()
    with torch.no_grad():  # edge 1→2 of layer 0 becomes φ ≡ 0 (spline and base weights zero)
        model.layers[0].coef[:, 1, 2] = 0.0
        model.layers[0].w_b[1, 2] = 0.0
    pruned, n = prune(model, X, threshold=1e-3)
    assert n == 1 and pruned.layers[0].mask[1, 2] == 0 and int(pruned.layers[0].mask.sum()) == 8
    with torch.no_grad():
        assert torch.equal(pruned(X), model(X))


def test_keep_strongest_keeps_one_edge_per_input():
    model = constant_edges([3, 2, 1], [[[1.0, 0.5], [0.2, 0.9], [-0.3, 0.1]], [[1.0], [1.0]]])
    sep = keep_strongest(model, X)
    assert masks(sep) == [[[1, 0], [0, 1], [1, 0]], [[1], [1]]]
    assert masks(model) == [[[1, 1], [1, 1], [1, 1]], [[1], [1]]]  # the original is untouched


def test_keep_strongest_gives_every_node_an_input():
    # Every input leans on node 0; input 1 leans least (share 1/1.5), so it moves to node 1.
    model = constant_edges([3, 2, 1], [[[1.0, 0.1], [1.0, 0.5], [1.0, 0.2]], [[1.0], [1.0]]])
    assert masks(keep_strongest(model, X))[0] == [[1, 0], [0, 1], [1, 0]]


def test_keep_strongest_on_a_later_layer():
    model = constant_edges([2, 2, 2, 1], [[[1.0, 1.0], [1.0, 1.0]], [[0.1, 0.7], [0.6, 0.2]], [[1.0], [1.0]]])
    sep = keep_strongest(model, X[:, :2], layer=1)
    assert masks(sep) == [[[1, 1], [1, 1]], [[0, 1], [1, 0]], [[1], [1]]]
