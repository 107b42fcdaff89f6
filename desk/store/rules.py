"""Rules, their versions and runs, what each run did to which comment, and how far each rule
has read each account's new comments.

A rule is saved as TOML (desk.moderation.rules reads it); every save is a new version, and
runs name the version they used, so the audit log's "rule:<name> v<version>" can always be
looked up. A run's hits are written with the run, in one transaction, before anything is sent:
the set of comments a run acts on is fixed when it starts, so a run that is stopped or killed
resumes on exactly that set.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pandas as pd
import pyarrow as pa

from desk.errors import RuleError
from desk.store.audit import audit_event
from desk.store.sql import (
    PANDAS_TYPES,
    Cursor,
    fetch_first,
    fetch_rows,
    query_frame,
    query_records,
    registered,
    transaction,
)
from desk.store.times import utc_now

RunMode = Literal["dry_run", "backlog", "new", "undo"]
RunStatus = Literal["running", "ok", "partial", "failed", "interrupted"]
HitState = Literal["planned", "done", "failed", "skipped", "undone"]


@dataclass(frozen=True)
class StoredRule:
    """A rule as saved: its current version's name and TOML definition."""

    rule_id: int
    name: str
    version: int
    enabled: bool
    enabled_at: datetime | None
    definition: str
    changed_by: str
    changed_at: datetime

    @property
    def actor(self) -> str:
        """Who the outbox and the audit log say asked, when this version acts."""
        return rule_actor(self.name, self.version)


def rule_actor(name: str, version: int) -> str:
    return f"rule:{name} v{version}"


@dataclass(frozen=True)
class RuleRun:
    """One run of one rule version over one account's comments."""

    run_id: int
    rule_id: int
    rule_name: str
    version: int
    mode: RunMode
    undo_of: int | None
    source: str
    account_id: str
    asked_by: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    matched: int
    done: int
    failed: int
    message: str | None


_RULE_COLUMNS = ("r.rule_id, r.name, r.version, r.enabled, r.enabled_at, v.definition, "
                 "r.changed_by, r.changed_at")
_RUN_COLUMNS = ("u.run_id, u.rule_id, v.name AS rule_name, u.version, u.mode, u.undo_of, "
                "u.source, u.account_id, u.asked_by, u.status, u.started_at, u.finished_at, "
                "u.matched, u.done, u.failed, u.message")
_RUNS = ("rule_runs u JOIN rule_versions v ON v.rule_id = u.rule_id "
         "AND v.version = u.version")


# ---------------------------------------------------------------------------------------------
# Rules and versions


def list_rules(cur: Cursor) -> list[StoredRule]:
    """Every rule not deleted, by name."""
    rows = query_records(
        cur,
        f"SELECT {_RULE_COLUMNS} FROM rules r JOIN rule_versions v "  # noqa: S608
        "USING (rule_id, version) WHERE r.deleted_at IS NULL ORDER BY lower(r.name)",
    )
    return [StoredRule(**row) for row in rows]


def get_rule(cur: Cursor, rule_id: int) -> StoredRule | None:
    rows = query_records(
        cur,
        f"SELECT {_RULE_COLUMNS} FROM rules r JOIN rule_versions v "  # noqa: S608
        "USING (rule_id, version) WHERE r.rule_id = ? AND r.deleted_at IS NULL",
        [int(rule_id)],
    )
    return StoredRule(**rows[0]) if rows else None


def rule_definition(cur: Cursor, rule_id: int, version: int) -> str:
    """The TOML of one version of a rule."""
    row = fetch_first(cur, "SELECT definition FROM rule_versions WHERE rule_id = ? "
                      "AND version = ?", [int(rule_id), int(version)])
    if row is None:
        raise RuleError(f"there is no version {version} of rule {rule_id}")
    return str(row[0])


