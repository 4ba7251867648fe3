"""Fit c·f(a·x+b)+d to each edge, rank the fits without pykan's traps, snap edges."""

from __future__ import annotations

import copy
import math
import threading
from dataclasses import asdict, dataclass, replace

import numpy as np
import sympy as sp
import torch
from scipy.optimize import least_squares

from kan_core import library
from kan_core.engine.model import KAN
from kan_core.errors import ConfigError
from kan_core.symbolic.periodic import periodogram_peaks

A_GRID = np.array([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 9.0])
B_GRID_AB = np.linspace(-3.0, 3.0, 13)
B_GRID_B = np.concatenate([np.linspace(-6.0, 6.0, 49), [-40.0, -20.0, -12.0, -9.0, 9.0, 12.0, 20.0, 40.0]])
A_GRID_EXP = np.geomspace(0.02, 8.0, 24)
COMPLEXITY_WEIGHT = 0.5  # one unit of complexity must buy ~3x less error (log10 0.5)
GOOD_R2 = 0.99  # below this a fit is ranked mostly by R²
POOR_WEIGHT = 0.1  # digits per unit of complexity among fits below GOOD_R2
LINE_TOL = 1e-4  # a curve whose best straight line leaves less of its variance is a line
MIN_SPAN = 0.5  # a curved function's argument must span at least this (radians for a sine)
PERIODIC = ("sin", "cos")
PEAKS = 3  # periodogram peaks tried as sine/cosine frequencies
PERIODOGRAM_ROWS = 128  # enough for dozens of periods across the range
PERIODOGRAM_FREQS = 1000
PHASES = np.linspace(-np.pi, np.pi, 12, endpoint=False)


@dataclass
class EdgeFit:
    """One candidate for an edge: φ(x) ≈ c·f(a·x+b)+d, with its R² and ranking score."""

    fn: str
    a: float
    b: float
    c: float
    d: float
    r2: float
    complexity: int
    score: float

    def as_dict(self) -> dict:
        """Plain-JSON view."""
        return asdict(self)

    def values(self, x: np.ndarray) -> np.ndarray:
        """c·f(a·x+b)+d at the edge inputs x (for drawing a suggestion over the learned curve)."""
        x = np.asarray(x, float)
        if self.fn == "0":
            return np.full_like(x, self.d)
        return self.c * _eval(library.get(self.fn), self.a * x + self.b) + self.d


def edge_text(fn: str, a: float, b: float, c: float, d: float, x: str = "x") -> str:
    """c·f(a·x + b) + d as readable text — 4 significant digits, signs folded, 1· and + 0 dropped
    (0.12·sin(3.1·t + 0.4) - 0.002): the one notation the studio and the CLI use for an edge."""

    def n(v: float) -> sp.Expr:
        return sp.Float(float(f"{v:.4g}"))

    from kan_core.symbolic.formula import fold_phases

    sym = sp.Symbol(x)
    # sigmoid by name: SymPy's 1/(1 + e^(−u)) turns a large offset into 1.3e49·e^(−20·t)
    f = sp.Function("sigmoid") if fn == "sigmoid" else library.get(fn).sympy
    expr = n(d) if fn == "0" else n(c) * f(n(a) * sym + n(b)) + n(d)
    expr = fold_phases(expr)  # 0.12·sin(3.1·t + 0.40), not −0.12·sin(3.1·t − 15.31)
    expr = expr.xreplace({f: n(float(f)) for f in expr.atoms(sp.Float)})  # products of rounded numbers
    expr = expr.xreplace({f: sp.Integer(int(f)) for f in expr.atoms(sp.Float) if float(f).is_integer()})
    return sp.sstr(expr, full_prec=False).replace("**", "^").replace("*", "·")


def in_data_units(fit: EdgeFit, model: KAN, layer: int, i: int) -> EdgeFit:
    """The same fit written in the units of the edge's input as the user sees it: for the first
    layer the input column (the edge itself sees it standardised, z = (x − shift)/scale, so
    a·z + b = (a/scale)·x + (b − a·shift/scale)); deeper layers are unchanged."""
    if layer != 0 or fit.fn == "0":
        return fit
    scale, shift = float(model.in_scale[i]), float(model.in_shift[i])
    return replace(fit, a=fit.a / scale, b=fit.b - fit.a * shift / scale)


