"""Writing the weekly summary: the Jinja2 template, autoescaped, and the number formats.

Every value reaches the page through the template, which escapes it (comment text, names and
captions are data, never markup). The only markup not escaped is what Plotly writes: the
figures (`figure_html`, their JSON with "<" escaped by Plotly) and plotly.js itself, inlined
once, so the file opens with no network at all; a Content-Security-Policy in the file forbids
it to load anything.
"""

from __future__ import annotations

import numbers
from datetime import UTC
from types import MappingProxyType
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from desk.text import duration

PLOTLY_CONFIG = MappingProxyType({"displaylogo": False, "responsive": True,
                                  "modeBarButtonsToRemove": ["sendDataToCloud"]})


def render_report(context: dict[str, Any]) -> bytes:
    """The summary's HTML file (UTF-8) from what desk.report.weekly gathered."""
    charts = {name: figure_html(figure, f"chart-{name.replace('_', '-')}")
              for name, figure in context["charts"].items() if figure is not None}
    page = environment().get_template("weekly.html.j2").render(
        {**context, "charts": charts, "plotly_js": plotly_js()})
    return page.encode("utf-8")


def environment() -> Environment:
    """The template environment: autoescape on for everything, unknown names an error."""
    env = Environment(loader=PackageLoader("desk.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters.update(number=number, change=change, raw=raw, duration=duration,
                       moment=moment)
    return env


def figure_html(figure: Any, div_id: str) -> Markup:
    """A Plotly figure as a <div> and the script that draws it (plotly.js is in the page
    once, not here); a fixed id keeps the file the same for the same data."""
    return Markup(figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,  # noqa: S704 (Plotly's own output)
                                 config=dict(PLOTLY_CONFIG)))


def plotly_js() -> Markup:
    """plotly.js, the bundle the installed plotly package ships, for an inline <script>."""
    from plotly.offline import get_plotlyjs

    bundle = get_plotlyjs()
    if "</script" in bundle.lower():
        raise ValueError("plotly.js cannot be inlined: it contains a closing script tag")
    return Markup(bundle)  # noqa: S704 (the bundle itself)


# --- formats -------------------------------------------------------------------------------


def number(value: Any, kind: str, unit: str = "") -> str:
    """A key number as people read it: '1,234', '45.0%', '1 h 30 min', '12.50 EUR', '3.21';
    '–' when there is none."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "share":
        return f"{float(value):.1%}"
    if kind == "minutes":
        return duration(value)
    if kind == "money":
        return f"{float(value):,.2f} {unit}".strip()
    if kind == "rate":
        return f"{float(value):,.2f}"
    raise ValueError(f"no format for {kind!r}")


def change(row: Any) -> str:
    """This week against the week before: '+12 (+25%)', '+3.1 pts', '−15 min'; '–' when either
    is missing."""
    this, before = row.this, row.before
    if this is None or before is None:
        return "–"
    diff = float(this) - float(before)
    if diff == 0:
        return "no change"
    sign = "+" if diff > 0 else "−"
    if row.kind == "count":
        relative = f" ({sign}{abs(diff) / before:.0%})" if before else ""
        return f"{sign}{abs(int(diff)):,}{relative}"
    if row.kind == "share":
        return f"{sign}{abs(diff) * 100:.1f} pts"
    if row.kind == "minutes":
        return f"{sign}{duration(abs(diff))}"
    return f"{sign}{number(abs(diff), row.kind, row.unit)}"


def raw(value: Any) -> str:
    """A number exactly, for the table's data-value attributes ('' for none)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return repr(int(value)) if isinstance(value, numbers.Integral) else repr(float(value))


def moment(value: Any) -> str:
    """A stored instant as '2025-03-10 08:00 UTC'; a local wall-clock time as
    '2025-03-10 08:00'."""
    if value is None or value is pd.NaT:
        return "–"
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        return f"{stamp:%Y-%m-%d %H:%M}"
    return f"{stamp.to_pydatetime().astimezone(UTC):%Y-%m-%d %H:%M} UTC"
