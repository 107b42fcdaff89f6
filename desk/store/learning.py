"""The team's own decisions as labelled examples, the models learned from them, and the scores
they give the comments (migration 17). desk.learning does the learning; this is its SQL.

Only people's decisions count, never a rule's. A **person** is an actor that is an e-mail
(or the one `local user` of a Comment Desk without sign-in) and not `rule:<name> v<n>`; an
outbox row counts as done **by hand** when its request key is not a rule run's or a rule
undo's (`rule-run:…`, `rule-undo:…`: an undo is a person reversing a rule wholesale, not a
judgement on each comment).

The examples are a stored account's first-level comments written by viewers (not the brand's
own) with text, in an account where a person has decided something. For each comment:

- **hid by hand**: the last sent hide or unhide a person made by hand (the later request wins)
  was a hide. An unhide by hand after it undoes it.
- **answered**: a reply a person sent from the outbox (status `sent`). A brand reply made
  outside Comment Desk (TikTok's app, Ads Manager, another tool, an auto-reply) cannot be
  told from a bot's, so it is neither a positive nor a negative for *answer*: that comment is
  left out of the answer examples.
- **done**: a person marked it done in the inbox.
- **seen**: written at least `SEEN_AFTER` (24 h) before the newest comment of its account a
  person acted on (hid, unhid, answered or marked done). People work the inbox by priority,
  not by age, so a comment a day older than the newest one they reached, still
  visible and untouched, is one they passed over.

Targets (1 = positive, 0 = negative, no row = not an example):

- *hide*: positive when hid by hand. Negative when unhid by hand; or, with no hide or unhide
  by hand, when visible, no rule hid it, and it was answered, done or seen.
- *answer*: positive when answered. Negative when not answered, with no reply from outside,
  answerable, and either hid by hand, or visible, no rule hid it, and done or seen.

*Answerable*: not on an ad whose identity may not manage comments (a creator's Spark Ad,
`is_auth_comment_manage_scope` false), where nobody can answer from Comment Desk.

A comment hidden by TikTok (blocked words), by a rule or outside Comment Desk, with no
person's act on it, is no example: nobody in the team judged it.

The time of a decision, for the time split, is the comment's `create_time`: the team decides
about a comment after it is written, so ordering by it orders the decisions as they came in
(up to the time to respond) and keeps a day's comments on one side of the split.
`decided_at` is when the person acted (NULL for the seen ones); retraining counts those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from desk.store.audit import audit_event
from desk.store.sql import (
    Cursor,
    fetch_first,
    fetch_rows,
    query_frame,
    query_records,
    registered,
    transaction,
)
from desk.store.times import to_utc, utc_now

Target = Literal["hide", "answer"]
TARGETS: tuple[Target, ...] = ("hide", "answer")
Account = tuple[str, str]
"""An account as the models table names it: ('ad', advertiser_id) or ('organic', business_id)."""
Scope = Literal["each account", "all accounts"]
SCOPES: tuple[Scope, ...] = ("each account", "all accounts")
"""What the models learn from: each account's own decisions (a model per account), or every
account's together (one model); an admin chooses on Settings."""

LOCAL_USER = "local user"
"""desk.people.LOCAL_USER (desk.people imports the store, so it is repeated here; a test
keeps the two equal)."""
SEEN_AFTER = timedelta(hours=24)
"""How much older than the newest comment people acted on a comment must be to count as seen."""


def person(column: str) -> str:
    """SQL: the actor in `column` is a person (an e-mail or the local user), not a rule."""
    return (f"({column} NOT LIKE 'rule:%' AND ({column} = '{LOCAL_USER}' "
            f"OR {column} LIKE '%_@_%'))")


BY_HAND = f"{person('actor')} AND request_key NOT LIKE 'rule-%'"
ACCOUNT_KIND = "coalesce(c.source, 'ad')"
ACCOUNT_ID = "CASE WHEN c.source = 'organic' THEN c.business_id ELSE c.advertiser_id END"

