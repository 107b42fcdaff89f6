"""Response times: the targets an admin sets per account, how long each first-level comment
waited for the brand's first answer, and the backlog of comments still owed one.

The definitions (docs/inbox.md, "Response times", says the same in words):

- **First response**: the earliest brand reply (`BRAND_REPLY`) under a first-level comment,
  whatever its status; ties on time go to the smaller reply ID. Minutes to it run from the
  comment's create_time to the reply's, in fractional minutes. A reopened comment keeps its
  first response: the report measures the first wait; the backlog follows the later ones.
- **Answered by**: the `actor` of the sent outbox reply whose result_comment_id is that
  reply; a brand reply with no such row was made outside Comment Desk (`OUTSIDE_DESK`).
- **Target**: per account (an ad comment's ad account, an organic comment's TikTok account)
  and scope (`TARGET_ALL` or a classifier label). The comment's labelled targets win over
  the account's 'all' target, the shortest of them when several apply; no target, no
  verdict. Within target: minutes to first response <= target minutes.
- **Median and p90**: continuous quantiles (`quantile_cont`, linear between the two nearest
  ranks, as numpy's default): with n sorted values the p-quantile sits at rank (n - 1) * p.
  Share within target: answered comments within their target over answered comments that
  have one.
- **Owed / backlog**: a first-level comment that is not hidden is owed an answer from its
  creation until a brand reply or being marked done, and again from being reopened (by a
  person, or by its commenter writing again, from when they wrote but never before the
  change it follows) until the next brand reply or done. A snooze changes nothing, except
  that it ends a done. The backlog at an instant T counts the comments owed after everything
  that happened strictly before T; a comment's age then is T minus when its wait began (its
  creation, or the reopening that started it).

Everything is set-based SQL over `comments c` chosen by `CommentFilters` (an account's
comments: `CommentFilters(advertiser_id)`, `CommentFilters("", business_id=...)`, or both).
Migration 15's analyst views `response_times` and `inbox_backlog`
(desk/store/response_views.py) hold the same definitions for the notebook;
tests/desk/test_response_times.py keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

import pandas as pd

from desk.moderation.labels import LABELS
from desk.store.audit import audit_event
from desk.store.backlog import Periods, backlog_at
from desk.store.filters import BRAND_REPLY, CommentFilters, where_clause
from desk.store.queries import advertiser_timezone
from desk.store.schema import COMMENT_SOURCES, CommentSource
from desk.store.sql import Cursor, fetch_first, fetch_rows, query_frame, transaction, whole_number
from desk.store.times import to_utc, utc_now

TARGET_ALL = "all"
"""The scope of a target for every comment of the account."""
TARGET_SCOPES: tuple[str, ...] = (TARGET_ALL, *LABELS)
OUTSIDE_DESK = "outside Comment Desk"
"""Who answered, for a brand reply that no outbox row of Comment Desk sent."""
P90 = 0.9

BacklogGrain = Literal["hour", "day"]
_GRAINS = MappingProxyType({"hour": "INTERVAL 1 HOUR", "day": "INTERVAL 1 DAY"})

RESPONSE_COLUMNS = (
    "comment_id", "source", "advertiser_id", "business_id", "ad_id", "video_id", "create_time",
    "first_response_at", "minutes_to_first_response", "answered_by", "target_minutes",
    "within_target", "first_response_id", "target_scope", "comment_status",
)
"""The columns of `first_responses`, as the analyst view `response_times` has them."""

# --- targets -------------------------------------------------------------------------------


def set_target(cur: Cursor, account_kind: CommentSource, account_id: str, scope: str,
               minutes: int, set_by: str, *, at: datetime | None = None) -> None:
    """Set the account's response-time target for `scope` ('all' or a label), in minutes;
    the audit log records it with the person's e-mail."""
    account_kind, account_id, scope = _target_key(account_kind, account_id, scope)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise ValueError(f"a target is a whole number of minutes above 0, not {minutes!r}")
    if not set_by or not set_by.strip():
        raise ValueError("a target records who set it")
    moment = to_utc(at or utc_now())
    with transaction(cur):
        fetch_rows(cur, "INSERT INTO response_targets (account_kind, account_id, scope, minutes, "
                        "set_by, set_at) VALUES (?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (account_kind, account_id, scope) DO UPDATE SET "
                        "minutes = excluded.minutes, set_by = excluded.set_by, "
                        "set_at = excluded.set_at",
                   [account_kind, account_id, scope, minutes, set_by, moment])
        audit_event(cur, set_by, "response_target",
                    f"{account_kind} account {account_id}: {scope} within {minutes} min",
                    advertiser_id=account_id if account_kind == "ad" else None, at=moment)


