"""What a notebook cell may read: the analyst views, the tables behind them, a few table
functions that only make rows, and the names read once from the database to check against."""

from __future__ import annotations

from dataclasses import dataclass

from desk import store as db
from desk.notebook.errors import NotebookError

ANALYST_SCHEMA = "analyst"
ANALYST_VIEWS = (
    "advertisers", "ads", "comments", "replies", "sync_runs", "business_accounts", "videos",
    "deleted_comments", "actions", "audit", "rules", "rule_versions", "rule_runs", "rule_hits",
    "inbox", "inbox_events", "comment_notes", "saved_replies", "response_targets", "alerts",
    "alert_deliveries", "response_times", "inbox_backlog", "ad_delivery",
)
# The tables the analyst views read: the only ones a notebook plan may scan.
_BASE_TABLES = frozenset(
    {"advertisers", "ads", "comments", "sync_runs", "business_accounts", "videos",
     "deleted_comments", "outbox", "audit_log", "rules", "rule_versions", "rule_runs",
     "rule_hits", "inbox_states", "inbox_events", "comment_notes", "saved_replies",
     "response_targets", "alerts", "alert_deliveries", "alert_channels", "ad_delivery"}
)
# Table functions that only make rows from their arguments.
TABLE_FUNCTIONS = ("range", "generate_series", "unnest", "json_each", "json_tree")
# Scalar functions that write (sequences, the log) or read sequence state, even in a SELECT.
_WRITING_FUNCTIONS = frozenset({"nextval", "setval", "currval", "write_log"})


@dataclass(frozen=True)
class _Catalog:
    """What the checks compare names with, read once from the database."""

    database: str
    views: frozenset[str]
    denied_functions: frozenset[str]

    @classmethod
    def read(cls, cur: db.Cursor) -> _Catalog:
        database = cur.execute("SELECT current_database()").fetchall()[0][0]
        views = {
            row[0].lower()
            for row in cur.execute(
                "SELECT view_name FROM duckdb_views() "
                "WHERE database_name = current_database() AND schema_name = ?",
                [ANALYST_SCHEMA],
            ).fetchall()
        }
        missing = set(ANALYST_VIEWS) - views
        if missing:
            raise NotebookError(
                f"the database has no analyst views ({', '.join(sorted(missing))}): "
                "open it read-write once to upgrade it"
            )
        # Built-in macros that read the catalog (pg_get_viewdef, format_type, ...).
        macros = {
            row[0].lower()
            for row in cur.execute(
                "SELECT function_name FROM duckdb_functions() "
                "WHERE function_type = 'macro' AND macro_definition ILIKE '%FROM %'"
            ).fetchall()
        }
        return cls(str(database), frozenset(ANALYST_VIEWS), frozenset(_WRITING_FUNCTIONS | macros))
