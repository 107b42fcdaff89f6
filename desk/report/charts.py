"""The weekly summary's charts (Plotly figures; render.py writes them into the file).

No comment text is ever in a chart. Names (ads, captions) pass through `chart_label`, which
makes them inert in Plotly's HTML-like labels; Plotly itself writes the figure's JSON with
"<" escaped, so no text can close the script that holds it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from desk.moderation.labels import LABEL_NAMES, LABELS
from desk.text import chart_label

THIS_WEEK = "#fe2c55"
WEEK_BEFORE = "#8a8f98"
WITHIN = "#c9ccd1"
SENTIMENT_COLOURS = {"negative": "#fe2c55", "neutral": "#c9ccd1", "positive": "#25c28a"}
_MARGIN = {"l": 8, "r": 8, "t": 8, "b": 8}
_TEMPLATE = "plotly_white"


def day_label(moment) -> str:
    """'Mon 3 Mar'."""
    stamp = pd.Timestamp(moment)
    return f"{stamp:%a} {stamp.day} {stamp:%b}"


def per_day(this: pd.DataFrame, before: pd.DataFrame, tz: str) -> go.Figure:
    """Comments and replies per day of the week (bars), the week before's on the same
    weekdays (a line); frames as comment_volume_over_time gives them (one series)."""
    days = [day_label(b) for b in this["bucket"]]
    figure = go.Figure()
    figure.add_trace(go.Bar(
        x=days, y=[int(v) for v in this["comments"]], name="This week",
        marker_color=THIS_WEEK, hovertemplate="%{x}<br>%{y:,} comments<extra></extra>"))
    if len(before) == len(this):
        figure.add_trace(go.Scatter(
            x=days, y=[int(v) for v in before["comments"]], name="Week before",
            mode="lines+markers", line={"color": WEEK_BEFORE, "dash": "dot"},
            customdata=[day_label(b) for b in before["bucket"]],
            hovertemplate="%{customdata}<br>%{y:,} comments<extra>Week before</extra>"))
    figure.update_layout(
        height=300, margin=_MARGIN, template=_TEMPLATE, legend={"orientation": "h", "y": -0.2},
        xaxis={"title": f"Day ({chart_label(tz)})", "type": "category"},
        yaxis={"title": "Comments and replies", "rangemode": "tozero"})
    return figure


def top_items(frame: pd.DataFrame, noun: str) -> go.Figure | None:
    """Comments per ad or video (name, comments), most first; None when there are none."""
    if frame.empty:
        return None
    seen: dict[str, int] = {}
    labels = []
    for name in frame["name"]:
        label = chart_label(name)
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    figure = go.Figure(go.Bar(
        x=[int(v) for v in frame["comments"]], y=labels, orientation="h",
        marker_color=THIS_WEEK, hovertemplate="%{y}<br>%{x:,} comments<extra></extra>"))
    figure.update_layout(height=max(200, 32 * len(labels)), margin=_MARGIN, template=_TEMPLATE,
                         yaxis={"autorange": "reversed", "title": None, "automargin": True},
                         xaxis={"title": f"Comments and replies ({noun.lower()})"})
    return figure


def labels(this: Mapping[str, int], before: Mapping[str, int]) -> go.Figure | None:
    """Comments per classifier label, this week beside the week before; None when neither
    week has a labelled comment."""
    if not any(this.values()) and not any(before.values()):
        return None
    names = [LABEL_NAMES[label] for label in LABELS]
    figure = go.Figure()
    for counts, name, colour in ((this, "This week", THIS_WEEK),
                                 (before, "Week before", WEEK_BEFORE)):
        figure.add_trace(go.Bar(
            x=[int(counts.get(label, 0)) for label in LABELS], y=names, orientation="h",
            name=name, marker_color=colour,
            hovertemplate="%{y}<br>%{x:,} comments<extra>%{fullData.name}</extra>"))
    figure.update_layout(barmode="group", height=320, margin=_MARGIN, template=_TEMPLATE,
                         legend={"orientation": "h", "y": -0.15},
                         yaxis={"autorange": "reversed", "title": None},
                         xaxis={"title": "Comments (one may have several labels)"})
    return figure


def sentiment(this: Mapping[str, int], before: Mapping[str, int]) -> go.Figure | None:
    """The sentiment bands as shares of the classified comments, one bar per week; None when
    neither week has a classified comment."""
    weeks = [("This week", this), ("Week before", before)]
    if not any(counts["classified"] for _, counts in weeks):
        return None
    figure = go.Figure()
    for band in ("negative", "neutral", "positive"):
        shares = [counts[band] / counts["classified"] if counts["classified"] else 0.0
                  for _, counts in weeks]
        figure.add_trace(go.Bar(
            x=shares, y=[name for name, _ in weeks], orientation="h", name=band.capitalize(),
            marker_color=SENTIMENT_COLOURS[band], customdata=[c[band] for _, c in weeks],
            hovertemplate="%{y}<br>%{x:.1%} (%{customdata:,} comments)"
                          "<extra>%{fullData.name}</extra>"))
    figure.update_layout(barmode="stack", height=200, margin=_MARGIN, template=_TEMPLATE,
                         legend={"orientation": "h", "y": -0.35, "traceorder": "normal"},
                         xaxis={"tickformat": ".0%", "range": [0, 1]},
                         yaxis={"autorange": "reversed", "title": None})
    return figure


def backlog(frame: pd.DataFrame, tz: str) -> go.Figure | None:
    """Comments owed an answer at the end of each day (backlog_over_time by day), those past
    their target stacked on top; None for a week without a day ended."""
    if frame.empty:
        return None
    days = [day_label(b) for b in frame["bucket"]]
    waiting = frame["backlog"].astype("int64")
    over = frame["over_target"].astype("int64")
    figure = go.Figure()
    figure.add_trace(go.Bar(x=days, y=[int(v) for v in waiting - over],
                            name="Waiting, within target or none", marker_color=WITHIN,
                            hovertemplate="%{x}<br>%{y:,} waiting<extra></extra>"))
    figure.add_trace(go.Bar(x=days, y=[int(v) for v in over], name="Waiting past target",
                            marker_color=THIS_WEEK,
                            hovertemplate="%{x}<br>%{y:,} past target<extra></extra>"))
    figure.update_layout(barmode="stack", height=280, margin=_MARGIN, template=_TEMPLATE,
                         legend={"orientation": "h", "y": -0.25},
                         xaxis={"title": f"End of day ({chart_label(tz)})", "type": "category"},
                         yaxis={"title": "Comments waiting", "rangemode": "tozero"})
    return figure
