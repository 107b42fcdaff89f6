"""The statement guard: what a notebook cell may run, checked in layers before it runs.

A cell is exactly one statement: SELECT (WITH, VALUES, FROM-first and TABLE included),
EXPLAIN [ANALYZE] of such a statement, DESCRIBE, SHOW TABLES and SUMMARIZE. Anything else
raises `NotebookRefused`.

Why a cell cannot change the database, read past the analyst views or reach outside: five
layers, each checked on its own, so that a gap in one is covered by another.

1. Statement kind, from DuckDB's own parser: one statement, of the read kinds above only
   (here).
2. The parsed query (`json_serialize_sql`), walked node by node (desk/notebook/parsed.py):
   every table it names must be an analyst view or a visible CTE, every table function one of
   a few that only make rows (range, generate_series, unnest, json_each, json_tree); no
   sequence or log functions, no built-in macro that reads the catalog, no qualified function.
   `SHOW TABLES` is answered by a fixed query over the analyst schema (DuckDB's own lists
   every schema); `SHOW <view>` by DESCRIBE.
3. The bound plan (`EXPLAIN (FORMAT json)`), after DuckDB itself has resolved names, views,
   CTEs and macros: every scan must be of a table behind the views or of an allowed table
   function (here). It runs only after 2, because binding a file reader already opens the file.
4. A fresh cursor per cell, inside `BEGIN TRANSACTION READ ONLY`, rolled back at the end
   (desk/notebook/cells.py): DuckDB refuses any write (nextval included). The query sees one
   snapshot, so a sync writing on another cursor neither waits for it nor shows it half a batch.
5. The store's connection (desk/store) has external access, extension loading and Python
   replacement scans off and its configuration locked: no file, URL, extension or setting
   can be reached by any statement on any cursor.

DuckDB's metadata (duckdb_tables(), information_schema, sqlite_master, pg_catalog, SHOW ALL
TABLES) is refused too: it lists the internal tables with their columns and SQL, and
`Notebook.schema()`, DESCRIBE and SHOW TABLES already describe everything a cell can read.
Read-only functions such as current_setting() stay available.

Reading an internal table is stopped by 2 and 3; a write by 1, 4 (and 2 for nextval); a file,
URL or extension by 2, 3 and 5; a setting by 1 and 5. Unqualified names resolve to the views
because the cursor runs `USE analyst` (names the schema lacks would fall through to `main`,
which is why 2 and 3 exist).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import duckdb

from desk import store as db
from desk.notebook.catalog import (
    _BASE_TABLES,
    ANALYST_SCHEMA,
    ANALYST_VIEWS,
    TABLE_FUNCTIONS,
    _Catalog,
)
from desk.notebook.errors import NotebookError, NotebookQueryError, NotebookRefused
from desk.notebook.parsed import _check_tree, _is_show_tables, _parse_tree, _shown_view

_READ_KINDS = "SELECT, WITH, EXPLAIN, DESCRIBE, SHOW TABLES and SUMMARIZE"
_SHOW_TABLES_SQL = (
    "SELECT view_name AS name FROM duckdb_views() "
    "WHERE database_name = current_database() AND schema_name = 'analyst' ORDER BY name"
)
# Plan operators that read no table: anything else named *SCAN must say what it reads.
_SAFE_SCANS = frozenset(
    {
        "COLUMN_DATA_SCAN",
        "DUMMY_SCAN",
        "CTE_SCAN",
        "REC_CTE_SCAN",
        "DELIM_SCAN",
        "CHUNK_SCAN",
        "EXPRESSION_SCAN",
        "POSITIONAL_SCAN",
    }
)


def prepare(cur: db.Cursor, sql: str, catalog: Callable[[db.Cursor], _Catalog]) -> str:
    """The statement to run for the cell, after every check; raises NotebookRefused.

    `catalog` gives the names to check against; it is asked only once a statement is a read.
    """
    if not isinstance(sql, str):
        raise TypeError("a cell's sql is text")
    kind, text = _single_statement(cur, sql)
    if kind == duckdb.StatementType.SELECT:
        return _prepare_select(cur, text, catalog(cur))
    if kind == duckdb.StatementType.EXPLAIN:
        analyze, inner = _split_explain(text)
        inner_kind, inner_text = _single_statement(cur, inner)
        if inner_kind != duckdb.StatementType.SELECT:
            raise _refuse_kind(inner_kind)
        checked = _prepare_select(cur, inner_text, catalog(cur))
        return f"EXPLAIN {'ANALYZE ' if analyze else ''}{checked}"
    raise _refuse_kind(kind)


def _prepare_select(cur: db.Cursor, text: str, catalog: _Catalog) -> str:
    # The parse check comes first: planning binds table functions, and binding a file
    # reader already reads the file.
    tree = _parse_tree(cur, text)
    if _is_show_tables(tree):
        return _SHOW_TABLES_SQL
    _check_tree(tree, catalog)
    view = _shown_view(tree)
    if view is not None:
        # DuckDB answers SHOW <table> with a pragma; DESCRIBE is the same answer.
        return f"DESCRIBE {ANALYST_SCHEMA}.{view}"
    _check_plan(cur, text, catalog)
    return text


def _as_notebook_error(exc: Exception) -> NotebookError:
    """The analyst's error for what DuckDB raised while a cell ran (layers 4 and 5 refuse)."""
    message = str(exc)
    if isinstance(exc, duckdb.PermissionException):
        return NotebookRefused(
            "The notebook cannot read files or URLs, load extensions or change settings; it "
            "reads the analyst views only."
        )
    if isinstance(exc, duckdb.TransactionException) and "read-only" in message:
        return NotebookRefused(
            "The notebook is read-only: nothing in a cell can change the database."
        )
    return NotebookQueryError(message)


