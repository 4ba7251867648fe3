"""scikit-learn estimators: KANRegressor (a KAN + fit) and FormulaRegressor (discover)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sympy as sp
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from kan_core.engine.model import KAN
from kan_core.engine.train import TrainConfig, fit

_TRAIN = TrainConfig()  # the training defaults fit() and the studio share


class KANRegressor(RegressorMixin, BaseEstimator):
    """Kolmogorov–Arnold network regressor (arXiv:2404.19756) as a scikit-learn estimator.

    Inputs and target are standardised inside the model. Trains in float32 and predicts in
    float64 (so predictions do not depend on batch size). The training defaults are
    `kan_core.TrainConfig`'s, shared with `fit` and the studio.

    Parameters
    ----------
    hidden : tuple of int, default (5,)
        Hidden layer widths (the network is [n_features, *hidden, 1]).
    grid : int, default 5
        Spline grid intervals.
    k : int, default 3
        Spline degree.
    steps, opt, lr, lamb, batch_size, grid_update_every
        As in `kan_core.TrainConfig` (LBFGS, 50 steps, no sparsity by default).
    random_state : int, RandomState or None
        Seeds the initialisation and the mini-batches.
    device : str, default "cpu"
        "auto" trains on CUDA when present.

    Attributes
    ----------
    model_ : kan_core.KAN
        The trained network (float64, on the CPU).
    history_ : kan_core.History
        Its training RMSE curve.
    n_features_in_ : int

    Raises
    ------
    ValueError
        From scikit-learn's validation (NaN, wrong shapes), or `kan_core.ConfigError` (a
        ValueError) for settings out of range.
    """

    def __init__(
        self,
        hidden: tuple[int, ...] = (5,),
        grid: int = 5,
        k: int = 3,
        steps: int = _TRAIN.steps,
        opt: str = _TRAIN.opt,
        lr: float | None = _TRAIN.lr,
        lamb: float = _TRAIN.lamb,
        batch_size: int | None = _TRAIN.batch_size,
        grid_update_every: int = _TRAIN.grid_update_every,
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


class FormulaRegressor(RegressorMixin, BaseEstimator):
    """Symbolic regression as a scikit-learn estimator: `discover` on (X, y), then the best formula.

    Modelled on PySR's `PySRRegressor` (arXiv:2305.01582): after `fit`, `equations_` is the Pareto
    table (see `kan_core.Result.equations`), `sympy(i)` / `latex(i)` / `predict(X, i)` use the best
    row or row `i`. Usable in `Pipeline`, `cross_val_score` and `GridSearchCV`.

    Parameters
    ----------
    seconds : float, default 60
        Time budget of one fit (wall clock, finite and > 0).
    functions : list of str or None
        Subset of the function library the routes may use (None: all; see `python -m kan_core functions`).
    r2_threshold : float, default 0.99
        Edge fits below this R² are not snapped automatically.
    random_state : int, RandomState or None
        Seeds the search (train/validation split, network initialisation).

    Attributes
    ----------
    result_ : kan_core.Result
        The whole discovery result.
    equations_ : pandas.DataFrame
        The Pareto table (complexity, loss, val_loss, score, equation, sympy, latex, route, best).
    feature_names_in_ : ndarray of str
        Column names when X was a DataFrame; else x0, x1, … are used in the formulas.
    dropped_features_ : list of str
        Constant input columns left out of the search (they carry no information).

    Raises
    ------
    ValueError
        From `fit` for X or y that scikit-learn's validation refuses (NaN, fewer than 3 rows), and
        `kan_core.DataError` / `ConfigError` (both ValueErrors) for data `discover` refuses.
    """

    def __init__(
        self,
        seconds: float = 60.0,
        functions: list[str] | None = None,
        r2_threshold: float = 0.99,
        random_state: int | None = None,
    ):
        self.seconds = seconds
        self.functions = functions
        self.r2_threshold = r2_threshold
        self.random_state = random_state

    def fit(self, X, y) -> "FormulaRegressor":
        """Search formulas for y (n,) from X (n, d); returns self."""
        from kan_core.discovery.search import discover

        names = getattr(X, "columns", None)
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64, ensure_min_samples=3)
        names = [str(c) for c in names] if names is not None else [f"x{i}" for i in range(X.shape[1])]
        keep = [j for j in range(X.shape[1]) if np.ptp(X[:, j]) > 0]
        self.dropped_features_ = [names[j] for j in range(X.shape[1]) if j not in keep]
        self._keep = keep
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        target = "y" if "y" not in names else "target"
        if not keep or np.ptp(y) == 0:  # nothing to explain: the mean is the formula
            self.result_ = None
            self._constant = float(np.mean(y))
            self.equations_ = pd.DataFrame(
                [
                    dict(
                        complexity=1,
                        loss=float(np.var(y)),
                        val_loss=float(np.var(y)),
                        score=0.0,
                        equation=repr(self._constant),
                        sympy=sp.Float(self._constant),
                        latex=sp.latex(sp.Float(self._constant)),
                        route="constant",
                        best=True,
                    )
                ]
            )
            return self
        df = pd.DataFrame(X[:, keep], columns=[names[j] for j in keep]).assign(**{target: y})
        self.result_ = discover(
            df,
            target,
            seconds=self.seconds,
            seed=seed,
            r2_threshold=self.r2_threshold,
            functions=self.functions,
        )
        self.equations_ = self.result_.equations
        return self

    def sympy(self, i: int | None = None) -> sp.Expr:
        """The best formula (or row `i` of `equations_`) as a SymPy expression."""
        check_is_fitted(self, "equations_")
        return self.equations_["sympy"].iloc[0] if self.result_ is None else self.result_.sympy(i)

    def latex(self, i: int | None = None) -> str:
        """The best formula (or row `i`) as LaTeX."""
        check_is_fitted(self, "equations_")
        return self.equations_["latex"].iloc[0] if self.result_ is None else self.result_.latex(i)

    def predict(self, X, i: int | None = None) -> np.ndarray:
        """Values (n,) of the best formula (or row `i`) for X (n, d)."""
        check_is_fitted(self, "equations_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        if self.result_ is None:
            return np.full(len(X), self._constant)
        return self.result_.predict(X[:, self._keep], i)