def _eval(fn: library.Fn, arg: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return fn.torch(torch.from_numpy(arg)).numpy()


def _project(F: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed-form (c, d) and R² of y ≈ c·F + d for each row of F (S, n)."""
    with np.errstate(all="ignore"):
        Fm = F - F.mean(-1, keepdims=True)
        ym = y - y.mean()
        var = (Fm * Fm).sum(-1)
        cov = (Fm * ym).sum(-1)
        sst = (ym * ym).sum()
        c = cov / var
        r2 = cov * cov / (var * sst)
        d = y.mean() - c * F.mean(-1)
    bad = ~np.isfinite(F).all(-1) | (var <= 1e-24 * max(sst, 1e-300)) | ~np.isfinite(r2)
    r2 = np.where(bad, -np.inf, r2)
    return c, d, r2


def _starts(fn: library.Fn, peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid of (a', b') starts in the edge's standardised coordinate z ∈ [−1, 1]. Sines and
    cosines also start from the periodogram's strongest frequencies (any number of periods
    across the range), each with phases over a whole turn."""
    if fn.free == "ab":
        a = np.concatenate([A_GRID, -A_GRID])
        a0, b0 = np.repeat(a, len(B_GRID_AB)), np.tile(B_GRID_AB, len(a))
        if fn.name in PERIODIC:
            w = peaks
            a0 = np.concatenate([a0, np.repeat(w, len(PHASES))])
            b0 = np.concatenate([b0, np.tile(PHASES, len(w))])
        return a0, b0
    if fn.free == "a":
        a = np.concatenate([A_GRID_EXP, -A_GRID_EXP])
        return a, np.zeros_like(a)
    if fn.free == "b":
        a = np.array([1.0, -1.0])
        return np.repeat(a, len(B_GRID_B)), np.tile(B_GRID_B, 2)
    return np.ones(1), np.zeros(1)


def _coarse(
    fn: library.Fn, z: np.ndarray, y: np.ndarray, peaks: np.ndarray
) -> tuple[float, float, float, float, float]:
    """Best (a', b', c, d, R²) over the start grid, all starts evaluated at once."""
    a0, b0 = _starts(fn, peaks)
    args = a0[:, None] * z[None, :] + b0[:, None]
    valid = np.array([_usable(fn, lo, hi) for lo, hi in zip(args.min(1), args.max(1))])
    if not valid.any():
        return 1.0, 0.0, 0.0, float(y.mean()), -math.inf
    c, d, r2 = _project(_eval(fn, args[valid]), y)
    best = int(np.argmax(r2))
    return float(a0[valid][best]), float(b0[valid][best]), float(c[best]), float(d[best]), float(r2[best])


def _refine(fn: library.Fn, z: np.ndarray, y: np.ndarray, start: tuple[float, ...]) -> tuple[float, ...]:
    """Least squares on the free part of (a', b') with (c, d) projected out in closed form."""
    a, b, *_, r2_start = start
    if not fn.free or not math.isfinite(r2_start):
        return start
    penalty = np.full(len(y), 10.0 * (np.abs(y - y.mean()).max() + 1.0))

    def unpack(p: np.ndarray) -> tuple[float, float]:
        return (p[0], b) if fn.free == "a" else ((a, p[0]) if fn.free == "b" else (p[0], p[1]))

    def residual(p: np.ndarray) -> np.ndarray:
        arg = unpack(p)[0] * z + unpack(p)[1]
        if not _usable(fn, arg.min(), arg.max()):
            return penalty
        F = _eval(fn, arg)
        c, d, _ = _project(F[None], y)
        with np.errstate(all="ignore"):
            res = c[0] * F + d[0] - y
        return res if np.isfinite(res).all() else penalty

    p0 = np.array({"a": [a], "b": [b], "ab": [a, b]}[fn.free], dtype=float)
    sol = least_squares(residual, p0, method="lm", max_nfev=60 * len(p0))
    a_new, b_new = unpack(sol.x)
    arg = a_new * z + b_new
    if _usable(fn, arg.min(), arg.max()):
        c, d, r2 = _project(_eval(fn, arg)[None], y)
        if r2[0] >= r2_start:
            return float(a_new), float(b_new), float(c[0]), float(d[0]), float(r2[0])
    return start


def _usable(fn: library.Fn, lo: float, hi: float) -> bool:
    """Inside the domain and, for a curved function (sine, tanh, …), an argument spanning at
    least `MIN_SPAN`: over a shorter stretch the function is a straight line or a parabola in
    disguise (−4.3e5·sin(0.0006·x) is a line), a degenerate fit the simpler function should win."""
    return fn.valid(lo, hi) and (fn.free != "ab" or hi - lo >= MIN_SPAN)


def _straight(curve: np.ndarray, z: np.ndarray) -> bool:
    """Whether a fitted curve is a straight line over the samples: its best line leaves under
    `LINE_TOL` of its variance (an RMS bend under 1% of its spread)."""
    with np.errstate(all="ignore"):
        _, _, r2 = _project(z[None], curve)
    return bool(np.isfinite(r2[0]) and 1.0 - r2[0] < LINE_TOL)


def parsimony(r2: float, complexity: int) -> float:
    """Digits of accuracy (capped at 5) minus `COMPLEXITY_WEIGHT` per unit of complexity."""
    return min(-math.log10(max(1.0 - r2, 1e-5)), 5.0) - COMPLEXITY_WEIGHT * complexity


def rank_score(r2: float, complexity: int) -> float:
    """Higher is better: digits of accuracy minus a complexity cost, for fits of R² ≥ `GOOD_R2`.

    Digits are capped at 5 (R² ≥ 0.99999 counts as exact): a learned spline is itself only that
    accurate, so a more complex function that fits it better is fitting the spline's own error.
    Poorer fits rank below every good one, mostly by R²: there a unit of complexity is worth only
    `POOR_WEIGHT` digits (the library's whole range of complexities, 1 to 4, buys at most a factor
    2 in error), so simplicity never lifts an R² 0.63 fit above an R² 0.935 one, yet a line still
    beats a wiggle that fits noisy data barely better.
    """
    if r2 < GOOD_R2:
        return min(-math.log10(max(1.0 - r2, 1e-5)), 5.0) - 10.0 - POOR_WEIGHT * complexity
    return parsimony(r2, complexity)


def fit_edge(
    x: np.ndarray,
    y: np.ndarray,
    functions: list[str] | None = None,
    flat: bool = False,
    refine_top: int = 10,
) -> list[EdgeFit]:
    """Every library function fitted to samples (x, φ(x)), best first.

    The constant ("0") ranks first only when the caller says the edge is flat (negligible next to
    the model's output); otherwise it ranks last, whatever its score. Among near-equal fits the
    simpler function wins through the complexity cost in `rank_score`.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    lo, hi = float(x.min()), float(x.max())
    m, w = (lo + hi) / 2, max((hi - lo) / 2, 1e-12)
    z = (x - m) / w
    fns = library.select(functions)
    peaks = np.zeros(0)
    if any(fn.name in PERIODIC for fn in fns):  # the periodogram once, on at most PERIODOGRAM_ROWS
        step = max(1, len(z) // PERIODOGRAM_ROWS)
        peaks = periodogram_peaks(z[::step], y[::step], PEAKS, most=PERIODOGRAM_FREQS)
    coarse = {fn.name: _coarse(fn, z, y, peaks) for fn in fns if fn.name != "0"}
    order = sorted(coarse, key=lambda n: -coarse[n][4])
    fits = []
    for name in coarse:
        fn = library.get(name)
        a1, b1, c, d, r2 = _refine(fn, z, y, coarse[name]) if name in order[:refine_top] else coarse[name]
        if not math.isfinite(r2):
            continue
        if name != "x" and "x" in coarse:
            # A line in disguise (3162·√(0.1·x + 6247) − 249900), or a curve that fits no better
            # than the line: the line, simpler, stands for it.
            if r2 <= coarse["x"][4] or _straight(c * _eval(fn, a1 * z + b1) + d, z):
                continue
        # Back to the edge's own units: a'·(x−m)/w + b' = a·x + b.
        a, b = a1 / w, b1 - a1 * m / w
        fits.append(EdgeFit(name, a, b, c, d, r2, fn.complexity, rank_score(r2, fn.complexity)))
    fits.sort(key=lambda f: -round(f.score, 6))  # equivalent fits (sin, shifted cos): library order
    if functions is None or "0" in functions:
        zero = EdgeFit("0", 1.0, 0.0, 0.0, float(y.mean()), 0.0, 0, math.inf if flat else -math.inf)
        fits.insert(0, zero) if flat else fits.append(zero)
    return fits


def layer_samples(model: KAN, X, layer: int, n: int = 101) -> tuple[torch.Tensor, torch.Tensor]:
    """z (n, in) spanning the data's range of each input of `layer`, and φ(z) (n, in, out)."""
    inputs = model.layer_inputs(X)[layer]
    lo, hi = inputs.min(0).values, inputs.max(0).values
    t = torch.linspace(0, 1, n, dtype=inputs.dtype, device=inputs.device)[:, None]
    z = lo + (hi - lo) * t
    with torch.no_grad():
        phi = model.layers[layer].edge_values(z)
    return z.double().cpu(), phi.double().cpu()


def edge_fits(model: KAN, X, layer: int, i: int, j: int, functions: list[str] | None = None) -> list[EdgeFit]:
    """Ranked symbolic candidates for edge (layer, i → j) on the data's range."""
    z, phi = layer_samples(model, X, layer)
    flat = _is_flat(phi[:, i, j])
    return fit_edge(z[:, i].numpy(), phi[:, i, j].numpy(), functions, flat=flat)


def _is_flat(phi: torch.Tensor, tol: float = 1e-3) -> bool:
    # The network's output is standardised (std 1 in network units) when trained with fit().
    return float(phi.std()) < tol


def snap(model: KAN, layer: int, i: int, j: int, fit: EdgeFit, trainable: bool = True) -> KAN:
    """A copy of `model` with edge (layer, i → j) fixed to `fit` (the original is untouched)."""
    if not 0 <= layer < len(model.layers):
        raise ConfigError(f"layer {layer} does not exist; the model has {len(model.layers)} layers")
    new = copy.deepcopy(model)
    new.layers[layer].set_symbolic(i, j, fit.fn, (fit.a, fit.b, fit.c, fit.d), trainable=trainable)
    return new


def auto_snap(
    model: KAN,
    X,
    y=None,
    r2_threshold: float = 0.99,
    functions: list[str] | None = None,
    retrain_steps: int = 5,
    retrain_rows: int = 512,
    stop_event: threading.Event | None = None,
) -> tuple[KAN, list[dict]]:
    """Snap every edge whose best symbolic fit reaches `r2_threshold` (flat edges become 0).

    The KAN paper's `auto_symbolic` (arXiv:2404.19756, Sec. 2.5.1, step 3): each edge's curve is
    fitted as c·f(a·x + b) + d for every f of the library (variable projection: c, d by linear
    least squares for each (a, b); Golub & Pereyra 1973), ranked by R² and simplicity. Layers
    are snapped in order, each on the inputs the already-snapped layers produce; then the
    remaining parameters, affine constants included, are retrained briefly on (X, y) so errors do
    not compound (LBFGS, `retrain_steps` steps on at most `retrain_rows` evenly spaced rows).

    Parameters
    ----------
    model : KAN
        Left untouched.
    X : array-like, shape (n, n_in)
        Data in the input columns' units.
    y : array-like, shape (n,) or (n, 1), optional
        Target for the retraining (None: no retraining).
    r2_threshold : float in (0, 1], default 0.99
        An edge is snapped when its best fit's R² reaches this.
    functions : list of str, optional
        Library subset (see `python -m kan_core functions`; default: all).
    retrain_steps, retrain_rows : int
        The polish after snapping.
    stop_event : threading.Event, optional
        Ends the retraining early (discovery sets it at its deadline).

    Returns
    -------
    (KAN, list of dict)
        The snapped copy and one report row per edge considered ({layer, i, j, accepted, best}).

    Raises
    ------
    ConfigError
        An unknown function name.
    """
    from kan_core.engine.train import fit as train

    new = copy.deepcopy(model)
    report = []
    for li, layer in enumerate(new.layers):
        z, phi = layer_samples(new, X, li)
        numeric = (layer.mask > 0) & (layer.sym < 0)
        for i, j in torch.nonzero(numeric).tolist():
            fits = fit_edge(z[:, i].numpy(), phi[:, i, j].numpy(), functions, flat=_is_flat(phi[:, i, j]))
            best = fits[0]
            accepted = best.fn == "0" and best.score == math.inf or best.r2 >= r2_threshold
            if accepted:
                layer.set_symbolic(i, j, best.fn, (best.a, best.b, best.c, best.d))
            report.append({"layer": li, "i": i, "j": j, "accepted": accepted, "best": best.as_dict()})
    if y is not None and retrain_steps > 0:
        step = max(1, len(X) // retrain_rows)  # a short polish needs no more rows than this
        train(new, X[::step], y[::step], steps=retrain_steps, opt="lbfgs", stop_event=stop_event)
    return new, report
