"""The inbox: the first-level comments that need a person, their triage states, who holds
them, and the team's internal notes.

A comment needs attention while it is not hidden, not answered by the brand, and neither
done nor snoozed (a snooze whose time has passed is open again). A comment with no
inbox_states row is open. `changed_by` and `changed_at` say who last set the state and when;
assignments change only `assignee`. Every change is one inbox_events row per comment, with
the person and the time, written in the same transaction as the change.

A brand reply answers a comment unless the comment was reopened after it (`reopened_at`): a
reopened comment is back in the queue until the brand answers again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from desk.store.filters import BRAND_REPLY
from desk.store.sql import (
    PANDAS_TYPES,
    Cursor,
    fetch_first,
    fetch_rows,
    query_frame,
    registered,
    transaction,
    whole_number,
)
from desk.store.times import to_utc, utc_now

InboxState = Literal["open", "done", "snoozed"]
INBOX_STATES: tuple[InboxState, ...] = ("open", "done", "snoozed")

InboxEventKind = Literal["done", "reopen", "snooze", "assign", "take", "release", "note"]

PRIORITY_LABELS: tuple[str, ...] = ("question", "complaint")
"""Labels that put a comment first in the queue (priority 1; every other comment is 2)."""

UNASSIGNED = ""
"""The assignee filter for comments nobody holds."""

REOPENED_BY = "desk"
"""The actor recorded when a comment reopens itself because its commenter wrote again."""

# Over `comments c` joined with `inbox_states s`: no brand reply answers the comment (none,
# or none since it was reopened). DuckDB runs it as an anti join reading only the brand
# replies' parent and time; the queue below spells the same join out (see _SCOPED).
UNANSWERED = (
    "NOT EXISTS (SELECT 1 FROM comments r WHERE r.original_comment_id = c.comment_id "  # noqa: S608 (constants)
    f"AND {BRAND_REPLY} AND (s.reopened_at IS NULL OR r.create_time > s.reopened_at))"
)
_QUEUE_ORDER = ("priority, overdue DESC, {score}c.likes DESC NULLS LAST, "
                "c.create_time NULLS LAST, c.comment_id")
_SCORE_ORDER = "c.answer_score DESC NULLS LAST, "
"""The ordering key of the "will be answered" score (desk.learning), when asked for."""
_STATE_TYPES = {
    "state": "VARCHAR",
    "snoozed_until": "TIMESTAMPTZ",
    "assignee": "VARCHAR",
    "changed_by": "VARCHAR",
    "changed_at": "TIMESTAMPTZ",
    "reopened_at": "TIMESTAMPTZ",
}


@dataclass(frozen=True)
class InboxScope:
    """Which comments the inbox shows. None (or no labels) means no restriction.

    Given both, `advertiser_id` and `business_id` each add their comments: the ad account's
    and the business account's organic ones. `video_id` keeps a video's organic comments and
    those on the Spark Ads promoting it. `labels` keeps comments with any of them.
    """

    advertiser_id: str | None = None
    business_id: str | None = None
    ad_id: str | None = None
    video_id: str | None = None
    labels: Sequence[str] = ()
    language: str | None = None
    assignee: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The clause over `comments c` joined with `inbox_states s`, and its parameters."""
        clauses = ["c.comment_type = 'COMMENT'", "c.comment_status IS DISTINCT FROM 'HIDDEN'"]
        params: list[Any] = []
        accounts = []
        if self.advertiser_id is not None:
            accounts.append("c.advertiser_id = ?")
            params.append(self.advertiser_id)
        if self.business_id is not None:
            accounts.append("(c.source = 'organic' AND c.business_id = ?)")
            params.append(self.business_id)
        if accounts:
            clauses.append(f"({' OR '.join(accounts)})")
        if self.ad_id is not None:
            clauses.append("c.ad_id = ?")
            params.append(self.ad_id)
        if self.video_id is not None:
            clauses.append("((c.source = 'organic' AND c.video_id = ?) "
                           "OR (c.source = 'ad' AND c.tiktok_item_id = ?))")
            params += [self.video_id, self.video_id]
        if self.labels:
            clauses.append("list_has_any(c.labels, ?::VARCHAR[])")
            params.append([str(label) for label in self.labels])
        if self.language is not None:
            clauses.append("c.language = ?")
            params.append(self.language)
        if self.assignee == UNASSIGNED:
            clauses.append("s.assignee IS NULL")
        elif self.assignee is not None:
            clauses.append("s.assignee = ?")
            params.append(self.assignee)
        return " AND ".join(clauses), params


