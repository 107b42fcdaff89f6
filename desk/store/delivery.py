"""Each ad's daily delivery (report/integrated/get) and what people said beside it.

Storing: `store_delivery` replaces an ad account's delivery of some days with what TikTok
reported for them (one set-based statement from a registered Arrow table, never row by row)
and moves the account's cursor (`delivery_cursors`) in the same transaction.

Reading: comments, questions, complaints and negative comments per 1,000 impressions and per
unit of spend, per ad, per day (with the comments' mean sentiment and negative share beside
the day's spend) and per creative, the TikTok video the ads show: all three from one pass
over the comments and the delivery (`delivery_rates`; `delivery_rates_by_ad`, `_by_day` and
`_by_creative` give one each). The definitions, shared by all three:

- Days are the ad account's (`ad_delivery.stat_day`, as TikTok reports them); a comment
  counts on the day of its account's time zone it was written.
- What was said on an ad's day counts only where TikTok reported delivery for that ad and day
  (a comment on a day without delivery has no impressions to be set against).
- Comments are the ad comments and replies `CommentFilters` chooses (its one WHERE clause, so
  the counts agree with every other read), the brand's own replies left out. Questions and
  complaints are the classifier's labels; negative is a sentiment below -SENTIMENT_CUT (as the
  filters' "negative"); the mean sentiment is over the classified comments.
- The delivery is that of the ads the filters choose (`ad_ids`, or the Spark Ads of
  `video_ids`) on the days they choose; the other filters (status, search, labels, ...) choose
  only the comments counted.
- Rates are missing (NaN) where there are no impressions (or no spend).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from desk.store.filters import SENTIMENT_CUT, CommentFilters, in_list, where_clause
from desk.store.queries import advertiser_timezone
from desk.store.sql import (
    Cursor,
    fetch_first,
    fetch_rows,
    query_frame,
    registered,
    transaction,
)
from desk.store.times import to_utc

QUESTION, COMPLAINT = "question", "complaint"
"""The classifier labels counted as questions and complaints (desk.moderation.labels)."""
COUNTS = ("comments", "questions", "complaints", "negative")
"""What is counted of the comments, each also per 1,000 impressions and per unit of spend."""
DELIVERY_COLUMNS = ("advertiser_id", "ad_id", "stat_day", "spend", "impressions", "clicks",
                    "video_play_actions", "likes", "currency")


# -- storing ------------------------------------------------------------------------------------

def delivery_cursor(cur: Cursor, advertiser_id: str) -> date | None:
    """The last day of the ad account's delivery stored, or None when none is."""
    row = fetch_first(cur, "SELECT synced_through FROM delivery_cursors WHERE advertiser_id = ?",
                      [advertiser_id])
    return row[0] if row else None


def store_delivery(cur: Cursor, advertiser_id: str, first_day: date, last_day: date,
                   table: pa.Table, fetched_at: datetime, currency: str | None = None) -> int:
    """Make the ad account's stored delivery of `first_day`..`last_day` what `table` holds
    (columns DELIVERY_COLUMNS; each ad and day once, the last kept): rows of those days TikTok
    no longer reports are deleted, the others inserted or updated, `currency` filled in
    where the table has none, and the account's cursor moved to `last_day` (never back), all
    in one transaction. Returns the rows written."""
    batch = _delivery_batch(table, advertiser_id)
    set_columns = ", ".join(f"{name} = excluded.{name}" for name in
                            (*DELIVERY_COLUMNS[:2], *DELIVERY_COLUMNS[3:], "fetched_at")
                            if name != "ad_id")
    columns = ", ".join(DELIVERY_COLUMNS)
    with transaction(cur), registered(cur, batch, "delivery") as name:
        fetch_rows(cur, f"""
            DELETE FROM ad_delivery
            WHERE advertiser_id = ? AND stat_day BETWEEN ? AND ?
              AND NOT EXISTS (SELECT 1 FROM {name} b
                              WHERE b.ad_id = ad_delivery.ad_id
                                AND b.stat_day = ad_delivery.stat_day)
        """, [advertiser_id, first_day, last_day])  # noqa: S608 (a registered table's name)
        if batch.num_rows:
            fetch_rows(cur, f"""
                INSERT INTO ad_delivery ({columns}, fetched_at)
                SELECT advertiser_id, ad_id, stat_day, spend, impressions, clicks,
                       video_play_actions, likes, coalesce(currency, ?), ?
                FROM {name}
                WHERE stat_day BETWEEN ? AND ?
                ON CONFLICT (ad_id, stat_day) DO UPDATE SET {set_columns}
            """, [currency, to_utc(fetched_at), first_day, last_day])  # noqa: S608 (constants)
        fetch_rows(cur, """
            INSERT INTO delivery_cursors (advertiser_id, synced_through, synced_at)
            VALUES (?, ?, ?)
            ON CONFLICT (advertiser_id) DO UPDATE SET
                synced_through = greatest(delivery_cursors.synced_through,
                                          excluded.synced_through),
                synced_at = excluded.synced_at
        """, [advertiser_id, last_day, to_utc(fetched_at)])
    return batch.num_rows


