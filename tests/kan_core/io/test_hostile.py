"""Hostile input: every bad file is one exact error class with a one-line message, nothing on disk
changes, and the CLI exits 2 with `error: …` and no traceback."""

import io
import json
import os
import pickle
import zipfile

import pytest
import torch

from kan_core import KAN
from kan_core.__main__ import main
from kan_core.errors import DataError, SessionError
from kan_core.io import session
from kan_core.io.data import prepare, read_table
from kan_core.io.session import Session, load_session, session_bytes


def csv_bytes(rows: int, cols: int) -> bytes:
    head = ",".join(f"x{i}" for i in range(cols - 1)) + ",y\n"
    body = "".join(",".join(str((r * 7 + c) % 11) for c in range(cols)) + "\n" for r in range(rows))
    return (head + body).encode()


# (name, file content, expected message fragment); the target is always "y"
DATA_CASES = [
    ("empty", b"", "empty"),
    ("blank", b"  \n\n\t\n", "empty"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    ("zip_as_csv", None, "not a text file"),
    ("no_header", b"1,2,3\n4,5,6\n7,8,9\n", "header row"),
    ("duplicate_names", b"a,a,y\n1,2,3\n4,5,6\n7,8,9\n", "duplicate column name(s): a"),
    ("no_target", b"a,b\n1,2\n3,4\n5,6\n", "target column 'y' not found"),
    ("text_feature", b"a,name,y\n1,x,3\n4,z,6\n7,w,9\n", "non-numeric column(s): name"),
    ("text_target", b"a,y\n1,big\n2,small\n3,big\n", "non-numeric column(s): y"),
    ("formula_cell", b"a,y\n1,2\n=cmd|' /C calc'!A0,3\n4,5\n", "non-numeric column(s): a"),
    ("header_only", b"a,y\n", "only 0 usable row(s)"),
    ("two_rows", b"a,y\n1,2\n3,4\n", "only 2 usable row(s)"),
    ("mostly_missing", b"a,y\n1,\n,2\n3,4\n5,6\n", "only 2 usable row(s)"),
    ("mostly_infinite", b"a,y\n1,inf\n2,-inf\n3,4\n5,6\n", "only 2 usable row(s)"),
    ("constant_feature", b"a,b,y\n1,5,3\n2,5,6\n3,5,9\n", "constant column(s): b"),
    ("constant_target", b"a,y\n1,5\n2,5\n3,5\n", "the target 'y' is constant"),
    ("only_target", b"y\n1\n2\n3\n", "no feature columns"),
    ("ragged_row", b"a,y\n1,2\n3,4,5\n6,7\n8,9\n", "line 3 has 3 fields but the header has 2"),
    ("ragged_first_row", b"a,y\n1,2,3\n4,5\n6,7\n", "line 2 has 3 fields but the header has 2"),
    ("open_quote", b'a,y\n"1,2\n3,4\n5,6\n', "EOF inside string"),
    ("html", b"<html><body><p>not data</p></body></html>\n", "target column 'y' not found"),
    ("too_many_features", csv_bytes(5, 102), "101 features is over 100"),
    ("too_many_rows", csv_bytes(1_000_001, 2), "1,000,001 rows is over 1,000,000"),
    ("over_size_cap", "sparse", "over the 200 MB cap"),
]


def snapshot(*dirs):
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for d in dirs
        for p in sorted(d.rglob("*"))
        if ".pytest_cache" not in p.parts and "__pycache__" not in p.parts
    }


def assert_one_line(err: Exception, fragment: str) -> None:
    msg = str(err)
    assert "\n" not in msg and fragment in msg, msg


