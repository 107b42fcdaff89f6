"""The process's one handle on the analytics database: opening, locking down, cursors.

Opening read-write applies the pending migrations; opening read-only refuses a database that
is not up to date. Either way no statement can afterwards reach outside the database or
change a setting. A file another process holds raises StoreLocked (desk.errors).
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import duckdb

from desk.errors import StoreError, StoreLocked
from desk.store.schema import MIGRATIONS, migrate, schema_version
from desk.store.sql import Cursor, fetch_rows


class Store:
    """The process's one handle on the analytics database. Hand out cursors, never itself."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: str, read_only: bool):
        self._connection = connection
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(cls, path: Path | str, memory_limit: str | None = None) -> Store:
        """Open (creating if needed) the database read-write and apply pending migrations.
        `memory_limit` (e.g. "256MB") caps the memory the database uses; beyond it queries
        spill to disk."""
        target = str(path)
        if not target.startswith(("md:", ":memory:")):
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        connection = _connect(target, read_only=False, memory_limit=memory_limit)
        try:
            migrate(connection)
            _lock_configuration(connection)
        except BaseException:
            connection.close()
            raise
        return cls(connection, target, read_only=False)

    @classmethod
    def open_readonly(cls, path: Path | str) -> Store:
        """Open an existing, up-to-date database for reading only."""
        target = str(path)
        if not target.startswith("md:") and not Path(target).exists():
            raise StoreError(f"there is no database at {target}")
        connection = _connect(target, read_only=True)
        version = schema_version(connection)
        if version != len(MIGRATIONS):
            connection.close()
            raise StoreError(
                f"the database {target} has schema version {version}, this Comment Desk needs "
                f"{len(MIGRATIONS)}: open it read-write once (start the app) to upgrade it."
            )
        _lock_configuration(connection)
        return cls(connection, target, read_only=True)

    def cursor(self) -> Cursor:
        """A new cursor for the calling thread."""
        return self._connection.cursor()

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Store({self.path!r}, {mode})"


# No query may reach outside the database: no files, URLs, extensions or Python variables
# (the SQL notebook runs analysts' own queries). Bulk loads use register(), which still works.
_LOCKED_DOWN = MappingProxyType(
    {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "python_enable_replacements": False,
    }
)


def _connect(target: str, read_only: bool,
             memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    config = dict(_LOCKED_DOWN)
    if memory_limit:
        config["memory_limit"] = memory_limit
    try:
        connection = duckdb.connect(target, read_only=read_only, config=config)
    except duckdb.IOException as exc:
        if "Could not set lock on file" in str(exc):
            raise StoreLocked(target) from exc
        raise
    except duckdb.ConnectionException as exc:
        if "different configuration" in str(exc):
            raise StoreError(
                f"this process already has {target} open in another mode; "
                "use a cursor() of that Store"
            ) from exc
        raise
    # Every cursor inherits this: TIMESTAMPTZ values are read and written as UTC.
    fetch_rows(connection, "SET GLOBAL TimeZone = 'UTC'")
    return connection


def _lock_configuration(connection: duckdb.DuckDBPyConnection) -> None:
    """From here on no statement can change a setting (external access above all)."""
    fetch_rows(connection, "SET lock_configuration = true")
