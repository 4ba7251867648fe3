import os

# Set before torch loads OpenMP: with spinning worker threads, a second busy process (a Streamlit
# server in the browser tests, a parallel job) slows small-model training ~20x (75 s vs 4 s measured).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
