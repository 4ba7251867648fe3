"""The Formula page's "Open a report": discover-many (.jsonl) and search (.json) reports, read with
json only; a bad file is one line."""

import json

import pytest

from app.reports import read_report
from kan_core.errors import DataError

BATCH = [
    {"table": "runs/a.csv", "status": "ok", "formula": "2*x*z", "law": "c0*x*z", "constants": [2.0]},
    {"table": "runs/b.csv", "status": "ok", "formula": "3*x*z", "law": "c0*x*z", "constants": [3.0]},
    {"table": "runs/c.csv", "status": "ok", "formula": "x + z", "law": "x + z", "constants": []},
    {"table": "runs/d.csv", "status": "timeout"},
]
SEARCH = {
    "kind": "search",
    "front": [
        {"complexity": 1, "val_loss": 0.68, "formula": "3.39", "trial": "t2", "best": False},
        {"complexity": 3, "val_loss": 1e-20, "formula": "x0*x1", "trial": "t1", "best": True},
    ],
    "trials": [{"status": "ok"}, {"status": "stopped early"}, {"status": "ok"}],
    "best": {"formula": "x0*x1", "config": {"route": "polynomial", "grid": 5}},
}


def jsonl(rows) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


def test_a_discover_many_report_shows_the_laws_most_common_first():
    report = read_report(jsonl(BATCH), "laws.jsonl")
    assert report.kind == "discover-many"
    assert report.table.to_dict("records") == [
        {"law": "c0*x*z", "tables": 2, "formulas": 2, "names": "runs/a.csv, runs/b.csv"},
        {"law": "x + z", "tables": 1, "formulas": 1, "names": "runs/c.csv"},
    ]
    assert report.notes == ["4 table(s), 2 law(s), 1 failed", "runs/d.csv: timeout"]


def test_a_search_report_shows_the_front_and_the_best_configuration():
    report = read_report(json.dumps(SEARCH).encode(), "search.JSON")
    assert report.kind == "search"
    assert list(report.table["formula"]) == ["3.39", "x0*x1"] and list(report.table["best"]) == ["", "★"]
    assert report.notes == [
        "3 trial(s), 1 stopped early by ASHA",
        "best configuration: route = polynomial, grid = 5",
    ]


@pytest.mark.parametrize(
    "raw, name, message",
    [
        (b"\xff\xfe\x00bad", "r.jsonl", "not UTF-8"),
        (b'{"table": "a", "status": "ok"}\nnot json', "r.jsonl", "line 1 has no valid 'formula'"),
        (b'{"table": "a", "status": "timeout"}\n{oops', "r.jsonl", "line 2 is not JSON"),
        (b"", "r.jsonl", "holds no rows"),
        (b"[1, 2]", "r.json", "not a search report"),
        (
            json.dumps({"kind": "search", "front": [{"complexity": "3"}]}).encode(),
            "r.json",
            "entry 0 has no valid",
        ),
        (
            json.dumps(
                {"kind": "search", "front": [{"complexity": True, "val_loss": 1, "formula": "x"}]}
            ).encode(),
            "r.json",
            "no valid 'complexity'",
        ),
        (
            b'{"kind": "search", "front": [{"complexity": 1, "val_loss": NaN, "formula": "x"}]}',
            "r.json",
            "finite",
        ),
        (b"x", "r.pkl", "neither .json"),
    ],
)
def test_bad_report_files_are_refused_in_one_line(raw, name, message):
    with pytest.raises(DataError, match=message) as err:
        read_report(raw, name)
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_the_formula_page_opens_a_report_and_refuses_a_bad_one_in_one_line(at):
    at.switch_page("app/pages/formula.py").run()
    upload = [u for u in at.file_uploader if u.label == "Open a report"][0]
    upload.set_value(("laws.jsonl", jsonl(BATCH), "application/json")).run()
    assert not at.exception and not at.error
    assert any("c0*x*z" in set(df.value["law"]) for df in at.dataframe if "law" in df.value)
    upload = [u for u in at.file_uploader if u.label == "Open a report"][0]
    upload.set_value(("bad.jsonl", b"{oops", "application/json")).run()
    assert [e.value for e in at.error] == [
        "bad.jsonl line 1 is not JSON; open the .jsonl that discover-many wrote"
    ]
