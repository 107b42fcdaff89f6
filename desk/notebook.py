"""Read-only, time-limited SQL over the comment store, for the notebook page.

Analysts write ordinary DuckDB SQL against five views: `advertisers`, `ads`, `comments`,
`replies` and `sync_runs` (schema `analyst`, made by a store migration). Credentials are not
in the database at all, and the store's own tables (outbox, audit_log, notebooks, sync_cursors,
sync_failures, schema_version) are out of reach.

    nb = Notebook(store, timeout=10.0, display_rows=1000, download_rows=1_000_000)
    result = nb.run("SELECT ad_name, count(*) AS comments FROM comments GROUP BY ALL")
    result.frame        # the first `display_rows` rows, as a DataFrame
    result.arrow        # every row up to `download_rows`, as an Arrow table
    result.total_rows, result.complete, result.truncated, result.elapsed_ms, result.columns
    result.csv_bytes(), result.parquet_bytes()   # downloads, through desk.export
    nb.check(sql)       # raises NotebookRefused without running anything
    nb.schema()         # {"comments": [("comment_id", "VARCHAR"), ...], ...} for a sidebar

A cell is exactly one statement: SELECT (WITH, VALUES, FROM-first and TABLE included),
EXPLAIN [ANALYZE] of such a statement, DESCRIBE, SHOW TABLES and SUMMARIZE. Anything else
raises `NotebookRefused`; a query over its time limit raises `NotebookTimeout`; a query DuckDB
rejects (a typo, a missing column) raises `NotebookQueryError` with DuckDB's message.

Why a cell cannot change the database, read past the analyst views or reach outside: five
layers, each checked on its own, so that a gap in one is covered by another.

1. Statement kind, from DuckDB's own parser: one statement, of the read kinds above only.
2. The parsed query (`json_serialize_sql`), walked node by node: every table it names must be
   an analyst view, or a CTE visible at that point (DuckDB's own scoping: earlier siblings,
   and itself only when recursive); every table function one of a few that only make rows
   (range, generate_series, unnest, json_each, json_tree); no sequence or log functions, no
   built-in macro that reads the catalog, no qualified function; no table-reference or SHOW
   kind the walk does not know. `SHOW TABLES` is answered by a fixed query over the analyst
   schema (DuckDB's own lists every schema); `SHOW <view>` by DESCRIBE.
3. The bound plan (`EXPLAIN (FORMAT json)`), after DuckDB itself has resolved names, views,
   CTEs and macros: every scan must be of a table behind the views or of an allowed table
   function. It runs only after 2, because binding a file reader already opens the file.
4. A fresh cursor per cell, inside `BEGIN TRANSACTION READ ONLY`, rolled back at the end:
   DuckDB refuses any write (nextval included). The query sees one snapshot, so a sync
   writing on another cursor neither waits for it nor shows it half a batch.
5. The store's connection (desk/store.py) has external access, extension loading and Python
   replacement scans off and its configuration locked: no file, URL, extension or setting
   can be reached by any statement on any cursor.

DuckDB's metadata (duckdb_tables(), information_schema, sqlite_master, pg_catalog, SHOW ALL
TABLES) is refused too: it lists the internal tables with their columns and SQL, and
`Notebook.schema()`, DESCRIBE and SHOW TABLES already describe everything a cell can read.
Read-only functions such as current_setting() stay available.

Reading an internal table is stopped by 2 and 3; a write by 1, 4 (and 2 for nextval); a file,
URL or extension by 2, 3 and 5; a setting by 1 and 5. Unqualified names resolve to the views
because the cursor runs `USE analyst` (names the schema lacks would fall through to `main`,
which is why 2 and 3 exist). Each cell has a time limit: a timer thread interrupts the
cursor, repeatedly until the run is over, and the caller gets `NotebookTimeout`.

Notebooks are saved in the store's `notebooks` table (`save_notebook`, `load_notebook`,
`list_notebooks`, `delete_notebook`, on an ordinary store cursor) and exported to, and imported
from, a .sql file (`notebook_to_sql`, `notebook_from_sql`) where each cell starts with the line
`-- %% cell`, optionally followed by `-- chart: {"kind": "bar", "x": ..., "y": ...}`.
`STARTERS` holds ready-made notebooks; `chart_figure` draws a cell's chart with plotly.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa

from desk import export
from desk import store as st

Cursor = st.Cursor

ANALYST_SCHEMA = "analyst"
ANALYST_VIEWS = (
    "advertisers", "ads", "comments", "replies", "sync_runs", "business_accounts", "videos",
)
# The tables the analyst views read: the only ones a notebook plan may scan.
_BASE_TABLES = frozenset(
    {"advertisers", "ads", "comments", "sync_runs", "business_accounts", "videos"}
)
# Table functions that only make rows from their arguments.
TABLE_FUNCTIONS = ("range", "generate_series", "unnest", "json_each", "json_tree")
# Scalar functions that write (sequences, the log) or read sequence state, even in a SELECT.
_WRITING_FUNCTIONS = frozenset({"nextval", "setval", "currval", "write_log"})
# Scalar functions that bind a query given as text, which the checks cannot see into.
_SQL_TEXT_FUNCTIONS = frozenset({"json_serialize_plan"})
_FILE_FUNCTION = re.compile(
    r"^(read_|parquet_|iceberg_|delta_|glob$|sniff_csv$|query$|query_table$|"
    r"json_execute_serialized_sql$|.*_scan$)"
)
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
# The node kinds of a parsed table reference the walk understands.
_TABLE_REFS = frozenset(
    {
        "BASE_TABLE",
        "JOIN",
        "SUBQUERY",
        "TABLE_FUNCTION",
        "EXPRESSION_LIST",
        "EMPTY",
        "PIVOT",
        "SHOW_REF",
    }
)
_BATCH_ROWS = 122_880
# Repeat the interrupt until the query is over: one that lands between two statements of a
# run is forgotten when the next statement starts.
_INTERRUPT_EVERY = 0.05


class NotebookError(Exception):
    """A notebook cell could not be run; the message is for the analyst."""


class NotebookRefused(NotebookError):
    """The cell would write, reach outside the analyst views, or is not a single read."""


class NotebookTimeout(NotebookError):
    """The query ran past the time limit and was stopped."""


class NotebookQueryError(NotebookError):
    """DuckDB could not run the query (a syntax error, an unknown column, ...)."""


class NotebookNotFound(NotebookError, LookupError):
    """No saved notebook has that name."""


# ---------------------------------------------------------------------------------------------
# Cells and charts


ChartKind = Literal["bar", "line", "scatter"]
CHART_KINDS: tuple[str, ...] = ("bar", "line", "scatter")


@dataclass(frozen=True)
class ChartSpec:
    """How to draw a cell's result: a plotly express chart of column `y` against `x`."""

    kind: ChartKind
    x: str
    y: str
    color: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in CHART_KINDS:
            raise ValueError(f"a chart is a bar, line or scatter chart, not {self.kind!r}")
        for name in ("x", "y"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"a chart needs a column name for {name}")
        if self.color is not None and (not isinstance(self.color, str) or not self.color):
            raise ValueError("the chart's color must be a column name or None")

    def to_dict(self) -> dict[str, str]:
        out = {"kind": self.kind, "x": self.x, "y": self.y}
        if self.color is not None:
            out["color"] = self.color
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChartSpec:
        unknown = set(data) - {"kind", "x", "y", "color"}
        if unknown:
            raise ValueError(f"unknown chart settings: {', '.join(sorted(unknown))}")
        try:
            return cls(data["kind"], data["x"], data["y"], data.get("color"))
        except KeyError as exc:
            raise ValueError(f"a chart needs {exc.args[0]}") from None