def mark_done(cur: Cursor, comment_ids: Iterable[str], actor: str, *,
              at: datetime | None = None) -> int:
    """Mark these comments done; return how many (unknown ids and replies are skipped)."""
    return _set_state(cur, comment_ids, actor, at, kind="done",
                      fields={"state": "done", "snoozed_until": None})


def snooze(cur: Cursor, comment_ids: Iterable[str], until: datetime, actor: str, *,
           at: datetime | None = None) -> int:
    """Snooze these comments until `until` (they are open again from then); return how many."""
    moment = to_utc(at or utc_now())
    until = to_utc(until)
    if until <= moment:
        raise ValueError(f"a snooze ends in the future, not at {until.isoformat()}")
    return _set_state(cur, comment_ids, actor, moment, kind="snooze", value=until.isoformat(),
                      fields={"state": "snoozed", "snoozed_until": until})


def reopen(cur: Cursor, comment_ids: Iterable[str], actor: str, *,
           at: datetime | None = None) -> int:
    """Open these comments again, answered or not: back in the queue until the brand answers
    again. Returns how many."""
    moment = to_utc(at or utc_now())
    return _set_state(cur, comment_ids, actor, moment, kind="reopen",
                      fields={"state": "open", "snoozed_until": None, "reopened_at": moment})


def assign(cur: Cursor, comment_ids: Iterable[str], assignee: str | None, actor: str, *,
           at: datetime | None = None) -> int:
    """Assign these comments to `assignee` (an e-mail; None releases them); return how many."""
    kind: InboxEventKind = "release" if assignee is None else "assign"
    moment = to_utc(at or utc_now())
    with transaction(cur), _targets(cur, comment_ids) as (view, count):
        _write_assignee(cur, view, assignee, actor, moment, kind)
    return count


def take(cur: Cursor, comment_id: str, actor: str, *, at: datetime | None = None) -> str | None:
    """Take the comment (assign it to `actor`); return who held it before (None: nobody), so
    the caller can say so when it was someone else."""
    moment = to_utc(at or utc_now())
    with transaction(cur), _targets(cur, [comment_id]) as (view, count):
        if not count:
            raise ValueError(f"there is no first-level comment {comment_id!r} to take")
        before = holder(cur, comment_id)
        _write_assignee(cur, view, actor, actor, moment, "take")
    return before


def holder(cur: Cursor, comment_id: str) -> str | None:
    """Who the comment is assigned to (None: nobody)."""
    row = fetch_first(cur, "SELECT assignee FROM inbox_states WHERE comment_id = ?",
                      [str(comment_id)])
    return None if row is None else row[0]


def add_note(cur: Cursor, comment_id: str, body: str, author: str, *,
             at: datetime | None = None) -> int:
    """Add an internal note to a comment (never sent to TikTok); return its note_id."""
    if not body or not body.strip():
        raise ValueError("a note needs some text")
    moment = to_utc(at or utc_now())
    with transaction(cur):
        known = fetch_first(cur, "SELECT 1 FROM comments WHERE comment_id = ?", [str(comment_id)])
        if known is None:
            raise ValueError(f"there is no comment {comment_id!r} to add a note to")
        row = fetch_first(cur, "INSERT INTO comment_notes (comment_id, author, body, created_at) "
                          "VALUES (?, ?, ?, ?) RETURNING note_id",
                          [str(comment_id), author, body.strip(), moment])
        assert row is not None
        note_id = int(row[0])
        fetch_rows(cur, "INSERT INTO inbox_events (comment_id, kind, value, actor, acted_at) "
                   "VALUES (?, 'note', ?, ?, ?)", [str(comment_id), str(note_id), author, moment])
    return note_id


