"""User text (column names, file names, cell text in messages) made inert for where it is shown."""

from __future__ import annotations

import html
import re

# What makes Markdown do something: emphasis, code, links and images ([…](…)), Streamlit's $…$ LaTeX
# and :color[…] directives, headings, tables, HTML and entities. ( ) : ! alone are inert.
_MARKDOWN = re.compile(r"([\\`*_\[\]#|<>~$&])")


def md(text: object) -> str:
    """`text` as literal characters in Streamlit Markdown (st.caption, st.warning, st.error, …):
    every Markdown, LaTeX and directive character escaped, so a name such as `![x](http://…)` or
    `$\\input{…}$` shows as typed and makes the browser fetch nothing."""
    return _MARKDOWN.sub(r"\\\1", str(text)).replace("\n", " ")


def plotly_text(text: object) -> str:
    """`text` as literal characters in a Plotly title, tick or hover label (Plotly reads a subset
    of HTML there: <a href>, <b>, <br>)."""
    return html.escape(str(text), quote=False)
