"""Cached queries: st.cache_data results, keyed by the database path and the arguments.

Each query opens its own cursor on the process's Store and closes it. Results live for
QUERY_TTL seconds; `context.refresh()` forgets them all after a sync or a write. The public
functions take the PageContext; the cached ones below them take only hashable values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from desk import outbox
from desk import store as db
from desk.connect.credentials import CredentialStore
from desk.sources.access import account_type, write_access_summary
from desk.store import CommentFilters
from desk.text import ago, text
from desk.ui import handles

if TYPE_CHECKING:
    from desk.ui.context import PageContext

QUERY_TTL = 60
CONVERSATION_ROWS = 500
"""The most comments a video's conversation shows."""


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _advertisers(path: str) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.list_advertisers(cur)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _last_sync(path: str, account_id: str, kind: str) -> db.SyncRun | None:
    with handles.store_at(path).cursor() as cur:
        return db.last_sync_run(cur, account_id, kind)  # type: ignore[arg-type]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _write_access(path: str, kind: str, account_id: str) -> db.WriteAccess | None:
    with handles.store_at(path).cursor() as cur:
        return db.write_access(cur, kind, account_id)  # type: ignore[arg-type]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _learned(path: str, app_id: str) -> dict:
    with handles.store_at(path).cursor() as cur:
        return db.learned_values(cur, app_id)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _ads_with_counts(path: str, advertiser_id: str) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.ads_with_counts(cur, advertiser_id)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _comments_count(path: str, filters: CommentFilters) -> int:
    with handles.store_at(path).cursor() as cur:
        return db.comments_count(cur, filters)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _comments_page(
    path: str, filters: CommentFilters, limit: int, offset: int, order: str
) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.comments_page(cur, filters, limit, offset, order)  # type: ignore[arg-type]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _languages(path: str, filters: CommentFilters) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.comment_languages(cur, filters)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _label_counts(path: str, filters: CommentFilters) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.label_counts(cur, filters)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _replies_for(path: str, comment_ids: tuple[str, ...]) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.replies_for(cur, list(comment_ids))


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _actions_for(path: str, comment_ids: tuple[str, ...]) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return outbox.actions_for_comments(cur, list(comment_ids))


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _volume_by_ad(path: str, filters: CommentFilters, top_n: int) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.comment_volume_by_ad(cur, filters, top_n)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _volume_over_time(
    path: str, filters: CommentFilters, grain: str, ad_ids: tuple[str, ...] | None,
    by_source: bool,
) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.comment_volume_over_time(cur, filters, grain, ad_ids,  # type: ignore[arg-type]
                                           by_source=by_source)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _engagement(path: str, filters: CommentFilters) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.ad_engagement(cur, filters)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _business_accounts(path: str) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.list_business_accounts(cur)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _videos_with_counts(path: str, business_id: str) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.videos_with_counts(cur, business_id)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _volume_by_video(path: str, business_id: str, filters: CommentFilters | None
                     ) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.comment_volume_by_video(cur, business_id, filters)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _conversation(path: str, video_id: str, limit: int) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.conversation_for_video(cur, video_id, limit)


def advertisers(ctx: PageContext) -> pd.DataFrame:
    return _advertisers(ctx.db)


def business_accounts(ctx: PageContext) -> pd.DataFrame:
    return _business_accounts(ctx.db)


def videos_with_counts(ctx: PageContext, business_id: str) -> pd.DataFrame:
    return _videos_with_counts(ctx.db, business_id)


def comment_volume_by_video(ctx: PageContext, business_id: str,
                            filters: CommentFilters | None = None) -> pd.DataFrame:
    return _volume_by_video(ctx.db, business_id, filters)


def conversation_for_video(ctx: PageContext, video_id: str,
                           limit: int = CONVERSATION_ROWS) -> pd.DataFrame:
    """A video's organic comments and the comments on the Spark Ads promoting it, oldest
    first."""
    return _conversation(ctx.db, video_id, limit)


def last_sync(ctx: PageContext, account_id: str, kind: str = "ad") -> db.SyncRun | None:
    """The account's last sync run (`kind`: the comment source's, "ad" or "organic")."""
    return _last_sync(ctx.db, account_id, kind)