_FACTS = f"""hand AS (
    SELECT comment_id, arg_max(kind, action_id) AS hand_kind, max(updated_at) AS hand_at
    FROM outbox WHERE kind IN ('hide', 'unhide') AND status = 'sent' AND {BY_HAND}
    GROUP BY comment_id
), ruled AS (
    SELECT DISTINCT comment_id FROM outbox
    WHERE kind = 'hide' AND status = 'sent' AND NOT ({BY_HAND})
), answered AS (
    SELECT comment_id, min(updated_at) AS answered_at FROM outbox
    WHERE kind = 'reply' AND status = 'sent' AND {person('actor')}
    GROUP BY comment_id
), outside AS (
    SELECT DISTINCT r.original_comment_id AS comment_id FROM comments r
    ANTI JOIN (SELECT result_comment_id FROM outbox
               WHERE kind = 'reply' AND result_comment_id IS NOT NULL) o
           ON o.result_comment_id = r.comment_id
    WHERE r.comment_type = 'REPLY' AND r.can_delete
), done AS (
    SELECT comment_id, max(acted_at) AS done_at FROM inbox_events
    WHERE kind = 'done' AND {person('actor')} GROUP BY comment_id
), base AS (
    SELECT c.comment_id, {ACCOUNT_KIND} AS account_kind, {ACCOUNT_ID} AS account_id,
           c.content, c.labels, c.language, c.sentiment, c.likes, c.create_time,
           c.comment_status IS NOT DISTINCT FROM 'HIDDEN' AS hidden,
           coalesce(c.is_auth_comment_manage_scope, true) AS answerable,
           h.hand_kind, h.hand_at, r.comment_id IS NOT NULL AS ruled, a.answered_at,
           o.comment_id IS NOT NULL AS outside, d.done_at
    FROM comments c
    LEFT JOIN hand h ON h.comment_id = c.comment_id
    LEFT JOIN ruled r ON r.comment_id = c.comment_id
    LEFT JOIN answered a ON a.comment_id = c.comment_id
    LEFT JOIN outside o ON o.comment_id = c.comment_id
    LEFT JOIN done d ON d.comment_id = c.comment_id
    WHERE c.comment_type = 'COMMENT' AND NOT coalesce(c.can_delete, false)
      AND c.content IS NOT NULL AND {{account}}
), worked AS (
    SELECT account_kind, account_id, max(create_time) AS through FROM base
    WHERE hand_kind IS NOT NULL OR answered_at IS NOT NULL OR done_at IS NOT NULL
    GROUP BY account_kind, account_id
)"""  # noqa: S608 (constants)

_SEEN = "b.create_time <= w.through - to_seconds(?::BIGINT)"
_UNJUDGED = "NOT b.hidden AND NOT b.ruled"
_RULES: Mapping[Target, tuple[str, str, str]] = MappingProxyType({
    # (positive, which comments are examples, when the person decided)
    "hide": ("b.hand_kind = 'hide'",
             f"b.hand_kind IS NOT NULL OR ({_UNJUDGED} AND (b.answered_at IS NOT NULL "
             f"OR b.done_at IS NOT NULL OR {_SEEN}))",
             "coalesce(b.hand_at, b.answered_at, b.done_at)"),
    "answer": ("b.answered_at IS NOT NULL",
               f"b.answered_at IS NOT NULL OR (NOT b.outside AND b.answerable "
               f"AND (b.hand_kind = 'hide' "
               f"OR ({_UNJUDGED} AND (b.done_at IS NOT NULL OR {_SEEN}))))",
               "coalesce(b.answered_at, CASE WHEN b.hand_kind = 'hide' THEN b.hand_at END, "
               "b.done_at)"),
})
DECISION_COLUMNS = ("comment_id", "account_kind", "account_id", "content", "labels",
                    "language", "sentiment", "likes", "create_time", "label", "decided_at")


