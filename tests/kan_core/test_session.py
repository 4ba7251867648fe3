import io
import json
import os
import pickle
import zipfile

import pytest
import torch

from kan_core import KAN, fit
from kan_core.errors import SessionError
from kan_core.session import UndoHistory, load_session, save_session


def trained():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(200, 2, generator=g)
    model = KAN([2, [1, 1], 1], seed=0, device="cpu")
    fit(model, X, X[:, :1] * X[:, 1:], steps=5)
    model = model.refine(7, X)
    model.layers[0].set_mask(1, 0, False)
    model.layers[1].set_symbolic(0, 0, "sin", (1.0, 0.5, 2.0, 0.1), trainable=False)
    return model, X


def test_round_trip_restores_the_same_function(tmp_path):
    model, X = trained()
    path = tmp_path / "s.kan"
    save_session(path, model, {"target": "y", "features": ["a", "b"]})
    back, meta = load_session(path)
    assert meta == {"target": "y", "features": ["a", "b"]}
    with torch.no_grad():
        assert torch.equal(back(X), model(X))
    assert back.layers[0].grid == 7 and not back.layers[1].sym_train[0, 0]


def write_zip(path, manifest, blob=b""):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("model.pt", blob)


@pytest.mark.parametrize("case", ["truncated", "not_zip", "wrong_format", "future", "missing"])
def test_bad_files_are_one_line_errors(tmp_path, case):
    model, _ = trained()
    path = tmp_path / "s.kan"
    save_session(path, model)
    if case == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif case == "not_zip":
        path.write_text("a,b\n1,2\n")
    elif case == "wrong_format":
        write_zip(path, {"format": "something", "version": 1})
    elif case == "future":
        write_zip(path, {"format": "kan-studio/session", "version": 99, "model": {}})
    else:
        path = tmp_path / "absent.kan"
    with pytest.raises(SessionError) as err:
        load_session(path)
    assert "\n" not in str(err.value)


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # would create the marker file when unpickled


def test_a_pickle_payload_is_refused_and_never_runs(tmp_path):
    model, _ = trained()
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save({"layers.0.coef": Exploit(str(marker))}, buf, pickle_protocol=2)
    config = model.config()
    path = tmp_path / "evil.kan"
    write_zip(path, {"format": "kan-studio/session", "version": 1, "model": config}, buf.getvalue())
    with pytest.raises(SessionError, match="could not be restored"):
        load_session(path)
    assert not marker.exists()
    raw = tmp_path / "raw.kan"
    write_zip(
        raw,
        {"format": "kan-studio/session", "version": 1, "model": config},
        pickle.dumps(Exploit(str(marker))),
    )
    with pytest.raises(SessionError):
        load_session(raw)
    assert not os.path.exists(marker)


def test_undo_redo_is_bounded():
    model, _ = trained()
    hist = UndoHistory(limit=2)
    states = [model]
    for step in range(3):
        nxt = KAN([2, [1, 1], 1], seed=step + 10, device="cpu")
        hist.push(f"step {step}", states[-1])
        states.append(nxt)
    assert hist.labels == (["step 1", "step 2"], [])
    back = hist.undo(states[-1])
    assert torch.equal(back.layers[0].coef, states[2].layers[0].coef)
    fwd = hist.redo(back)
    assert torch.equal(fwd.layers[0].coef, states[3].layers[0].coef)
    hist.undo(fwd)
    hist.undo(states[2])
    with pytest.raises(SessionError, match="nothing to undo"):
        hist.undo(states[1])