def ads_with_counts(ctx: PageContext, advertiser_id: str) -> pd.DataFrame:
    return _ads_with_counts(ctx.db, advertiser_id)


def comments_count(ctx: PageContext, filters: CommentFilters) -> int:
    return _comments_count(ctx.db, filters)


def comments_page(
    ctx: PageContext, filters: CommentFilters, limit: int, offset: int, order: str = "newest"
) -> pd.DataFrame:
    """A page of comments; organic ones carry their video's caption in `video_caption`."""
    frame = _comments_page(ctx.db, filters, limit, offset, order)
    if filters.business_id and len(frame):
        videos = videos_with_counts(ctx, filters.business_id)
        captions = dict(zip(videos["video_id"].astype(str), videos["caption"], strict=True))
        frame = frame.assign(video_caption=[captions.get(text(v)) for v in frame["video_id"]])
    return frame


def comment_languages(ctx: PageContext, filters: CommentFilters) -> pd.DataFrame:
    """The classifier's languages among the comments in scope, most common first."""
    return _languages(ctx.db, filters)


def label_counts(ctx: PageContext, filters: CommentFilters) -> pd.DataFrame:
    """Matching comments per classifier label (and, label None, how many are classified)."""
    return _label_counts(ctx.db, filters)


def replies_for(ctx: PageContext, comment_ids: Sequence[str]) -> pd.DataFrame:
    return _replies_for(ctx.db, tuple(comment_ids))


def actions_for_comments(ctx: PageContext, comment_ids: Sequence[str]) -> pd.DataFrame:
    return _actions_for(ctx.db, tuple(comment_ids))


def comment_volume_by_ad(
    ctx: PageContext, filters: CommentFilters, top_n: int = 10
) -> pd.DataFrame:
    return _volume_by_ad(ctx.db, filters, top_n)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _writes_by_person(path: str, filters: CommentFilters) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.writes_by_person(cur, filters)


def writes_by_person(ctx: PageContext, filters: CommentFilters) -> pd.DataFrame:
    return _writes_by_person(ctx.db, filters)


def comment_volume_over_time(
    ctx: PageContext, filters: CommentFilters, grain: str, ad_ids: Sequence[str] | None = None,
    *, by_source: bool = False,
) -> pd.DataFrame:
    return _volume_over_time(ctx.db, filters, grain, None if ad_ids is None else tuple(ad_ids),
                             by_source)


def ad_engagement(ctx: PageContext, filters: CommentFilters) -> pd.DataFrame:
    return _engagement(ctx.db, filters)


# ---------------------------------------------------------------------------------------------
# Accounts, as pages name them


def known_advertisers(path: str, credentials: CredentialStore) -> dict[str, str]:
    """Every ad account this app knows: stored ones and ones a connection grants, id -> name."""
    names = {
        str(row.advertiser_id): text(row.name)
        for row in _advertisers(path).itertuples(index=False)
    }
    for conn in credentials.connections():
        for advertiser_id in conn.advertiser_ids:
            names.setdefault(advertiser_id, "")
    return names


def known_business_accounts(path: str, credentials: CredentialStore) -> dict[str, str]:
    """Every TikTok business account this app knows (stored or connected), id -> name."""
    names = {}
    for row in _business_accounts(path).itertuples(index=False):
        username = text(row.username)
        names[str(row.business_id)] = text(row.display_name) or (
            f"@{username}" if username else "")
    for conn in credentials.account_connections():
        names.setdefault(conn.business_id, "")
    return names


def account_label(ctx: PageContext, business_id: str) -> str:
    """'Display name (@username)' of a business account, or its ID when nothing is stored."""
    frame = business_accounts(ctx)
    match = frame.loc[frame["business_id"] == business_id]
    if not len(match):
        return f"TikTok account {business_id}"
    row = match.iloc[0]
    name, username = text(row["display_name"]), text(row["username"])
    if name and username:
        return f"{name} (@{username})"
    return name or (f"@{username}" if username else f"TikTok account {business_id}")


