"""Discovery routes, each turning one `Problem` (training rows, symbols, deadline, …) into
candidate formulas. `plans` lists the ones to try for a table, in order: the direct searches
(one_variable, sums, polynomial, single_index), then the KAN architectures (kan). A route imports
nothing from `kan_core.discovery.search`: what it needs arrives in the Problem.
"""

from __future__ import annotations

import numpy as np

from kan_core.discovery.routes.base import Found, Problem, Route, Settings
from kan_core.discovery.routes.kan import ARCHITECTURES, log_route, network_route
from kan_core.discovery.routes.log_linear import log_linear
from kan_core.discovery.routes.one_variable import one_variable
from kan_core.discovery.routes.polynomial import sparse_polynomial, transformed_polynomials
from kan_core.discovery.routes.rational import sparse_rational
from kan_core.discovery.routes.separable import INDEX_MAX_INPUTS, factor_route, index_on_y_route
from kan_core.discovery.routes.separable import MAX_INPUTS as MAX_FACTOR_INPUTS
from kan_core.discovery.routes.single_index import index_route
from kan_core.discovery.routes.sums import power_sums, sinusoids
from kan_core.discovery.routes.varying import MAX_INPUTS as MAX_VARYING_INPUTS
from kan_core.discovery.routes.varying import varying_route

__all__ = ["Found", "Problem", "Route", "Settings", "plans"]


def _one_variable(p: Problem) -> Found:
    return [(expr, None) for expr in one_variable(p.X[:, 0], p.y, p.symbols[0], p.functions)]


def _power_sum(p: Problem) -> Found:
    return [(expr, None) for expr in power_sums(p.X[:, 0], p.y, p.symbols[0], p.deadline)]


def _sinusoids(p: Problem) -> Found:
    return [(expr, None) for expr in sinusoids(p.X[:, 0], p.y, p.symbols[0], p.deadline)]


def _transformed_polynomial(p: Problem) -> Found:
    return [(expr, None) for expr in transformed_polynomials(p.X, p.y, p.symbols, p.deadline)]


def _rational(p: Problem) -> Found:
    return [(sparse_rational(p.X, p.y, p.symbols, p.deadline), None)]


def _log_linear(p: Problem) -> Found:
    return [(log_linear(p.X, p.y, p.symbols, p.deadline), None)]


def _polynomial(p: Problem) -> Found:
    return [(sparse_polynomial(p.X, p.y, p.symbols, p.deadline), None)]


DEFAULT = Settings()
# y − median crossing zero this often along x: an oscillation (a polynomial of degree 6 crosses ≤ 6
# times, a power sum ≤ 2); noise adds crossings only where the signal is near its median.
OSCILLATING = 6


CROSSING_BINS = 200  # y is averaged over this many runs of rows in x's order (50 periods resolved)


def crossings(x: np.ndarray, y: np.ndarray) -> int:
    """How often y − median(y), in x's order and averaged over runs of max(5, n/200) rows,
    changes sign. The runs grow with the rows: 1% noise on 8,000 rows of a monotone curve made
    dozens of crossings where the curve passes its median, over 5-row runs."""
    v = y[np.argsort(x)] - np.median(y)
    width = len(v) // CROSSING_BINS
    if width > 5:  # many rows: CROSSING_BINS block means
        v = np.convolve(v, np.ones(width) / width, mode="valid")[::width]
    elif len(v) >= 25:  # a moving average over 5 rows, every row kept (25 rows, 4 periods: 7)
        v = np.convolve(v, np.ones(5) / 5, mode="valid")
    return int(np.count_nonzero(np.diff(np.sign(v[v != 0])) != 0))


ONE_SIGN_SLACK = 0.01  # the share of rows of the other sign that the log routes leave out


def _widths(name: str, widths, d: int, settings: Settings) -> list:
    return [d, settings.width, 1] if name == "wide" and settings.width else widths(d)


def plans(X: np.ndarray, y: np.ndarray, settings: Settings = DEFAULT) -> list[tuple[str, Route]]:
    """The routes to try on (X, y), cheapest and most specific first: [(name, route), …]."""
    d = X.shape[1]
    positive = bool((X > 0).all())
    # Products of powers in log space: y of one sign, but for a few rows that noise pushed across
    # zero (those are left out of the log fit).
    logs = positive and max(float(np.mean(y > 0)), float(np.mean(y < 0))) >= 1 - ONE_SIGN_SLACK
    direct: list[tuple[str, Route]] = []  # the specific searches, cheapest and most specific first
    if d == 1 and crossings(X[:, 0], y) >= OSCILLATING:
        # Many oscillations: no power sum or low polynomial can follow them; sinusoids first.
        direct.append(("sinusoids", _sinusoids))
        if positive:  # a curve flat over most of its range crosses its median often in the noise
            direct.append(("power sum", _power_sum))
        direct += [("one-variable", _one_variable), ("polynomial", _polynomial)]
    elif d == 1:
        if positive:  # c·x^p + d (and two powers): the commonest one-input law, in a second
            direct.append(("power sum", _power_sum))
        direct.append(("one-variable", _one_variable))
        direct.append(("polynomial", _polynomial))  # milliseconds; before sinusoids could mimic it
        direct.append(("sinusoids", _sinusoids))
    if 1 < d <= settings.max_poly_inputs:  # milliseconds, and exact for sums of products: first
        direct.append(("polynomial", _polynomial))
    if 1 < d <= MAX_VARYING_INPUTS:  # Σ gₘ(xⱼ)·xₘ: Tₐ + (T₀ − Tₐ)·e^(−kt), x₀·cos ωt + v₀·sin ωt/ω
        direct.append(("varying coefficients", varying_route))  # (a screen of milliseconds otherwise)
    # Ratios of sums (2ab/(a + b), V·S/(K + S)) and polynomials in disguise (distances, inverse
    # squares, bell curves: T(y) a polynomial) cost a second or two when they do not apply.
    if 1 < d <= settings.max_rational_inputs:
        direct.append(("rational", _rational))
    if 1 < d <= settings.max_poly_inputs:
        direct.append(("polynomial of T(y)", _transformed_polynomial))
    # A screen of milliseconds when it does not apply.
    if 1 < d <= MAX_FACTOR_INPUTS:  # M(x)·g(xⱼ) on y itself: an amplitude times a damped oscillation
        direct.append(("monomial × g(input)", factor_route))
    if 1 < d <= INDEX_MAX_INPUTS:  # g(xⱼ·M(x)) on y: a phase t/√L, an oscillation's frequency set by others
        direct.append(("g(input × monomial)", index_on_y_route))
    if logs and d <= settings.max_rational_inputs:  # C·Πxᵢ^aᵢ·e^(b·m(x)): attenuation, decay, Arrhenius
        direct.append(("log-linear", _log_linear))
    if logs:  # positive data: products of powers
        direct.append(("log-space", log_route([d, 1])))
    if positive and 1 < d <= settings.max_index_inputs:
        # M(x)·g(u(x)), M and u monomials: ω₀/(1 − v/c), n₀/cosh(μB/kT), p·cos θ/r².
        direct.append(("single-index", index_route))
    networks = [
        (name, network_route(_widths(name, widths, d, settings), name.startswith("separable")))
        for name, widths in ARCHITECTURES
    ]
    if logs and d > 1:
        # A monomial times a function of a sum (a·√(x² + y²)) is two sums in log space: after the
        # additive networks.
        networks.insert(2, ("log-space two-sums", log_route([d, 2, 1])))
    return direct + networks
