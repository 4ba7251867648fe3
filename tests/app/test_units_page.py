"""Units in the studio: a units field per column filled from the table, checked, kept in the
workspace, and the Formula page's constants shown in the columns' units."""

import numpy as np
import pytest

from app.persist import open_workspace, workspace_files
from app.state import Studio
from kan_core.errors import DataError


def _fall_csv(n=120, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    t, m = rng.uniform(0.5, 3, n), rng.uniform(1, 5, n)
    rows = "\n".join(f"{a:.6f},{b:.6f},{4.905 * a * a:.8f}" for a, b in zip(t, m))
    return f"time,mass,distance\ns,kg,m\n{rows}\n".encode()


def test_units_are_checked_set_and_kept_in_the_workspace():
    s = Studio()
    s.load_upload(_fall_csv(), "fall.csv")
    assert s.dataset.units == {"time": "s", "mass": "kg", "distance": "m"}
    with pytest.raises(DataError, match="column 'mass': cannot read the unit 'flibbles'"):
        s.set_units({"time": "s", "mass": "flibbles", "distance": "m"})
    assert s.df.attrs["units"]["mass"] == "kg"  # a bad unit changes nothing
    s.set_units({"time": "s", "mass": "g", "distance": "m"})
    assert s.dataset.units["mass"] == "g"
    fresh = Studio()
    assert open_workspace(fresh, workspace_files(s)) is None
    assert fresh.df.attrs["units"] == {"time": "s", "mass": "g", "distance": "m"}


def test_the_pages_show_units_and_constants_with_their_units(at):
    up = [u for u in at.file_uploader if u.label == "Upload CSV"][0]
    up.set_value(("fall.csv", _fall_csv(), "text/csv")).run()
    assert not at.exception
    studio = at.session_state["studio"]
    assert studio.dataset.target == "distance"
    assert any(e.label == "Units" for e in at.expander)  # the per-column units table
    assert any("Buckingham π groups" in c.value for c in at.caption)
    res = studio.run_discover(6)
    assert [(round(v, 3), u) for v, u in res.constant_units()] == [(4.905, "m/s²")]
    at.switch_page("app/pages/formula.py").run()
    assert not at.exception
    frames = [f.value for f in at.dataframe]
    units = [f for f in frames if "unit" in f.columns]
    assert units and "m/s²" in list(units[0]["unit"])
    assert any("dimensions" in f.columns for f in frames)