def delete_target(cur: Cursor, account_kind: CommentSource, account_id: str, scope: str,
                  deleted_by: str, *, at: datetime | None = None) -> bool:
    """Remove the account's target for `scope`; False when there was none."""
    account_kind, account_id, scope = _target_key(account_kind, account_id, scope)
    moment = to_utc(at or utc_now())
    with transaction(cur):
        gone = fetch_first(cur, "DELETE FROM response_targets WHERE account_kind = ? "
                                "AND account_id = ? AND scope = ? RETURNING minutes",
                           [account_kind, account_id, scope])
        if gone is not None:
            audit_event(cur, deleted_by, "response_target",
                        f"{account_kind} account {account_id}: {scope} target removed",
                        advertiser_id=account_id if account_kind == "ad" else None, at=moment)
    return gone is not None


def list_targets(cur: Cursor, account_kind: CommentSource | None = None,
                 account_id: str | None = None) -> pd.DataFrame:
    """The targets (of one account when given): account_kind, account_id, scope, minutes,
    set_by, set_at; by account, then 'all' first and the labels in their order."""
    return query_frame(
        cur,
        "SELECT account_kind, account_id, scope, minutes, set_by, set_at FROM response_targets "
        "WHERE (?::VARCHAR IS NULL OR account_kind = ?) AND (?::VARCHAR IS NULL OR account_id = ?) "
        "ORDER BY account_kind, account_id, "
        "coalesce(list_position(?::VARCHAR[], scope), 999), scope",
        [account_kind, account_kind, account_id, account_id, list(TARGET_SCOPES)])


def _target_key(account_kind: str, account_id: str, scope: str) -> tuple[str, str, str]:
    if account_kind not in COMMENT_SOURCES:
        raise ValueError(f"an account is an ad or organic one, not {account_kind!r}")
    if not account_id or not str(account_id).strip():
        raise ValueError("a target belongs to an account: give its ID")
    if scope not in TARGET_SCOPES:
        raise ValueError(f"a target's scope is one of {', '.join(TARGET_SCOPES)}, not {scope!r}")
    return account_kind, str(account_id).strip(), scope


# --- the SQL every read shares -------------------------------------------------------------

# The account a comment's target belongs to (over `comments c`).
_KIND = "CASE WHEN c.source = 'organic' THEN 'organic' ELSE 'ad' END"
_ACCOUNT = "CASE WHEN c.source = 'organic' THEN c.business_id ELSE c.advertiser_id END"

# `scoped`: the first-level comments in scope, with the target that applies to each. The
# caller puts its WHERE clause (over `comments c`) in place of {where}.
_SCOPED = f"""
    scoped AS (
        SELECT c.comment_id, c.source, c.advertiser_id, c.business_id, c.ad_id, c.ad_name,
               c.video_id, c.create_time, c.comment_status, c.labels,
               {_KIND} AS account_kind, {_ACCOUNT} AS account_id
        FROM comments c WHERE c.comment_type = 'COMMENT' AND {{where}}
    ),
    labelled AS (
        SELECT c.comment_id, min(t.minutes) AS minutes,
               first(t.scope ORDER BY t.minutes, t.scope) AS scope
        FROM scoped c JOIN response_targets t
          ON t.account_kind = c.account_kind AND t.account_id = c.account_id
         AND t.scope <> '{TARGET_ALL}' AND list_contains(c.labels, t.scope)
        GROUP BY c.comment_id
    ),
    targeted AS (
        SELECT c.*, coalesce(l.minutes, a.minutes) AS target_minutes,
               CASE WHEN l.minutes IS NOT NULL THEN l.scope
                    WHEN a.minutes IS NOT NULL THEN '{TARGET_ALL}' END AS target_scope
        FROM scoped c LEFT JOIN labelled l USING (comment_id)
        LEFT JOIN response_targets a ON a.account_kind = c.account_kind
             AND a.account_id = c.account_id AND a.scope = '{TARGET_ALL}'
    )"""  # noqa: S608 (constants)

