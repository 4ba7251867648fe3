"""Units read from headers, a units row, a mapping and the CLI option (kan_core.units)."""

import numpy as np
import pytest

from kan_core import units as U
from kan_core.errors import ConfigError, DataError
from kan_core.io.data import prepare, read_table


@pytest.mark.parametrize(
    "header, expected",
    [
        ("v [m/s]", ("v", "m/s")),
        ("P (kPa)", ("P", "kPa")),
        ("T [K]", ("T", "K")),
        ("q [C]", ("q", "C")),
        ("E_n [J]", ("E_n", "J")),
        ("rho [kg/m**3]", ("rho", "kg/m**3")),
        ("V [m3]", ("V", "m3")),
        ("f(x)", None),  # parentheses pint cannot read stay part of the name
        ("f(t)", None),  # function notation, not "f in tonnes": a unit needs a space before "("
        ("rho(T)", None),
        ("count (approx)", None),
        ("y", None),
        ("x [flibbles per bushel]", ("x", "flibbles per bushel")),  # brackets always mean a unit
    ],
)
def test_split_header(header, expected):
    assert U.split_header(header) == expected


@pytest.mark.parametrize(
    "text, vector",
    [
        ("m/s", [1, 0, -1, 0, 0, 0, 0]),
        ("kPa", [-1, 1, -2, 0, 0, 0, 0]),
        ("m3", [3, 0, 0, 0, 0, 0, 0]),
        ("s-1", [0, 0, -1, 0, 0, 0, 0]),
        ("J/(mol*K)", [2, 1, -2, -1, -1, 0, 0]),
        ("kg m^-3", [-3, 1, 0, 0, 0, 0, 0]),
        ("-", [0] * 7),
        ("rad", [0] * 7),
        ("C", [0, 0, 1, 0, 0, 1, 0]),
    ],
)
def test_dimension_vectors(text, vector):
    np.testing.assert_array_equal(U.vector(U.parse(text, "c")), vector)


@pytest.mark.parametrize(
    "text",
    [
        "flibbles per bushel",
        "m**13",
        "2**9**9",
        "(9)**99",
        "x" * 41,
        "m/",
        "9⁹**9",  # superscripts become ** inside pint: refused before it computes 9**(9**9)
        "((9))**((9))**((9))",
        "m*9⁹**9⁹",
        "m**nan",
        "m**0.5**0.5",
    ],
)
def test_unreadable_units_are_one_line_naming_the_column_and_text(text):
    with pytest.raises(DataError) as err:
        U.parse(text, "speed")
    msg = str(err.value)
    assert "\n" not in msg and "'speed'" in msg and "unit" in msg


def test_scientific_notation_is_not_a_power():
    assert U.parse("1e-3 m", "x") == U.parse("m", "x") and U.parse("1e3 kg", "m") == U.parse("kg", "m")


def test_the_note_says_how_pint_read_each_unit():
    df = read_table(b"T (C),v [m/s],n\n1,2,4\n2,3,5\n3,4,7\n")
    assert "T in C (coulomb), v in m/s (meter / second)" in df.attrs["notes"][0]


def test_headers_units_row_and_renames():
    df = read_table(b"n_mol,T [K],V (m3),P [Pa]\n1,300,0.1,24942\n2,310,0.2,25774\n3,320,0.3,26605\n")
    assert list(df.columns) == ["n_mol", "T", "V", "P"]
    assert df.attrs["units"] == {"T": "K", "V": "m3", "P": "Pa"}
    assert any("units read from the headers" in n for n in df.attrs["notes"])
    ds = prepare(df, "P [Pa]")  # the full header still names the column
    assert (
        ds.target == "P"
        and ds.features == ["n_mol", "T", "V"]
        and ds.units == {"T": "K", "V": "m3", "P": "Pa"}
    )
    row = read_table(b"time,mass,distance\ns,kg,m\n1,2,4.9\n2,3,19.6\n3,1,44.1\n")
    assert row.attrs["units"] == {"time": "s", "mass": "kg", "distance": "m"} and len(row) == 3
    dash = read_table(b"v,t,x\nm/s,-,m\n1,2,3\n2,3,4\n3,4,6\n")  # '-': dimensionless, not missing
    assert dash.attrs["units"] == {"v": "m/s", "x": "m", "t": "-"} and len(dash) == 3


def test_clashing_bare_names_keep_their_headers():
    df = read_table(b"x [m],x [s],y\n1,2,3\n2,3,4\n3,4,5\n")
    assert list(df.columns) == ["x [m]", "x [s]", "y"] and df.attrs["units"] == {"x [m]": "m", "x [s]": "s"}


def test_mapping_and_cli_option():
    assert U.parse_option("v=m/s,P=kPa; R=J/(mol*K)") == {"v": "m/s", "P": "kPa", "R": "J/(mol*K)"}
    with pytest.raises(ConfigError, match="NAME=UNIT"):
        U.parse_option("v:m/s")
    with pytest.raises(ConfigError, match="not a column"):
        U.check_mapping({"w": "m"}, ["v", "t"])


def test_constant_display_units():
    factor, unit = U.simplest(U.parse("Pa*m^3/(mol*K)", "R"))
    assert factor == pytest.approx(1.0) and U.pretty(unit) == "J/(K·mol)"
    assert U.simplest(U.parse("km/m", "r")) == (pytest.approx(1000.0), U.registry().dimensionless)
    factor, unit = U.simplest(U.parse("kPa*L", "E"))  # 1 kPa·L = 1 J
    assert factor == pytest.approx(1.0) and U.pretty(unit) == "J"
    assert U.is_offset(U.parse("degC", "T")) and not U.is_offset(U.parse("K", "T"))


def test_feynman_units_file(tmp_path):
    f = tmp_path / "u.csv"
    f.write_text("Variable,Units,m,s,kg,T,V\nq,Charge,2,-2,1,0,-1\nv,Speed,1,-1,0,0,0\nalpha,-,0,0,0,0,0\n")
    table = U.read_dimension_table(str(f))
    for bad in ("x,L,0.5,0,0,0,0\n", "x,L,inf,0,0,0,0\n", "q,Charge,2,-2,1,0,-1\n"):
        g = tmp_path / "bad.csv"
        g.write_text(f.read_text() + bad)
        with pytest.raises(DataError, match="line 5"):
            U.read_dimension_table(str(g))
    assert table == {"q": "m**2*s**-2*kg*V**-1", "v": "m*s**-1", "alpha": "1"}
    np.testing.assert_array_equal(U.vector(U.parse(table["q"], "q")), U.vector(U.parse("C", "q")))
