import os

# Set before torch loads OpenMP: with spinning worker threads, a second busy process (a Streamlit
# server in the browser tests, a parallel job) slows small-model training ~20x (75 s vs 4 s measured).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Strict mode: a route that raises anything but our own or a numerical error fails the test
# instead of being reported as "route failed" (KAN_CORE_STRICT in kan_core.discovery.search).
os.environ.setdefault("KAN_CORE_STRICT", "1")
# Under pytest-xdist (`make test` runs two workers) each worker gets one torch thread, so the two
# share the cores instead of oversubscribing them.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
