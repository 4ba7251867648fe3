"""User strings are inert where the studio shows them (issue #12): Markdown, LaTeX, Plotly."""

import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from app.plots import importance_figure, prediction_figure
from app.text import md, plotly_text

SPECIAL = set("\\`*_[]#|<>~$&")


@given(st.text(max_size=40))
def test_every_markdown_special_character_is_escaped(text):
    out = md(text)
    assert "\n" not in out
    unescaped = re.sub(r"\\.", "", out)  # drop every escaped pair: no special character may remain
    assert not SPECIAL & set(unescaped)
    assert re.sub(r"\\(.)", r"\1", out) == text.replace("\n", " ")  # shown as typed


def test_markdown_image_link_and_latex_are_escaped():
    assert md("![x](http://example.invalid/a.png)") == r"!\[x\](http://example.invalid/a.png)"
    assert md(r"$\input{/etc/passwd}$") == r"\$\\input{/etc/passwd}\$"
    assert md(":red[alert]") == r":red\[alert\]"


def test_plotly_labels_escape_pseudo_html():
    name = '<a href="http://example.invalid">x</a>'
    assert plotly_text(name) == '&lt;a href="http://example.invalid"&gt;x&lt;/a&gt;'
    fig = importance_figure([name, "b"], [1.0, 0.5])
    assert "<a" not in str(fig.data[0].y)
    fig = prediction_figure(np.array([1.0, 2.0]), np.array([1.0, 2.0]), "<b>y</b>")
    assert "<b>" not in fig.layout.xaxis.title.text
