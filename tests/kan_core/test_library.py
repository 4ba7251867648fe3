import math
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
import torch

from kan_core import library


@pytest.mark.parametrize("name", list(library.FUNCTIONS))
def test_torch_and_sympy_forms_agree(name):
    fn = library.FUNCTIONS[name]
    lo, hi = fn.domain
    lo, hi = max(lo, -2.0), min(hi, 2.0)
    x = np.linspace(lo, hi, 41)[1:-1]
    if fn.excludes_zero:
        x = x[np.abs(x) > 0.1]
    if name == "tan":
        x = np.linspace(-1.4, 1.4, 41)
    s = sp.Symbol("s")
    ref = sp.lambdify(s, fn.sympy(s), "numpy")(x)
    ours = fn.torch(torch.tensor(x, dtype=torch.float64)).numpy()
    assert np.allclose(ours, np.broadcast_to(ref, x.shape), rtol=1e-12, atol=1e-12)


def test_library_size_domains_and_errors():
    assert len(library.FUNCTIONS) >= 25
    assert library.get("log").valid(0.5, 3) and not library.get("log").valid(-1, 3)
    assert not library.get("1/x").valid(-1, 1) and library.get("1/x").valid(0.5, 1)
    assert library.get("arcsin").valid(-1, 1) and not library.get("arcsin").valid(-1.5, 0)
    with pytest.raises(ValueError, match="unknown function 'foo'"):
        library.get("foo")
    assert [f.name for f in library.select(["sin", "x"])] == ["sin", "x"]
    assert math.isinf(library.get("exp").domain[1])


def test_cli_lists_functions():
    out = subprocess.run(
        [sys.executable, "-m", "kan_core", "functions"], capture_output=True, text=True, check=True
    )
    assert "sin" in out.stdout and "arctanh" in out.stdout and len(out.stdout.splitlines()) > 25