# `responses`: one row per scoped comment with its first response (RESPONSE_COLUMNS).
_RESPONSES = f"""
    first_reply AS (
        SELECT r.original_comment_id AS comment_id, min(r.create_time) AS replied_at,
               first(r.comment_id ORDER BY r.create_time, r.comment_id) AS reply_id
        FROM comments r
        WHERE {BRAND_REPLY} AND r.original_comment_id IN (SELECT comment_id FROM scoped)
        GROUP BY r.original_comment_id
    ),
    senders AS (
        SELECT o.result_comment_id AS reply_id, min(o.actor) AS actor
        FROM outbox o
        WHERE o.kind = 'reply' AND o.status = 'sent' AND o.result_comment_id IS NOT NULL
        GROUP BY o.result_comment_id
    ),
    responses AS (
        SELECT c.comment_id, c.source, c.advertiser_id, c.business_id, c.ad_id, c.video_id,
               c.create_time, f.replied_at AS first_response_at,
               (epoch_ms(f.replied_at) - epoch_ms(c.create_time)) / 60000.0
                   AS minutes_to_first_response,
               CASE WHEN f.replied_at IS NOT NULL THEN coalesce(s.actor, '{OUTSIDE_DESK}') END
                   AS answered_by,
               c.target_minutes,
               (epoch_ms(f.replied_at) - epoch_ms(c.create_time)) / 60000.0 <= c.target_minutes
                   AS within_target,
               f.reply_id AS first_response_id, c.target_scope, c.comment_status,
               c.ad_name, c.account_kind, c.account_id
        FROM targeted c LEFT JOIN first_reply f USING (comment_id)
        LEFT JOIN senders s ON s.reply_id = f.reply_id
    )"""  # noqa: S608 (constants)

# `owed`: one row per period a scoped, visible comment is owed an answer (module doc):
# owed_from, owed_until (NULL: still owed), waiting_since. A comment no one changed the state
# of is owed from its creation to its first brand reply. The others go through their events,
# which at the same instant apply in the order created, brand reply, done or snooze, reopen
# (a reply at the very instant of a reopening answers the wait before it, as the inbox has
# it); a snooze only ends a done. A reopening because the commenter wrote again counts from
# when they wrote (the reply its event names), but never before the change it follows (TikTok
# stamps comments to the second, so the reply may look older than the done it undoes).
_OWED = f"""
    visible AS (
        SELECT * FROM targeted
        WHERE comment_status IS DISTINCT FROM 'HIDDEN' AND create_time IS NOT NULL
    ),
    brand AS (
        SELECT v.comment_id, greatest(r.create_time, v.create_time) AS happened
        FROM comments r JOIN visible v ON v.comment_id = r.original_comment_id
        WHERE {BRAND_REPLY} AND r.create_time IS NOT NULL
    ),
    states_set AS (
        SELECT e.comment_id, e.kind, e.value, e.acted_at,
               lag(e.acted_at) OVER (PARTITION BY e.comment_id ORDER BY e.acted_at, e.event_id)
                   AS before_at
        FROM inbox_events e
        WHERE e.kind IN ('done', 'snooze', 'reopen')
          AND e.comment_id IN (SELECT comment_id FROM visible)
    ),
    first_brand AS (
        SELECT comment_id, min(happened) AS happened FROM brand GROUP BY comment_id
    ),
    untouched AS (
        SELECT v.comment_id, v.source, v.advertiser_id, v.business_id, v.ad_id, v.video_id,
               v.create_time, v.create_time AS waiting_since, v.create_time AS owed_from,
               b.happened AS owed_until, v.target_minutes, v.ad_name, v.account_kind,
               v.account_id
        FROM visible v LEFT JOIN first_brand b USING (comment_id)
        ANTI JOIN states_set e ON e.comment_id = v.comment_id
    ),
    events AS (
        SELECT comment_id, create_time AS happened, 0 AS ord, 'created' AS kind FROM visible
        WHERE comment_id IN (SELECT comment_id FROM states_set)
        UNION ALL
        SELECT comment_id, happened, 1, 'reply' FROM brand
        WHERE comment_id IN (SELECT comment_id FROM states_set)
        UNION ALL
        SELECT v.comment_id,
               greatest(CASE WHEN e.kind = 'reopen' THEN coalesce(w.create_time, e.acted_at)
                             ELSE e.acted_at END, e.before_at, v.create_time),
               CASE WHEN e.kind = 'reopen' THEN 3 ELSE 2 END, e.kind
        FROM states_set e JOIN visible v ON v.comment_id = e.comment_id
        LEFT JOIN comments w ON e.kind = 'reopen' AND w.comment_id = e.value
             AND w.original_comment_id = e.comment_id
    ),
    stepped AS (
        SELECT comment_id, happened, ord, kind,
               last_value(CASE WHEN kind IN ('done', 'snooze', 'reopen') THEN kind END
                          IGNORE NULLS) OVER w AS state_kind,
               sum(CASE WHEN kind IN ('created', 'reopen') THEN 1 ELSE 0 END) OVER w AS spell
        FROM events
        WINDOW w AS (PARTITION BY comment_id ORDER BY happened, ord ROWS UNBOUNDED PRECEDING)
    ),
    states AS (
        SELECT comment_id, happened, ord,
               state_kind IS DISTINCT FROM 'done' AND NOT bool_or(kind = 'reply') OVER s
                   AS owed,
               min(happened) OVER s AS spell_start
        FROM stepped
        WINDOW s AS (PARTITION BY comment_id, spell ORDER BY happened, ord
                     ROWS UNBOUNDED PRECEDING)
    ),
    changes AS (
        SELECT comment_id, happened, ord, owed, spell_start,
               lag(owed) OVER (PARTITION BY comment_id ORDER BY happened, ord) AS was_owed
        FROM states
    ),
    periods AS (
        SELECT comment_id, owed, happened AS owed_from, spell_start AS waiting_since,
               lead(happened) OVER (PARTITION BY comment_id ORDER BY happened, ord)
                   AS owed_until
        FROM changes WHERE owed IS DISTINCT FROM was_owed
    ),
    owed AS (
        SELECT comment_id, source, advertiser_id, business_id, ad_id, video_id, create_time,
               waiting_since, owed_from, owed_until, target_minutes, ad_name, account_kind,
               account_id
        FROM untouched WHERE owed_until IS NULL OR owed_until > owed_from
        UNION ALL
        SELECT v.comment_id, v.source, v.advertiser_id, v.business_id, v.ad_id, v.video_id,
               v.create_time, p.waiting_since, p.owed_from, p.owed_until, v.target_minutes,
               v.ad_name, v.account_kind, v.account_id
        FROM periods p JOIN visible v USING (comment_id)
        WHERE p.owed AND (p.owed_until IS NULL OR p.owed_until > p.owed_from)
    )"""  # noqa: S608 (constants)

