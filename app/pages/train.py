"""Train page: settings (mirrored in the URL), Train / Stop, live loss curve and progress."""

import streamlit as st

from app.plots import loss_figure
from app.services import DEVICES, MAX_STEPS, OPTIMIZERS, TrainSettings, device_label, fmt
from app.text import md
from app.ui import action, show_flash, studio

s = studio()
st.title("Train")
show_flash()
cur = s.settings

with st.sidebar:
    st.header("Model and training")
    hidden = st.text_input(
        "Hidden widths", cur.hidden, help="Comma-separated hidden layer widths, e.g. 5 or 4,4"
    )
    grid = st.number_input("Grid intervals", 1, 100, cur.grid)
    k = st.number_input("Spline degree k", 1, 5, cur.k)
    steps = st.number_input("Steps", 1, MAX_STEPS, cur.steps)
    optimizer = st.selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index(cur.optimizer))
    lr = st.number_input(
        "Learning rate", 1e-5, 10.0, cur.lr, format="%.4g", help="LBFGS works with 1; Adam with about 0.01"
    )
    lamb = st.number_input(
        "Sparsity λ",
        0.0,
        1.0,
        cur.lamb,
        format="%.4g",
        help="L1 + entropy penalty on edges; 1e-3 to 1e-2 makes pruning easier",
    )
    seed = st.number_input("Seed", 0, 2**31 - 1, cur.seed)
    device = st.selectbox("Device", DEVICES, index=DEVICES.index(cur.device))
    st.caption(f"Device in use: **{device_label(device)}**")

settings = TrainSettings(
    str(hidden), int(grid), int(k), int(steps), float(lr), optimizer, float(lamb), int(seed), device
)
st.query_params.from_dict(settings.to_query())  # share a setup as a link

ds = s.dataset
if ds is None:
    st.info("Load data on the Data page first.")
    st.stop()
try:
    widths = settings.widths(len(ds.features))
    st.caption(
        f"Network {widths}: {md(ds.target)} from {md(', '.join(ds.features))}; {len(ds.y):,} rows"
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


@st.fragment(run_every=0.3 if s.training else None)
def live() -> None:
    """Progress and loss curve, refreshed about 3 times a second while training."""
    job = s.job
    if job is not None and job.running:
        st.progress(min(job.step / max(job.total, 1), 1.0), text=f"step {job.step} / {job.total}")
        st.plotly_chart(loss_figure(s.curves, job.curves, s.steps_done), width="stretch", key="loss_live")
        return
    if s.poll():
        st.rerun()  # the buttons must see that training ended
    if job is not None:
        kind = {"completed": "success", "stopped": "info"}.get(job.status, "error")
        text = job.message or f"{job.status}"
        getattr(st, kind)(f"{text} — {job.step} steps in {job.seconds:.1f} s")
    if s.curves.get("step"):
        last = s.curves["train"][-1]
        val = s.curves["val"][-1] if s.curves.get("val") else None
        st.caption(f"{s.steps_done} steps so far; train RMSE {fmt(last)}, validation RMSE {fmt(val)}")
        st.plotly_chart(loss_figure(s.curves), width="stretch", key="loss_done")
    elif s.model is None:
        st.info("Press Train to fit a KAN to the data.")


live()
