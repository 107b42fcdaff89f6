"""The reads only the weekly summary (desk.report) needs: the classifier's mix over a period,
each ad's delivery over some days with the comments it drew, and how far delivery is stored.

The comments are chosen by `CommentFilters` and its one WHERE clause (desk.store.filters), so
these counts agree with every other read. Delivery days (`ad_delivery.stat_day`) are days of
the ad account's time zone, as TikTok reports them; the comments set beside them are those
created from the first day's start to the last day's end in that zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from desk.store.filters import BRAND_REPLY, SENTIMENT_CUT, CommentFilters, where_clause
from desk.store.queries import advertiser_timezone
from desk.store.sql import Cursor, fetch_first, query_frame, query_records
from desk.store.times import to_utc

COMPLAINT = "complaint"
"""The classifier label counted as a complaint (desk.moderation.labels)."""


def classifier_mix(cur: Cursor, filters: CommentFilters) -> dict[str, int]:
    """How the classifier reads the comments the filters choose: classified (those it has
    read), negative, neutral and positive (the sentiment bands of CommentFilters.sentiment)."""
    where, params = where_clause(filters, advertiser_timezone(cur, filters.advertiser_id))
    sql = f"""
        SELECT count(*) FILTER (WHERE c.classified_with IS NOT NULL)::BIGINT AS classified,
               count(*) FILTER (WHERE c.sentiment < ?)::BIGINT AS negative,
               count(*) FILTER (WHERE c.sentiment BETWEEN ? AND ?)::BIGINT AS neutral,
               count(*) FILTER (WHERE c.sentiment > ?)::BIGINT AS positive
        FROM comments c WHERE {where}
    """  # noqa: S608 (fixed fragments; values are parameters)
    cut = SENTIMENT_CUT
    [row] = query_records(cur, sql, [-cut, -cut, cut, cut, *params])
    return {name: int(value or 0) for name, value in row.items()}


def language_mix(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """The classifier's languages among the comments the filters choose, dates included
    (language, comments), most common first; 'und' is undetermined, NULL not classified."""
    where, params = where_clause(filters, advertiser_timezone(cur, filters.advertiser_id))
    return query_frame(
        cur,
        f"SELECT c.language, count(*)::BIGINT AS comments FROM comments c WHERE {where} "  # noqa: S608
        "GROUP BY c.language ORDER BY comments DESC, c.language NULLS LAST",
        params,
    )


def delivery_by_ad(cur: Cursor, advertiser_id: str, first_day: date, last_day: date,
                   starts_at: datetime, ends_at: datetime) -> pd.DataFrame:
    """Each ad of the account that has delivery stored for a day from `first_day` to
    `last_day`: ad_id, ad_name, days (with delivery), spend, impressions, clicks,
    video_play_actions, likes (summed; NULL when TikTok gave none), currency, and the comments
    people wrote on it from `starts_at` to `ends_at` (comments and replies, the brand's own
    replies left out) with how many of those the classifier labelled complaints. Most
    impressions first."""
    sql = f"""
        WITH delivered AS (
            SELECT ad_id, count(*)::BIGINT AS days, sum(spend) AS spend,
                   sum(impressions)::BIGINT AS impressions, sum(clicks)::BIGINT AS clicks,
                   sum(video_play_actions)::BIGINT AS video_play_actions,
                   sum(likes)::BIGINT AS likes,
                   string_agg(DISTINCT currency, ', ' ORDER BY currency) AS currency
            FROM ad_delivery
            WHERE advertiser_id = ? AND stat_day BETWEEN ? AND ?
            GROUP BY ad_id
        ),
        said AS (
            SELECT r.ad_id, any_value(r.ad_name) AS comment_ad_name,
                   count(*)::BIGINT AS comments,
                   count(*) FILTER (WHERE list_contains(r.labels, '{COMPLAINT}'))::BIGINT
                       AS complaints
            FROM comments r
            WHERE r.advertiser_id = ? AND r.create_time >= ? AND r.create_time < ?
              AND NOT coalesce({BRAND_REPLY}, false)
              AND r.ad_id IN (SELECT ad_id FROM delivered)
            GROUP BY r.ad_id
        )
        SELECT d.ad_id, coalesce(a.ad_name, s.comment_ad_name) AS ad_name, d.days, d.spend,
               d.impressions, d.clicks, d.video_play_actions, d.likes, d.currency,
               coalesce(s.comments, 0)::BIGINT AS comments,
               coalesce(s.complaints, 0)::BIGINT AS complaints
        FROM delivered d LEFT JOIN said s USING (ad_id) LEFT JOIN ads a USING (ad_id)
        ORDER BY d.impressions DESC NULLS LAST, d.spend DESC NULLS LAST, d.ad_id
    """  # noqa: S608 (constants)
    params: list[Any] = [advertiser_id, first_day, last_day, advertiser_id,
                         to_utc(starts_at), to_utc(ends_at)]
    return query_frame(cur, sql, params)


def delivery_synced_through(cur: Cursor, advertiser_id: str) -> date | None:
    """The last day of the ad account's delivery stored, or None when none is."""
    row = fetch_first(cur, "SELECT synced_through FROM delivery_cursors WHERE advertiser_id = ?",
                      [advertiser_id])
    return row[0] if row else None