_STATS = f"""
    count(*) FILTER (WHERE first_response_at IS NOT NULL)::BIGINT AS answered,
    quantile_cont(minutes_to_first_response, 0.5) AS median_minutes,
    quantile_cont(minutes_to_first_response, {P90}) AS p90_minutes,
    count(within_target)::BIGINT AS with_target,
    count(*) FILTER (WHERE within_target)::BIGINT AS within_target,
    (count(*) FILTER (WHERE within_target)) / nullif(count(within_target), 0)
        AS share_within_target"""


def _with(cur: Cursor, filters: CommentFilters, *parts: str) -> tuple[str, list[Any]]:
    """`WITH` the scoped comments the filters choose and the given CTEs; its parameters."""
    where, params = where_clause(filters, advertiser_timezone(cur, filters.advertiser_id))
    return f"WITH {_SCOPED.format(where=where)}, {', '.join(parts)}", params


# --- the reads -----------------------------------------------------------------------------


def first_responses(cur: Cursor, filters: CommentFilters, *, limit: int | None = None,
                    offset: int = 0) -> pd.DataFrame:
    """One row per first-level comment the filters choose, oldest first: its first response
    and who gave it, the target that applies and whether the answer met it (RESPONSE_COLUMNS;
    unanswered comments have NULL first_response_at, minutes, answered_by and within_target).
    """
    with_sql, params = _with(cur, filters, _RESPONSES)
    paging = "" if limit is None else "LIMIT ? OFFSET ?"
    page = [] if limit is None else [whole_number(limit, "limit"), whole_number(offset, "offset")]
    sql = f"""
        {with_sql}
        SELECT {", ".join(RESPONSE_COLUMNS)} FROM responses
        ORDER BY create_time NULLS LAST, comment_id {paging}
    """  # noqa: S608
    return query_frame(cur, sql, [*params, *page])


@dataclass(frozen=True)
class ResponseReport:
    """Response times over the comments the filters choose, three ways (response_report)."""

    overall: dict[str, Any]
    """comments, answered, median_minutes, p90_minutes, with_target, within_target,
    share_within_target and backlog (owed an answer now); None for a figure with no value."""
    by_person: pd.DataFrame
    """Per person who gave first responses: answered_by (their e-mail, or OUTSIDE_DESK),
    answered, median_minutes, p90_minutes, with_target, within_target, share_within_target;
    most answers first."""
    by_item: pd.DataFrame
    """Per ad (ad comments) and per video (organic comments): source, ad_id, video_id, name
    (the ad's name or the video's caption), comments (first-level), the statistics of
    by_person, backlog (owed an answer now) and waiting_since (the oldest wait among them);
    most comments first."""