def decisions(cur: Cursor, target: Target, account: Account | None = None, *,
              seen_after: timedelta = SEEN_AFTER) -> pd.DataFrame:
    """The labelled examples of `target` (see the module's table), of one account or of all
    (None), oldest comment first: comment_id, account_kind, account_id, content, labels,
    language, sentiment, likes, create_time, label (bool), decided_at (NULL: seen)."""
    positive, example, decided = _RULES[target]
    where, params = _account_clause(account)
    sql = (f"WITH {_FACTS.format(account=where)}\n"
           f"SELECT b.comment_id, b.account_kind, b.account_id, b.content, b.labels, "
           f"b.language, b.sentiment, b.likes, b.create_time, "
           f"coalesce({positive}, false) AS label, "
           f"{decided} AS decided_at "
           f"FROM base b JOIN worked w USING (account_kind, account_id) "
           f"WHERE {example} ORDER BY b.create_time, b.comment_id")
    return query_frame(cur, sql, [*params, int(seen_after.total_seconds())])


def decided_accounts(cur: Cursor) -> list[Account]:
    """The accounts where a person has decided something (hid, unhid, answered, done)."""
    rows = fetch_rows(cur, f"""
        WITH acted AS (
            SELECT comment_id FROM outbox WHERE kind IN ('hide', 'unhide') AND status = 'sent'
                AND {BY_HAND}
            UNION SELECT comment_id FROM outbox WHERE kind = 'reply' AND status = 'sent'
                AND {person('actor')}
            UNION SELECT comment_id FROM inbox_events WHERE kind = 'done'
                AND {person('actor')})
        SELECT DISTINCT {ACCOUNT_KIND}, {ACCOUNT_ID} FROM comments c SEMI JOIN acted a
            ON a.comment_id = c.comment_id
        WHERE {ACCOUNT_ID} IS NOT NULL ORDER BY 1, 2""")  # noqa: S608 (constants)
    return [(str(kind), str(account_id)) for kind, account_id in rows]


def decisions_since(cur: Cursor, since: datetime | None) -> int:
    """How many decisions people made after `since` (all of them for None): hides and
    unhides by hand, replies sent, comments marked done."""
    moment = None if since is None else to_utc(since)
    row = fetch_first(cur, f"""
        SELECT (SELECT count(*) FROM outbox WHERE status = 'sent' AND (
                    (kind IN ('hide', 'unhide') AND {BY_HAND})
                    OR (kind = 'reply' AND {person('actor')}))
                AND (?::TIMESTAMPTZ IS NULL OR updated_at > ?::TIMESTAMPTZ))
             + (SELECT count(*) FROM inbox_events WHERE kind = 'done' AND {person('actor')}
                AND (?::TIMESTAMPTZ IS NULL OR acted_at > ?::TIMESTAMPTZ))""",  # noqa: S608
                      [moment] * 4)
    return int(row[0]) if row else 0


def _account_clause(account: Account | None) -> tuple[str, list[Any]]:
    if account is None:
        return "true", []
    return f"{ACCOUNT_KIND} = ? AND {ACCOUNT_ID} = ?", [account[0], account[1]]


# ---------------------------------------------------------------------------------------------
# What the models learn from (migration 18)


@dataclass(frozen=True)
class ScopeChoice:
    """The scope in force, and who chose it when (None: nobody yet, so each account)."""

    scope: Scope
    set_by: str | None = None
    set_at: datetime | None = None


def training_scope(cur: Cursor) -> ScopeChoice:
    """Whether the models learn per account or across accounts (see SCOPES)."""
    rows = query_records(cur, "SELECT value, set_by, set_at FROM learning_settings "
                              "WHERE name = 'scope'")
    if not rows or rows[0]["value"] not in SCOPES:
        return ScopeChoice("each account")
    return ScopeChoice(rows[0]["value"], rows[0]["set_by"], rows[0]["set_at"])


def set_training_scope(cur: Cursor, scope: str, actor: str, *,
                       at: datetime | None = None) -> bool:
    """Choose what the models learn from, recording who chose; whether it changed."""
    if scope not in SCOPES:
        raise ValueError(f"The models learn from {' or '.join(SCOPES)}, not {scope!r}")
    if training_scope(cur).scope == scope:
        return False
    moment = to_utc(at or utc_now())
    with transaction(cur):
        fetch_rows(cur, "INSERT INTO learning_settings (name, value, set_by, set_at) "
                        "VALUES ('scope', ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                        "value = excluded.value, set_by = excluded.set_by, "
                        "set_at = excluded.set_at", [scope, actor, moment])
        audit_event(cur, actor, "learning_scope", scope, at=moment)
    return True


