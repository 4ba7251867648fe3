import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kan_core.errors import DataError
from kan_core.io.data import prepare, read_table


def table(text: str, encoding: str = "utf-8") -> pd.DataFrame:
    return read_table(text.encode(encoding))


@pytest.mark.parametrize(
    "text, encoding",
    [
        ("a,b,y\n1,2,3\n4,5,6\n", "utf-8"),
        ("\ufeffa;b;y\n1,0;2;3\n4;5;6,0\n", "utf-8"),  # BOM, semicolons, decimal commas
        ("a\tb\ty\n1\t2\t3\n4\t5\t6\n", "utf-8"),
        ("a,b,y\n1,2,3\n4,5,6\n", "latin-1"),
    ],
)
def test_delimiters_encodings_and_decimal_commas(text, encoding):
    df = table(text, encoding)
    assert list(df.columns) == ["a", "b", "y"]
    assert np.allclose(df.to_numpy(float), [[1, 2, 3], [4, 5, 6]])


def test_latin1_names_survive():
    df = read_table("température;y\n1;2\n3;4\n".encode("latin-1"))
    assert list(df.columns) == ["température", "y"]


@pytest.mark.parametrize(
    "raw, match",
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a text file"),
        (b"1,2,3\n4,5,6\n", "header row"),
        (b"a,a,y\n1,2,3\n4,5,6\n", "duplicate column name"),
    ],
)
def test_unreadable_files_are_one_line_errors(raw, match):
    with pytest.raises(DataError, match=match) as err:
        read_table(raw)
    assert "\n" not in str(err.value)


def test_size_cap_and_missing_file(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("a,y\n" + "1,2\n" * 1000)
    with pytest.raises(DataError, match="over the 0 MB cap"):
        read_table(big, max_bytes=100)
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "nope.csv")


def test_prepare_selects_checks_and_explains():
    df = pd.DataFrame(
        {"x": [1, 2, 3, 4, np.nan, 6], "name": list("abcdef"), "c": 1.0, "y": [1, 2, 3, 4, 5, np.inf]}
    )
    with pytest.raises(DataError, match="target column 'z' not found"):
        prepare(df, "z")
    with pytest.raises(DataError, match="non-numeric column\\(s\\): name"):
        prepare(df, "y")
    with pytest.raises(DataError, match="constant column\\(s\\): c"):
        prepare(df, "y", features=["x", "c"])
    with pytest.raises(DataError, match=r"1 missing, 1 infinite value\(s\) in 2 row\(s\) \(first: row 6\)"):
        prepare(df, "y", features=["x"], drop_missing=False)
    ds = prepare(df, "y", features=["x"])
    assert ds.X.shape == (4, 1) and ds.dropped_rows == 2 and ds.small
    assert any("dropped 2 row(s)" in w for w in ds.warnings) and any("only 4 rows" in w for w in ds.warnings)
    with pytest.raises(DataError, match="over 1; choose"):
        prepare(df, "y", features=["x", "c"], max_features=1)
    with pytest.raises(DataError, match="only 2 usable"):
        prepare(df.iloc[:2], "y", features=["x"])


FAST = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def load_or_data_error(raw: bytes) -> None:
    """The loader's whole contract: a table or a one-line DataError, nothing else."""
    try:
        df = read_table(raw)
        prepare(df, str(df.columns[-1]))
    except DataError as err:
        assert "\n" not in str(err)


@FAST
@given(st.binary(max_size=400))
def test_random_bytes_only_raise_data_error(raw):
    load_or_data_error(raw)


cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6),
    st.sampled_from(["", "NA", "nan", "-", "1,5", '"', "inf", "1e999"]),
)


@FAST
@given(
    st.lists(st.text(min_size=0, max_size=5), min_size=1, max_size=5),
    st.lists(st.lists(cell, min_size=0, max_size=6), max_size=8),
    st.sampled_from([",", ";", "\t"]),
)
def test_random_tables_only_raise_data_error(header, rows, sep):
    text = sep.join(header) + "\n" + "\n".join(sep.join(r) for r in rows)
    load_or_data_error(text.encode("utf-8"))