_PERSON_COLUMNS = ["answered_by", "answered", "median_minutes", "p90_minutes", "with_target",
                   "within_target", "share_within_target"]
_ITEM_COLUMNS = ["source", "ad_id", "video_id", "name", "comments", "answered", "median_minutes",
                 "p90_minutes", "with_target", "within_target", "share_within_target",
                 "backlog", "waiting_since"]


def response_report(cur: Cursor, filters: CommentFilters) -> ResponseReport:
    """Overall, per person and per ad or video, in one statement: the first responses and
    the owed periods are worked out once and grouped three ways (GROUPING SETS)."""
    with_sql, params = _with(cur, filters, _RESPONSES, _OWED)
    item = ("source, CASE WHEN source = 'organic' THEN NULL ELSE ad_id END AS item_ad, "
            "CASE WHEN source = 'organic' THEN video_id END AS item_video")
    sql = f"""
        {with_sql},
        grouped AS (
            SELECT GROUPING(source, item_ad, item_video) = 0 AS per_item,
                   GROUPING(answered_by) = 0 AS per_person,
                   source, item_ad, item_video, answered_by,
                   any_value(ad_name) AS comment_ad_name, count(*)::BIGINT AS comments, {_STATS}
            FROM (SELECT *, {item} FROM responses)
            GROUP BY GROUPING SETS ((source, item_ad, item_video), (answered_by), ())
        ),
        waiting AS (
            SELECT GROUPING(source, item_ad, item_video) = 0 AS per_item,
                   source, item_ad, item_video,
                   count(*)::BIGINT AS backlog, min(waiting_since) AS waiting_since
            FROM (SELECT *, {item} FROM owed WHERE owed_until IS NULL)
            GROUP BY GROUPING SETS ((source, item_ad, item_video), ())
        )
        SELECT g.per_item, g.per_person, g.source, g.item_ad AS ad_id,
               g.item_video AS video_id, g.answered_by,
               CASE WHEN g.source = 'organic' THEN v.caption
                    ELSE coalesce(a.ad_name, g.comment_ad_name) END AS name,
               g.comments, g.answered, g.median_minutes, g.p90_minutes, g.with_target,
               g.within_target, g.share_within_target,
               coalesce(w.backlog, 0)::BIGINT AS backlog, w.waiting_since
        FROM grouped g
        LEFT JOIN waiting w ON NOT g.per_person AND w.per_item = g.per_item
             AND w.source IS NOT DISTINCT FROM g.source
             AND w.item_ad IS NOT DISTINCT FROM g.item_ad
             AND w.item_video IS NOT DISTINCT FROM g.item_video
        LEFT JOIN ads a ON g.per_item AND g.source IS DISTINCT FROM 'organic'
             AND a.ad_id = g.item_ad
        LEFT JOIN videos v ON g.per_item AND g.source = 'organic' AND v.video_id = g.item_video
    """  # noqa: S608
    frame = query_frame(cur, sql, params)
    per_item, per_person = frame["per_item"].astype(bool), frame["per_person"].astype(bool)
    people = frame[per_person & frame["answered_by"].notna()]
    items = frame[per_item]
    overall = frame[~per_item & ~per_person]
    if overall.empty:  # no comment at all: GROUPING SETS () still gives one row, but be sure
        totals: dict[str, Any] = dict.fromkeys(["comments", *_PERSON_COLUMNS[1:], "backlog"])
    else:
        row = overall[["comments", *_PERSON_COLUMNS[1:], "backlog"]].astype(object).iloc[0]
        totals = {name: (None if pd.isna(value) else value) for name, value in row.items()}
    return ResponseReport(
        totals,
        people.sort_values(["answered", "answered_by"], ascending=[False, True])
              [_PERSON_COLUMNS].reset_index(drop=True),
        items.sort_values(["comments", "source", "ad_id", "video_id"],
                          ascending=[False, True, True, True], na_position="last")
             [_ITEM_COLUMNS].reset_index(drop=True))