def notes(cur: Cursor, comment_ids: Iterable[str]) -> pd.DataFrame:
    """The notes on these comments, oldest first: note_id, comment_id, author, body,
    created_at."""
    ids = _unique(comment_ids)
    return query_frame(
        cur, "SELECT note_id, comment_id, author, body, created_at FROM comment_notes "
             "WHERE comment_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY created_at, note_id",
        [ids])


def inbox_events(cur: Cursor, comment_ids: Iterable[str]) -> pd.DataFrame:
    """What happened to these comments, oldest first: event_id, comment_id, kind, value,
    actor, acted_at."""
    return query_frame(
        cur, "SELECT event_id, comment_id, kind, value, actor, acted_at FROM inbox_events "
             "WHERE comment_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY acted_at, event_id",
        [_unique(comment_ids)])


def reopen_answered_again(cur: Cursor, *, actor: str = REOPENED_BY,
                          at: datetime | None = None) -> int:
    """Reopen the done comments whose commenter wrote again since: a visible reply under it,
    not the brand's, created after it was marked done (in the same second counts: TikTok
    stamps comments to the second). Returns how many were reopened.

    The comment counts as reopened when that reply was written, so a brand reply after it
    answers it again; the event's value is the newest such reply's comment_id.
    """
    moment = to_utc(at or utc_now())
    with transaction(cur):
        again = cur.sql(
            "SELECT s.comment_id, max(r.create_time) AS wrote_at, "
            "arg_max(r.comment_id, r.create_time) AS reply_id "
            "FROM inbox_states s JOIN comments r ON r.original_comment_id = s.comment_id "
            "WHERE s.state = 'done' AND r.comment_type = 'REPLY' "
            "AND NOT coalesce(r.can_delete, false) "
            "AND r.comment_status IS DISTINCT FROM 'HIDDEN' "
            "AND r.create_time >= date_trunc('second', s.changed_at) "
            "GROUP BY s.comment_id").to_arrow_table()
        if not again.num_rows:
            return 0
        with registered(cur, again, "again") as view:
            fetch_rows(cur, f"UPDATE inbox_states SET state = 'open', "  # noqa: S608
                       f"snoozed_until = NULL, changed_by = ?, changed_at = ?, "
                       f"reopened_at = a.wrote_at FROM {view} a "
                       f"WHERE inbox_states.comment_id = a.comment_id", [actor, moment])
            fetch_rows(cur, f"INSERT INTO inbox_events (comment_id, kind, value, actor, acted_at) "  # noqa: S608
                       f"SELECT comment_id, 'reopen', reply_id, ?, ? FROM {view}",
                       [actor, moment])
    return again.num_rows


def inbox_queue(cur: Cursor, *, advertiser_id: str | None = None,
                business_id: str | None = None, ad_id: str | None = None,
                video_id: str | None = None, labels: Sequence[str] = (),
                language: str | None = None, assignee: str | None = None, now: datetime,
                limit: int = 50, offset: int = 0,
                priority_labels: Sequence[str] = PRIORITY_LABELS,
                answer_scores: bool = False) -> pd.DataFrame:
    """One page of the comments that need attention, first things first.

    `priority` is 1 for a comment with any of `priority_labels` (questions and complaints
    unless told), 2 for the rest. Within a priority, the comments waiting longer than their
    response-time target come first (`overdue`: since written, or since reopened; the
    account's shortest target among the comment's labels, else its target for all
    comments), then the most liked, then the oldest. Columns: comment_id, source,
    advertiser_id, business_id, ad_id, ad_name, video_id, tiktok_item_id, user_name,
    content, likes, labels, language, sentiment, create_time, priority, overdue, state,
    snoozed_until, assignee, changed_by, changed_at, reopened_at. `assignee=UNASSIGNED`
    keeps the comments nobody holds.

    With `answer_scores` (when a model learned from the team's replies is in use for the
    scope: desk.learning.answer_model_in_use), the "will be answered" score orders the
    comments after `overdue` and before the likes, highest first, unscored ones last, and is
    the last column, `answer_score`.
    """
    scope = InboxScope(advertiser_id, business_id, ad_id, video_id, tuple(labels), language,
                       assignee)
    queue, _ = _read_inbox(cur, scope, now, page=(limit, offset),
                           priority_labels=priority_labels, answer_scores=answer_scores)
    assert queue is not None
    return queue