def filters_timezone(ctx: PageContext) -> str:
    """The time zone days are counted in: the ad account's, or UTC for a TikTok account
    alone."""
    return advertiser_timezone(ctx, ctx.advertiser_id) if ctx.advertiser_id else "UTC"


def advertiser_timezone(ctx: PageContext, advertiser_id: str) -> str:
    """The ad account's IANA timezone (UTC when unknown)."""
    frame = advertisers(ctx)
    match = frame.loc[frame["advertiser_id"] == advertiser_id, "timezone"]
    name = text(match.iloc[0]) if len(match) else ""
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return "UTC"
    return name or "UTC"


def write_access(ctx: PageContext, kind: str, account_id: str) -> db.WriteAccess | None:
    """What TikTok answered to the last reply or hide on the account (None: none yet)."""
    return _write_access(ctx.db, kind, account_id)


def learned(ctx: PageContext) -> dict:
    """The limits learned from TikTok for this app (see tiktok_client.learned)."""
    return _learned(ctx.db, ctx.app.app_id)


def advertiser_overview(ctx: PageContext) -> pd.DataFrame:
    """One row per known ad account: details, connection state and the last sync."""
    stored = advertisers(ctx).set_index("advertiser_id")
    connections = ctx.credentials.connections()
    rows = []
    for advertiser_id, name in known_advertisers(ctx.db, ctx.credentials).items():
        granting = [c for c in connections if advertiser_id in c.advertiser_ids]
        if any(not c.needs_reauth for c in granting):
            connection = "connected"
        elif granting:
            connection = "needs reconnect"
        else:
            connection = "not connected"
        info = stored.loc[advertiser_id] if advertiser_id in stored.index else None
        run = last_sync(ctx, advertiser_id)
        rows.append({
            "name": name or "(name not known yet)",
            "advertiser_id": advertiser_id,
            "role": account_type(info["role"]) if info is not None else "",
            "writes": write_access_summary(write_access(ctx, "ad", advertiser_id)),
            "timezone": text(info["timezone"]) if info is not None else "",
            "currency": text(info["currency"]) if info is not None else "",
            "connection": connection,
            "last_sync": None if run is None else (run.finished_at or run.started_at),
            "last_result": "" if run is None else f"{run.status}: {text(run.message)}",
        })
    frame = pd.DataFrame(rows, columns=[
        "name", "advertiser_id", "role", "writes", "timezone", "currency", "connection",
        "last_sync", "last_result",
    ])
    return frame.sort_values(["name", "advertiser_id"], ignore_index=True)


def sync_summary(run: db.SyncRun | None) -> str:
    """One line on an account's last sync."""
    if run is None:
        return "Never synced."
    when = ago(run.finished_at or run.started_at)
    if run.status == "running":
        return f"A sync started {when} and is still running."
    return f"Last sync {when}: {run.status}. {text(run.message)} ({run.requests:,} requests)"


# ---------------------------------------------------------------------------------------------
# Saved replies


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _saved_replies(path: str, account_kind: str, account_id: str) -> list[db.SavedReply]:
    with handles.store_at(path).cursor() as cur:
        return db.list_saved_replies(cur, account_kind, account_id)  # type: ignore[arg-type]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _placeholder_values(path: str, comment_id: str) -> dict:
    with handles.store_at(path).cursor() as cur:
        return db.placeholder_values(cur, comment_id)


def saved_replies(ctx: PageContext, account_kind: str, account_id: str) -> list[db.SavedReply]:
    """The account's saved replies, by name ('ad', advertiser_id or 'organic', business_id)."""
    return _saved_replies(ctx.db, account_kind, str(account_id))


def placeholder_values(ctx: PageContext, comment_id: str) -> dict:
    """What a saved reply's placeholders become for this stored comment."""
    return _placeholder_values(ctx.db, str(comment_id))