def response_times_by_person(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """ResponseReport.by_person."""
    return response_report(cur, filters).by_person


def response_times_by_ad(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """ResponseReport.by_item."""
    return response_report(cur, filters).by_item


def response_time_overall(cur: Cursor, filters: CommentFilters) -> dict[str, Any]:
    """ResponseReport.overall."""
    return response_report(cur, filters).overall


def response_summary(cur: Cursor, filters: CommentFilters) -> dict[str, Any]:
    """response_time_overall without the backlog (which costs more than the rest): comments,
    answered, median_minutes, p90_minutes, with_target, within_target, share_within_target."""
    with_sql, params = _with(cur, filters, _RESPONSES)
    sql = f"""
        {with_sql}
        SELECT count(*)::BIGINT AS comments, {_STATS} FROM responses
    """  # noqa: S608
    row = query_frame(cur, sql, params).astype(object).iloc[0]
    return {name: (None if pd.isna(value) else value) for name, value in row.items()}


def owed_periods(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """The periods in which the chosen, visible first-level comments were owed an answer,
    whenever created: comment_id, source, advertiser_id, business_id, ad_id, video_id,
    create_time, waiting_since, owed_from, owed_until (NULL: still owed), target_minutes;
    as the analyst view `inbox_backlog`."""
    with_sql, params = _with(cur, _owed_filters(filters), _OWED)
    sql = f"""
        {with_sql}
        SELECT comment_id, source, advertiser_id, business_id, ad_id, video_id, create_time,
               waiting_since, owed_from, owed_until, target_minutes
        FROM owed ORDER BY owed_from, comment_id
    """  # noqa: S608
    return query_frame(cur, sql, params)


def backlog_over_time(cur: Cursor, filters: CommentFilters, *, start: datetime,
                      end: datetime, grain: BacklogGrain = "day",
                      now: datetime | None = None) -> pd.DataFrame:
    """The backlog at the end of each hour or day (of the account's local time) from `start`
    to `end`: bucket (local start), as_of (the instant measured: the bucket's end, or `now`
    for the bucket under way), backlog, over_target (owed longer than their target),
    oldest_minutes and median_age_minutes (NULL when nothing is owed).

    The comments are the filters' visible first-level ones, whenever created (the filters'
    dates and "unanswered only" do not apply: the buckets are the dates). Buckets that start
    at or after `now` are left out.
    """
    if grain not in _GRAINS:
        raise ValueError(f"grain must be hour or day, not {grain!r}")
    start, end, moment = to_utc(start), to_utc(end), to_utc(now or utc_now())
    if end <= start:
        raise ValueError("a backlog window ends after it starts")
    tz = advertiser_timezone(cur, filters.advertiser_id)
    step = _GRAINS[grain]
    buckets = query_frame(cur, f"""
        WITH starts AS (
            SELECT unnest(generate_series(date_trunc('{grain}', timezone(?, ?::TIMESTAMPTZ)),
                                          timezone(?, ?::TIMESTAMPTZ), {step})) AS bucket
        )
        SELECT bucket, least(timezone(?, bucket + {step}), ?::TIMESTAMPTZ) AS as_of,
               epoch_ms(least(timezone(?, bucket + {step}), ?::TIMESTAMPTZ)) AS as_of_ms
        FROM starts
        WHERE bucket < timezone(?, ?::TIMESTAMPTZ) AND timezone(?, bucket) < ?::TIMESTAMPTZ
        ORDER BY bucket
    """, [tz, start, tz, end, tz, moment, tz, moment, tz, end, tz, moment])  # noqa: S608
    instants = buckets.pop("as_of_ms").to_numpy("int64")
    periods = pd.DataFrame(columns=["owed_from_ms", "owed_until_ms", "waiting_ms",
                                    "target_minutes"])
    if len(instants):
        with_sql, params = _with(cur, _owed_filters(filters), _OWED)
        periods = query_frame(cur, f"""
            {with_sql}
            SELECT epoch_ms(owed_from) AS owed_from_ms, epoch_ms(owed_until) AS owed_until_ms,
                   epoch_ms(waiting_since) AS waiting_ms, target_minutes
            FROM owed
            WHERE owed_from < to_timestamp(? / 1000)
              AND (owed_until IS NULL OR owed_until >= to_timestamp(? / 1000))
        """, [*params, int(instants.max()), int(instants.min())])  # noqa: S608
    counted = backlog_at(instants, Periods.from_frame(periods))
    return pd.concat([buckets.reset_index(drop=True), counted], axis=1)


def _owed_filters(filters: CommentFilters) -> CommentFilters:
    """The filters a backlog is read with: the period and "unanswered only" left out."""
    return replace(filters, date_from=None, date_to=None, unanswered_only=False)