def save_rule(cur: Cursor, *, name: str, definition: str, by: str,
              rule_id: int | None = None, expected_version: int | None = None) -> StoredRule:
    """A new rule (rule_id None), or a new version of one. Refused when another rule has the
    name, or when the rule was saved by someone else since `expected_version`."""
    at = utc_now()
    with transaction(cur):
        taken = fetch_first(
            cur, "SELECT rule_id FROM rules WHERE lower(name) = lower(?) "
            "AND deleted_at IS NULL AND rule_id IS DISTINCT FROM ?", [name, rule_id])
        if taken is not None:
            raise RuleError(f'another rule is already called "{name}"; choose another name')
        if rule_id is None:
            row = fetch_first(cur, "SELECT nextval('rule_ids')")
            assert row is not None
            rule_id, version = int(row[0]), 1
            fetch_rows(cur, "INSERT INTO rules (rule_id, name, version, enabled, changed_by, "
                       "changed_at) VALUES (?, ?, 1, false, ?, ?)", [rule_id, name, by, at])
        else:
            current = fetch_first(cur, "SELECT version FROM rules WHERE rule_id = ? "
                                  "AND deleted_at IS NULL", [rule_id])
            if current is None:
                raise RuleError("this rule was deleted; reload the page")
            if expected_version is not None and current[0] != expected_version:
                raise RuleError(f"this rule was changed (now version {current[0]}) since you "
                                "opened it; reload it and make your change again")
            version = int(current[0]) + 1
            fetch_rows(cur, "UPDATE rules SET name = ?, version = ?, changed_by = ?, "
                       "changed_at = ? WHERE rule_id = ?", [name, version, by, at, rule_id])
        fetch_rows(cur, "INSERT INTO rule_versions VALUES (?, ?, ?, ?, ?, ?)",
                   [rule_id, version, name, definition, by, at])
        audit_event(cur, by, "rule_saved", f'rule {rule_id} "{name}" version {version}', at=at)
    saved = get_rule(cur, rule_id)
    assert saved is not None
    return saved


def set_rule_enabled(cur: Cursor, rule_id: int, enabled: bool, by: str) -> StoredRule:
    """Turn a rule on (it acts on comments stored from now on) or off."""
    rule = get_rule(cur, rule_id)
    if rule is None:
        raise RuleError("this rule was deleted; reload the page")
    at = utc_now()
    with transaction(cur):
        fetch_rows(cur, "UPDATE rules SET enabled = ?, enabled_at = ?, changed_by = ?, "
                   "changed_at = ? WHERE rule_id = ?",
                   [enabled, at if enabled else None, by, at, rule_id])
        if enabled:  # from now on: where it had read to before is forgotten
            fetch_rows(cur, "DELETE FROM rule_cursors WHERE rule_id = ?", [rule_id])
        audit_event(cur, by, "rule_enabled" if enabled else "rule_disabled",
                    f'rule {rule_id} "{rule.name}" version {rule.version}', at=at)
    changed = get_rule(cur, rule_id)
    assert changed is not None
    return changed


def delete_rule(cur: Cursor, rule_id: int, by: str) -> None:
    """Delete a rule (its versions, runs and hits stay, for the audit log and undo)."""
    rule = get_rule(cur, rule_id)
    if rule is None:
        return
    at = utc_now()
    with transaction(cur):
        fetch_rows(cur, "UPDATE rules SET deleted_at = ?, enabled = false, changed_by = ?, "
                   "changed_at = ? WHERE rule_id = ?", [at, by, at, rule_id])
        audit_event(cur, by, "rule_deleted", f'rule {rule_id} "{rule.name}"', at=at)


# ---------------------------------------------------------------------------------------------
# Runs and hits


def start_rule_run(cur: Cursor, *, rule_id: int, version: int, mode: RunMode, source: str,
                   account_id: str, asked_by: str, hits: pd.DataFrame,
                   undo_of: int | None = None, status: RunStatus = "running",
                   message: str | None = None,
                   cursor_to: datetime | None = None) -> int:
    """Record a run and the comments it acts on (hits: comment_id, action, label; all
    planned), and, for a run over new comments, how far the rule has now read: one
    transaction."""
    at = utc_now()
    with transaction(cur):
        row = fetch_first(cur, "SELECT nextval('rule_run_ids')")
        assert row is not None
        run_id = int(row[0])
        fetch_rows(
            cur,
            "INSERT INTO rule_runs (run_id, rule_id, version, mode, undo_of, source, "
            "account_id, asked_by, status, started_at, finished_at, matched, message) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, rule_id, version, mode, undo_of, source, account_id, asked_by, status, at,
             at if status != "running" else None, len(hits), message],
        )
        if len(hits):
            table = pa.table({
                "comment_id": pa.array(hits["comment_id"].astype(str).tolist(), pa.string()),
                "action": pa.array(hits["action"].tolist(), pa.string()),
                "label": _texts(hits.get("label"), len(hits)),
            })
            with registered(cur, table, "hits") as name:
                fetch_rows(cur, f"INSERT INTO rule_hits SELECT ?, comment_id, action, label, "  # noqa: S608
                           f"'planned', NULL FROM {name}", [run_id])
        if cursor_to is not None:
            fetch_rows(cur, "INSERT OR REPLACE INTO rule_cursors VALUES (?, ?, ?, ?)",
                       [rule_id, source, account_id, cursor_to])
    return run_id


