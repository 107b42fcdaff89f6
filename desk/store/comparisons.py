"""Insights' sentiment over time and its side-by-side comparison of chosen ads.

Both read the comments the filters choose, leaving out the brand's own replies (they are
not what the audience says). Sentiment bands are the Comments filter's: below -SENTIMENT_CUT
negative, above it positive, neutral between; comments the classifier has not read yet are
not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from desk.store.filters import BRAND_REPLY, SENTIMENT_CUT, CommentFilters, where_clause
from desk.store.queries import advertiser_timezone
from desk.store.sql import Cursor, query_frame

SentimentGrain = Literal["day", "week"]
BANDS = ("negative", "neutral", "positive")
_NOT_BRAND = BRAND_REPLY.replace("r.", "c.")


def sentiment_over_time(cur: Cursor, filters: CommentFilters,
                        grain: SentimentGrain = "week") -> pd.DataFrame:
    """The share of each sentiment band per day or week (Monday first) of the ad account's
    time zone (UTC without one): bucket, sentiment, comments, share (of the bucket's
    classified comments). Buckets with no classified comment are left out."""
    if grain not in ("day", "week"):
        raise ValueError(f"grain must be day or week, not {grain!r}")
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = where_clause(filters, tz)
    sql = f"""
        WITH banded AS (
            SELECT date_trunc('{grain}', timezone(?, c.create_time)) AS bucket,
                   CASE WHEN c.sentiment < ? THEN 'negative'
                        WHEN c.sentiment > ? THEN 'positive' ELSE 'neutral' END AS sentiment
            FROM comments c
            WHERE {where} AND c.sentiment IS NOT NULL AND NOT coalesce({_NOT_BRAND}, false)
        )
        SELECT bucket, sentiment, count(*) AS comments,
               count(*) / sum(count(*)) OVER (PARTITION BY bucket) AS share
        FROM banded GROUP BY bucket, sentiment
        ORDER BY bucket, list_position(?::VARCHAR[], sentiment)
    """  # noqa: S608 (constants and the filters' clause)
    return query_frame(cur, sql, [tz, -SENTIMENT_CUT, SENTIMENT_CUT, *params, list(BANDS)])


def compare_ads(cur: Cursor, filters: CommentFilters, ad_ids: Sequence[str]) -> pd.DataFrame:
    """The chosen ads side by side, over the filters' other choices (period, labels...): one
    row per ad with ad_id, ad_name, comments (the audience's, replies included),
    first_level, answered (first-level ones the brand replied to), questions, complaints,
    negative_share and positive_share (of the classified ones), hidden_share, and, when
    its delivery is stored for those days, impressions, spend and comments_per_1000."""
    wanted = list(dict.fromkeys(str(a) for a in ad_ids))
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = where_clause(filters, tz)
    sql = f"""
        WITH chosen AS (
            SELECT c.* FROM comments c
            WHERE {where} AND c.ad_id IN (SELECT unnest(?::VARCHAR[]))
              AND NOT coalesce({_NOT_BRAND}, false)
        ),
        answered AS (
            SELECT DISTINCT r.original_comment_id FROM comments r
            WHERE {BRAND_REPLY} AND r.original_comment_id IN (SELECT comment_id FROM chosen)
        ),
        per_ad AS (
            SELECT c.ad_id, any_value(c.ad_name) AS ad_name, count(*) AS comments,
                   count(*) FILTER (WHERE c.comment_type = 'COMMENT') AS first_level,
                   count(a.original_comment_id) AS answered,
                   count(*) FILTER (WHERE list_contains(c.labels, 'question')) AS questions,
                   count(*) FILTER (WHERE list_contains(c.labels, 'complaint')) AS complaints,
                   avg(CASE WHEN c.sentiment < ? THEN 1.0 ELSE 0.0 END)
                       FILTER (WHERE c.sentiment IS NOT NULL) AS negative_share,
                   avg(CASE WHEN c.sentiment > ? THEN 1.0 ELSE 0.0 END)
                       FILTER (WHERE c.sentiment IS NOT NULL) AS positive_share,
                   avg(CASE WHEN c.comment_status = 'HIDDEN' THEN 1.0 ELSE 0.0 END)
                       AS hidden_share,
                   min(timezone(?, c.create_time))::DATE AS first_day,
                   max(timezone(?, c.create_time))::DATE AS last_day
            FROM chosen c LEFT JOIN answered a ON a.original_comment_id = c.comment_id
            GROUP BY c.ad_id
        ),
        delivered AS (
            SELECT d.ad_id, sum(d.impressions) AS impressions, sum(d.spend) AS spend
            FROM ad_delivery d JOIN per_ad p USING (ad_id)
            WHERE d.stat_day BETWEEN coalesce(?::DATE, p.first_day)
                                 AND coalesce(?::DATE, p.last_day)
            GROUP BY d.ad_id
        )
        SELECT p.ad_id, p.ad_name, p.comments, p.first_level, p.answered, p.questions,
               p.complaints, p.negative_share, p.positive_share, p.hidden_share,
               d.impressions, d.spend,
               CASE WHEN d.impressions > 0 THEN p.comments * 1000.0 / d.impressions END
                   AS comments_per_1000
        FROM per_ad p LEFT JOIN delivered d USING (ad_id)
        ORDER BY list_position(?::VARCHAR[], p.ad_id)
    """  # noqa: S608 (constants and the filters' clause)
    return query_frame(cur, sql, [*params, wanted, -SENTIMENT_CUT, SENTIMENT_CUT, tz, tz,
                                  filters.date_from, filters.date_to, wanted])
