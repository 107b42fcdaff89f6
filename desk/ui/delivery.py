"""Insights' Delivery tab: what people said per 1,000 impressions and per unit of
spend, per ad and day by day, which creatives draw complaints, and how sentiment moves with
spend. The numbers are desk.store.delivery's (its docstring defines them); this module has
the totals, the charts and the table columns the page shows.

No comment text is in a chart; ad names are escaped for Plotly's HTML-like labels."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pandas as pd
import streamlit as st

from desk.text import chart_label, text
from desk.ui import tables

PER: Mapping[str, str] = MappingProxyType({
    "1,000 impressions": "1000_impressions",
    "unit of spend": "unit_spend",
})
"""The choice of denominator, as the page offers it -> the column suffix of the rates."""
COUNT_NAMES: Mapping[str, str] = MappingProxyType({
    "comments": "Comments", "questions": "Questions", "complaints": "Complaints",
    "negative": "Negative",
})
COLOURS: Mapping[str, str] = MappingProxyType({
    "comments": "#7b61ff", "questions": "#25c2a0", "complaints": "#fe2c55",
    "negative": "#f5a623",
})
TOP_CREATIVES = 10
NOT_AN_AD_ACCOUNT = ("Delivery is reported for ad accounts: choose one in the sidebar (and "
                     "not organic comments alone) to set its comments beside its delivery.")
NO_DELIVERY = ("No delivery is stored for these ads and days yet: each sync reads it from "
               "TikTok's reporting after the comments (it needs the Reporting permission).")
DEFINITIONS = (
    "Days are the ad account's, as TikTok reports delivery; what was said on an ad counts on "
    "the days TikTok reported delivery for it. Comments and replies, the brand's own replies "
    "left out; questions and complaints are the classifier's labels, negative comments those "
    "it reads as negative. The sidebar's ads and dates choose the delivery; every filter "
    "chooses the comments counted.")


def per_label(per: str, currency: str) -> str:
    """'1,000 impressions', or '1 USD' for a unit of spend."""
    return f"1 {currency}" if PER[per] == "unit_spend" and currency else per


def currency_of(frame: pd.DataFrame) -> str:
    """The currency the spend is in (an ad account has one)."""
    found = sorted({text(c) for c in frame.get("currency", pd.Series(dtype=object)) if text(c)})
    return ", ".join(found)


def totals(by_ad: pd.DataFrame) -> dict[str, float | None]:
    """The chosen ads' impressions, spend and counts, and each count per 1,000 impressions
    and per unit of spend."""
    impressions = float(by_ad["impressions"].fillna(0).sum())
    spend = float(by_ad["spend"].fillna(0).sum())
    found: dict[str, float | None] = {"impressions": impressions, "spend": spend}
    for name in COUNT_NAMES:
        count = float(by_ad[name].fillna(0).sum())
        found[name] = count
        found[f"{name}_per_1000_impressions"] = 1000 * count / impressions if impressions else None
        found[f"{name}_per_unit_spend"] = count / spend if spend else None
    return found


def rate_text(value: float | None, per: str) -> str:
    """A rate as the page's numbers show it."""
    if value is None:
        return "–"
    return f"{value:.3f}" if PER[per] == "1000_impressions" else f"{value:.4f}"


def _rate_format(per: str) -> str:
    return "%.3f" if PER[per] == "1000_impressions" else "%.4f"


def ad_columns(per: str, currency: str) -> dict[str, Any]:
    """The per-ad table's columns: delivery, the counts and their rates `per`."""
    suffix, unit = PER[per], per_label(per, currency)
    return {
        **tables.text_columns(ad_name="Ad"),
        **tables.count_columns(impressions="Impressions"),
        "spend": st.column_config.NumberColumn(f"Spend ({currency})", format="%.2f"),
        **{f"{name}_per_{suffix}": st.column_config.NumberColumn(
            f"{label} per {unit}", format=_rate_format(per))
           for name, label in COUNT_NAMES.items()},
        **tables.count_columns(**COUNT_NAMES, days="Days delivered", clicks="Clicks",
                               video_play_actions="Video plays", likes="Likes"),
        **tables.text_columns(tiktok_item_id="Video", ad_id="Ad ID"),
    }


def creative_columns(per: str, currency: str) -> dict[str, Any]:
    """The per-creative table's columns."""
    suffix, unit = PER[per], per_label(per, currency)
    return {
        **tables.text_columns(tiktok_item_id="Video", ad_names="Ads showing it"),
        f"complaints_per_{suffix}": st.column_config.NumberColumn(
            f"Complaints per {unit}", format=_rate_format(per)),
        **tables.count_columns(complaints="Complaints", comments="Comments"),
        **tables.share_columns(complaint_share="Share of comments"),
        **tables.count_columns(impressions="Impressions"),
        "spend": st.column_config.NumberColumn(f"Spend ({currency})", format="%.2f"),
        **tables.count_columns(ads="Ads"),
    }