def _delivery_batch(table: pa.Table, advertiser_id: str) -> pa.Table:
    """The table's delivery columns, typed as the store keeps them, for `advertiser_id`."""
    types = {"advertiser_id": pa.string(), "ad_id": pa.string(), "stat_day": pa.date32(),
             "spend": pa.float64(), "impressions": pa.int64(), "clicks": pa.int64(),
             "video_play_actions": pa.int64(), "likes": pa.int64(), "currency": pa.string()}
    rows = table.num_rows
    columns = {}
    for name, kind in types.items():
        if name == "advertiser_id":
            columns[name] = pa.array([str(advertiser_id)] * rows, kind)
        elif name in table.column_names:
            columns[name] = table[name].cast(kind)
        elif name in ("ad_id", "stat_day"):
            raise ValueError(f"every delivery row needs its {name}")
        else:
            columns[name] = pa.nulls(rows, kind)
    batch = pa.table(columns)
    if batch["ad_id"].null_count or batch["stat_day"].null_count:
        raise ValueError("every delivery row needs its ad_id and stat_day")
    positions = pa.table({"ad_id": batch["ad_id"], "stat_day": batch["stat_day"],
                          "position": pa.array(range(rows), pa.int64())})
    last = positions.group_by(["ad_id", "stat_day"]).aggregate([("position", "max")])
    if last.num_rows < rows:  # an ad's day twice: the last one counts
        kept = last["position_max"]
        batch = batch.take(pc.take(kept, pc.sort_indices(kept)))
    return batch


def note_on_sync_run(cur: Cursor, run_id: int, sentence: str, requests: int) -> None:
    """Add `sentence` to a finished sync run's message and `requests` to its requests (the
    delivery read after an ad account's comments)."""
    fetch_rows(cur, "UPDATE sync_runs SET message = trim(coalesce(message, '') || ' ' || ?), "
                    "requests = requests + ? WHERE run_id = ?", [sentence, requests, run_id])


# -- reading ------------------------------------------------------------------------------------

def _delivered_days(cur: Cursor, filters: CommentFilters) -> tuple[str, list[Any]]:
    """The CTEs `said` (what was said per ad and day) and `days` (each delivered ad day the
    filters choose, with what was said on it) and their parameters."""
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = where_clause(filters, tz)
    chosen, chosen_params = _chosen_ads(filters)
    days, day_params = [], []
    if filters.date_from is not None:
        days.append("d.stat_day >= ?")
        day_params.append(filters.date_from)
    if filters.date_to is not None:
        days.append("d.stat_day <= ?")
        day_params.append(filters.date_to)
    if _unavailable(filters):
        days.append("false")
    day_clause = "".join(f" AND {clause}" for clause in days)
    videos = (" LEFT JOIN ads a ON a.ad_id = d.ad_id"  # only to choose Spark Ads by their video
              if filters.video_ids is not None else "")
    sql = f"""
        said AS (
            SELECT c.ad_id, CAST(timezone(?, c.create_time) AS DATE) AS stat_day,
                   count(*) AS comments,
                   count(*) FILTER (WHERE list_contains(c.labels, '{QUESTION}')) AS questions,
                   count(*) FILTER (WHERE list_contains(c.labels, '{COMPLAINT}')) AS complaints,
                   count(*) FILTER (WHERE c.sentiment < ?) AS negative,
                   count(c.sentiment) AS classified,
                   sum(c.sentiment) AS sentiment_sum
            FROM comments c
            WHERE {where} AND c.source = 'ad' AND c.ad_id IS NOT NULL
              AND NOT (c.comment_type = 'REPLY' AND coalesce(c.can_delete, false))
            GROUP BY ALL
        ),
        days AS (
            SELECT d.ad_id, d.stat_day, d.spend, d.impressions, d.clicks,
                   d.video_play_actions, d.likes, d.currency,
                   coalesce(s.comments, 0) AS comments, coalesce(s.questions, 0) AS questions,
                   coalesce(s.complaints, 0) AS complaints,
                   coalesce(s.negative, 0) AS negative,
                   coalesce(s.classified, 0) AS classified, s.sentiment_sum
            FROM ad_delivery d{videos}
            LEFT JOIN said s ON s.ad_id = d.ad_id AND s.stat_day = d.stat_day
            WHERE d.advertiser_id = ?{day_clause}{f" AND {chosen}" if chosen else ""}
        )"""  # noqa: S608 (fixed fragments; values are parameters)
    return sql, [tz, -SENTIMENT_CUT, *params, filters.advertiser_id, *day_params,
                 *chosen_params]


