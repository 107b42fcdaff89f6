"""The read queries the ad pages need: comments and replies, ads with their counts, and the
insights charts.

Each is a named function returning a DataFrame that pages and filters in SQL. Dates and
`*_local` columns are in the advertiser's timezone (UTC when unknown). SQL is assembled from
fixed fragments; every value, user input included, is a bound parameter (hence the
`noqa: S608` marks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from desk.store.filters import (
    BRAND_REPLY,
    CommentFilters,
    in_list,
    scope,
    source_of,
    where_clause,
)
from desk.store.sql import (
    Cursor,
    fetch_first,
    fetch_rows,
    query_frame,
    query_records,
    whole_number,
)
from desk.store.times import as_utc

Order = Literal["newest", "oldest", "most_liked"]
"""How a page of comments is sorted (see _ORDERS)."""

_ORDERS = MappingProxyType(
    {
        "newest": "create_time DESC NULLS LAST, comment_id DESC",
        "oldest": "create_time ASC NULLS LAST, comment_id ASC",
        "most_liked": "likes DESC NULLS LAST, create_time DESC NULLS LAST, comment_id DESC",
    }
)

_GRAINS = MappingProxyType({"day": "INTERVAL 1 DAY", "hour": "INTERVAL 1 HOUR"})

# The one row (or series) that stands for every organic comment in the per-ad summaries.
ORGANIC_POSTS = "Organic posts"


def advertiser_timezone(cur: Cursor, advertiser_id: str) -> str:
    """The advertiser's IANA timezone, or 'UTC' when it is unknown or not a timezone."""
    row = fetch_first(
        cur,
        "SELECT timezone, timezone IN (SELECT name FROM pg_timezone_names()) "
        "FROM advertisers WHERE advertiser_id = ?",
        [advertiser_id],
    )
    if not row or not row[0] or not row[1]:
        return "UTC"
    try:
        ZoneInfo(row[0])
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return str(row[0])


def list_advertisers(cur: Cursor) -> pd.DataFrame:
    """Every stored advertiser, by name."""
    return query_frame(
        cur,
        "SELECT advertiser_id, name, timezone, currency, company, status, country, role, "
        "updated_at FROM advertisers ORDER BY name, advertiser_id",
    )


def advertiser_updated_at(cur: Cursor, advertiser_id: str) -> datetime | None:
    """When the advertiser's details were last stored, or None if they never were."""
    row = query_records(cur, "SELECT updated_at FROM advertisers WHERE advertiser_id = ?",
                   [advertiser_id])
    return as_utc(row[0]["updated_at"]) if row else None


def buying_types(cur: Cursor, advertiser_id: str, ad_ids: Sequence[str]) -> dict[str, str]:
    """How each of these stored ads was bought (AUCTION, RESERVATION_RF,
    RESERVATION_TOP_VIEW), where the sync learned it."""
    if not ad_ids:
        return {}
    rows = fetch_rows(
        cur,
        "SELECT ad_id, buying_type FROM ads WHERE advertiser_id = ? AND buying_type IS NOT NULL "
        "AND ad_id IN (SELECT unnest(?::VARCHAR[]))",
        [advertiser_id, list(ad_ids)],
    )
    return {ad_id: bought for ad_id, bought in rows}


def comments_page(
    cur: Cursor,
    filters: CommentFilters,
    limit: int = 50,
    offset: int = 0,
    order: Order = "newest",
) -> pd.DataFrame:
    """One page of comments, with `answered` and `create_time_local` columns.

    `answered` is true for a top-level comment the brand has replied to, false otherwise.
    """
    if order not in _ORDERS:
        raise ValueError(f"order must be one of {', '.join(_ORDERS)}, not {order!r}")
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = where_clause(filters, tz)
    # DuckDB's top-N reads the wide columns only for the rows that make the page, and the
    # `answered` lookup then joins just those rows against the brand's replies.
    sql = f"""
        WITH page AS (
            SELECT * FROM comments c WHERE {where}
            ORDER BY {_ORDERS[order]} LIMIT ? OFFSET ?
        ),
        brand_replies AS (
            SELECT DISTINCT r.original_comment_id FROM comments r
            WHERE r.original_comment_id IN (SELECT comment_id FROM page) AND {BRAND_REPLY}
        )
        SELECT page.*,
               timezone(?, page.create_time) AS create_time_local,
               page.comment_type = 'COMMENT' AND b.original_comment_id IS NOT NULL AS answered
        FROM page LEFT JOIN brand_replies b ON b.original_comment_id = page.comment_id
        ORDER BY {_ORDERS[order]}
    """  # noqa: S608
    paging = [whole_number(limit, "limit"), whole_number(offset, "offset")]
    return query_frame(cur, sql, [*params, *paging, tz])


