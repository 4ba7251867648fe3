"""The shareable report: one self-contained HTML file (formula, constants with intervals, metrics,
Pareto table, plots, data fingerprint, settings) that reads offline in any browser. The formula is
MathML (rendered by the browser itself) with its LaTeX beside it; plotly.js is inlined once."""

from __future__ import annotations

import datetime as dt
import html

import plotly.graph_objects as go
import sympy as sp

from kan_core.discovery.search import Result
from kan_core.symbolic.export import to_latex
from kan_core.symbolic.uncertainty import METHOD, Interval

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
.formula{overflow-x:auto;font-size:1.3em;padding:.5em;border:1px solid #ddd;border-radius:4px}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:.5em}
.warn{background:#fff3cd;border:1px solid #e0c060;padding:.5em}
td.f{max-width:600px;word-break:break-all}
"""


def _table(rows: list[dict]) -> str:
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='{'f' if k == 'formula' else ''}'>{html.escape(str(v))}</td>" for k, v in r.items()
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _mathml(expr: sp.Expr, symbols: list[sp.Symbol], names: list[str], target: str) -> str:
    """`target = expr` as presentation MathML; names shown as typed (escaped by the printer)."""
    shown = {s: sp.Symbol(n) for s, n in zip(symbols, names)}
    body = sp.mathml(sp.Eq(sp.Symbol(target), expr.xreplace(shown), evaluate=False), printer="presentation")
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">{body}</math>'


def report_html(
    res: Result,
    shown: sp.Expr,
    found: list[Interval],
    figures: list[go.Figure],
    *,
    source: str,
    fingerprint: str,
    settings: dict,
    notes: list[str],
) -> str:
    """The report as one HTML page.

    Parameters
    ----------
    res : Result
        The formulas (best and Pareto front) with their metrics.
    shown : sympy.Expr
        The best formula with constants rounded for display.
    found : list of Interval
        Its constants' 95% intervals (`kan_core.symbolic.uncertainty.intervals`).
    figures : list of plotly Figure
        Embedded in order; plotly.js is inlined with the first (include_plotlyjs=True).
    source, fingerprint, settings, notes
        The data's name and SHA-256, the settings used, and the trust notes shown on the page.
    """
    e = html.escape
    latex = to_latex(res.best.expr, res.symbols, res.variables)
    consts = [
        {
            "constant": f"c{i}",
            "value": iv.text,
            "95% interval": f"[{iv.low:.6g}, {iv.high:.6g}]",
            "full": repr(iv.value),
        }
        for i, iv in enumerate(found)
    ]
    metrics = [
        {"metric": k, "value": f"{v:.6g}" if isinstance(v, float) else v} for k, v in res.metrics.items()
    ]
    pareto = [
        {
            "complexity": c.complexity,
            "validation MSE": f"{c.val_mse:.4g}",
            "best": "★" if c is res.best and not notes else "",
            "formula": str(c.expr),
            "route": c.route,
        }
        for c in res.pareto
    ]
    plots = "".join(
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, fig in enumerate(figures)
    )
    warn = "".join(f"<p class='warn'>{e(n)}</p>" for n in notes)
    settings_rows = [{"setting": k, "value": v} for k, v in settings.items()]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>KAN Studio report: {e(res.target)}</title>
<style>{STYLE}</style></head><body>
<h1>KAN Studio report: {e(res.target)}</h1>
<p>Data: <b>{e(source)}</b> · {e(when)}</p>
{warn}
<h2>Formula</h2>
<div class="formula" id="formula">{_mathml(shown, res.symbols, res.variables, res.target)}</div>
<p>Text: <code>{e(res.target)} = {e(str(shown))}</code></p>
<details><summary>LaTeX (full precision)</summary><pre>{e(latex)}</pre></details>
<h2>Constants (95% intervals)</h2>
<p>{e(METHOD.format(n="up to 100"))}</p>
{_table(consts)}
<h2>Metrics</h2>
{_table(metrics)}
<h2>Accuracy / complexity trade-off (Pareto front)</h2>
{_table(pareto)}
<h2>Plots</h2>
{plots}
<h2>Data and settings</h2>
<p>Data fingerprint (SHA-256 of the inputs and target): <code>{e(fingerprint)}</code></p>
{_table(settings_rows)}
</body></html>
"""