def _chosen_ads(filters: CommentFilters) -> tuple[str | None, list[Any]]:
    """The delivery of the ads the filters choose: `ad_ids`, or the ads showing `video_ids`
    (Spark Ads), either one matching; None when they choose no ads."""
    parts, params = [], []
    if filters.ad_ids is not None:
        clause, values = in_list("d.ad_id", [str(i) for i in filters.ad_ids])
        parts.append(clause)
        params += values
    if filters.video_ids is not None:
        clause, values = in_list("a.tiktok_item_id", [str(i) for i in filters.video_ids])
        parts.append(clause)
        params += values
    if not parts:
        return None, []
    return (parts[0] if len(parts) == 1 else f"({' OR '.join(parts)})"), params


def _unavailable(filters: CommentFilters) -> bool:
    """Organic comments alone, or no ad account: no delivery to set them against."""
    return not filters.advertiser_id or filters.source == "organic"


@dataclass(frozen=True)
class DeliveryRates:
    """The three views of the chosen delivery and what was said on it (see the functions
    below, which return each one)."""

    by_ad: pd.DataFrame
    by_day: pd.DataFrame
    by_creative: pd.DataFrame


_SUMMED = ("impressions", "spend", "clicks", "video_play_actions", "likes", *COUNTS,
           "classified", "sentiment_sum")
_AD_COLUMNS = ("ad_id", "ad_name", "tiktok_item_id", "days", "impressions", "spend", "clicks",
               "video_play_actions", "likes", "currency", *COUNTS)
_DAY_COLUMNS = ("stat_day", "impressions", "spend", "clicks", "video_play_actions", "likes",
                "currency", *COUNTS, "classified", "mean_sentiment", "negative_share")
_CREATIVE_COLUMNS = ("tiktok_item_id", "ad_id", "ads", "ad_names", "impressions", "spend",
                     "currency", *COUNTS, "complaint_share")
_RATE_COLUMNS = tuple(f"{name}_per_{per}" for name in COUNTS
                      for per in ("1000_impressions", "unit_spend"))


def delivery_rates(cur: Cursor, filters: CommentFilters) -> DeliveryRates:
    """Per ad, per day and per creative at once: one pass over the comments and the delivery
    (GROUPING SETS per ad and per day); a creative is the sum of the ads showing it."""
    ctes, params = _delivered_days(cur, filters)
    sums = ", ".join(f"sum({name}){'' if name in ('spend', 'sentiment_sum') else '::BIGINT'}"
                     f" AS {name}" for name in _SUMMED)
    sql = f"""
        WITH {ctes},
        grouped AS (
            SELECT GROUPING(ad_id) = 0 AS per_ad, ad_id, stat_day, count(*)::BIGINT AS days,
                   min(currency) AS currency, {sums}
            FROM days
            GROUP BY GROUPING SETS ((ad_id), (stat_day))
        )
        SELECT g.*, a.ad_name, a.tiktok_item_id
        FROM grouped g LEFT JOIN ads a ON g.per_ad AND a.ad_id = g.ad_id
    """  # noqa: S608 (fixed fragments; values are parameters)
    frame = query_frame(cur, sql, params)
    ads = frame[frame["per_ad"]].sort_values(
        ["impressions", "spend", "ad_id"], ascending=[False, False, True], na_position="last")
    days = frame[~frame["per_ad"]].sort_values("stat_day")
    days = days.assign(mean_sentiment=_ratio(days["sentiment_sum"], days["classified"]),
                       negative_share=_ratio(days["negative"], days["classified"]))
    return DeliveryRates(
        by_ad=_with_rates(ads[list(_AD_COLUMNS)]),
        by_day=_with_rates(days[list(_DAY_COLUMNS)]),
        by_creative=_with_rates(_per_creative(ads)[list(_CREATIVE_COLUMNS)]),
    )