# ---------------------------------------------------------------------------------------------
# Response times (desk.store.responses)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _response_summary(path: str, filters: CommentFilters) -> dict:
    with handles.store_at(path).cursor() as cur:
        return db.response_summary(cur, filters)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _response_report(path: str, filters: CommentFilters) -> db.ResponseReport:
    with handles.store_at(path).cursor() as cur:
        return db.response_report(cur, filters)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _backlog(path: str, filters: CommentFilters, start: datetime, end: datetime, grain: str,
             now: datetime) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.backlog_over_time(cur, filters, start=start, end=end,
                                    grain=grain, now=now)  # type: ignore[arg-type]


def response_report(ctx: PageContext, filters: CommentFilters) -> db.ResponseReport:
    """Median and p90 minutes to first response, the share within target and the backlog,
    over the comments the filters choose, per person and per ad or video."""
    return _response_report(ctx.db, filters)


def response_summary(ctx: PageContext, filters: CommentFilters) -> dict:
    """The report's overall figures without the backlog, for a page that shows no backlog
    (they cost less)."""
    return _response_summary(ctx.db, filters)


BACKLOG_SPANS = MappingProxyType({"day": 30, "hour": 7 * 24})
"""How many days or hours (this one included) the backlog chart shows when the filters name
no period."""


def backlog_over_time(ctx: PageContext, filters: CommentFilters,
                      grain: str = "day") -> pd.DataFrame:
    """The backlog at the end of each day or hour of the filters' period (in the account's
    time zone), or of the last BACKLOG_SPANS[grain] up to now; measured up to this minute."""
    now = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    zone = ZoneInfo(filters_timezone(ctx))
    if filters.date_from is not None:
        start = datetime.combine(filters.date_from, time(), tzinfo=zone)
    elif grain == "hour":
        start = now.astimezone(zone).replace(minute=0) - timedelta(hours=BACKLOG_SPANS[grain] - 1)
    else:
        first_day = now.astimezone(zone).date() - timedelta(days=BACKLOG_SPANS[grain] - 1)
        start = datetime.combine(first_day, time(), tzinfo=zone)
    end = now
    if filters.date_to is not None:
        end = min(now, datetime.combine(filters.date_to + timedelta(days=1), time(), tzinfo=zone))
    if end <= start:  # a period still to come
        return pd.DataFrame(columns=["bucket", "as_of", "backlog", "over_target",
                                     "oldest_minutes", "median_age_minutes"])
    return _backlog(ctx.db, filters, start.astimezone(UTC), end.astimezone(UTC), grain, now)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _top_terms(path: str, filters: CommentFilters, limit: int) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.top_terms(cur, filters, limit)


def top_terms(ctx: PageContext, filters: CommentFilters, limit: int = 20) -> pd.DataFrame:
    """The terms most of the matching comments use (term, comments, share)."""
    return _top_terms(ctx.db, filters, limit)


# ---------------------------------------------------------------------------------------------
# Comments beside delivery (desk.store.delivery)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _delivery_rates(path: str, filters: CommentFilters) -> db.DeliveryRates:
    with handles.store_at(path).cursor() as cur:
        return db.delivery_rates(cur, filters)


def delivery_rates(ctx: PageContext, filters: CommentFilters) -> db.DeliveryRates:
    """Per ad, per day and per creative: delivery beside comments, questions, complaints and
    negative comments, each per 1,000 impressions and per unit of spend (one query)."""
    return _delivery_rates(ctx.db, filters)


# ---------------------------------------------------------------------------------------------
# Sentiment over time, and chosen ads side by side


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _sentiment_over_time(path: str, filters: CommentFilters, grain: str) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.sentiment_over_time(cur, filters, grain)  # type: ignore[arg-type]


def sentiment_over_time(ctx: PageContext, filters: CommentFilters, grain: str) -> pd.DataFrame:
    """Each sentiment band's share per day or week of the comments in scope."""
    return _sentiment_over_time(ctx.db, filters, grain)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _compare_ads(path: str, filters: CommentFilters, ad_ids: tuple[str, ...]) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        return db.compare_ads(cur, filters, ad_ids)


def compare_ads(ctx: PageContext, filters: CommentFilters,
                ad_ids: Sequence[str]) -> pd.DataFrame:
    """The chosen ads side by side over the filters' other choices."""
    return _compare_ads(ctx.db, filters, tuple(str(a) for a in ad_ids))