# --- statement kinds -------------------------------------------------------------------------


def _single_statement(cur: db.Cursor, sql: str) -> tuple[duckdb.StatementType, str]:
    try:
        statements = cur.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise NotebookQueryError(str(exc)) from None
    if not statements:
        raise NotebookQueryError("The cell has no SQL statement to run.")
    if len(statements) > 1:
        raise NotebookRefused(
            f"The notebook is read-only and runs one statement per cell; this cell has "
            f"{len(statements)}. Put each statement in its own cell."
        )
    try:
        kind = statements[0].type
    except ValueError:
        # A kind DuckDB's Python API has no name for (UPDATE EXTENSIONS, ...).
        raise NotebookRefused(
            f"The notebook is read-only: it runs {_READ_KINDS} statements only."
        ) from None
    return kind, sql


def _refuse_kind(kind: duckdb.StatementType) -> NotebookRefused:
    name = getattr(kind, "name", str(kind)).replace("_", " ")
    if kind == duckdb.StatementType.MULTI:
        return NotebookRefused(
            "The notebook is read-only, and a PIVOT statement creates a type first. Write it "
            "inside a SELECT with the values listed: "
            "SELECT * FROM comments PIVOT (count(*) FOR comment_status IN ('PUBLIC', 'HIDDEN'))."
        )
    return NotebookRefused(
        f"The notebook is read-only: {name} statements are not run. It runs {_READ_KINDS} "
        "statements only."
    )


_LEADING_COMMENTS = re.compile(r"\A(?:\s|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_EXPLAIN = re.compile(r"EXPLAIN\b\s*(?:(ANALY[SZ]E)\b\s*)?", re.IGNORECASE)


def _split_explain(text: str) -> tuple[bool, str]:
    """Whether an EXPLAIN statement analyzes, and the statement it explains."""
    rest = text[_LEADING_COMMENTS.match(text).end() :]  # type: ignore[union-attr]
    match = _EXPLAIN.match(rest)
    if match is None:
        raise NotebookRefused("Write EXPLAIN or EXPLAIN ANALYZE before the query.")
    inner = rest[match.end() :]
    if inner.lstrip().startswith("("):
        raise NotebookRefused(
            "EXPLAIN options are not available in the notebook; use EXPLAIN or EXPLAIN ANALYZE."
        )
    return match.group(1) is not None, inner


# --- the bound plan --------------------------------------------------------------------------


def _check_plan(cur: db.Cursor, text: str, catalog: _Catalog) -> None:
    """Refuse a query whose plan scans anything but the analyst views' tables."""
    rows = cur.execute(f"EXPLAIN (FORMAT json) {text}").fetchall()
    allowed_functions = {name.upper() for name in TABLE_FUNCTIONS}
    database = catalog.database.lower()
    for _, plan in rows:
        stack = list(json.loads(plan))
        while stack:
            operator = stack.pop()
            stack.extend(operator.get("children", []))
            info = operator.get("extra_info") or {}
            name = str(operator.get("name", ""))
            if "Table" in info:
                parts = [part.lower() for part in _identifiers(str(info["Table"]))]
                if (
                    parts[:2] != [database, "main"]
                    or len(parts) != 3
                    or (parts[2] not in _BASE_TABLES)
                ):
                    raise NotebookRefused(
                        f"The notebook reads the analyst views only ({', '.join(ANALYST_VIEWS)})."
                    )
            elif "Function" in info:
                if str(info["Function"]).upper() not in allowed_functions:
                    raise NotebookRefused(
                        f"{str(info['Function']).lower()}() is not available in the notebook."
                    )
            elif name.endswith("SCAN") and name not in _SAFE_SCANS:
                raise NotebookRefused(f"The notebook cannot check a {name} in a query plan.")


def _identifiers(qualified: str) -> list[str]:
    """`desk.main."comments"` -> ["desk", "main", "comments"]."""
    return [
        quoted.replace('""', '"') if quoted else bare
        for quoted, bare in re.findall(r'"((?:[^"]|"")*)"|([^."]+)', qualified)
    ]