def run_cli(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    assert code == 2 and out.err.startswith("error: ") and out.err.count("\n") == 1, out.err
    assert "Traceback" not in out.err + out.out
    return out.err


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize("name, raw, fragment", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_hostile_tables(tmp_path, cwd, capsys, name, raw, fragment):
    path = tmp_path / f"{name}.csv"
    if raw == "sparse":  # a 201 MB file that takes no disk space
        with open(path, "wb") as f:
            f.truncate(201 * 2**20)
    elif raw is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("data.csv", "a,y\n1,2\n")
        path.write_bytes(buf.getvalue())
    else:
        path.write_bytes(raw)
    before = snapshot(tmp_path)
    with pytest.raises(DataError) as err:
        prepare(read_table(path), "y")
    assert_one_line(err.value, fragment)
    assert fragment in run_cli(["discover", str(path), "--target", "y", "--seconds", "1"], capsys)
    assert snapshot(tmp_path) == before


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def good_session() -> bytes:
    model = KAN([2, 3, 1], seed=0, device="cpu")
    return session_bytes(Session(model, {"target": "y", "features": ["a", "b"]}))


def rezip(raw: bytes, replace: dict, drop: tuple = ()) -> bytes:
    """Copy a session zip with some members replaced or removed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            if name not in drop:
                dst.writestr(name, replace.get(name, src.read(name)))
        for name, data in replace.items():
            if name not in src.namelist():
                dst.writestr(name, data)
    return out.getvalue()


def manifest_with(**changes) -> bytes:
    raw = good_session()
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    for key, value in changes.items():
        if key == "widths":
            manifest["model"]["widths"] = value
        else:
            manifest[key] = value
    return rezip(raw, {"manifest.json": json.dumps(manifest)})


def undo_step_without_file() -> bytes:
    return manifest_with(undo={"limit": 3, "steps": [{"stack": "undo"}]})


def wrong_shape(state: dict) -> None:
    state["layers.0.coef"] = torch.zeros(3, 3)


def tensors_with(edit) -> bytes:
    model = KAN([2, 3, 1], seed=0, device="cpu")
    state = {k: v.clone() for k, v in model.state_dict().items()}
    edit(state)
    buf = io.BytesIO()
    torch.save(state, buf)
    return rezip(good_session(), {"model.pt": buf.getvalue()})


def pickled(marker: str, via_torch: bool) -> bytes:
    buf = io.BytesIO()
    if via_torch:
        torch.save({"layers.0.coef": Exploit(marker)}, buf)
    else:
        pickle.dump(Exploit(marker), buf)
    return rezip(good_session(), {"model.pt": buf.getvalue()})


SESSION_CASES = [
    ("empty", lambda m: b"", "not a KAN Studio session"),
    ("csv_renamed", lambda m: b"a,y\n1,2\n", "not a KAN Studio session"),
    ("truncated", lambda m: good_session()[:300], "not a KAN Studio session"),
    ("truncated_tail", lambda m: good_session()[:-40], "not a KAN Studio session"),
    ("flipped_bytes", lambda m: good_session()[:100] + b"\x00" * 200 + good_session()[300:], "damaged"),
    ("manifest_not_json", lambda m: rezip(good_session(), {"manifest.json": b"{nope"}), "not a KAN"),
    ("manifest_list", lambda m: rezip(good_session(), {"manifest.json": b"[1, 2]"}), "wrong format marker"),
    ("no_manifest", lambda m: rezip(good_session(), {}, drop=("manifest.json",)), "not a KAN Studio session"),
    ("no_weights", lambda m: rezip(good_session(), {}, drop=("model.pt",)), "not a KAN Studio session"),
    ("wrong_format", lambda m: manifest_with(format="other/thing"), "wrong format marker"),
    ("future_version", lambda m: manifest_with(version=99), "newer KAN Studio (format 99)"),
    ("huge_widths", lambda m: manifest_with(widths=[10**9, 1]), "invalid or out of range"),
    ("bad_widths", lambda m: manifest_with(widths="[2, 3, 1]"), "invalid or out of range"),
    ("meta_not_object", lambda m: manifest_with(meta=[1]), "damaged manifest"),
    ("undo_missing_file", lambda m: undo_step_without_file(), "damaged manifest"),
    ("wrong_shapes", lambda m: tensors_with(wrong_shape), "restored"),
    ("bad_function_id", lambda m: tensors_with(lambda s: s["layers.1.sym"].fill_(999)), "restored"),
    ("nan_weights", lambda m: tensors_with(lambda s: s["layers.0.coef"].fill_(float("nan"))), "restored"),
    ("torch_pickle", lambda m: pickled(m, True), "could not be restored"),
    ("raw_pickle", lambda m: pickled(m, False), "could not be restored"),
    ("zip_bomb", lambda m: rezip(good_session(), {"pad.bin": b"\x00" * (3 * 2**20)}), "more than 1 MB"),
]


@pytest.mark.parametrize("name, make, fragment", SESSION_CASES, ids=[c[0] for c in SESSION_CASES])
def test_hostile_sessions(tmp_path, cwd, capsys, monkeypatch, name, make, fragment):
    marker = tmp_path / "pwned"
    path = tmp_path / f"{name}.kan"
    raw = make(str(marker))
    if name == "zip_bomb":  # a 3 MB member against a 1 MB cap stands for a 200 MB one
        monkeypatch.setattr(session, "MAX_BYTES", 2**20)
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            manifest = json.loads(zf.read("manifest.json"))
        manifest["undo"]["steps"] = [{"stack": "undo", "label": "x", "file": "pad.bin", "model": {}}]
        raw = rezip(raw, {"manifest.json": json.dumps(manifest)})
    path.write_bytes(raw)
    before = snapshot(tmp_path)
    with pytest.raises(SessionError) as err:
        load_session(path)
    assert_one_line(err.value, fragment)
    assert fragment in run_cli(["inspect", str(path)], capsys)
    assert snapshot(tmp_path) == before and not os.path.exists(marker)


def test_missing_files_and_the_cli_in_a_real_process(tmp_path):
    import subprocess
    import sys

    with pytest.raises(SessionError, match="session file not found"):
        load_session(tmp_path / "absent.kan")
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "absent.csv")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,a,y\n1,2,3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "kan_core", "discover", str(bad), "--target", "y"],
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error: duplicate column name(s): a")
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