@dataclass(frozen=True)
class Cell:
    """One SQL cell, and the chart drawn from its result (if any).

    The SQL is kept with `\\n` line ends and without surrounding blank space, so a cell
    survives saving and a .sql file unchanged.
    """

    sql: str
    chart: ChartSpec | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.sql, str):
            raise TypeError("a cell's sql is text")
        object.__setattr__(self, "sql", _normal_text(self.sql))

    def to_dict(self) -> dict[str, Any]:
        return {"sql": self.sql, "chart": None if self.chart is None else self.chart.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        chart = data.get("chart")
        return cls(data["sql"], None if chart is None else ChartSpec.from_dict(chart))


def _normal_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def chart_figure(frame: pd.DataFrame, spec: ChartSpec) -> Any:
    """The plotly Figure for a result and a chart spec; ValueError names missing columns."""
    import plotly.express as px  # plotly is heavy and only the page draws

    wanted = [name for name in (spec.x, spec.y, spec.color) if name is not None]
    missing = [name for name in wanted if name not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "no columns"
        raise ValueError(
            f"the result has no column {', '.join(repr(m) for m in missing)} for the chart; "
            f"it has {have}"
        )
    data = _plottable(frame[list(dict.fromkeys(wanted))])
    if spec.kind == "line":
        data = data.sort_values(spec.x, kind="stable")
    draw = {"bar": px.bar, "line": px.line, "scatter": px.scatter}[spec.kind]
    return draw(data, x=spec.x, y=spec.y, color=spec.color)


def _plottable(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable integer, float and boolean columns as plain numpy ones (NA as NaN or None)."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if isinstance(column.dtype, pd.BooleanDtype):
            out[name] = column.astype(object).where(column.notna(), None)
        elif pd.api.types.is_extension_array_dtype(column) and pd.api.types.is_numeric_dtype(
            column
        ):
            out[name] = column.astype("float64")
    return out


# ---------------------------------------------------------------------------------------------
# Running cells


@dataclass(frozen=True)
class CellResult:
    """What a cell returned.

    `arrow` holds every row up to the download limit; `complete` is False when the query had
    more. `frame` is the first rows for display; `truncated` says it is not the whole result.
    """

    columns: list[str]
    frame: pd.DataFrame = field(repr=False)
    arrow: pa.Table = field(repr=False)
    total_rows: int
    complete: bool
    truncated: bool
    elapsed_ms: float

    def download_frame(self) -> pd.DataFrame:
        """Every fetched row as a DataFrame (nullable integers and booleans)."""
        return _to_pandas(self.arrow)

    def csv_bytes(self) -> bytes:
        """The fetched rows as spreadsheet-safe CSV (desk.export)."""
        return export.to_csv_bytes(self.download_frame())

    def parquet_bytes(self) -> bytes:
        """The fetched rows as Parquet (desk.export)."""
        return export.to_parquet_bytes(self.download_frame())


class Notebook:
    """Runs analysts' SQL against the analyst views: read-only, one snapshot, time-limited.

    Safe to share between threads: every run and check takes its own cursor.
    """

    def __init__(
        self,
        store: st.Store,
        *,
        timeout: float = 10.0,
        display_rows: int = 1000,
        download_rows: int = 1_000_000,
    ):
        if not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        for name, value in (("display_rows", display_rows), ("download_rows", download_rows)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
        self._store = store
        self.timeout = float(timeout)
        self.display_rows = display_rows
        self.download_rows = download_rows
        self._catalog: _Catalog | None = None
        self._catalog_lock = threading.Lock()

    def run(self, sql: str) -> CellResult:
        """Run one read statement; see the module docstring for what is allowed."""
        started = time.perf_counter()
        with self._session() as cur:
            statement = self._prepare(cur, sql)
            table, complete = self._fetch(cur, statement)
        elapsed_ms = (time.perf_counter() - started) * 1000
        shown = table.slice(0, self.display_rows)
        return CellResult(
            columns=list(table.column_names),
            frame=_to_pandas(shown),
            arrow=table,
            total_rows=table.num_rows,
            complete=complete,
            truncated=shown.num_rows < table.num_rows or not complete,
            elapsed_ms=elapsed_ms,
        )

    def check(self, sql: str) -> None:
        """Raise NotebookRefused (or NotebookQueryError) if `run` would not run the cell."""
        with self._session() as cur:
            self._prepare(cur, sql)

    def schema(self) -> dict[str, list[tuple[str, str]]]:
        """Each analyst view's columns and their types, for a schema browser."""
        cur = self._store.cursor()
        try:
            rows = cur.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = current_database() AND table_schema = ? "
                "ORDER BY table_name, ordinal_position",
                [ANALYST_SCHEMA],
            ).fetchall()
        finally:
            cur.close()
        out: dict[str, list[tuple[str, str]]] = {view: [] for view in ANALYST_VIEWS}
        for view, column, kind in rows:
            if view in out:
                out[view].append((column, kind))
        return out

    # --- a run ---------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[Cursor]:
        """A fresh cursor in the analyst schema, in a read-only transaction, on a deadline."""
        cur = self._store.cursor()
        deadline = _Deadline(cur, self.timeout)
        try:
            cur.execute(f"USE {ANALYST_SCHEMA}")
            cur.execute("BEGIN TRANSACTION READ ONLY")
            deadline.start()
            try:
                yield cur
            finally:
                deadline.stop()
        except NotebookError:
            raise
        except (duckdb.Error, pa.ArrowException) as exc:
            if deadline.fired:
                raise NotebookTimeout(
                    f"The query ran for more than {self.timeout:g} s and was stopped. "
                    "Narrow it down (filter by date or ad, aggregate, add a LIMIT) and run it "
                    "again."
                ) from None
            raise _as_notebook_error(exc) from None
        finally:
            with contextlib.suppress(duckdb.Error):  # no transaction left to end
                cur.execute("ROLLBACK")
            cur.close()

    def _prepare(self, cur: Cursor, sql: str) -> str:
        """The statement to run for the cell, after every check; raises NotebookRefused."""
        if not isinstance(sql, str):
            raise TypeError("a cell's sql is text")
        kind, text = _single_statement(cur, sql)
        if kind == duckdb.StatementType.SELECT:
            return self._prepare_select(cur, text)
        if kind == duckdb.StatementType.EXPLAIN:
            analyze, inner = _split_explain(text)
            inner_kind, inner_text = _single_statement(cur, inner)
            if inner_kind != duckdb.StatementType.SELECT:
                raise _refuse_kind(inner_kind)
            checked = self._prepare_select(cur, inner_text)
            return f"EXPLAIN {'ANALYZE ' if analyze else ''}{checked}"
        raise _refuse_kind(kind)

    def _prepare_select(self, cur: Cursor, text: str) -> str:
        catalog = self._catalog_for(cur)
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

    def _fetch(self, cur: Cursor, statement: str) -> tuple[pa.Table, bool]:
        """Up to `download_rows` rows of the statement, and whether that was all of them."""
        relation = cur.sql(statement)
        if relation is None:
            return pa.table({}), True
        reader = relation.to_arrow_reader(min(_BATCH_ROWS, self.download_rows + 1))
        schema = reader.schema
        batches: list[pa.RecordBatch] = []
        rows = 0
        complete = True
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            if rows > self.download_rows:
                complete = False
                break
        table = pa.Table.from_batches(batches, schema=schema)
        return table.slice(0, self.download_rows), complete

    def _catalog_for(self, cur: Cursor) -> _Catalog:
        with self._catalog_lock:
            if self._catalog is None:
                self._catalog = _Catalog.read(cur)
            return self._catalog


class _Deadline:
    """Interrupts a cursor's query once `seconds` have passed, until stopped."""

    def __init__(self, cur: Cursor, seconds: float):
        self._cur = cur
        self._seconds = seconds
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._over = False
        self.fired = False

    def start(self) -> None:
        threading.Thread(target=self._watch, name="notebook-deadline", daemon=True).start()

    def _watch(self) -> None:
        if self._stopped.wait(self._seconds):
            return
        while True:
            with self._lock:
                if self._over:
                    return
                self.fired = True
                self._cur.interrupt()
            if self._stopped.wait(_INTERRUPT_EVERY):
                return

    def stop(self) -> None:
        """No interrupt reaches the cursor once this returns."""
        with self._lock:
            self._over = True
        self._stopped.set()


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=st.PANDAS_TYPES.get)


def _as_notebook_error(exc: Exception) -> NotebookError:
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


def _single_statement(cur: Cursor, sql: str) -> tuple[duckdb.StatementType, str]:
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


# --- the parsed query ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Catalog:
    """What the checks compare names with, read once from the database."""

    database: str
    views: frozenset[str]
    denied_functions: frozenset[str]

    @classmethod
    def read(cls, cur: Cursor) -> _Catalog:
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


def _parse_tree(cur: Cursor, text: str) -> dict[str, Any]:
    raw = cur.execute("SELECT json_serialize_sql(?)", [text]).fetchall()[0][0]
    doc = json.loads(raw)
    if doc.get("error"):
        if doc.get("error_type") == "parser":
            raise NotebookQueryError(str(doc.get("error_message", "syntax error")))
        raise NotebookRefused(
            "The notebook cannot check this query, so it does not run it "
            f"({doc.get('error_message', 'unsupported')})."
        )
    statements = doc.get("statements", [])
    if len(statements) != 1 or not isinstance(statements[0].get("node"), dict):
        raise NotebookRefused("The notebook runs one statement per cell.")
    return statements[0]["node"]


def _is_show_tables(node: Mapping[str, Any]) -> bool:
    ref = node.get("from_table") or {}
    return (
        node.get("type") == "SELECT_NODE"
        and ref.get("type") == "SHOW_REF"
        and ref.get("show_type") == "SHOW_SPECIAL"
        and _unquote(ref.get("table_name", "")).lower() == "tables"
        and not node.get("cte_map", {}).get("map")
        and not node.get("where_clause")
        and not node.get("modifiers")
        and [item.get("class") for item in node.get("select_list", [])] == ["STAR"]
    )


def _shown_view(node: Mapping[str, Any]) -> str | None:
    """The view of a `SHOW <view>` statement (checked already), else None."""
    ref = node.get("from_table") or {}
    if (
        node.get("type") == "SELECT_NODE"
        and ref.get("type") == "SHOW_REF"
        and ref.get("show_type") == "SHOW"
        and not node.get("where_clause")
        and not node.get("modifiers")
    ):
        name = _unquote(str(ref.get("table_name", ""))).lower()
        return name if name in ANALYST_VIEWS else None
    return None


def _check_tree(node: Any, catalog: _Catalog) -> None:
    """Refuse any table, table function or function the notebook does not allow."""
    _walk(node, frozenset(), catalog)


def _walk(node: Any, ctes: frozenset[str], catalog: _Catalog) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, ctes, catalog)
        return
    if not isinstance(node, dict):
        return
    cte_map = node.get("cte_map")
    if isinstance(cte_map, dict) and cte_map.get("map"):
        # A CTE is visible to the CTEs after it and to the query; to itself only when it is
        # recursive. (DuckDB may see more; it never sees fewer, so a name taken for a CTE
        # here is one in DuckDB too.)
        visible = set(ctes)
        for entry in cte_map["map"]:
            name = str(entry["key"]).lower()
            body = entry.get("value")
            own = {name} if _is_recursive(body, name) else set()
            _walk(body, frozenset(visible | own), catalog)
            visible.add(name)
        ctes = frozenset(visible)
        node = {key: value for key, value in node.items() if key != "cte_map"}

    kind = node.get("type")
    if "class" not in node and (("alias" in node and "sample" in node) or kind in _TABLE_REFS):
        # A table reference (expressions have a class; query nodes neither alias nor sample).
        if kind not in _TABLE_REFS:
            raise NotebookRefused(f"The notebook cannot check a {kind} in a query.")
        if kind == "BASE_TABLE":
            _check_table(node, ctes, catalog)
        elif kind == "TABLE_FUNCTION":
            # The function is checked as a table function, then only its parts are walked.
            function = node.get("function") or {}
            _check_table_function(function)
            for key, value in [*node.items(), *function.items()]:
                if key != "function" and isinstance(value, dict | list):
                    _walk(value, ctes, catalog)
            return
        elif kind == "SHOW_REF":
            _check_show(node, catalog)

    if node.get("class") in ("FUNCTION", "WINDOW", "AGGREGATE"):
        _check_function(node, catalog)

    for value in node.values():
        if isinstance(value, dict | list):
            _walk(value, ctes, catalog)


def _is_recursive(body: Any, name: str) -> bool:
    if not isinstance(body, dict):
        return False
    query = body.get("query_node") or body.get("query", {}).get("node") or {}
    return query.get("type") == "RECURSIVE_CTE_NODE" and str(query.get("cte_name")).lower() == name


def _check_table(node: Mapping[str, Any], ctes: frozenset[str], catalog: _Catalog) -> None:
    name = str(node.get("table_name", ""))
    schema = str(node.get("schema_name", "") or "").lower()
    database = str(node.get("catalog_name", "") or "").lower()
    if node.get("at_clause"):
        raise NotebookRefused("Time travel (AT ...) is not available in the notebook.")
    qualified = bool(schema or database)
    if not qualified and name.lower() in ctes:
        return
    if (
        name.lower() in catalog.views
        and schema in ("", ANALYST_SCHEMA)
        and database in ("", catalog.database.lower())
        and (schema or not database)
    ):
        return
    shown = ".".join(part for part in (database, schema, name) if part)
    if any(mark in name for mark in ("/", "\\", "://")) or re.search(r"\.\w+$", name):
        raise NotebookRefused(
            f"The notebook cannot read files or URLs ({shown!r}); it reads the analyst views "
            f"only: {', '.join(ANALYST_VIEWS)}."
        )
    raise NotebookRefused(
        f"The notebook reads the analyst views only ({', '.join(ANALYST_VIEWS)}); "
        f"{shown!r} is not one of them."
    )


def _check_table_function(function: Mapping[str, Any]) -> None:
    name = str(function.get("function_name", "")).lower()
    if function.get("schema") or function.get("catalog"):
        raise NotebookRefused(f"Qualified table functions are not available ({name}).")
    if name in TABLE_FUNCTIONS:
        return
    if _FILE_FUNCTION.match(name):
        raise NotebookRefused(
            f"{name}() is not available in the notebook: it reads files, URLs or other "
            f"queries. In FROM you can use the analyst views and {', '.join(TABLE_FUNCTIONS)}."
        )
    raise NotebookRefused(
        f"{name}() is not available in the notebook. In FROM you can use the analyst views "
        f"({', '.join(ANALYST_VIEWS)}) and {', '.join(TABLE_FUNCTIONS)}."
    )


def _check_function(node: Mapping[str, Any], catalog: _Catalog) -> None:
    name = str(node.get("function_name", "")).lower()
    if node.get("schema") or node.get("catalog"):
        raise NotebookRefused(
            f"Qualified function names are not available in the notebook ({name})."
        )
    if name in _WRITING_FUNCTIONS:
        raise NotebookRefused(f"The notebook is read-only: {name}() changes the database.")
    if name in _SQL_TEXT_FUNCTIONS:
        raise NotebookRefused(
            f"{name}() runs SQL given as text, which the notebook cannot check; write the "
            "query itself instead."
        )
    if name in catalog.denied_functions:
        raise NotebookRefused(
            f"{name}() reads the database catalog and is not available in the notebook."
        )


def _check_show(node: Mapping[str, Any], catalog: _Catalog) -> None:
    show = node.get("show_type")
    if show in ("DESCRIBE", "SUMMARY", "SHOW") and node.get("query"):
        return  # the query inside is walked like any other
    if show in ("DESCRIBE", "SUMMARY", "SHOW") and not node.get("query"):
        name = _unquote(str(node.get("table_name", ""))).lower()
        schema = str(node.get("schema_name", "") or "").lower()
        database = str(node.get("catalog_name", "") or "").lower()
        if (
            name in catalog.views
            and schema in ("", ANALYST_SCHEMA)
            and database in ("", catalog.database.lower())
        ):
            return
        raise NotebookRefused(
            f"The notebook describes the analyst views only ({', '.join(ANALYST_VIEWS)}); "
            f"{node.get('table_name', '')!r} is not one of them."
        )
    raise NotebookRefused(
        "The notebook shows the analyst views only: use SHOW TABLES, DESCRIBE <view> or "
        "SUMMARIZE <view>."
    )


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name


# --- the bound plan --------------------------------------------------------------------------


def _check_plan(cur: Cursor, text: str, catalog: _Catalog) -> None:
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


# ---------------------------------------------------------------------------------------------
# Saved notebooks


def save_notebook(cur: Cursor, name: str, cells: Sequence[Cell]) -> None:
    """Save the cells under `name`, replacing a notebook of that name."""
    key = _notebook_name(name)
    doc = json.dumps([cell.to_dict() for cell in cells], ensure_ascii=False)
    cur.execute(
        "INSERT INTO notebooks (name, cells, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET cells = excluded.cells, "
        "updated_at = excluded.updated_at",
        [key, doc, datetime.now(UTC)],
    ).fetchall()


def load_notebook(cur: Cursor, name: str) -> list[Cell]:
    """The cells saved under `name`; NotebookNotFound if there is none."""
    rows = cur.execute("SELECT cells FROM notebooks WHERE name = ?", [name]).fetchall()
    if not rows:
        raise NotebookNotFound(f"there is no saved notebook named {name!r}")
    return [Cell.from_dict(item) for item in json.loads(rows[0][0])]


def list_notebooks(cur: Cursor) -> list[str]:
    """The names of the saved notebooks, alphabetically."""
    return [row[0] for row in cur.execute("SELECT name FROM notebooks ORDER BY name").fetchall()]


def delete_notebook(cur: Cursor, name: str) -> bool:
    """Delete a saved notebook; return whether there was one."""
    rows = cur.execute("DELETE FROM notebooks WHERE name = ? RETURNING name", [name]).fetchall()
    return bool(rows)


def _notebook_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a notebook needs a name")
    name = name.strip()
    if len(name) > 200:
        raise ValueError("a notebook name has at most 200 characters")
    return name


# --- .sql files ------------------------------------------------------------------------------

CELL_MARKER = "-- %% cell"
_MARKER = re.compile(r"^-- %% cell[ \t]*$")
# A line of a cell that looks like a marker is written with one more "%", and read back with
# one fewer, so any SQL survives the file.
_ESCAPED_MARKER = re.compile(r"^-- %%(%+) cell[ \t]*$")
_NEEDS_ESCAPE = re.compile(r"^-- %%+ cell[ \t]*$")
_CHART = re.compile(r"^-- chart:(.*)$")
_HEADER = "-- Comment Desk notebook: each cell starts with a '-- %% cell' line."


def notebook_to_sql(cells: Sequence[Cell]) -> str:
    """The cells as a .sql file that `notebook_from_sql` reads back to the same cells."""
    parts = [_HEADER]
    for cell in cells:
        lines = [CELL_MARKER]
        body = (
            [
                line.replace("-- %%", "-- %%%", 1) if _NEEDS_ESCAPE.match(line) else line
                for line in cell.sql.split("\n")
            ]
            if cell.sql
            else []
        )
        if cell.chart is not None:
            lines.append("-- chart: " + json.dumps(cell.chart.to_dict()))
        elif body and _CHART.match(body[0]):
            lines.append("-- chart: none")
        lines += body
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def notebook_from_sql(text: str) -> list[Cell]:
    """The cells of a .sql file; a file without cell markers is one cell.

    Before the first marker, comment lines are the file's header and dropped; SQL there is
    a cell of its own.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    chunks: list[list[str]] = [[]]
    for line in lines:
        if _MARKER.match(line):
            chunks.append([])
        else:
            chunks[-1].append(line)
    header = [line for line in chunks[0] if line != _HEADER]
    cells: list[Cell] = []
    has_sql = any(line.strip() and not line.lstrip().startswith("--") for line in header)
    if has_sql or (len(chunks) == 1 and "\n".join(header).strip()):
        cells.append(Cell("\n".join(_unescape(header))))
    for chunk in chunks[1:]:
        chart = None
        if chunk and (found := _CHART.match(chunk[0])):
            chart = _read_chart(found.group(1), len(cells) + 1)
            chunk = chunk[1:]
        cells.append(Cell("\n".join(_unescape(chunk)), chart))
    return cells


def _unescape(lines: list[str]) -> list[str]:
    return [
        line.replace("-- %%%", "-- %%", 1) if _ESCAPED_MARKER.match(line) else line
        for line in lines
    ]


def _read_chart(settings: str, number: int) -> ChartSpec | None:
    if settings.strip() == "none":
        return None
    try:
        data = json.loads(settings)
        if not isinstance(data, dict):
            raise ValueError("chart settings are a JSON object")
        return ChartSpec.from_dict(data)
    except ValueError as exc:
        raise ValueError(f"cell {number}: the chart line cannot be read: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Starter notebooks

STARTERS: Mapping[str, tuple[Cell, ...]] = MappingProxyType(
    {
        "Comment volume per ad per day": (
            Cell(
                """
-- Comments and replies per ad and per day, days in the advertiser's timezone.
SELECT c.ad_id,
       any_value(c.ad_name) AS ad_name,
       CAST(timezone(coalesce(a.timezone, 'UTC'), c.create_time) AS DATE) AS day,
       count(*) AS comments
FROM comments c
LEFT JOIN advertisers a ON a.advertiser_id = c.advertiser_id
GROUP BY c.ad_id, day
ORDER BY day, c.ad_id
""",
                ChartSpec("line", x="day", y="comments", color="ad_name"),
            ),
        ),
        "Comments per video, ads and organic": (
            Cell(
                """
-- Comments per TikTok video: an ad comment counts for the ad's video (tiktok_item_id), an
-- organic comment for its video. A Spark Ad promotes a brand's own video, so its ad
-- comments and the video's organic comments land on the same row pair.
SELECT coalesce(c.video_id, c.tiktok_item_id) AS video,
       any_value(v.caption) AS caption,
       c.source,
       count(*) AS comments
FROM comments c
LEFT JOIN videos v ON v.video_id = coalesce(c.video_id, c.tiktok_item_id)
WHERE coalesce(c.video_id, c.tiktok_item_id) IS NOT NULL
GROUP BY video, c.source
ORDER BY comments DESC, video, c.source
LIMIT 40
""",
                ChartSpec("bar", x="video", y="comments", color="source"),
            ),
        ),
        "Unanswered questions": (
            Cell(
                """
-- Top-level comments with a question mark that the brand has not replied to,
-- most liked first. A brand reply is a reply the advertiser's identity can delete.
SELECT c.comment_id, c.ad_id, c.ad_name, c.user_name, c.content, c.likes, c.create_time
FROM comments c
WHERE c.comment_type = 'COMMENT'
  AND c.content LIKE '%?%'
  AND NOT EXISTS (
      SELECT 1 FROM comments r
      WHERE r.original_comment_id = c.comment_id AND r.comment_type = 'REPLY' AND r.can_delete
  )
ORDER BY c.likes DESC, c.create_time, c.comment_id
"""
            ),
            Cell(
                """
-- How many per ad.
SELECT c.ad_id, any_value(c.ad_name) AS ad_name, count(*) AS unanswered_questions
FROM comments c
WHERE c.comment_type = 'COMMENT'
  AND c.content LIKE '%?%'
  AND NOT EXISTS (
      SELECT 1 FROM comments r
      WHERE r.original_comment_id = c.comment_id AND r.comment_type = 'REPLY' AND r.can_delete
  )
GROUP BY c.ad_id
ORDER BY unanswered_questions DESC, c.ad_id
""",
                ChartSpec("bar", x="ad_name", y="unanswered_questions"),
            ),
        ),
        "Top words per ad": (
            Cell(
                """
-- The five words people use most on each ad (the brand's own replies left out).
-- Words are lower-cased runs of letters, digits and apostrophes; short and common
-- words are dropped.
WITH words AS (
    SELECT ad_id, ad_name,
           unnest(regexp_split_to_array(lower(content), '[^\\pL\\pN'']+')) AS word
    FROM comments
    WHERE NOT is_brand_reply
),
counted AS (
    SELECT ad_id, any_value(ad_name) AS ad_name, word, count(*) AS uses
    FROM words
    WHERE length(word) >= 3
      AND word NOT IN ('the', 'and', 'for', 'you', 'your', 'this', 'that', 'with', 'are',
                       'was', 'but', 'not', 'have', 'has', 'had', 'all', 'just', 'can',
                       'its', 'it''s', 'from', 'they', 'them', 'what', 'when', 'where',
                       'how', 'who', 'will', 'would', 'there', 'their', 'our', 'out',
                       'get', 'got', 'too', 'very', 'one', 'any', 'some', 'about', 'been',
                       'yes', 'lol')
    GROUP BY ad_id, word
)
SELECT ad_id, ad_name, word, uses
FROM counted
QUALIFY row_number() OVER (PARTITION BY ad_id ORDER BY uses DESC, word) <= 5
ORDER BY ad_id, uses DESC, word
""",
                ChartSpec("bar", x="word", y="uses", color="ad_name"),
            ),
        ),
        "Time to first reply": (
            Cell(
                """
-- Per ad: how many top-level comments the brand answered, and the median minutes
-- from the comment to the brand's first reply.
WITH first_reply AS (
    SELECT original_comment_id AS comment_id, min(create_time) AS replied_at
    FROM comments
    WHERE comment_type = 'REPLY' AND can_delete
    GROUP BY original_comment_id
)
SELECT c.ad_id,
       any_value(c.ad_name) AS ad_name,
       count(*) AS answered_comments,
       median(date_diff('second', c.create_time, f.replied_at) / 60.0)
           AS median_minutes_to_first_reply
FROM comments c
JOIN first_reply f ON f.comment_id = c.comment_id
WHERE c.comment_type = 'COMMENT'
GROUP BY c.ad_id
ORDER BY median_minutes_to_first_reply, c.ad_id
""",
                ChartSpec("bar", x="ad_name", y="median_minutes_to_first_reply"),
            ),
        ),
        "Hidden share by campaign": (
            Cell(
                """
-- Per campaign: comments, how many are hidden, and the hidden share (0 to 1).
SELECT campaign_id,
       any_value(campaign_name) AS campaign_name,
       count(*) AS comments,
       count(*) FILTER (WHERE comment_status = 'HIDDEN') AS hidden,
       count(*) FILTER (WHERE comment_status = 'HIDDEN') / count(*) AS hidden_share
FROM comments
GROUP BY campaign_id
ORDER BY hidden_share DESC, campaign_id
""",
                ChartSpec("bar", x="campaign_name", y="hidden_share"),
            ),
        ),
    }
)
