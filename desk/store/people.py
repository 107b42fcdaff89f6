"""The people table: which e-mail addresses and domains have which role, and who set it.

`set_by` is 'settings' for roles given by DESK_ADMINS, DESK_RESPONDERS and DESK_VIEWERS
(refreshed at every start), else the e-mail of the admin who set it on the Settings page
(never overwritten by the settings). An address or domain an admin took the role of is kept
in `people_removed`, so the settings do not give it back at the next start; giving it a role
again clears that.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from desk.store.sql import Cursor, fetch_rows, query_frame, transaction
from desk.store.times import utc_now

FROM_SETTINGS = "settings"


def roles_for(cur: Cursor, patterns: Iterable[str]) -> dict[str, str]:
    """The role of each of these addresses and domains that has one."""
    wanted = list(dict.fromkeys(patterns))
    if not wanted:
        return {}
    return dict(fetch_rows(
        cur, "SELECT pattern, role FROM people WHERE pattern IN (SELECT unnest(?::VARCHAR[]))",
        [wanted]))


def seed_roles(cur: Cursor, roles: Iterable[tuple[str, str]]) -> None:
    """Give each (pattern, role) from the settings, unless an admin set that pattern or took
    its role away."""
    removed = {pattern for (pattern,) in fetch_rows(cur, "SELECT pattern FROM people_removed")}
    for pattern, role in roles:
        if pattern in removed:
            continue
        fetch_rows(
            cur,
            "INSERT INTO people (pattern, role, set_by, set_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (pattern) DO UPDATE SET role = excluded.role, set_at = excluded.set_at "
            "WHERE people.set_by = ?",
            [pattern, role, FROM_SETTINGS, utc_now(), FROM_SETTINGS])


def put_role(cur: Cursor, pattern: str, role: str | None, set_by: str) -> None:
    """Give `pattern` a role, as `set_by` chose; None takes its role away, and the removal is
    kept over the settings' roles at later starts."""
    with transaction(cur):
        if role is None:
            fetch_rows(cur, "DELETE FROM people WHERE pattern = ?", [pattern])
            fetch_rows(
                cur,
                "INSERT INTO people_removed (pattern, removed_by, removed_at) VALUES (?, ?, ?) "
                "ON CONFLICT (pattern) DO UPDATE SET removed_by = excluded.removed_by, "
                "removed_at = excluded.removed_at",
                [pattern, set_by, utc_now()])
        else:
            fetch_rows(cur, "DELETE FROM people_removed WHERE pattern = ?", [pattern])
            fetch_rows(
                cur,
                "INSERT INTO people (pattern, role, set_by, set_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (pattern) DO UPDATE SET role = excluded.role, "
                "set_by = excluded.set_by, set_at = excluded.set_at",
                [pattern, role, set_by, utc_now()])


def list_roles(cur: Cursor) -> pd.DataFrame:
    """Every address and domain with a role, admins first, with who set it and when."""
    return query_frame(
        cur, "SELECT pattern, role, set_by, set_at FROM people ORDER BY "
             "CASE role WHEN 'admin' THEN 1 WHEN 'responder' THEN 2 ELSE 3 END, pattern")


def count_admins(cur: Cursor) -> int:
    """How many addresses and domains are admins."""
    return int(fetch_rows(cur, "SELECT count(*) FROM people WHERE role = 'admin'")[0][0])