def resumable_run(cur: Cursor, *, rule_id: int, version: int, mode: RunMode, source: str,
                  account_id: str, undo_of: int | None = None) -> RuleRun | None:
    """The newest run of this kind to carry on with: one that was interrupted (or still says
    running, which only a stopped process leaves), or that ended partial, with writes TikTok
    refused or did not confirm (carried on, they are retried without sending anything twice,
    under the same request keys)."""
    rows = query_records(
        cur,
        f"SELECT {_RUN_COLUMNS} FROM {_RUNS} WHERE u.rule_id = ? AND u.version = ? "  # noqa: S608
        "AND u.mode = ? AND u.source = ? AND u.account_id = ? "
        "AND u.undo_of IS NOT DISTINCT FROM ? "
        "AND u.status IN ('interrupted', 'running', 'partial') "
        "ORDER BY u.run_id DESC LIMIT 1",
        [rule_id, version, mode, source, account_id, undo_of],
    )
    return RuleRun(**rows[0]) if rows else None


def reopen_rule_run(cur: Cursor, run_id: int) -> None:
    fetch_rows(cur, "UPDATE rule_runs SET status = 'running', finished_at = NULL "
               "WHERE run_id = ?", [run_id])


def mark_interrupted_rule_runs(cur: Cursor) -> int:
    """Runs left 'running' by a process that stopped: now 'interrupted' (at startup)."""
    rows = fetch_rows(cur, "UPDATE rule_runs SET status = 'interrupted' "
                      "WHERE status = 'running' RETURNING run_id")
    return len(rows)


def finish_rule_run(cur: Cursor, run_id: int, status: RunStatus, message: str | None) -> RuleRun:
    """Close a run with its counts, taken from its hits."""
    fetch_rows(
        cur,
        "UPDATE rule_runs SET status = ?, message = ?, finished_at = ?, "
        "matched = (SELECT count(*) FROM rule_hits WHERE run_id = ?), "
        "done = (SELECT count(*) FROM rule_hits WHERE run_id = ? AND state IN ('done', "
        "'undone')), "
        "failed = (SELECT count(*) FROM rule_hits WHERE run_id = ? AND state = 'failed') "
        "WHERE run_id = ?",
        [status, message, utc_now(), run_id, run_id, run_id, run_id],
    )
    run = get_rule_run(cur, run_id)
    assert run is not None
    return run


def get_rule_run(cur: Cursor, run_id: int) -> RuleRun | None:
    rows = query_records(cur, f"SELECT {_RUN_COLUMNS} FROM {_RUNS} "  # noqa: S608
                         "WHERE u.run_id = ?", [int(run_id)])
    return RuleRun(**rows[0]) if rows else None


def rule_runs(cur: Cursor, rule_id: int | None = None, limit: int = 50) -> pd.DataFrame:
    """Runs, newest first (of one rule, or of all)."""
    where, params = ("WHERE u.rule_id = ?", [int(rule_id)]) if rule_id is not None else ("", [])
    return query_frame(cur, f"SELECT {_RUN_COLUMNS} FROM {_RUNS} {where} "  # noqa: S608
                       "ORDER BY u.run_id DESC LIMIT ?", [*params, int(limit)])


def hits(cur: Cursor, run_id: int, states: Sequence[HitState] | None = None) -> pd.DataFrame:
    """A run's hits (comment_id, action, label, state, detail), by comment."""
    where, params = "run_id = ?", [int(run_id)]
    if states:
        where += " AND state IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(states))
    return query_frame(cur, "SELECT comment_id, action, label, state, detail "  # noqa: S608
                       f"FROM rule_hits WHERE {where} ORDER BY comment_id", params)


def set_hit_states(cur: Cursor, run_id: int, states: pd.DataFrame) -> None:
    """Record how each hit went (states: comment_id, state, detail)."""
    if states.empty:
        return
    table = pa.table({
        "comment_id": pa.array(states["comment_id"].astype(str).tolist(), pa.string()),
        "state": pa.array(states["state"].tolist(), pa.string()),
        "detail": _texts(states.get("detail"), len(states)),
    })
    with registered(cur, table, "states") as name:
        fetch_rows(cur, f"UPDATE rule_hits SET state = s.state, detail = s.detail "  # noqa: S608
                   f"FROM {name} s WHERE rule_hits.run_id = ? "
                   "AND rule_hits.comment_id = s.comment_id", [run_id])