def unanswered_comments(
    cur: Cursor, filters: CommentFilters, limit: int = 50, offset: int = 0, order: Order = "newest"
) -> pd.DataFrame:
    """One page of top-level comments the brand has not replied to."""
    return comments_page(cur, replace(filters, unanswered_only=True), limit, offset, order)


def comments_count(cur: Cursor, filters: CommentFilters) -> int:
    """How many comments match the filters."""
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = where_clause(filters, tz)
    row = fetch_first(cur, f"SELECT count(*) FROM comments c WHERE {where}", params)  # noqa: S608
    return int(row[0]) if row else 0


def comments_by_id(cur: Cursor, comment_ids: Sequence[str]) -> pd.DataFrame:
    """The stored comments with these ids, whole, in the order given (unknown ids are left
    out): with `create_time_local` (the ad account's time zone, else UTC), `answered` (a
    top-level comment the brand replied to) and `video_caption` (an organic comment's video).
    """
    ids = list(dict.fromkeys(str(i) for i in comment_ids))
    sql = f"""
        SELECT c.*,
               timezone(CASE WHEN a.timezone IN (SELECT name FROM pg_timezone_names())
                             THEN a.timezone ELSE 'UTC' END, c.create_time) AS create_time_local,
               c.comment_type = 'COMMENT' AND EXISTS (
                   SELECT 1 FROM comments r
                   WHERE r.original_comment_id = c.comment_id AND {BRAND_REPLY}) AS answered,
               v.caption AS video_caption
        FROM unnest(?::VARCHAR[]) WITH ORDINALITY AS wanted(comment_id, position)
        JOIN comments c USING (comment_id)
        LEFT JOIN advertisers a ON a.advertiser_id = c.advertiser_id
        LEFT JOIN videos v ON c.source = 'organic' AND v.video_id = c.video_id
        ORDER BY wanted.position
    """  # noqa: S608 (constants)
    return query_frame(cur, sql, [ids])


def replies_for(cur: Cursor, comment_ids: Sequence[str]) -> pd.DataFrame:
    """The replies to the given comments, oldest first within each comment.

    Adds `create_time_local` and `is_brand` (posted by the advertiser's identity).
    """
    parents, parent_params = in_list("r.original_comment_id", [str(i) for i in comment_ids])
    ids = [
        row[0]
        for row in fetch_rows(
            cur,
            f"SELECT r.comment_id FROM comments r WHERE r.comment_type = 'REPLY' AND {parents}",  # noqa: S608
            parent_params,
        )
    ]
    these, these_params = in_list("r.comment_id", ids)
    sql = f"""
        SELECT r.*,
               timezone(CASE WHEN a.timezone IN (SELECT name FROM pg_timezone_names())
                             THEN a.timezone ELSE 'UTC' END, r.create_time) AS create_time_local,
               coalesce({BRAND_REPLY}, false) AS is_brand
        FROM comments r LEFT JOIN advertisers a ON a.advertiser_id = r.advertiser_id
        WHERE {these}
        ORDER BY r.original_comment_id, r.create_time, r.comment_id
    """  # noqa: S608
    return query_frame(cur, sql, these_params)


