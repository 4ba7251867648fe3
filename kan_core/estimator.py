"""KANRegressor: a scikit-learn estimator around KAN + fit."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .model import KAN
from .train import fit


class KANRegressor(RegressorMixin, BaseEstimator):
    """Kolmogorov–Arnold network regressor; inputs and target are standardised inside the model.

    Trains in float32 and predicts in float64 (so predictions do not depend on batch size).
    `model_` is the trained `kan_core.KAN` and `history_` its loss history.
    """

    def __init__(
        self,
        hidden: tuple[int, ...] = (5,),
        grid: int = 5,
        k: int = 3,
        steps: int = 50,
        opt: str = "lbfgs",
        lr: float | None = None,
        lamb: float = 0.0,
        batch_size: int | None = None,
        grid_update_every: int = 0,
        random_state: int | None = None,
        device: str = "cpu",
    ):
        self.hidden = hidden
        self.grid = grid
        self.k = k
        self.steps = steps
        self.opt = opt
        self.lr = lr
        self.lamb = lamb
        self.batch_size = batch_size
        self.grid_update_every = grid_update_every
        self.random_state = random_state
        self.device = device

    def fit(self, X, y) -> "KANRegressor":
        """Train a fresh KAN on X (n, d) and y (n,)."""
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        widths = [X.shape[1], *[int(h) for h in self.hidden], 1]
        model = KAN(widths, grid=self.grid, k=self.k, seed=seed, device=self.device)
        self.history_ = fit(
            model,
            X.astype(np.float32),
            y.astype(np.float32),
            steps=self.steps,
            opt=self.opt,
            lr=self.lr,
            lamb=self.lamb,
            batch_size=self.batch_size,
            grid_update_every=self.grid_update_every,
            seed=seed,
        )
        self.model_ = model.double().cpu()
        return self

    def predict(self, X) -> np.ndarray:
        """Predictions (n,) for X (n, d)."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        with torch.no_grad():
            return self.model_(torch.tensor(X)).numpy()[:, 0]