# ---------------------------------------------------------------------------------------------
# Models


@dataclass(frozen=True)
class StoredModel:
    """One row of `models` without its weights; `settings` parsed from its JSON."""

    model_id: int
    target: Target
    account_kind: str | None
    account_id: str | None
    code_version: str
    trained_at: datetime
    examples: int
    positives: int
    split_at: datetime | None
    precision: float | None
    recall: float | None
    baseline_precision: float | None
    baseline_recall: float | None
    beats_baseline: bool
    settings: dict[str, Any]

    @property
    def account(self) -> Account | None:
        if self.account_kind is None or self.account_id is None:
            return None
        return (self.account_kind, self.account_id)


_MODEL_COLUMNS = ("model_id, target, account_kind, account_id, code_version, trained_at, "
                  "examples, positives, split_at, precision, recall, baseline_precision, "
                  "baseline_recall, beats_baseline, settings")


def save_model(cur: Cursor, *, target: Target, account: Account | None, code_version: str,
               trained_at: datetime, examples: int, positives: int,
               split_at: datetime | None, precision: float | None, recall: float | None,
               baseline_precision: float | None, baseline_recall: float | None,
               beats_baseline: bool, settings: dict[str, Any], weights: bytes) -> int:
    """Store a trained model (its weights as bytes, its settings as JSON); its model_id."""
    kind, account_id = account if account is not None else (None, None)
    row = fetch_first(cur, """
        INSERT INTO models (target, account_kind, account_id, code_version, trained_at,
                            examples, positives, split_at, precision, recall,
                            baseline_precision, baseline_recall, beats_baseline, settings,
                            weights)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING model_id""",
                      [target, kind, account_id, code_version, to_utc(trained_at), examples,
                       positives, None if split_at is None else to_utc(split_at), precision,
                       recall, baseline_precision, baseline_recall, beats_baseline,
                       json.dumps(settings, sort_keys=True), weights])
    assert row is not None
    return int(row[0])


def model_weights(cur: Cursor, model_id: int) -> bytes:
    """The stored weights of a model."""
    row = fetch_first(cur, "SELECT weights FROM models WHERE model_id = ?", [int(model_id)])
    if row is None:
        raise KeyError(f"there is no model {model_id}")
    return bytes(row[0])


def list_models(cur: Cursor, target: Target | None = None,
                limit: int = 20) -> list[StoredModel]:
    """The newest models first (of one target, or both)."""
    rows = query_records(cur, f"SELECT {_MODEL_COLUMNS} FROM models "  # noqa: S608
                              "WHERE ?::VARCHAR IS NULL OR target = ? "
                              "ORDER BY trained_at DESC, model_id DESC LIMIT ?",
                         [target, target, int(limit)])
    return [_stored(row) for row in rows]


def newest_models(cur: Cursor, code_version: str,
                  scope: Scope | None = None) -> list[StoredModel]:
    """Each scope's (target, account or across accounts) newest model of this code version,
    whether or not it beats its baseline: the one that decides whether the scope has a model
    in use. `scope`: only the per-account models, or only those across accounts."""
    across = {None: None, "each account": False, "all accounts": True}[scope]
    rows = query_records(cur, f"""
        SELECT {_MODEL_COLUMNS} FROM models WHERE code_version = ?
            AND (?::BOOLEAN IS NULL OR (account_id IS NULL) = ?::BOOLEAN)
        QUALIFY row_number() OVER (PARTITION BY target, account_kind, account_id
                                   ORDER BY trained_at DESC, model_id DESC) = 1
        ORDER BY target, account_kind NULLS LAST, account_id""",  # noqa: S608 (constants)
                         [code_version, across, across])
    return [_stored(row) for row in rows]


def model_count(cur: Cursor) -> int:
    """How many models were ever stored."""
    row = fetch_first(cur, "SELECT count(*) FROM models")
    return int(row[0]) if row else 0


def last_trained_at(cur: Cursor) -> datetime | None:
    rows = query_records(cur, "SELECT max(trained_at) AS at FROM models")
    return rows[0]["at"] if rows else None


