"""From learned edges to formulas: edge fitting and snapping (`edges`), formula composition and
evaluation (`formula`), constant fitting (`constants`) and exports (`export`)."""

from kan_core.symbolic.edges import EdgeFit, auto_snap, edge_fits, fit_edge, layer_samples, snap

__all__ = ["EdgeFit", "auto_snap", "edge_fits", "fit_edge", "layer_samples", "snap"]