def ads_with_counts(cur: Cursor, advertiser_id: str) -> pd.DataFrame:
    """Every ad of the advertiser with its comment counts, most commented first.

    Ads without comments count 0. Ads known only from their comments (deleted ads, which
    ad/get leaves out) are included with the names their comments carry. `comment_count`
    counts every stored comment and reply; `unanswered_count` counts top-level comments
    without a brand reply.
    """
    tz = advertiser_timezone(cur, advertiser_id)
    sql = f"""
        WITH replied AS (
            SELECT DISTINCT r.original_comment_id AS comment_id FROM comments r
            WHERE r.advertiser_id = ? AND {BRAND_REPLY}
        ),
        per_ad AS (
            SELECT c.ad_id,
                   any_value(c.ad_name) AS ad_name,
                   any_value(c.campaign_id) AS campaign_id,
                   any_value(c.campaign_name) AS campaign_name,
                   any_value(c.adgroup_id) AS adgroup_id,
                   any_value(c.adgroup_name) AS adgroup_name,
                   count(*) AS comment_count,
                   count(*) FILTER (WHERE c.comment_type = 'COMMENT' AND replied.comment_id IS NULL)
                       AS unanswered_count,
                   count(*) FILTER (WHERE c.comment_status = 'HIDDEN') AS hidden_count,
                   max(c.create_time) AS last_comment_time
            FROM comments c LEFT JOIN replied ON replied.comment_id = c.comment_id
            WHERE c.advertiser_id = ?
            GROUP BY c.ad_id
        ),
        known AS (SELECT * FROM ads WHERE advertiser_id = ?)
        SELECT coalesce(a.ad_id, p.ad_id) AS ad_id,
               coalesce(a.ad_name, p.ad_name) AS ad_name,
               coalesce(a.campaign_id, p.campaign_id) AS campaign_id,
               coalesce(a.campaign_name, p.campaign_name) AS campaign_name,
               coalesce(a.adgroup_id, p.adgroup_id) AS adgroup_id,
               coalesce(a.adgroup_name, p.adgroup_name) AS adgroup_name,
               a.operation_status,
               coalesce(a.smart_plus, false) AS smart_plus,
               a.comments_refused,
               a.buying_type,
               coalesce(p.comment_count, 0)::BIGINT AS comment_count,
               coalesce(p.unanswered_count, 0)::BIGINT AS unanswered_count,
               coalesce(p.hidden_count, 0)::BIGINT AS hidden_count,
               p.last_comment_time,
               timezone(?, p.last_comment_time) AS last_comment_time_local
        FROM known a FULL OUTER JOIN per_ad p ON p.ad_id = a.ad_id
        ORDER BY comment_count DESC, ad_id
    """  # noqa: S608
    return query_frame(cur, sql, [advertiser_id, advertiser_id, advertiser_id, tz])