def _per_creative(ads: pd.DataFrame) -> pd.DataFrame:
    """The per-ad sums added up per TikTok video (an ad without one on its own), most
    complaints per 1,000 impressions first."""
    named = ads.assign(creative=ads["tiktok_item_id"].fillna("ad:" + ads["ad_id"]),
                       name=ads["ad_name"].fillna(ads["ad_id"]))
    summed = ["impressions", "spend", *COUNTS]
    grouped = named.sort_values("name").groupby("creative", sort=False)
    creatives = grouped[summed].sum(min_count=1).join(grouped.agg(
        tiktok_item_id=("tiktok_item_id", "first"), any_ad=("ad_id", "first"),
        ads=("ad_id", "size"), ad_names=("name", ", ".join), currency=("currency", "min"),
    )).reset_index()
    creatives["ads"] = creatives["ads"].astype("Int64")
    creatives["ad_id"] = creatives["any_ad"].where(creatives["ads"] == 1)
    creatives["complaint_share"] = _ratio(creatives["complaints"], creatives["comments"])
    rate = _ratio(1000.0 * creatives["complaints"], creatives["impressions"])
    return (creatives.assign(rank=rate)
            .sort_values(["rank", "complaints", "impressions", "creative"],
                         ascending=[False, False, False, True], na_position="last"))


def _ratio(top: pd.Series, bottom: pd.Series) -> pd.Series:
    """top / bottom as floats, NaN where bottom is 0 or missing."""
    bottom = bottom.astype("float64")
    return (top.astype("float64") / bottom.where(bottom != 0)).astype("float64")


def _with_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with each count per 1,000 impressions and per unit of spend."""
    rates = {}
    for name in COUNTS:
        rates[f"{name}_per_1000_impressions"] = _ratio(1000.0 * frame[name].astype("float64"),
                                                       frame["impressions"])
        rates[f"{name}_per_unit_spend"] = _ratio(frame[name], frame["spend"])
    return frame.assign(**rates).reset_index(drop=True)


def delivery_rates_by_ad(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """Per ad with delivery on the chosen days: ad_id, ad_name, tiktok_item_id, days (with
    delivery), impressions, spend, clicks, video_play_actions, likes, currency, comments,
    questions, complaints, negative, and each count per 1,000 impressions
    (`<count>_per_1000_impressions`) and per unit of spend (`<count>_per_unit_spend`). Most
    impressions first."""
    return delivery_rates(cur, filters).by_ad


def delivery_rates_by_day(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """Per day with delivery of the chosen ads: stat_day, impressions, spend, clicks,
    video_play_actions, likes, currency, the four counts, classified (comments the classifier
    has read), mean_sentiment (their mean, -1 to 1), negative_share (negative / classified),
    and each count per 1,000 impressions and per unit of spend. Oldest first."""
    return delivery_rates(cur, filters).by_day


def delivery_rates_by_creative(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """Per creative, the TikTok video the ads show (`tiktok_item_id`; an ad without one is its
    own creative, tiktok_item_id NULL), over every chosen ad that shows it: tiktok_item_id,
    ad_id (the ad, when only one shows it), ads, ad_names, impressions, spend, currency, the
    four counts, complaint_share (complaints / comments), and each count per 1,000
    impressions and per unit of spend. Most complaints per 1,000 impressions first."""
    return delivery_rates(cur, filters).by_creative