def inbox_counts(cur: Cursor, *, advertiser_id: str | None = None,
                 business_id: str | None = None, ad_id: str | None = None,
                 video_id: str | None = None, labels: Sequence[str] = (),
                 language: str | None = None, assignee: str | None = None,
                 me: str | None = None, now: datetime) -> dict[str, int]:
    """The sidebar's counts over the same first-level, visible comments as the queue:
    `open` (the queue's length), `snoozed` (not yet due), `done`, and `assigned_to_me` (the
    open ones assigned to `me`). Snoozed and done count whether or not the brand answered."""
    scope = InboxScope(advertiser_id, business_id, ad_id, video_id, tuple(labels), language,
                       assignee)
    _, counts = _read_inbox(cur, scope, now, counts=True, me=me)
    assert counts is not None
    return counts


def inbox_page(cur: Cursor, *, advertiser_id: str | None = None,
               business_id: str | None = None, ad_id: str | None = None,
               video_id: str | None = None, labels: Sequence[str] = (),
               language: str | None = None, assignee: str | None = None,
               me: str | None = None, now: datetime, limit: int = 50,
               offset: int = 0, priority_labels: Sequence[str] = PRIORITY_LABELS,
               answer_scores: bool = False) -> tuple[pd.DataFrame, dict[str, int]]:
    """What the Inbox page shows first, in one query: `inbox_queue`'s page (ordered by the
    answer score too with `answer_scores`) and `inbox_counts`' counts over the same scope
    (the scope's comments and their answers are read once, not twice)."""
    scope = InboxScope(advertiser_id, business_id, ad_id, video_id, tuple(labels), language,
                       assignee)
    queue, counts = _read_inbox(cur, scope, now, page=(limit, offset), counts=True,
                                 me=me, priority_labels=priority_labels,
                                 answer_scores=answer_scores)
    assert queue is not None and counts is not None
    return queue, counts


# The Inbox in one statement, from constants. `scoped`: the scope's first-level, visible
# comments with only what ordering and counting need. `unanswered`: the waiting ones no
# brand reply answers (an anti join reading only the brand replies' parent and time, where
# grouping every brand reply first cost more than the rest of the page). `page`: the rowids
# of one page, whose rows alone are then read whole (`shown`). The priority is one
# list_contains per label (cheaper than list_has_any over every comment in scope).
_SCOPED = f"""scoped AS (
    SELECT c.rowid AS row_id, c.comment_id, c.likes, c.create_time{{score}},
           CASE WHEN {{priority}} THEN 1 ELSE 2 END AS priority, {{overdue}} AS overdue,
           s.assignee, s.reopened_at, {{open}} AS waiting,
           s.state = 'snoozed' AND s.snoozed_until > ? AS snoozed, s.state = 'done' AS done
    FROM comments c LEFT JOIN inbox_states s USING (comment_id)
    WHERE {{where}}
), unanswered AS (
    SELECT w.* FROM scoped w ANTI JOIN comments r
        ON r.original_comment_id = w.comment_id AND {BRAND_REPLY}
       AND (w.reopened_at IS NULL OR r.create_time > w.reopened_at)
    WHERE w.waiting
)"""  # noqa: S608 (constants)
_PAGE = """page AS (
    SELECT row_id, priority, overdue FROM unanswered c
    ORDER BY {order}
    LIMIT ? OFFSET ?
), shown AS (
    SELECT c.comment_id, c.source, c.advertiser_id, c.business_id, c.ad_id, c.ad_name,
           c.video_id, c.tiktok_item_id, c.user_name, c.content, c.likes, c.labels,
           c.language, c.sentiment, c.create_time, p.priority, p.overdue, 'open' AS state,
           s.snoozed_until, s.assignee, s.changed_by, s.changed_at, s.reopened_at{score}
    FROM page p JOIN comments c ON c.rowid = p.row_id LEFT JOIN inbox_states s USING (comment_id)
)"""
_COUNTS = """counts AS (
    SELECT (SELECT count(*) FROM unanswered) AS open,
           count(*) FILTER (WHERE snoozed) AS snoozed,
           count(*) FILTER (WHERE done) AS done,
           (SELECT count(*) FROM unanswered WHERE assignee = ?) AS assigned_to_me
    FROM scoped
)"""
_COUNT_NAMES = ("open", "snoozed", "done", "assigned_to_me")


