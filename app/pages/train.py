"""Train page: settings (mirrored in the URL), Suggest network, Train / Stop, live loss curve."""

import time
from dataclasses import fields

import streamlit as st

from app.plots import loss_figure
from app.services import DEVICES, MAX_STEPS, OPTIMIZERS, TrainSettings, device_label, fmt
from app.state import is_log
from app.text import md
from app.ui import action, flash, reported, save_checkpoint, show_flash, studio
from kan_core.discovery.suggest import suggest_network

s = studio()
st.title("Train")
show_flash()
ds = s.dataset
if ds is None:
    st.info("Load data on the Data page first.")
    st.stop()

# Each widget's value lives under "ts_<field>"; the workspace's settings seed it when the page
# opens (Streamlit forgets a widget's state on another page), and Suggest network writes it.
for f in fields(TrainSettings):
    st.session_state.setdefault(f"ts_{f.name}", getattr(s.settings, f.name))


def on_suggest() -> None:
    """Fill in widths, Log-space and grid from the data's quick screens."""
    with reported():
        sug = suggest_network(ds.X, ds.y, ds.features)
        st.session_state.update(ts_hidden=sug.hidden, ts_log_space=sug.log_space, ts_grid=sug.grid)
        if sug.hidden == "":  # no hidden layer: every edge is needed, nothing to make sparse
            st.session_state["ts_lamb"] = 0.0
        st.session_state["suggest_why"] = sug.why
        for note in sug.notes:
            flash("info", note)


c0, c1, c2 = st.columns([2, 1, 1])
c0.text_input(
    "Hidden widths",
    key="ts_hidden",
    help="Comma-separated hidden layer widths, e.g. 5 or 4,4; empty for none. "
    "[2, 1] is a layer of 2 sum nodes and 1 multiplication node (3, [2, 1], 1 overall for 3 inputs).",
)
c1.toggle(
    "Log-space",
    key="ts_log_space",
    help="Train on log|y| against log x (positive inputs, a target of one sign): a product of powers "
    "becomes a sum, which snaps exactly",
)
c2.button(
    "Suggest network", on_click=on_suggest, help="Widths, Log-space and grid from quick screens of the data"
)
if st.session_state.get("suggest_why"):
    st.caption(f"Suggested: {md(st.session_state['suggest_why'])}")
with st.container(border=True):
    a1, a2, a3, a4 = st.columns(4)
    a1.number_input("Grid intervals", 1, 100, key="ts_grid")
    a2.number_input("Spline degree k", 1, 5, key="ts_k")
    a3.number_input("Steps", 1, MAX_STEPS, key="ts_steps")
    a4.selectbox("Optimizer", OPTIMIZERS, key="ts_optimizer")
    b1, b2, b3, b4 = st.columns(4)
    b1.number_input(
        "Learning rate",
        1e-5,
        10.0,
        key="ts_lr",
        format="%.4g",
        help="LBFGS works with 1; Adam with about 0.01",
    )
    b2.number_input(
        "Sparsity λ",
        0.0,
        1.0,
        key="ts_lamb",
        format="%.4g",
        help="L1 + entropy penalty on edges; 1e-3 to 1e-2 makes pruning easier",
    )
    b3.number_input("Seed", 0, 2**31 - 1, key="ts_seed")
    b4.selectbox("Device", DEVICES, key="ts_device")
    st.caption(f"Device in use: **{device_label(st.session_state['ts_device'])}**")

values = {f.name: st.session_state[f"ts_{f.name}"] for f in fields(TrainSettings)}
settings = TrainSettings(**{k: type(getattr(s.settings, k))(v) for k, v in values.items()})
s.settings = settings  # the workspace keeps what the page shows (saved with it, restored on reload)
st.query_params.update(settings.to_query())  # share a setup as a link (the workspace key stays)

try:
    widths = settings.widths(len(ds.features))
    space = " in log space (log|y| against log x)" if settings.log_space else ""
    whole = " (read as the whole network: inputs and output included)"
    whole = whole if settings.whole_network(len(ds.features)) else ""
    st.caption(
        f"Network {widths}{whole}{space}: {md(ds.target)} from {md(', '.join(ds.features))}; "
        f"{len(ds.y):,} rows"
        + (" (tiny data: no validation split)" if ds.small else ", 20% held out for validation")
    )
except Exception as err:  # a bad hidden-width text: explain, keep the page usable
    st.error(md(err))

b1, b2, b3, _ = st.columns([1, 1, 1, 3])
b1.button("Train", type="primary", on_click=action(s.train, settings), disabled=s.training)
b2.button("Stop", on_click=action(s.stop), disabled=not s.training)
b3.button(
    "Reset model",
    on_click=action(s.reset),
    disabled=s.model is None,
    help="Forget the current network (undoable); the next Train starts fresh",
)


def eta(job) -> str:
    """About how long the run still needs, from its pace so far."""
    spent = time.perf_counter() - job.started
    if job.step < 2 or spent < 1:
        return "estimating time left…"
    left = spent / job.step * (job.total - job.step)
    return f"about {left:.0f} s left" if left >= 1 else "under a second left"


@st.fragment(run_every=0.3 if s.training else None)
def live() -> None:
    """Progress and loss curve, refreshed about 3 times a second while training."""
    job = s.job
    if job is not None and job.running:
        save_checkpoint(s)  # a reload during a long run keeps the model as of the last checkpoint
        st.progress(min(job.step / max(job.total, 1), 1.0), text=f"step {job.step} / {job.total}; {eta(job)}")
        if job.step or s.curves.get("step"):
            st.plotly_chart(
                loss_figure(s.curves, job.curves, s.steps_done, log_space=settings.log_space),
                width="stretch",
                key="loss_live",
            )
        else:  # step 0: no empty chart
            st.caption("waiting for the first step…")
        return
    if s.poll():
        st.rerun()  # the buttons must see that training ended
    if job is not None:
        kind = {"completed": "success", "stopped": "info"}.get(job.status, "error")
        text = job.message or f"{job.status}"
        steps = "1 step" if job.step == 1 else f"{job.step} steps"
        getattr(st, kind)(f"{text} — {steps} in {job.seconds:.1f} s")
    if s.curves.get("step"):
        last = s.curves["train"][-1]
        val = s.curves["val"][-1] if s.curves.get("val") else None
        done = "1 step" if s.steps_done == 1 else f"{s.steps_done} steps"
        st.caption(f"{done} so far; train RMSE {fmt(last)}, validation RMSE {fmt(val)}")
        st.plotly_chart(loss_figure(s.curves, log_space=is_log(s.model)), width="stretch", key="loss_done")
    elif s.model is None:
        st.info("Press Train to fit a KAN to the data.")


live()
