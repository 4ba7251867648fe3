"""Attribution-based pruning: switch off the edges that carry (almost) nothing."""

from __future__ import annotations

import copy

from kan_core.engine.model import KAN


def prune(model: KAN, X, threshold: float = 1e-2) -> tuple[KAN, int]:
    """A copy of `model` without the edges that carry (almost) nothing on the data.

    An edge is masked when its attribution (mean |φ| on X, `KAN.attribution`) is below
    `threshold` × the largest in its layer — the KAN paper's pruning (arXiv:2404.19756,
    Sec. 2.5.1) on edges. Edges leaving a hidden node that lost all its inputs are masked too
    (the node is constant), and a multiplication node dies with either factor.

    Parameters
    ----------
    model : KAN
        Left untouched.
    X : array-like or Tensor, shape (n, n_in)
        Data in the input columns' units.
    threshold : float, default 1e-2
        Share of the layer's strongest edge below which an edge is masked.

    Returns
    -------
    (KAN, int)
        The pruned copy and the number of edges switched off.
    """
    new = copy.deepcopy(model)
    scores = new.attribution(X)["edges"]
    before = sum(int((layer.mask > 0).sum()) for layer in new.layers)
    for layer, score in zip(new.layers, scores):
        weak = (score < threshold * score.max()) & (layer.mask.cpu() > 0)
        for i, j in weak.nonzero().tolist():
            layer.mask[i, j] = 0.0
        layer.refresh()
    for pos in range(1, len(new.layers)):
        reached = (new.layers[pos - 1].mask > 0).any(0)
        alive: list[bool] = reached.tolist()
        m = new.mult[pos]
        if m:  # a product node lives only if both of its factors do
            s = reached.shape[0] - 2 * m
            alive = alive[:s] + reached[s:].view(m, 2).all(1).tolist()
        for i, ok in enumerate(alive):
            if not ok:
                new.layers[pos].mask[i, :] = 0.0
        new.layers[pos].refresh()
    after = sum(int((layer.mask > 0).sum()) for layer in new.layers)
    return new, before - after


def keep_strongest(model: KAN, X, layer: int = 0) -> KAN:
    """A copy where each input of `layer` keeps only its strongest edge (a separable structure).

    For a product node this splits the variables into disjoint factors: f = g(x_A)·h(x_B).
    """
    new = copy.deepcopy(model)
    score = new.attribution(X)["edges"][layer]
    lay = new.layers[layer]
    keep = score.argmax(1)
    if lay.out_dim > 1 and lay.in_dim > 1 and bool((keep == keep[0]).all()):
        # Everything chose one node: move the input that leans least on it, so both get inputs.
        share = score / score.sum(1, keepdim=True).clamp_min(1e-30)
        other = int(share[:, keep[0]].argmin())
        keep[other] = int(share[other].argsort(descending=True)[1])
    for i in range(lay.in_dim):
        for j in range(lay.out_dim):
            if j != int(keep[i]):
                lay.mask[i, j] = 0.0
    lay.refresh()
    return new
