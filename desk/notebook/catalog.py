"""What a notebook cell may read: the analyst views, the tables behind them, a few table
functions that only make rows, and the names read once from the database to check against;
and the same names as the SQL editor's completions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desk import store as db
from desk.notebook.errors import NotebookError

ANALYST_SCHEMA = "analyst"
ANALYST_VIEWS = (
    "advertisers", "ads", "comments", "replies", "sync_runs", "business_accounts", "videos",
    "deleted_comments", "actions", "audit", "rules", "rule_versions", "rule_runs", "rule_hits",
    "inbox", "inbox_events", "comment_notes", "saved_replies", "response_targets", "alerts",
    "alert_deliveries", "response_times", "inbox_backlog", "ad_delivery",
    "models",
)
# The tables the analyst views read: the only ones a notebook plan may scan.
_BASE_TABLES = frozenset(
    {"advertisers", "ads", "comments", "sync_runs", "business_accounts", "videos",
     "deleted_comments", "outbox", "audit_log", "rules", "rule_versions", "rule_runs",
     "rule_hits", "inbox_states", "inbox_events", "comment_notes", "saved_replies",
     "response_targets", "alerts", "alert_deliveries", "alert_channels", "ad_delivery",
     "models"}
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


def editor_completions(schema: Mapping[str, Sequence[tuple[str, str]]]) -> list[dict[str, Any]]:
    """What the SQL editor offers as one types (Ace completions): each analyst view, then
    each column once, with the views that have it (`Notebook.schema()` gives `schema`).

    Views rank above columns, and among views the order of `schema` (ANALYST_VIEWS: the
    main ones first), so "comme" offers `comments` before `comment_notes`."""
    views_of: dict[str, list[str]] = {}
    for view, columns in schema.items():
        for column, _ in columns:
            views_of.setdefault(column, []).append(view)
    completions = [{"caption": view, "value": view, "meta": "view", "score": 2000 - rank}
                   for rank, view in enumerate(schema)]
    for column, views in sorted(views_of.items()):
        meta = views[0] if len(views) == 1 else f"{views[0]} +{len(views) - 1}"
        completions.append({"caption": column, "value": column, "meta": meta, "score": 1000})
    return completions
