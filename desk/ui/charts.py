"""Charts for the Insights page (Plotly), and the totals its numbers show.

No comment text is ever in a chart (the top terms are single words of it); ad names,
captions, time zones and terms are escaped for Plotly's HTML-like labels (chart_label).
"""

from __future__ import annotations

import pandas as pd

from desk.text import chart_label, text, video_label

AD_COLOUR = "#fe2c55"
ORGANIC_COLOUR = "#7b61ff"


def volume_by_ad_chart(frame: pd.DataFrame):
    import plotly.graph_objects as go

    sources = frame["source"] if "source" in frame.columns else [None] * len(frame)
    labels, colours = [], []
    for ad_id, name, source in zip(frame["ad_id"], frame["ad_name"], sources, strict=True):
        if text(source) == "organic":
            labels.append("Organic posts")
            colours.append(ORGANIC_COLOUR)
        elif text(ad_id):
            labels.append(chart_label(name))
            colours.append(AD_COLOUR)
        else:
            labels.append("Other ads")
            colours.append("#c9ccd1")
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    figure = go.Figure(go.Bar(
        x=list(frame["comments"].astype("int64")), y=unique, orientation="h",
        marker_color=colours,
        hovertemplate="%{y}<br>%{x:,} comments<extra></extra>",
    ))
    figure.update_layout(yaxis={"autorange": "reversed", "title": None},
                         xaxis={"title": "Comments"}, margin={"l": 8, "r": 8, "t": 8, "b": 8},
                         height=max(220, 34 * len(unique)))
    return figure


def volume_by_video_chart(frame: pd.DataFrame, top_n: int = 10):
    """Comments per video, the organic ones and those on Spark Ads promoting it stacked;
    the `top_n` videos with the most comments."""
    import plotly.graph_objects as go

    totals = frame.groupby("video_id", sort=False)["comments"].sum()
    top = list(totals.sort_values(ascending=False, kind="stable").index[:top_n])
    captions = dict(zip(frame["video_id"], frame["caption"], strict=True))
    labels = [chart_label(video_label(captions.get(v), v, width=40)) for v in top]
    figure = go.Figure()
    for source, name, colour in (("organic", "Organic comments", ORGANIC_COLOUR),
                                 ("ad", "On Spark Ads", AD_COLOUR)):
        part = frame[frame["source"] == source].set_index("video_id")["comments"]
        counts = [int(part.get(v, 0)) for v in top]
        if any(counts):
            figure.add_trace(go.Bar(
                x=counts, y=labels, orientation="h", name=name, marker_color=colour,
                hovertemplate="%{y}<br>%{x:,} comments<extra>%{fullData.name}</extra>",
            ))
    figure.update_layout(barmode="stack", yaxis={"autorange": "reversed", "title": None},
                         xaxis={"title": "Comments"}, margin={"l": 8, "r": 8, "t": 8, "b": 8},
                         height=max(220, 34 * len(top)),
                         legend={"orientation": "h", "y": -0.2})
    return figure