def creative_label(row: Any) -> str:
    """A creative as a chart names it: its video and the ad showing it (or how many)."""
    video = text(row.tiktok_item_id)
    names = text(row.ad_names)
    if not video:
        return chart_label(names or "Ad without a video")
    shown = names if int(row.ads) == 1 else f"{int(row.ads)} ads"
    return chart_label(f"Video {video} · {shown}")


def creatives_chart(by_creative: pd.DataFrame, per: str, currency: str):
    """The creatives drawing the most complaints `per` (the TOP_CREATIVES with any)."""
    import plotly.graph_objects as go

    column = f"complaints_per_{PER[per]}"
    top = by_creative[by_creative["complaints"].fillna(0) > 0].sort_values(
        column, ascending=False, kind="stable").head(TOP_CREATIVES)
    labels = [creative_label(row) for row in top.itertuples(index=False)]
    figure = go.Figure(go.Bar(
        x=[float(v) for v in top[column].fillna(0)], y=labels, orientation="h",
        marker_color=COLOURS["complaints"],
        customdata=[int(v) for v in top["complaints"]],
        hovertemplate="%{y}<br>%{x:.3f} complaints per " + chart_label(per_label(per, currency))
                      + "<br>%{customdata:,} complaints<extra></extra>",
    ))
    figure.update_layout(yaxis={"autorange": "reversed", "title": None, "type": "category"},
                         xaxis={"title": f"Complaints per {chart_label(per_label(per, currency))}"},
                         margin={"l": 8, "r": 8, "t": 8, "b": 8},
                         height=max(220, 34 * len(labels)))
    return figure


def rates_over_time_chart(by_day: pd.DataFrame, per: str, currency: str):
    """Day by day: comments, questions, complaints and negative comments `per`."""
    import plotly.graph_objects as go

    unit = chart_label(per_label(per, currency))
    figure = go.Figure()
    for name, label in COUNT_NAMES.items():
        figure.add_trace(go.Scatter(
            x=list(by_day["stat_day"]),
            y=[None if pd.isna(v) else float(v) for v in by_day[f"{name}_per_{PER[per]}"]],
            mode="lines", name=label, line={"color": COLOURS[name]},
            hovertemplate="%{x|%Y-%m-%d}<br>%{y:.3f} per " + unit
                          + f"<extra>{label}</extra>"))
    figure.update_layout(yaxis={"title": f"Per {unit}", "rangemode": "tozero"},
                         xaxis={"title": None}, margin={"l": 8, "r": 8, "t": 8, "b": 8},
                         height=320, legend={"orientation": "h", "y": -0.2})
    return figure


def sentiment_vs_spend_chart(by_day: pd.DataFrame, currency: str):
    """Day by day: spend (bars) beside the comments' mean sentiment and negative share."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    money = chart_label(currency)
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Bar(
        x=list(by_day["stat_day"]), y=[float(v) for v in by_day["spend"].fillna(0)],
        name=f"Spend ({money})", marker_color="#c9ccd1",
        hovertemplate="%{x|%Y-%m-%d}<br>%{y:,.2f} " + money + "<extra></extra>"),
        secondary_y=False)
    for column, label, colour in (("mean_sentiment", "Mean sentiment", "#25c2a0"),
                                  ("negative_share", "Negative share", "#fe2c55")):
        figure.add_trace(go.Scatter(
            x=list(by_day["stat_day"]),
            y=[None if pd.isna(v) else float(v) for v in by_day[column]],
            mode="lines+markers", name=label, line={"color": colour}, connectgaps=False,
            hovertemplate="%{x|%Y-%m-%d}<br>%{y:.2f}" + f"<extra>{label}</extra>"),
            secondary_y=True)
    figure.update_layout(margin={"l": 8, "r": 8, "t": 8, "b": 8}, height=340,
                         legend={"orientation": "h", "y": -0.2}, bargap=0.2)
    figure.update_yaxes(title_text=f"Spend ({money})", rangemode="tozero", secondary_y=False)
    figure.update_yaxes(title_text="Sentiment (−1 to 1), negative share", range=[-1, 1],
                        secondary_y=True)
    return figure


def spend_sentiment_correlation(by_day: pd.DataFrame) -> float | None:
    """How the days' mean sentiment moves with their spend: Pearson's r over the days with
    classified comments (None with fewer than three such days, or no variation)."""
    days = by_day.dropna(subset=["mean_sentiment"])
    if len(days) < 3:
        return None
    spend, sentiment = days["spend"].astype(float), days["mean_sentiment"].astype(float)
    if spend.std() == 0 or sentiment.std() == 0:
        return None
    return float(spend.corr(sentiment))
