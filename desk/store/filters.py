"""What the comments pages filter on, and the SQL that filters it.

`CommentFilters` is described once and turned into one WHERE clause (`where_clause`) that
every read query over `comments c` shares, so the page, its count, its charts and its
export always agree. Every value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from desk.store.schema import COMMENT_SOURCES

# A brand reply: a REPLY its identity can delete, i.e. one the advertiser's identity posted.
BRAND_REPLY = "r.comment_type = 'REPLY' AND r.can_delete"

Sentiment = Literal["negative", "neutral", "positive"]
SENTIMENT_CUT = 0.25
"""Sentiment below -SENTIMENT_CUT is negative, above it positive, neutral in between."""


@dataclass(frozen=True)
class CommentFilters:
    """What the comments page shows. `ad_ids=None` means every ad; an empty list, none.

    Dates are whole days, inclusive, in the advertiser's timezone. `business_id` adds the
    organic comments of that TikTok business account to the advertiser's ad comments
    (advertiser_id "" for that account's organic comments alone); `source` keeps only "ad"
    or only "organic" comments (None: both). `video_ids` keeps the comments on those videos:
    organic ones and those on the Spark Ads promoting them (None: every video; an empty
    list, none). Given both, `ad_ids` and `video_ids` each add their comments: a comment on
    a chosen ad or on a chosen video matches.

    From the classifier: `labels` keeps comments with any of these labels (None: all),
    `sentiment` one band of it, `language` one ISO 639-1 code ("und": undetermined).
    """

    advertiser_id: str
    ad_ids: Sequence[str] | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: Literal["PUBLIC", "HIDDEN"] | None = None
    comment_type: Literal["COMMENT", "REPLY"] | None = None
    search: str | None = None
    unanswered_only: bool = False
    source: Literal["ad", "organic"] | None = None
    business_id: str | None = None
    video_ids: Sequence[str] | None = None
    labels: Sequence[str] | None = None
    sentiment: Sentiment | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        if self.source not in (None, *COMMENT_SOURCES):
            raise ValueError(f"source must be ad, organic or None, not {self.source!r}")
        if self.status not in (None, "PUBLIC", "HIDDEN"):
            raise ValueError(f"status must be PUBLIC, HIDDEN or None, not {self.status!r}")
        if self.comment_type not in (None, "COMMENT", "REPLY"):
            raise ValueError(
                f"comment_type must be COMMENT, REPLY or None, not {self.comment_type!r}"
            )
        if self.ad_ids is not None:
            object.__setattr__(self, "ad_ids", tuple(self.ad_ids))
        if self.video_ids is not None:
            object.__setattr__(self, "video_ids", tuple(self.video_ids))
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))
        if self.sentiment not in (None, "negative", "neutral", "positive"):
            raise ValueError(f"sentiment must be negative, neutral, positive or None, not "
                             f"{self.sentiment!r}")


def where_clause(filters: CommentFilters, tz: str) -> tuple[str, list[Any]]:
    """The WHERE clause (over `comments c`) and its parameters for the filters."""
    clauses, params = scope(filters, "c")
    if filters.source is not None:
        clauses.append("c.source = ?")
        params.append(filters.source)
    chosen, chosen_params = _chosen(filters)
    if chosen is not None:
        clauses.append(chosen)
        params += chosen_params
    zone = ZoneInfo(tz)
    if filters.date_from is not None:
        clauses.append("c.create_time >= ?")
        params.append(_day_start(filters.date_from, zone))
    if filters.date_to is not None:
        clauses.append("c.create_time < ?")
        params.append(_day_start(filters.date_to + timedelta(days=1), zone))
    if filters.status is not None:
        clauses.append("c.comment_status = ?")
        params.append(filters.status)
    if filters.comment_type is not None:
        clauses.append("c.comment_type = ?")
        params.append(filters.comment_type)
    if filters.search and filters.search.strip():
        pattern = f"%{_escape_like(filters.search.strip())}%"
        clauses.append("(c.content ILIKE ? ESCAPE '\\' OR c.user_name ILIKE ? ESCAPE '\\')")
        params += [pattern, pattern]
    if filters.labels is not None:
        clauses.append("list_has_any(c.labels, ?::VARCHAR[])")
        params.append(list(filters.labels))
    if filters.sentiment == "negative":
        clauses.append("c.sentiment < ?")
        params.append(-SENTIMENT_CUT)
    elif filters.sentiment == "positive":
        clauses.append("c.sentiment > ?")
        params.append(SENTIMENT_CUT)
    elif filters.sentiment == "neutral":
        clauses.append("c.sentiment BETWEEN ? AND ?")
        params += [-SENTIMENT_CUT, SENTIMENT_CUT]
    if filters.language is not None:
        clauses.append("c.language = ?")
        params.append(filters.language)
    if filters.unanswered_only:
        clauses.append(
            "c.comment_type = 'COMMENT' AND NOT EXISTS (SELECT 1 FROM comments r "  # noqa: S608
            f"WHERE r.original_comment_id = c.comment_id AND {BRAND_REPLY})"
        )
    return " AND ".join(clauses), params


def scope(filters: CommentFilters, alias: str) -> tuple[list[str], list[Any]]:
    """The comments the filters can see at all (over `comments {alias}`): the advertiser's,
    plus with a business_id that account's organic ones (only those for advertiser "")."""
    ad_account = f"{alias}.advertiser_id = ?"
    if filters.business_id is None:
        return [ad_account], [filters.advertiser_id]
    organic = f"{alias}.source = 'organic' AND {alias}.business_id = ?"
    if not filters.advertiser_id:
        return [f"({organic})"], [filters.business_id]
    return [f"({ad_account} OR ({organic}))"], [filters.advertiser_id, filters.business_id]


def source_of(filters: CommentFilters) -> str:
    """The SQL for a matching comment's source: a constant when the filters can see only ad
    comments (organic ones have no advertiser_id), which spares grouping by the column."""
    return "'ad'" if filters.business_id is None else "c.source"


def _chosen(filters: CommentFilters) -> tuple[str | None, list[Any]]:
    """The clause for the chosen ads and videos (None: no choice made), either one matching.

    A video's comments are its organic ones and those on the Spark Ads promoting it (ad
    comments whose tiktok_item_id is the video).
    """
    parts: list[str] = []
    params: list[Any] = []
    if filters.ad_ids is not None:
        ads, ad_params = in_list("c.ad_id", [str(i) for i in filters.ad_ids])
        parts.append(ads)
        params += ad_params
    if filters.video_ids is not None:
        wanted = [str(i) for i in filters.video_ids]
        organic, organic_params = in_list("c.video_id", wanted)
        spark, spark_params = in_list("c.tiktok_item_id", wanted)
        parts.append(f"((c.source = 'organic' AND {organic}) OR (c.source = 'ad' AND {spark}))")
        params += [*organic_params, *spark_params]
    if not parts:
        return None, []
    return (parts[0] if len(parts) == 1 else f"({' OR '.join(parts)})"), params


def in_list(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """`column IN (?, ...)` with one bound parameter per value ("false" for no values).

    Constant lists become scan filters (and index lookups on a primary key), unlike a list
    parameter or a subquery.
    """
    if not values:
        return "false", []
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