def _read_inbox(cur: Cursor, scope: InboxScope, now: datetime, *,
                page: tuple[int, int] | None = None, counts: bool = False,
                me: str | None = None, priority_labels: Sequence[str] = PRIORITY_LABELS,
                answer_scores: bool = False
                ) -> tuple[pd.DataFrame | None, dict[str, int] | None]:
    """One page of the queue (`page`: limit, offset) and/or the counts (with `me`) over
    `scope`, read in one statement; with `answer_scores`, ordered by the score after
    `overdue` and shown in an `answer_score` column."""
    where, where_params = scope.where()
    now = to_utc(now)
    first = list(dict.fromkeys(str(label) for label in priority_labels))
    priority = " OR ".join(["list_contains(c.labels, ?)"] * len(first)) or "false"
    overdue, overdue_params = _overdue(cur, now) if page is not None else ("false", [])
    scored = answer_scores and page is not None
    order = _QUEUE_ORDER.format(score=_SCORE_ORDER if scored else "")
    ctes = [_SCOPED.format(open=OPEN, where=where, priority=priority, overdue=overdue,
                           score=", c.answer_score" if scored else "")]
    params: list[Any] = [*first, *overdue_params, now, now, *where_params]
    if page is not None:
        ctes.append(_PAGE.format(order=order, score=", c.answer_score" if scored else ""))
        params += [whole_number(page[0], "limit"), whole_number(page[1], "offset")]
    if counts:
        ctes.append(_COUNTS)
        params.append(me)
    if page is None:
        body = "SELECT * FROM counts"
    elif not counts:
        body = f"SELECT * FROM shown c ORDER BY {order}"  # noqa: S608
    else:  # the counts on every row of the page, or on one empty row when there is none
        body = f"SELECT * FROM counts LEFT JOIN shown c ON true ORDER BY {order}"  # noqa: S608
    sql = f"WITH {', '.join(ctes)}\n{body}"
    table = cur.sql(sql, params=params).to_arrow_table()
    found = None
    if counts:
        first = table.slice(0, 1).select(list(_COUNT_NAMES)).to_pylist()[0]
        found = {name: int(first[name] or 0) for name in _COUNT_NAMES}
        table = table.drop_columns(list(_COUNT_NAMES))
    queue = None
    if page is not None:
        shown = table.filter(pc.is_valid(table["comment_id"])) if counts else table
        queue = shown.to_pandas(types_mapper=PANDAS_TYPES.get)
    return queue, found


def _overdue(cur: Cursor, now: datetime) -> tuple[str, list[Any]]:
    """Whether a comment (`c`, with `s`) has waited past its response-time target, as SQL
    over the few targets set (read first): the account's shortest target among the
    comment's labels, else its target for all comments; waiting since written or reopened.
    "false" when no target is set."""
    targets = fetch_rows(cur, "SELECT account_kind, account_id, scope, minutes "
                              "FROM response_targets ORDER BY account_kind, account_id, scope")
    if not targets:
        return "false", []
    account = ("c.source = ? AND CASE WHEN c.source = 'organic' THEN c.business_id "
               "ELSE c.advertiser_id END = ?")
    labelled = [(kind, account_id, scope, minutes)
                for kind, account_id, scope, minutes in targets if scope != "all"]
    whole = [(kind, account_id, minutes)
             for kind, account_id, scope, minutes in targets if scope == "all"]
    parts, params = [], []
    if labelled:
        parts.append("least(" + ", ".join(
            [f"CASE WHEN {account} AND list_contains(c.labels, ?) THEN ? END"] * len(labelled))
            + ")")
        params += [value for target in labelled for value in target]
    if whole:
        parts.append("CASE " + " ".join([f"WHEN {account} THEN ?"] * len(whole)) + " END")
        params += [value for target in whole for value in target]
    minutes = f"coalesce({', '.join(parts)})"
    return (f"coalesce(coalesce(s.reopened_at, c.create_time) "
            f"< ?::TIMESTAMPTZ - to_minutes(({minutes})::BIGINT), false)", [now, *params])


