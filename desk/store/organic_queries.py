"""The read queries over TikTok business accounts: their videos, organic comments and the
conversation on each video (its organic comments and those on the Spark Ads promoting it).

SQL is assembled from fixed fragments; every value is a bound parameter (hence the
`noqa: S608` marks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from desk.store.filters import BRAND_REPLY, CommentFilters, where_clause
from desk.store.queries import advertiser_timezone
from desk.store.schema import COMMENT_SOURCES
from desk.store.sql import Cursor, fetch_rows, query_frame, whole_number


def organic_counts(cur: Cursor, business_id: str) -> dict[str, int]:
    """How many organic comments and replies are stored per video of the account."""
    return _organic_counts_per(cur, "video_id", "business_id = ?", [business_id])


def organic_reply_counts(cur: Cursor, video_id: str) -> dict[str, int]:
    """How many replies are stored per top-level organic comment of the video."""
    return _organic_counts_per(
        cur, "original_comment_id", "video_id = ? AND comment_type = 'REPLY'", [video_id]
    )


def _organic_counts_per(
    cur: Cursor, key: str, condition: str, params: Sequence[Any]
) -> dict[str, int]:
    """How many organic comments meet `condition`, per value of the `key` column."""
    rows = fetch_rows(
        cur,
        f"SELECT {key}, count(*) FROM comments WHERE source = 'organic' AND {condition} "  # noqa: S608
        f"GROUP BY {key}",
        params,
    )
    return {str(value): int(n) for value, n in rows}


def list_business_accounts(cur: Cursor) -> pd.DataFrame:
    """Every stored business account, by display name."""
    return query_frame(
        cur,
        "SELECT business_id, username, display_name, profile_image, profile_deep_link, "
        "bio_description, is_verified, followers_count, following_count, total_likes, "
        "videos_count, updated_at FROM business_accounts ORDER BY display_name, business_id",
    )


def videos_with_counts(cur: Cursor, business_id: str) -> pd.DataFrame:
    """Every stored video of the account, newest first, with its comment counts.

    `organic_comments` counts the stored organic comments and replies on the video,
    `ad_comments` those on the Spark Ads promoting it (ads.tiktok_item_id = video_id, listed
    in `ad_ids`); `unanswered_count` counts top-level organic comments without an answer from
    the account, `hidden_count` hidden organic ones.
    """
    sql = f"""
        WITH organic AS (
            SELECT c.video_id,
                   count(*) AS organic_comments,
                   count(*) FILTER (WHERE c.comment_status = 'HIDDEN') AS hidden_count,
                   count(*) FILTER (WHERE c.comment_type = 'COMMENT' AND NOT EXISTS (
                       SELECT 1 FROM comments r WHERE r.original_comment_id = c.comment_id
                       AND {BRAND_REPLY})) AS unanswered_count,
                   max(c.create_time) AS last_comment_time
            FROM comments c WHERE c.source = 'organic' AND c.business_id = ?
            GROUP BY c.video_id
        ),
        spark AS (
            SELECT a.tiktok_item_id AS video_id, list(DISTINCT a.ad_id ORDER BY a.ad_id) AS ad_ids
            FROM ads a JOIN videos v ON v.video_id = a.tiktok_item_id
            WHERE v.business_id = ?
            GROUP BY a.tiktok_item_id
        ),
        paid AS (
            SELECT c.tiktok_item_id AS video_id, count(*) AS ad_comments
            FROM comments c JOIN videos v ON v.video_id = c.tiktok_item_id
            WHERE c.source = 'ad' AND v.business_id = ?
            GROUP BY c.tiktok_item_id
        )
        SELECT v.video_id, v.business_id, v.caption, v.create_time, v.share_url,
               v.thumbnail_url, v.embed_url, v.is_ad, v.video_views, v.likes, v.comments,
               v.shares,
               coalesce(o.organic_comments, 0)::BIGINT AS organic_comments,
               coalesce(p.ad_comments, 0)::BIGINT AS ad_comments,
               coalesce(o.unanswered_count, 0)::BIGINT AS unanswered_count,
               coalesce(o.hidden_count, 0)::BIGINT AS hidden_count,
               o.last_comment_time,
               coalesce(s.ad_ids, []::VARCHAR[]) AS ad_ids
        FROM videos v
        LEFT JOIN organic o ON o.video_id = v.video_id
        LEFT JOIN spark s ON s.video_id = v.video_id
        LEFT JOIN paid p ON p.video_id = v.video_id
        WHERE v.business_id = ?
        ORDER BY v.create_time DESC NULLS LAST, v.video_id
    """  # noqa: S608
    return query_frame(cur, sql, [business_id] * 4)


def comment_volume_by_video(
    cur: Cursor, business_id: str, filters: CommentFilters | None = None
) -> pd.DataFrame:
    """Comments per video of the account and source, most first: the organic ones, and the
    ad comments of the Spark Ads promoting the video. With `filters`, only the comments
    that match them count."""
    where = "true"
    params: list[Any] = []
    if filters is not None:
        where, params = where_clause(filters, advertiser_timezone(cur, filters.advertiser_id))
    # One equality (a hash join) rather than an OR of two, which DuckDB joins by nested loop.
    sql = f"""
        SELECT v.video_id, any_value(v.caption) AS caption, c.source,
               count(*)::BIGINT AS comments
        FROM videos v JOIN comments c
          ON v.video_id = CASE c.source WHEN 'organic' THEN c.video_id
                                        WHEN 'ad' THEN c.tiktok_item_id END
        WHERE v.business_id = ? AND {where}
        GROUP BY v.video_id, c.source
        ORDER BY comments DESC, v.video_id, c.source
    """  # noqa: S608
    return query_frame(cur, sql, [business_id, *params])


def conversation_for_video(
    cur: Cursor,
    video_id: str,
    limit: int = 500,
    offset: int = 0,
    source: Literal["ad", "organic"] | None = None,
) -> pd.DataFrame:
    """One video's whole conversation, oldest first: its organic comments and the comments
    on the Spark Ads promoting it (ad comments whose tiktok_item_id is the video)."""
    if source not in (None, *COMMENT_SOURCES):
        raise ValueError(f"source must be ad, organic or None, not {source!r}")
    sql = """
        SELECT c.* FROM comments c
        WHERE ((c.source = 'organic' AND c.video_id = ?)
               OR (c.source = 'ad' AND c.tiktok_item_id = ?))
          AND (?::VARCHAR IS NULL OR c.source = ?)
        ORDER BY c.create_time ASC NULLS LAST, c.comment_id ASC
        LIMIT ? OFFSET ?
    """
    params = [video_id, video_id, source, source, whole_number(limit, "limit"),
              whole_number(offset, "offset")]
    return query_frame(cur, sql, params)
