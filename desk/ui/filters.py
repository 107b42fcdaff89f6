"""The comment filter widgets (shared by Comments, Insights and Export; keys per page).

The filters sit in the sidebar and follow the user from page to page; the chosen ad is
mirrored into the address (`?ad=`). Other pages open the Comments page focused on one ad or
one video with `open_comments_for_ad` / `open_comments_for_video`, or searching for one
term with `open_comments_for_term`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from desk.moderation.labels import LABEL_NAMES, LABELS, language_name
from desk.store import CommentFilters
from desk.text import md_escape, text, video_label
from desk.ui import queries
from desk.ui.context import COMMENTS_PAGE, PageContext, require_scope

PERIODS = ("All time", "Last 7 days", "Last 30 days", "Last 90 days", "Custom range")
STATUSES = MappingProxyType({"All": None, "Public": "PUBLIC", "Hidden": "HIDDEN"})
SOURCES = MappingProxyType({"All": None, "Ad comments": "ad", "Organic comments": "organic"})
TYPES = MappingProxyType({"All": None, "Comments": "COMMENT", "Replies": "REPLY"})
SENTIMENTS = MappingProxyType({"All": None, "Negative": "negative", "Neutral": "neutral",
                               "Positive": "positive"})
ANY_LANGUAGE = "All"
FILTER_DEFAULTS: Mapping[str, Any] = MappingProxyType({
    "source": "All",
    "ads": (),
    "videos": (),
    "period": "All time",
    "status": "All",
    "type": "All",
    "search": "",
    "unanswered": False,
    "labels": (),
    "sentiment": "All",
    "language": ANY_LANGUAGE,
})


def ad_choices(ctx: PageContext, advertiser_id: str) -> dict[str, str]:
    """ad_id -> a readable, unique label, for every ad that has comments, most first.

    Read from the per-ad comment volume, which is much cheaper than ads_with_counts at a
    million comments (the store has no plain list of an account's ads).
    """
    frame = queries.comment_volume_by_ad(ctx, CommentFilters(advertiser_id), top_n=10_000_000)
    return {
        str(row.ad_id): f"{text(row.ad_name) or 'Unnamed ad'} · {row.ad_id}"
        for row in frame.itertuples(index=False) if text(row.ad_id)
    }


def video_choices(ctx: PageContext, business_id: str) -> dict[str, str]:
    """video_id -> a readable, unique label, for every stored video of the account."""
    frame = queries.videos_with_counts(ctx, business_id)
    return {str(row.video_id): video_label(row.caption, row.video_id)
            for row in frame.itertuples(index=False) if text(row.video_id)}


def period_range(period: str, dates: Any, today: date) -> tuple[date | None, date | None]:
    """The first and last day of a period choice (None: open)."""
    if period == "Last 7 days":
        return today - timedelta(days=6), today
    if period == "Last 30 days":
        return today - timedelta(days=29), today
    if period == "Last 90 days":
        return today - timedelta(days=89), today
    if period == "Custom range" and dates:
        picked = list(dates) if isinstance(dates, list | tuple) else [dates]
        picked = [d for d in picked if d is not None]
        if picked:
            return min(picked), max(picked)
    return None, None


def _reset_filters(page: str) -> None:
    for name, default in FILTER_DEFAULTS.items():
        st.session_state[f"{page}_{name}"] = default
    st.session_state.pop(f"{page}_dates", None)
    st.session_state["filters_shared"] = None


def comment_filters(ctx: PageContext, page: str) -> CommentFilters:
    """The filter widgets in the sidebar; their values follow the user from page to page.

    They cover the chosen ad account's comments and the chosen TikTok account's organic
    ones; with both chosen, a Source choice narrows to either.
    """
    require_scope(ctx)
    advertiser_id, business_id = ctx.advertiser_id, ctx.business_id
    state = st.session_state
    labels = ad_choices(ctx, advertiser_id) if advertiser_id else {}
    video_labels = video_choices(ctx, business_id) if business_id else {}
    tz = queries.filters_timezone(ctx)
    today = datetime.now(ZoneInfo(tz)).date()
    scope = [advertiser_id, business_id]
    shared = state.get("filters_shared") or {}
    if shared.get("scope") != scope:
        shared = {}
    for name, default in FILTER_DEFAULTS.items():
        state.setdefault(f"{page}_{name}", shared.get(name, default))
    if f"{page}_dates" not in state and shared.get("dates"):
        state[f"{page}_dates"] = shared["dates"]
    focus = state.pop("focus_ad", None)
    if focus is None and not state["ad_url_read"]:
        state["ad_url_read"] = True
        focus = st.query_params.get("ad")
    if focus in labels:
        state[f"{page}_ads"] = [focus]
    focus_video = state.pop("focus_video", None)
    if focus_video in video_labels:
        state[f"{page}_videos"] = [focus_video]
        state[f"{page}_source"] = "All"
    focus_search = state.pop("focus_search", None)
    if focus_search is not None:
        state[f"{page}_search"] = focus_search
    state[f"{page}_ads"] = [a for a in state[f"{page}_ads"] if a in labels]
    state[f"{page}_videos"] = [v for v in state[f"{page}_videos"] if v in video_labels]
    if state[f"{page}_source"] not in SOURCES:
        state[f"{page}_source"] = "All"
    languages = [ANY_LANGUAGE, *[code for code in queries.comment_languages(
        ctx, CommentFilters(advertiser_id or "", business_id=business_id))["language"]
        if isinstance(code, str)]]
    if state[f"{page}_language"] not in languages:
        state[f"{page}_language"] = ANY_LANGUAGE

    with st.sidebar:
        st.subheader("Filters")
        source_name = "All"
        if advertiser_id and business_id:
            source_name = st.selectbox("Source", list(SOURCES), key=f"{page}_source",
                                       help="Comments on ads, on the TikTok account's own "
                                            "videos (organic), or both.")
        source = SOURCES[source_name] if advertiser_id and business_id else (
            "organic" if business_id else None)
        ad_ids: list[str] = []
        if advertiser_id and source != "organic":
            ad_ids = st.multiselect("Ads", list(labels), format_func=labels.get,
                                    key=f"{page}_ads", placeholder="All ads")
        video_ids: list[str] = []
        if business_id and source != "ad":
            video_ids = st.multiselect(
                "Videos", list(video_labels), format_func=video_labels.get,
                key=f"{page}_videos", placeholder="All videos",
                help="A video's organic comments and the comments on Spark Ads promoting it.")
        period = st.selectbox("Period", PERIODS, key=f"{page}_period")
        dates = None
        if period == "Custom range":
            state.setdefault(f"{page}_dates", (today - timedelta(days=29), today))
            dates = st.date_input("From – to", key=f"{page}_dates", format="YYYY-MM-DD")
        status = st.selectbox("Status", list(STATUSES), key=f"{page}_status")
        kind = st.selectbox("Type", list(TYPES), key=f"{page}_type")
        search = st.text_input("Text or user name contains", key=f"{page}_search")
        unanswered = st.toggle("Unanswered only", key=f"{page}_unanswered",
                               help="First-level comments the brand has not replied to.")
        labels = st.multiselect("Labels", LABELS, format_func=LABEL_NAMES.get,
                                key=f"{page}_labels", placeholder="Any label",
                                help="The classifier's labels: comments with any of these.")
        sentiment = st.selectbox("Sentiment", list(SENTIMENTS), key=f"{page}_sentiment")
        language = st.selectbox(
            "Language", languages, key=f"{page}_language",
            format_func=lambda code: code if code == ANY_LANGUAGE else language_name(code))
        where = "the ad account's time zone" if advertiser_id else "UTC"
        st.caption(f"Days are counted in {where} ({md_escape(tz)}).")
        st.button("Reset filters", key=f"{page}_reset", on_click=_reset_filters, args=(page,))

    state["filters_shared"] = {
        "scope": scope, "source": source_name, "ads": list(ad_ids), "videos": list(video_ids),
        "period": period, "dates": tuple(dates) if isinstance(dates, list | tuple) else dates,
        "status": status, "type": kind, "search": search, "unanswered": unanswered,
        "labels": list(labels), "sentiment": sentiment, "language": language,
    }
    single = ad_ids[0] if len(ad_ids) == 1 else None
    if single and st.query_params.get("ad") != single:
        st.query_params["ad"] = single
    elif not single and "ad" in st.query_params:
        del st.query_params["ad"]
    date_from, date_to = period_range(period, dates, today)
    return CommentFilters(
        advertiser_id or "", ad_ids=tuple(ad_ids) or None, date_from=date_from,
        date_to=date_to, status=STATUSES[status], comment_type=TYPES[kind],  # type: ignore[arg-type]
        search=search.strip() or None, unanswered_only=bool(unanswered),
        source=source, business_id=business_id,  # type: ignore[arg-type]
        video_ids=tuple(video_ids) or None, labels=tuple(labels) or None,
        sentiment=SENTIMENTS[sentiment],  # type: ignore[arg-type]
        language=None if language == ANY_LANGUAGE else language,
    )


def open_comments_for_video(business_id: str, video_id: str) -> None:
    """Show the Comments page filtered to one video (its organic and Spark Ads comments)."""
    st.session_state["focus_video"] = str(video_id)
    st.switch_page(COMMENTS_PAGE, query_params={"account": business_id})


def open_comments_for_ad(advertiser_id: str, ad_id: str) -> None:
    """Show the Comments page filtered to one ad."""
    st.session_state["focus_ad"] = str(ad_id)
    st.switch_page(COMMENTS_PAGE, query_params={"advertiser": advertiser_id, "ad": str(ad_id)})


def open_comments_for_term(ctx: PageContext, term: str) -> None:
    """Show the Comments page searching for `term` (a top term), the other filters as they
    are: its search finds the term in a comment's text or its writer's name."""
    st.session_state["focus_search"] = str(term)
    scope = {"advertiser": ctx.advertiser_id, "account": ctx.business_id}
    st.switch_page(COMMENTS_PAGE, query_params={k: v for k, v in scope.items() if v})


def page_key(page: str, *parts: Any) -> str:
    """The key of a list's page widget: a new one (back at page 1) whenever the list's
    filters, order or size change."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:12]
    return f"{page}_page_no_{digest}"
