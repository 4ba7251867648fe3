"""Continual learning page: data shown one region at a time; what a KAN and an MLP forget."""

import streamlit as st

from app.experiments import ExperimentJob
from app.ui import experiment_panel, show_flash, studio
from kan_core.engine.budget import Budget
from kan_core.experiments.continual import BUDGET, continual, peaks, phases_by_column

TASKS = {
    "1-D peaks (the KAN paper's)": "peaks1d",
    "2-D peaks on a plane": "peaks2d",
    "Loaded data, sorted by a column": "data",
}

s = studio()
st.title("Continual learning")
show_flash()
st.caption(
    "Five phases, each showing one region only (KAN paper, Sec. 3.5). After every phase both models "
    "are measured on every region; forgetting = error on a region at the end minus its error just "
    "after it was learned. The KAN trains only its spline coefficients, as in the paper."
)
task = TASKS[st.selectbox("Task", list(TASKS))]
c1, c2 = st.columns(2)
steps = c1.number_input("Adam steps per phase", 10, 5000, BUDGET.adam_steps, help="LBFGS gets a tenth")
seed = c2.number_input("Seed", 0, 2**31 - 1, 0)
ds = s.dataset
sort_by, phases = None, 5
if task == "data":
    if ds is None:
        st.info("Load data on the Data page first.")
        st.stop()
    sort_by = st.selectbox("Sort by", ds.features)
    phases = st.number_input("Phases", 2, 20, 5)


def start() -> ExperimentJob:
    """A continual run on the chosen task."""
    if task != "data":
        X, y, phase = peaks(task, seed=int(seed))
    else:
        order = [ds.features.index(sort_by)] + [i for i, f in enumerate(ds.features) if f != sort_by]
        X, y = ds.X[:, order], ds.y
        phase = phases_by_column(X, y, 0, int(phases))
    n = int(steps)
    budget = Budget(seconds=None, adam_steps=n, lbfgs_steps=max(1, n // 10), search_steps=min(30, n))
    return ExperimentJob(continual, X=X, y=y, phase=phase, task=task, budget=budget, seed=int(seed))


note = f"Budget per phase, both models: a 4-rate search, up to {steps} Adam and {steps // 10} LBFGS steps."
experiment_panel("continual", start, note)
