"""Solve a PDE page: a physics-informed Poisson solve with a KAN and an MLP against the exact u."""

import streamlit as st

from app.experiments import ExperimentJob
from app.ui import experiment_panel, show_flash
from kan_core.experiments.pde import poisson

st.title("Solve a PDE")
show_flash()
st.caption(
    "∇²u = f on [−1, 1]² with u = 0 on the border and exact solution u = sin(πx)·sin(πy) (KAN paper, "
    "Sec. 3.4). Loss = 0.01 × PDE residual² at interior mesh points (second derivatives by autograd "
    "through the network) + u² on the border; LBFGS. The KAN [2, 10, 1] refines its grid between "
    "phases; the MLP [2, 32, 32, 1] gets the same total steps."
)
c1, c2, c3, c4 = st.columns(4)
steps = c1.number_input("LBFGS steps per phase", 1, 500, 50)
points = c2.number_input("Collocation points per side", 5, 61, 21)
grids_text = c3.text_input("KAN grids", "5,10")
seed = c4.number_input("Seed", 0, 2**31 - 1, 0)


def start() -> ExperimentJob:
    """A Poisson run with the page's settings."""
    from kan_core._experiments_cli import grids
    from kan_core.errors import ConfigError

    try:
        g = grids(grids_text)
    except Exception as err:  # argparse's type error: one line for the page
        raise ConfigError(f"KAN grids: {err}") from None
    return ExperimentJob(poisson, grids=g, steps=int(steps), points=int(points), seed=int(seed))


experiment_panel("pde", start, "Runs on the CPU in the background; Stop keeps what was measured so far.")
