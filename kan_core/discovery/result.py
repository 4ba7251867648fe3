"""What `discover` returns: the Pareto front, the best formula, its metrics, units and notes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sympy as sp

from kan_core.discovery.pareto import Candidate
from kan_core.errors import ConfigError
from kan_core.symbolic.formula import evaluate


@dataclass
class Result:
    """What `discover` found: the Pareto front (simplest first) and the selected best formula.

    Attributes
    ----------
    variables : list of str
        The feature columns, in the order `predict` expects them.
    target : str
        The target column.
    symbols : list of sympy.Symbol
        The formulas' symbols, one per variable (ASCII names; see `kan_core.symbolic.formula.safe_symbols`).
    pareto : list of Candidate
        The accuracy/complexity front, simplest first; `equations` is its table.
    best : Candidate
        The selected formula (PySR's rule on the validation loss; AICc on tiny data).
    metrics : dict
        The best formula's RMSE and R² on training and validation rows, and its distance to the
        network it came from (None when it did not come from one).
    routes : list of dict
        What each route found (or why it failed) and how long it took.
    warnings : list of str
        Notes about the data and the search (rows dropped, columns left out, no law found, …).
    verdict : {"law", "no law"}
        "no law" when no formula beats the target's mean on held-out rows by a clear margin
        (`kan_core.discovery.pareto.verdict`); `best` is then the mean.
    verdict_reason : str
        The held-out R² and p-value behind the verdict.
    work_seconds : float
        The work the search spent (`kan_core.discovery.work`), the same on any machine.
    """

    variables: list[str]
    target: str
    symbols: list[sp.Symbol]
    pareto: list[Candidate]
    best: Candidate
    metrics: dict
    routes: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    seed: int = 0
    warnings: list[str] = field(default_factory=list)
    verdict: str = "law"
    verdict_reason: str = ""
    units: dict[str, str] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # name → the file's header (`P [Pa]`)

    def constant_units(self, i: int | Candidate | None = None) -> list[tuple[float, str]]:
        """[(value, unit text)] for the best formula's (or row `i`'s) constants, in the units of
        the columns (8.314 J/(K·mol)); empty unless the target and the formula's variables have units."""
        from kan_core import units as U
        from kan_core.discovery.dimensional import constant_units

        cand = self._pick(i)
        parsed = {n: U.parse(t, n) for n, t in self.units.items() if t.strip()}
        sym_units = {s: parsed[n] for s, n in zip(self.symbols, self.variables) if n in parsed}
        if self.target not in parsed or not cand.expr.free_symbols <= set(sym_units):
            return []
        out = []
        for value, unit in constant_units(cand.expr, sym_units, parsed[self.target]):
            factor, shown = U.simplest(unit)
            out.append((float(value) * factor, U.pretty(shown)))
        return out

    work_seconds: float = 0.0

    @property
    def equations(self) -> pd.DataFrame:
        """The Pareto front as PySR's `equations_` table, one row per candidate, simplest first.

        Columns: complexity (SymPy nodes; a constant counts 1), loss (training MSE), val_loss
        (validation MSE; leave-one-out on tiny data), score (−Δlog(val_loss)/Δcomplexity, PySR,
        arXiv:2305.01582), equation (text), sympy (the expression), latex, route (where it came
        from), best (the selected row).
        """
        from kan_core.symbolic.export import to_latex

        rows = [
            {
                "complexity": c.complexity,
                "loss": c.train_mse,
                "val_loss": c.val_mse,
                "score": c.score,
                "equation": str(c.expr),
                "sympy": c.expr,
                "latex": to_latex(c.expr, self.symbols, self.variables),
                "route": c.route,
                "best": c is self.best,
                "dimension": c.dimension,
            }
            for c in self.pareto
        ]
        columns = ["complexity", "loss", "val_loss", "score", "equation", "sympy", "latex", "route", "best"]
        columns.append("dimension")
        return pd.DataFrame(rows, columns=columns)

    def _pick(self, i: int | Candidate | None) -> Candidate:
        """The best candidate (None), row `i` of `equations`, or a given candidate."""
        if i is None:
            return self.best
        if isinstance(i, Candidate):
            return i
        if not -len(self.pareto) <= int(i) < len(self.pareto):
            raise ConfigError(f"no equation {i}; the table has rows 0 to {len(self.pareto) - 1}")
        return self.pareto[int(i)]

    def sympy(self, i: int | None = None) -> sp.Expr:
        """The best formula (or row `i` of `equations`) as a SymPy expression."""
        return self._pick(i).expr

    def latex(self, i: int | None = None) -> str:
        """The best formula (or row `i`) as LaTeX, variables shown under their column names."""
        from kan_core.symbolic.export import to_latex

        return to_latex(self._pick(i).expr, self.symbols, self.variables)

    def predict(self, X, i: int | Candidate | None = None) -> np.ndarray:
        """Values (n,) of the best formula (or row `i`) on X (n, len(variables)): an array in the
        variables' order or a DataFrame holding those columns. NaN where the formula is undefined."""
        if isinstance(X, pd.DataFrame):
            X = X[self.variables].to_numpy(float)
        return evaluate(self._pick(i).expr, self.symbols, np.asarray(X, float))