def writes_by_person(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """What each person did to the comments the filters choose: replies, hides and unhides
    TikTok carried out, writes that failed or are not settled, and their latest; the busiest
    first. `person` is the e-mail the audit log records (or the rule that acted)."""
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = where_clause(filters, tz)
    sql = f"""
        SELECT o.actor AS person,
               count(*) FILTER (WHERE o.kind = 'reply' AND o.status = 'sent')::BIGINT
                   AS replies,
               count(*) FILTER (WHERE o.kind = 'hide' AND o.status = 'sent')::BIGINT AS hidden,
               count(*) FILTER (WHERE o.kind = 'unhide' AND o.status = 'sent')::BIGINT
                   AS unhidden,
               count(*) FILTER (WHERE o.status <> 'sent')::BIGINT AS not_done,
               max(o.updated_at) AS last_write
        FROM outbox o JOIN comments c ON c.comment_id = o.comment_id
        WHERE {where}
        GROUP BY o.actor
        ORDER BY replies DESC, hidden DESC, person
    """  # noqa: S608
    return query_frame(cur, sql, params)


def comment_volume_by_ad(cur: Cursor, filters: CommentFilters, top_n: int = 10) -> pd.DataFrame:
    """Comments per ad, most first; past `top_n` ads the rest are one "Other ads" row.

    Columns ad_id, ad_name, source, comments. Organic comments are one row ("Organic posts",
    source "organic", no ad_id) ranked by its count among the ads; it is never folded into
    "Other ads" (source "ad", no ad_id), which holds ad comments only.
    """
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = where_clause(filters, tz)
    top_n = whole_number(top_n, "top_n")
    sql = f"""
        WITH per_ad AS (
            SELECT {source_of(filters)} AS source, c.ad_id,
                   any_value(c.ad_name) AS comment_ad_name, count(*) AS comments
            FROM comments c WHERE {where}
            GROUP BY ALL
        ),
        ranked AS (
            SELECT p.ad_id,
                   CASE WHEN p.source = 'organic' THEN '{ORGANIC_POSTS}'
                        ELSE coalesce(a.ad_name, p.comment_ad_name) END AS ad_name,
                   p.source, p.comments,
                   row_number() OVER (ORDER BY p.comments DESC, p.source, p.ad_id) AS rank
            FROM per_ad p LEFT JOIN ads a ON a.ad_id = p.ad_id
        )
        SELECT ad_id, ad_name, source, comments::BIGINT AS comments FROM (
            SELECT ad_id, ad_name, source, comments, rank FROM ranked
            WHERE rank <= ? OR source = 'organic'
            UNION ALL
            SELECT NULL, 'Other ads', 'ad', sum(comments), NULL FROM ranked
            WHERE rank > ? AND source IS DISTINCT FROM 'organic'
            HAVING count(*) > 0
        )
        ORDER BY rank NULLS LAST
    """  # noqa: S608
    return query_frame(cur, sql, [*params, top_n, top_n])


def comment_volume_over_time(
    cur: Cursor,
    filters: CommentFilters,
    grain: Literal["day", "hour"] = "day",
    ad_ids: Sequence[str] | None = None,
    *,
    by_source: bool = False,
) -> pd.DataFrame:
    """Comments per day or hour of the advertiser's local time, zeros included.

    Columns bucket, ad_id, ad_name, source, comments. With `ad_ids`, one series per listed
    ad (other ads and organic comments left out; source "ad"). With `by_source`, one series
    per source that has a matching comment (ad_id None; "Ad comments" with source "ad",
    "Organic comments" with source "organic"). Otherwise one series for everything (ad_id
    and source None), "All ads", or "All comments" when filters.business_id adds organic
    comments. Buckets run from the filters' dates when given, otherwise from the first to the
    last comment.
    """
    if grain not in _GRAINS:
        raise ValueError(f"grain must be day or hour, not {grain!r}")
    if by_source and ad_ids is not None:
        raise ValueError("by_source gives one series per source: it takes no ad_ids")
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = where_clause(filters, tz)
    first = datetime.combine(filters.date_from, time()) if filters.date_from else None
    last = None
    if filters.date_to:
        last = datetime.combine(filters.date_to, time(23 if grain == "hour" else 0))
    # `key` tells the series apart; `names` gives each its ad_id, ad_name and source.
    names_params: list[Any] = []
    if by_source:
        series_key = source_of(filters)
        names = """
            SELECT s.key, NULL::VARCHAR AS ad_id,
                   CASE WHEN s.key = 'organic' THEN 'Organic comments'
                        ELSE 'Ad comments' END AS ad_name,
                   s.key AS source
            FROM (SELECT DISTINCT key FROM slots) s
        """
    elif ad_ids is None:
        series_key = "NULL::VARCHAR"
        names = ("SELECT NULL::VARCHAR AS key, NULL::VARCHAR AS ad_id, ?::VARCHAR AS ad_name, "
                 "NULL::VARCHAR AS source")
        names_params = ["All ads" if filters.business_id is None else "All comments"]
    else:
        wanted = [str(i) for i in ad_ids]
        series_key = "c.ad_id"
        names = """
            SELECT s.key, s.key AS ad_id,
                   coalesce(a.ad_name, (SELECT any_value(k.ad_name) FROM slots k
                                        WHERE k.key = s.key)) AS ad_name,
                   'ad' AS source
            FROM (SELECT DISTINCT unnest(?::VARCHAR[]) AS key) s
            LEFT JOIN ads a ON a.ad_id = s.key
        """
        names_params = [wanted]
        only, only_params = in_list("c.ad_id", wanted)
        where, params = f"{where} AND {only}", [*params, *only_params]
    # Count per UTC quarter hour first (every timezone's offset is a whole number of quarter
    # hours), then convert only those slots to local time: far fewer timezone conversions.
    sql = f"""
        WITH slots AS (
            SELECT epoch_ms(c.create_time) // 900000 AS slot, {series_key} AS key,
                   any_value(c.ad_name) AS ad_name, count(*) AS comments
            FROM comments c WHERE {where}
            GROUP BY ALL
        ),
        counts AS (
            SELECT date_trunc('{grain}', timezone(?, to_timestamp(slot * 900))) AS bucket,
                   key, sum(comments) AS comments
            FROM slots
            GROUP BY ALL
        ),
        names AS ({names}),
        span AS (
            SELECT coalesce(?::TIMESTAMP, min(bucket)) AS lo,
                   coalesce(?::TIMESTAMP, max(bucket)) AS hi
            FROM counts
        ),
        buckets AS (
            SELECT unnest(generate_series(lo, hi, {_GRAINS[grain]})) AS bucket
            FROM span WHERE lo IS NOT NULL AND hi IS NOT NULL
        )
        SELECT b.bucket, n.ad_id, n.ad_name, n.source,
               coalesce(k.comments, 0)::BIGINT AS comments
        FROM buckets b CROSS JOIN names n
        LEFT JOIN counts k ON k.bucket = b.bucket AND k.key IS NOT DISTINCT FROM n.key
        ORDER BY b.bucket, n.ad_id, n.source
    """  # noqa: S608
    return query_frame(cur, sql, [*params, tz, *names_params, first, last])


def ad_engagement(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """Per ad: comments, hidden_share, reply_rate and median_minutes_to_first_reply.

    Columns ad_id, ad_name, source, comments, top_level_comments, answered_comments,
    hidden_share, reply_rate, median_minutes_to_first_reply; most comments first. Organic
    comments are one row ("Organic posts", source "organic", no ad_id). reply_rate is answered
    top-level comments over top-level comments (None without any); the minutes run from a
    top-level comment to the brand's first reply to it (the advertiser's, or on organic
    comments the business account's).
    """
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = where_clause(filters, tz)
    replies, reply_params = scope(filters, "r")
    sql = f"""
        WITH first_reply AS (
            SELECT r.original_comment_id AS comment_id, min(r.create_time) AS replied_at
            FROM comments r WHERE {" AND ".join(replies)} AND {BRAND_REPLY}
            GROUP BY r.original_comment_id
        ),
        per_ad AS (
            SELECT {source_of(filters)} AS source, c.ad_id,
                   any_value(c.ad_name) AS comment_ad_name,
                   count(*) AS comments,
                   count(*) FILTER (WHERE c.comment_status = 'HIDDEN') AS hidden,
                   count(*) FILTER (WHERE c.comment_type = 'COMMENT') AS top_level,
                   count(*) FILTER (WHERE c.comment_type = 'COMMENT' AND f.comment_id IS NOT NULL)
                       AS answered,
                   median((epoch_ms(f.replied_at) - epoch_ms(c.create_time)) / 60000.0)
                       FILTER (WHERE c.comment_type = 'COMMENT') AS minutes_to_reply
            FROM comments c LEFT JOIN first_reply f ON f.comment_id = c.comment_id
            WHERE {where}
            GROUP BY ALL
        )
        SELECT p.ad_id,
               CASE WHEN p.source = 'organic' THEN '{ORGANIC_POSTS}'
                    ELSE coalesce(a.ad_name, p.comment_ad_name) END AS ad_name,
               p.source,
               p.comments::BIGINT AS comments,
               p.top_level::BIGINT AS top_level_comments,
               p.answered::BIGINT AS answered_comments,
               p.hidden / p.comments AS hidden_share,
               p.answered / nullif(p.top_level, 0) AS reply_rate,
               p.minutes_to_reply AS median_minutes_to_first_reply
        FROM per_ad p LEFT JOIN ads a ON a.ad_id = p.ad_id
        ORDER BY p.comments DESC, p.source, p.ad_id
    """  # noqa: S608
    return query_frame(cur, sql, [*reply_params, *params])


def comment_languages(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """The classifier's languages among the comments the filters can see (language,
    comments), most common first; 'und' is undetermined, NULL not classified yet."""
    clauses, params = scope(filters, "c")
    return query_frame(
        cur,
        f"SELECT c.language, count(*) AS comments FROM comments c WHERE {' AND '.join(clauses)} "  # noqa: S608
        "GROUP BY c.language ORDER BY comments DESC, c.language",
        params,
    )


def label_counts(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """Matching comments per classifier label (label, comments), and how many are
    classified at all (label NULL)."""
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = where_clause(filters, tz)
    return query_frame(
        cur,
        f"""
        SELECT label, count(*) AS comments
        FROM (SELECT unnest(c.labels) AS label FROM comments c WHERE {where})
        GROUP BY label
        UNION ALL
        SELECT NULL AS label, count(*) AS comments FROM comments c
        WHERE {where} AND c.classified_with IS NOT NULL
        ORDER BY comments DESC
        """,  # noqa: S608
        [*params, *params],
    )
