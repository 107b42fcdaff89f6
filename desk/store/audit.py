"""The audit log: one line per thing a person (or a rule) did or asked for, with who."""

from __future__ import annotations

from datetime import datetime

from desk.store.sql import Cursor, fetch_rows
from desk.store.times import utc_now


def audit_event(cur: Cursor, actor: str, event: str, detail: str | None, *,
                action_id: int | None = None, advertiser_id: str | None = None,
                at: datetime | None = None) -> None:
    """Record that `actor` (an e-mail, or the rule that acted) did `event`."""
    fetch_rows(
        cur,
        "INSERT INTO audit_log (logged_at, action_id, actor, advertiser_id, event, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [at or utc_now(), action_id, actor, advertiser_id, event, detail],
    )
