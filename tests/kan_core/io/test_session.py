import io
import json
import os
import pickle
import zipfile

import pytest
import torch

from kan_core import KAN, fit
from kan_core.__main__ import main
from kan_core.errors import SessionError
from kan_core.io.session import Session, UndoHistory, load_session, save_session, session_bytes
from kan_core.symbolic.edges import edge_text


def trained():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(200, 2, generator=g)
    model = KAN([2, [1, 1], 1], seed=0, device="cpu")
    fit(model, X, X[:, :1] * X[:, 1:], steps=5)
    model = model.refined(7, X)
    model.layers[0].set_mask(1, 0, False)
    model.layers[1].set_symbolic(0, 0, "sin", (1.0, 0.5, 2.0, 0.1), trainable=False)
    return model, X


def test_round_trip_restores_the_same_function(tmp_path):
    model, X = trained()
    path = tmp_path / "s.kan"
    undo = UndoHistory(limit=5)
    undo.push("prune edge", KAN([2, [1, 1], 1], seed=3, device="cpu"))
    undo.push("snap edge", model)
    undo.undo(model)  # one step on each stack
    meta = {"target": "y", "features": ["a", "b"], "fingerprint": "abc"}
    history = {"step": [1, 2], "train_loss": [0.5, 0.25]}
    save_session(path, Session(model, meta, history, undo))
    back = load_session(path)
    assert back.meta == meta and back.history == history
    with torch.no_grad():
        assert torch.equal(back.model(X), model(X))
    assert back.model.layers[0].grid == 7 and not back.model.layers[1].sym_train[0, 0]
    assert back.undo.labels == (["prune edge"], ["snap edge"]) and back.undo.limit == 5
    redone = back.undo.redo(back.model)
    with torch.no_grad():
        assert torch.equal(redone(X), model(X))  # the redo entry is the snapped model itself
    assert load_session(session_bytes(Session(model))).undo.labels == ([], [])


def write_zip(path, manifest, blob=b""):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("model.pt", blob)


@pytest.mark.parametrize("case", ["truncated", "not_zip", "wrong_format", "future", "missing"])
def test_bad_files_are_one_line_errors(tmp_path, case):
    model, _ = trained()
    path = tmp_path / "s.kan"
    save_session(path, Session(model))
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


def test_a_failed_save_leaves_the_old_file_intact(tmp_path):
    model, _ = trained()
    path = tmp_path / "s.kan"
    save_session(path, Session(model, {"v": 1}))
    before = path.read_bytes()
    with pytest.raises(TypeError):
        save_session(path, Session(model, {"v": object()}))  # not JSON: fails before the rename
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["s.kan"]


def test_inspect_prints_structure_snaps_and_formula(tmp_path, capsys):
    g = torch.Generator().manual_seed(1)
    X = torch.rand(100, 2, generator=g)
    model = KAN([2, 1], seed=0, device="cpu")
    model.set_normalization(X, X[:, :1])
    model.layers[0].set_symbolic(0, 0, "sin", (2.0, 0.0, 1.0, 0.0))
    model.layers[0].set_mask(1, 0, False)
    path = tmp_path / "s.kan"
    save_session(path, Session(model, {"target": "F", "features": ["v [m/s]", "lambda"]}))
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "edges: 2 total, 1 pruned, 1 snapped, 0 splines" in out
    # The studio's notation, in the column's units: sin(2·z) with z = (v − shift)/scale.
    scale, shift = float(model.in_scale[0]), float(model.in_shift[0])
    assert f"layer 0, 0 → 0: {edge_text('sin', 2 / scale, -2 * shift / scale, 1.0, 0.0, 'v [m/s]')}" in out
    assert "formula: F = " in out and "sin(" in out and "v_m_s" in out
    model.layers[0].clear_symbolic(0, 0)
    save_session(path, Session(model))
    assert main(["inspect", str(path)]) == 0
    assert "formula: not available yet (1 edge(s) are still splines" in capsys.readouterr().out