def _texts(values: pd.Series | None, count: int) -> pa.Array:
    """An optional text column as Arrow strings: missing values (None, NaN, NA) are null."""
    if values is None:
        return pa.array([None] * count, pa.string())
    return pa.array([None if pd.isna(v) else str(v) for v in values], pa.string())


def acted_on(cur: Cursor, rule_id: int, comment_ids: Sequence[str]) -> set[str]:
    """Which of these comments a run of this rule has already acted on (and not undone): a
    rule acts on a comment once, so a person who reverses it keeps the last word."""
    if not comment_ids:
        return set()
    rows = fetch_rows(
        cur,
        "SELECT DISTINCT h.comment_id FROM rule_hits h JOIN rule_runs u USING (run_id) "
        "WHERE u.rule_id = ? AND u.mode IN ('backlog', 'new') "
        "AND h.state IN ('planned', 'done', 'failed') "
        "AND h.comment_id IN (SELECT unnest(?::VARCHAR[]))",
        [rule_id, [str(c) for c in comment_ids]],
    )
    return {row[0] for row in rows}


def rule_cursor(cur: Cursor, rule_id: int, source: str, account_id: str) -> datetime | None:
    """Up to which first_seen_at the rule has read this account's comments."""
    rows = query_records(cur, "SELECT seen_through FROM rule_cursors WHERE rule_id = ? "
                         "AND source = ? AND account_id = ?", [rule_id, source, account_id])
    return rows[0]["seen_through"] if rows else None


def set_rule_cursor(cur: Cursor, rule_id: int, source: str, account_id: str,
                    seen_through: datetime) -> None:
    fetch_rows(cur, "INSERT OR REPLACE INTO rule_cursors VALUES (?, ?, ?, ?)",
               [rule_id, source, account_id, seen_through])


def rule_marks(cur: Cursor, comment_ids: Sequence[str]) -> dict[str, list[str]]:
    """The labels and flags rules put on these comments (and not undone)."""
    if not comment_ids:
        return {}
    rows = fetch_rows(
        cur,
        "SELECT comment_id, list(DISTINCT CASE WHEN action = 'flag' THEN 'flagged' "
        "ELSE label END) FROM rule_hits WHERE action IN ('label', 'flag') "
        "AND state = 'done' AND comment_id IN (SELECT unnest(?::VARCHAR[])) "
        "GROUP BY comment_id",
        [[str(c) for c in comment_ids]],
    )
    return {row[0]: sorted(row[1]) for row in rows}


CANDIDATE_COLUMNS = (
    "comment_id, content, likes, labels, ad_id, ad_name, video_id, tiktok_item_id, "
    "coalesce(source, 'ad') AS source, comment_status, hit_blockedword, user_name, "
    "create_time, first_seen_at"
)


def rule_candidates(cur: Cursor, source: str, account_column: str, account_id: str, *,
                    seen_after: datetime | None = None, seen_through: datetime | None = None,
                    batch: int = 50_000) -> Iterator[pd.DataFrame]:
    """The account's comments a rule may act on, `batch` at a time: every comment but the
    account's own (its replies), optionally only those first stored in (seen_after,
    seen_through]."""
    where = [f"{account_column} = ?", "coalesce(source, 'ad') = ?",
             "NOT coalesce(can_delete, false)"]
    params: list[object] = [account_id, source]
    if seen_after is not None:
        where.append("first_seen_at > ?")
        params.append(seen_after)
    if seen_through is not None:
        where.append("first_seen_at <= ?")
        params.append(seen_through)
    reader = cur.sql(
        f"SELECT {CANDIDATE_COLUMNS} FROM comments WHERE {' AND '.join(where)}",  # noqa: S608
        params=params,
    ).to_arrow_reader(batch)
    for record_batch in reader:
        if record_batch.num_rows:
            yield pa.Table.from_batches([record_batch]).to_pandas(types_mapper=PANDAS_TYPES.get)


def newest_seen(cur: Cursor, source: str, account_column: str,
                account_id: str) -> datetime | None:
    """The latest first_seen_at among the account's comments."""
    rows = query_records(
        cur, f"SELECT max(first_seen_at) AS newest FROM comments WHERE {account_column} = ? "  # noqa: S608
        "AND coalesce(source, 'ad') = ?", [account_id, source])
    return rows[0]["newest"] if rows else None