def volume_over_time_chart(frame: pd.DataFrame, timezone: str, grain: str):
    import plotly.graph_objects as go

    figure = go.Figure()
    for (_, name), part in frame.groupby(["ad_id", "ad_name"], dropna=False, sort=False):
        figure.add_trace(go.Scatter(
            x=list(part["bucket"]), y=list(part["comments"].astype("int64")), mode="lines",
            name=chart_label(name if text(name) else "All ads"),
            hovertemplate="%{x}<br>%{y:,} comments<extra>%{fullData.name}</extra>",
        ))
    figure.update_layout(
        xaxis={"title": f"{'Day' if grain == 'day' else 'Hour'} ({chart_label(timezone)})"},
        yaxis={"title": "Comments", "rangemode": "tozero"},
        margin={"l": 8, "r": 8, "t": 8, "b": 8}, height=340,
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


def engagement_summary(frame: pd.DataFrame) -> dict[str, float | None]:
    """Totals over the per-ad engagement table."""
    comments = float(frame["comments"].sum()) if len(frame) else 0.0
    hidden = float((frame["hidden_share"].astype("float64") * frame["comments"]).sum())
    top = float(frame["top_level_comments"].sum()) if len(frame) else 0.0
    answered = float(frame["answered_comments"].sum()) if len(frame) else 0.0
    medians = frame["median_minutes_to_first_reply"].dropna()
    return {
        "comments": comments,
        "hidden_share": hidden / comments if comments else None,
        "reply_rate": answered / top if top else None,
        "median_minutes": float(medians.median()) if len(medians) else None,
    }


def label_mix_chart(labels: pd.DataFrame, languages: pd.DataFrame):
    """Two bars side by side: classified comments per label, and per language (top 10)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from desk.moderation.labels import LABEL_NAMES, language_name

    counted = labels[labels["label"].notna()]
    named = languages[languages["language"].notna()].head(10)
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Labels", "Languages"),
                           horizontal_spacing=0.25)
    figure.add_trace(go.Bar(
        x=list(counted["comments"].astype("int64")),
        y=[chart_label(LABEL_NAMES.get(label, label)) for label in counted["label"]],
        orientation="h", marker_color=AD_COLOUR,
        hovertemplate="%{y}<br>%{x:,} comments<extra></extra>"), row=1, col=1)
    figure.add_trace(go.Bar(
        x=list(named["comments"].astype("int64")),
        y=[chart_label(language_name(code)) for code in named["language"]],
        orientation="h", marker_color=ORGANIC_COLOUR,
        hovertemplate="%{y}<br>%{x:,} comments<extra></extra>"), row=1, col=2)
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(showlegend=False, height=360, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure


BACKLOG_COLOUR = "#c9ccd1"
OVER_TARGET_COLOUR = "#fe2c55"


def backlog_chart(frame: pd.DataFrame, timezone: str, grain: str):
    """The backlog at the end of each day or hour: comments owed an answer (those past their
    target stacked on top) as bars, the oldest and the median wait in hours as lines."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    at = list(frame["bucket"])
    backlog = frame["backlog"].astype("int64")
    over = frame["over_target"].astype("int64")
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Bar(
        x=at, y=list(backlog - over), name="Waiting, within target or none",
        marker_color=BACKLOG_COLOUR,
        hovertemplate="%{x}<br>%{y:,} waiting<extra></extra>"), secondary_y=False)
    figure.add_trace(go.Bar(
        x=at, y=list(over), name="Waiting past target", marker_color=OVER_TARGET_COLOUR,
        hovertemplate="%{x}<br>%{y:,} past target<extra></extra>"), secondary_y=False)
    for column, name, dash in (("oldest_minutes", "Oldest wait (h)", "solid"),
                               ("median_age_minutes", "Median wait (h)", "dot")):
        hours = [None if pd.isna(v) else round(float(v) / 60, 2) for v in frame[column]]
        figure.add_trace(go.Scatter(
            x=at, y=hours, name=name, mode="lines", line={"color": AD_COLOUR, "dash": dash},
            hovertemplate="%{x}<br>%{y:,.1f} h<extra>%{fullData.name}</extra>"),
            secondary_y=True)
    figure.update_layout(
        barmode="stack", height=340, margin={"l": 8, "r": 8, "t": 8, "b": 8},
        legend={"orientation": "h", "y": -0.25},
        xaxis={"title": f"{'Day' if grain == 'day' else 'Hour'} ({chart_label(timezone)}), "
                        "counted at its end"})
    figure.update_yaxes(title_text="Comments waiting", rangemode="tozero", secondary_y=False)
    figure.update_yaxes(title_text="Wait (hours)", rangemode="tozero", secondary_y=True)
    return figure


TERM_COLOUR = "#25a4b8"


def top_terms_chart(frame: pd.DataFrame):
    """The top terms (desk.store.top_terms) as ranked horizontal bars, most used on top;
    each bar's customdata is its row in `frame`, for `selected_term`."""
    import plotly.graph_objects as go

    figure = go.Figure(go.Bar(
        x=list(frame["comments"].astype("int64")),
        y=[chart_label(term) for term in frame["term"]],
        customdata=[[index, float(share)] for index, share in enumerate(frame["share"])],
        orientation="h", marker_color=TERM_COLOUR,
        hovertemplate="%{y}<br>%{x:,} comments (%{customdata[1]:.1%})<extra></extra>",
    ))
    figure.update_layout(yaxis={"autorange": "reversed", "title": None, "type": "category"},
                         xaxis={"title": "Comments using the term"},
                         margin={"l": 8, "r": 8, "t": 8, "b": 8}, clickmode="event+select",
                         height=max(220, 26 * len(frame)))
    return figure


def selected_term(event: dict | None, frame: pd.DataFrame) -> str | None:
    """The term of the bar a person clicked in `top_terms_chart` (st.plotly_chart's
    on_select event, a dict), or None."""
    for point in (event or {}).get("selection", {}).get("points", []):
        index = point.get("point_index", point.get("point_number"))
        if isinstance(index, int) and 0 <= index < len(frame):
            return str(frame["term"].iloc[index])
    return None


SENTIMENT_COLOURS = {"negative": "#fe2c55", "neutral": "#a7a9b0", "positive": "#25b864"}


def sentiment_over_time_chart(frame: pd.DataFrame, grain: str):
    """Stacked shares of negative, neutral and positive comments per day or week."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for band, colour in SENTIMENT_COLOURS.items():
        part = frame[frame["sentiment"] == band]
        figure.add_trace(go.Bar(
            x=list(part["bucket"]), y=list(part["share"].astype(float)), name=band.capitalize(),
            marker_color=colour, customdata=list(part["comments"].astype("int64")),
            hovertemplate="%{x}<br>%{y:.0%} (%{customdata:,} comments)<extra></extra>"))
    figure.update_layout(barmode="stack", yaxis_tickformat=".0%", height=320,
                         xaxis_title=grain.capitalize(), yaxis_title="Share of comments",
                         margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return figure
