"""Compare page: KANs and MLPs of several sizes on the loaded data, test RMSE against parameters."""

import streamlit as st

from app.experiments import ExperimentJob
from app.text import md
from app.ui import experiment_panel, show_flash, studio
from kan_core._experiments_cli import sizes
from kan_core.engine.budget import Budget
from kan_core.experiments.compare import KAN_SIZES, MLP_SIZES, compare

s = studio()
st.title("Compare")
show_flash()
ds = s.dataset
if ds is None:
    st.info("Load data on the Data page first.")
    st.stop()

st.caption(
    f"Predicts {md(ds.target)} from {md(', '.join(ds.features))} ({len(ds.y):,} rows; change the target on "
    "the Data page). Every model gets the same split (20% test, 20% validation) and the same budget: "
    "a learning-rate search, Adam, then LBFGS, early-stopped on validation (KAN paper, Sec. 3.1)."
)
c1, c2, c3 = st.columns(3)
seconds = c1.number_input("Seconds per model", 0.5, 120.0, 10.0, step=1.0)
rmse = c2.number_input("RMSE target (0: 5% of the test std)", 0.0, value=0.0, format="%.4g")
seed = c3.number_input("Seed", 0, 2**31 - 1, 0)
kan_text = st.text_input("KAN sizes (hidden:grid)", ",".join(f"{h}:{g}" for h, g in KAN_SIZES))
mlp_text = st.text_input("MLP sizes (hidden widths)", ",".join("x".join(map(str, m)) for m in MLP_SIZES))


def start() -> ExperimentJob:
    """A compare run on the loaded data with the page's settings."""
    try:
        kan, mlp = sizes(kan_text, "kan"), sizes(mlp_text, "mlp")
    except Exception as err:  # argparse's type error: one line for the page
        from kan_core.errors import ConfigError

        raise ConfigError(f"{err}") from None
    budget = Budget(seconds=float(seconds))
    target = float(rmse) if rmse > 0 else None
    return ExperimentJob(
        compare,
        X=ds.X,
        y=ds.y,
        kan_sizes=kan,
        mlp_sizes=mlp,
        budget=budget,
        rmse_target=target,
        seed=int(seed),
    )


experiment_panel("compare", start, f"Budget: {seconds:g} s per model; runs on the CPU in the background.")