def _stored(row: dict[str, Any]) -> StoredModel:
    return StoredModel(**{**row, "settings": json.loads(row["settings"]),
                          "beats_baseline": bool(row["beats_baseline"])})


# ---------------------------------------------------------------------------------------------
# Scores

SCORE_COLUMNS = ("comment_id", "account_kind", "account_id", "content", "labels", "language",
                 "sentiment")


def to_score(cur: Cursor, keys: pa.Table, default_key: str | None, limit: int) -> pd.DataFrame:
    """Up to `limit` comments whose scores are not those of the models in use now: visible
    first-level viewer comments not marked done, whose `scored_with` differs from their
    account's key in `keys` (account_kind, account_id, scored_with), else `default_key`
    (None: no model, so only stale scores are left to clear)."""
    with registered(cur, keys, "score_keys") as view:
        return query_frame(cur, f"""
            SELECT c.comment_id, {ACCOUNT_KIND} AS account_kind, {ACCOUNT_ID} AS account_id,
                   c.content, c.labels, c.language, c.sentiment
            FROM comments c
            LEFT JOIN {view} k ON k.account_kind = {ACCOUNT_KIND}
                               AND k.account_id = {ACCOUNT_ID}
            LEFT JOIN inbox_states s ON s.comment_id = c.comment_id
            WHERE c.comment_type = 'COMMENT' AND NOT coalesce(c.can_delete, false)
              AND c.comment_status IS DISTINCT FROM 'HIDDEN'
              AND (s.state IS NULL OR s.state <> 'done')
              AND c.scored_with IS DISTINCT FROM coalesce(k.scored_with, ?::VARCHAR)
            LIMIT ?""", [default_key, int(limit)])  # noqa: S608 (constants)


def write_scores(cur: Cursor, scores: pa.Table) -> int:
    """Set answer_score, hide_score and scored_with of the comments in `scores` (those
    columns and comment_id), in one UPDATE; how many rows were given."""
    if not scores.num_rows:
        return 0
    with registered(cur, scores, "scores") as view:
        fetch_rows(cur, f"UPDATE comments SET answer_score = s.answer_score, "  # noqa: S608
                        f"hide_score = s.hide_score, scored_with = s.scored_with "
                        f"FROM {view} s WHERE comments.comment_id = s.comment_id")
    return scores.num_rows


def hand_hidden(cur: Cursor, account: Account, limit: int = 5000) -> pd.DataFrame:
    """The account's comments a person hid by hand (and did not unhide), newest first:
    comment_id, content, labels, language, sentiment, create_time."""
    return query_frame(cur, f"""
        WITH hand AS (
            SELECT comment_id, arg_max(kind, action_id) AS hand_kind FROM outbox
            WHERE kind IN ('hide', 'unhide') AND status = 'sent' AND {BY_HAND}
            GROUP BY comment_id)
        SELECT c.comment_id, c.content, c.labels, c.language, c.sentiment, c.create_time
        FROM comments c JOIN hand h ON h.comment_id = c.comment_id AND h.hand_kind = 'hide'
        WHERE {ACCOUNT_KIND} = ? AND {ACCOUNT_ID} = ? AND c.content IS NOT NULL
        ORDER BY c.create_time DESC LIMIT ?""",  # noqa: S608 (constants)
                       [account[0], account[1], int(limit)])


def scope_accounts(advertiser_id: str | None, business_id: str | None) -> list[Account]:
    """The accounts an inbox scope covers (none named: every account)."""
    found: list[Account] = []
    if advertiser_id:
        found.append(("ad", str(advertiser_id)))
    if business_id:
        found.append(("organic", str(business_id)))
    return found


def known_accounts(cur: Cursor) -> list[Account]:
    """Every account with stored comments."""
    rows = fetch_rows(cur, f"SELECT DISTINCT {ACCOUNT_KIND}, {ACCOUNT_ID} FROM comments c "  # noqa: S608
                           f"WHERE {ACCOUNT_ID} IS NOT NULL ORDER BY 1, 2")
    return [(str(kind), str(account_id)) for kind, account_id in rows]