# Open: no state yet, open, or a snooze that has ended (its end bound as a parameter).
OPEN = "(s.state IS NULL OR s.state = 'open' OR (s.state = 'snoozed' AND s.snoozed_until <= ?))"


def _set_state(cur: Cursor, comment_ids: Iterable[str], actor: str, at: datetime | None, *,
               kind: InboxEventKind, fields: dict[str, Any], value: str | None = None) -> int:
    """Set the state of these first-level comments (keeping their assignee); one event each."""
    moment = to_utc(at or utc_now())
    row = {"state": "open", "snoozed_until": None, "assignee": None, "changed_by": actor,
           "changed_at": moment, "reopened_at": None, **fields}
    changed = ["changed_by", "changed_at", *fields]
    with transaction(cur), _targets(cur, comment_ids) as (view, count):
        _upsert_states(cur, view, row, changed)
        _record(cur, view, kind, value, actor, moment)
    return count


def _write_assignee(cur: Cursor, view: str, assignee: str | None, actor: str, at: datetime,
                    kind: InboxEventKind) -> None:
    """Set the assignee of the comments in `view` (a new row is open); one event each."""
    row = {"state": "open", "snoozed_until": None, "assignee": assignee, "changed_by": actor,
           "changed_at": at, "reopened_at": None}
    _upsert_states(cur, view, row, ["assignee"])
    _record(cur, view, kind, assignee, actor, at)


def _upsert_states(cur: Cursor, view: str, row: dict[str, Any], changed: Sequence[str]) -> None:
    """One inbox_states row per comment in `view`: `row` when new, else its `changed` columns."""
    values = ", ".join(f"CAST(? AS {_STATE_TYPES[name]})" for name in row)
    updates = ", ".join(f"{name} = excluded.{name}" for name in changed)
    fetch_rows(cur, f"INSERT INTO inbox_states (comment_id, {', '.join(row)}) "  # noqa: S608
                    f"SELECT comment_id, {values} FROM {view} "
                    f"ON CONFLICT (comment_id) DO UPDATE SET {updates}", list(row.values()))


def _record(cur: Cursor, view: str, kind: InboxEventKind, value: str | None, actor: str,
            at: datetime) -> None:
    fetch_rows(cur, f"INSERT INTO inbox_events (comment_id, kind, value, actor, acted_at) "  # noqa: S608
                    f"SELECT comment_id, ?, ?, ?, ? FROM {view}", [kind, value, actor, at])


@contextmanager
def _targets(cur: Cursor, comment_ids: Iterable[str]) -> Iterator[tuple[str, int]]:
    """The given ids that are stored first-level comments, registered as a view (name, count)."""
    ids = pa.table({"comment_id": pa.array(_unique(comment_ids), pa.string())})
    with registered(cur, ids, "ids") as given:
        found = cur.sql(f"SELECT g.comment_id FROM {given} g SEMI JOIN comments c "  # noqa: S608
                        "ON c.comment_id = g.comment_id "
                        "AND c.comment_type = 'COMMENT'").to_arrow_table()
    with registered(cur, found, "targets") as view:
        yield view, found.num_rows


def _unique(comment_ids: Iterable[str]) -> list[str]:
    """The ids as strings, each once, in their order (a lone string is one id)."""
    if isinstance(comment_ids, str):
        comment_ids = [comment_ids]
    return list(dict.fromkeys(str(i) for i in comment_ids))
