import numpy as np
import pytest
import torch

from kan_core import KAN, fit, library
from kan_core.symbolic.edges import _straight, auto_snap, edge_fits, fit_edge, snap

X = np.linspace(-1.0, 2.0, 101)


def params_for(fn, rng):
    """Random (a, b) with a·x+b inside the function's domain on X and a curve that is not a
    straight line there (the line "x" stands for those), and random c, d."""
    name = fn.name
    for _ in range(1000):
        a = rng.uniform(0.5, 2.0) * rng.choice([-1, 1]) if "a" in fn.free else float(rng.choice([-1, 1]))
        b = rng.uniform(-1, 1) if fn.free == "ab" else (rng.uniform(-6, 6) if fn.free == "b" else 0.0)
        arg = a * X + b
        clear = not fn.excludes_zero or np.abs(arg).min() > 0.3
        curve = fn.torch(torch.tensor(arg)).numpy() if fn.valid(arg.min(), arg.max()) else None
        if curve is not None and clear and np.ptp(curve) > 1e-3 and (name == "x" or not _straight(curve, X)):
            return a, b, rng.uniform(0.5, 2.0), rng.uniform(-1, 1)
    raise AssertionError(fn.name)


@pytest.mark.parametrize("name", [n for n in library.FUNCTIONS if n not in ("0", "sign", "arctanh")])
def test_edge_fit_recovers_known_parameters(name):
    fn = library.get(name)
    a, b, c, d = params_for(fn, np.random.default_rng(len(name)))
    y = c * fn.torch(torch.tensor(a * X + b)).numpy() + d
    fits = {f.fn: f for f in fit_edge(X, y)}
    own = fits[name]
    assert own.r2 > 1 - 1e-9
    pred = own.c * fn.torch(torch.tensor(own.a * X + own.b)).numpy() + own.d
    assert np.abs(pred - y).max() <= 1e-5 * (np.abs(y).max() + 1)
    if fn.free == "ab":  # a, b identifiable up to the function's own symmetries
        assert np.isclose(abs(own.a), abs(a), rtol=1e-4) or name in ("sin", "cos", "gaussian", "cosh")


def test_no_line_in_disguise_is_suggested_for_a_straight_edge():
    """y = 2x + 1 over [0, 100]: √, x^1.5, exp, sin and |·| with a far-off kink all fit it as
    near-straight curves; only the line (and the constant, last) is suggested."""
    x = np.linspace(0, 100, 101)
    assert [f.fn for f in fit_edge(x, 2 * x + 1)] == ["x", "0"]
    curved = [f.fn for f in fit_edge(x, 0.01 * x**2 + x)]  # a real bend: the curves stay
    assert curved[0] == "x^2" and "x" in curved


def test_a_clean_sine_beats_zero_and_x_squared_beats_x_fourth():
    x = np.linspace(-1, 1, 101)
    fits = fit_edge(x, 1e-3 * np.sin(3 * x + 0.2))
    assert fits[0].fn == "sin" and fits[-1].fn == "0"
    flat = fit_edge(x, 1e-9 * x + 0.3, flat=True)
    assert flat[0].fn == "0" and np.isclose(flat[0].d, 0.3)
    parabola = fit_edge(x, 2 * (x - 0.1) ** 2 + 1)
    names = [f.fn for f in parabola]
    assert names[0] == "x^2" and names.index("x^2") < names.index("x^4")


def test_poor_fits_are_not_auto_accepted():
    g = torch.Generator().manual_seed(0)
    Xt = torch.rand(400, 1, generator=g) * 2 - 1
    y = torch.sign(Xt) * (Xt.abs() ** 0.3) + 0.3 * torch.sin(9 * Xt)  # nothing in the library
    model = KAN([1, 1], seed=0, device="cpu")
    fit(model, Xt, y, steps=30, opt="lbfgs")
    new, report = auto_snap(model, Xt, y, r2_threshold=0.999, retrain_steps=0)
    assert report[0]["best"]["r2"] < 0.999 and not report[0]["accepted"]
    assert int(new.layers[0].sym[0, 0]) == -1


def test_auto_snap_of_a_2_5_1_model_keeps_the_original():
    g = torch.Generator().manual_seed(0)
    Xt = torch.rand(1000, 2, generator=g) * 2 - 1
    y = torch.exp(torch.sin(torch.pi * Xt[:, :1]) + Xt[:, 1:] ** 2)
    model = KAN([2, 5, 1], seed=0, device="cpu")
    fit(model, Xt, y, steps=20, opt="lbfgs")
    new, report = auto_snap(model, Xt, y, r2_threshold=0.9)
    assert len(report) == 15 and new is not model
    assert (model.layers[0].sym < 0).all()  # the caller's model is untouched (undo)
    snapped = sum(int((layer.sym >= 0).sum()) for layer in new.layers)
    assert snapped == sum(r["accepted"] for r in report) > 0


def test_snap_one_edge_from_its_ranked_fits():
    g = torch.Generator().manual_seed(0)
    Xt = torch.rand(500, 1, generator=g) * 2 - 1
    model = KAN([1, 1], seed=0, device="cpu")
    fit(model, Xt, torch.sin(torch.pi * Xt), steps=30, opt="lbfgs")
    fits = edge_fits(model, Xt, 0, 0, 0)
    assert fits[0].fn == "sin" and fits[0].r2 > 0.9999
    new = snap(model, 0, 0, 0, fits[0])
    with torch.no_grad():
        assert (new(Xt) - torch.sin(torch.pi * Xt)).abs().max() < 1e-2


def test_edge_text_reduces_phases_and_folds_a_negative_amplitude():
    """The studio and `inspect` print −1.41·sin(3.1·t − 15.31) as 1.41·sin(3.1·t + 0.398): the
    same function, the phase in (−π, π]."""
    from kan_core.symbolic.edges import edge_text

    assert edge_text("sin", 3.1, -15.31, -1.41, 0.0, "t") == "1.41·sin(3.1·t + 0.398)"
    assert edge_text("sin", 3.1, -31.02, 0.12, 0.0, "t") == "0.12·sin(3.1·t + 0.3959)"
    assert edge_text("x^2", 2.0, 1.0, 3.0, 0.5) == "3·(2·x + 1)^2 + 0.5"


def test_a_sigmoid_edge_reads_by_name():
    from kan_core.symbolic.edges import edge_text

    assert edge_text("sigmoid", 20.23, -113.1, 1.357, 0.0, "t") == "1.357·sigmoid(20.23·t - 113.1)"
