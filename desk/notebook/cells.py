"""Cells and running them: read-only, on one snapshot, within a time limit.

    nb = Notebook(store, timeout=10.0, display_rows=1000, download_rows=1_000_000)
    result = nb.run("SELECT ad_name, count(*) AS comments FROM comments GROUP BY ALL")
    result.frame        # the first `display_rows` rows, as a DataFrame
    result.arrow        # every row up to `download_rows`, as an Arrow table
    result.total_rows, result.complete, result.truncated, result.elapsed_ms, result.columns
    result.csv_bytes(), result.parquet_bytes()   # downloads, through desk.export
    nb.check(sql)       # raises NotebookRefused without running anything
    nb.schema()         # {"comments": [("comment_id", "VARCHAR"), ...], ...} for a sidebar
    nb.data_version()   # changes whenever anything is written (desk/notebook/kept.py)

A notebook is a list of cells: `Cell` (SQL, with its chart) and `MarkdownCell` (a note,
desk/notebook/notes.py); `cell_from_dict` reads either back from `to_dict`.

What a cell may run is the guard's (desk/notebook/guard.py). A query over its time limit
raises `NotebookTimeout`: a timer thread interrupts the cursor, repeatedly until the run is
over. A query DuckDB rejects (a typo, a missing column) raises `NotebookQueryError` with
DuckDB's message.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import duckdb
import pandas as pd
import pyarrow as pa

from desk import export
from desk import store as db
from desk.notebook.catalog import ANALYST_SCHEMA, ANALYST_VIEWS, _Catalog
from desk.notebook.charts import ChartSpec
from desk.notebook.errors import NotebookError, NotebookTimeout
from desk.notebook.guard import _as_notebook_error, prepare
from desk.notebook.kept import DataVersion, data_version
from desk.notebook.notes import MarkdownCell, normal_text

_BATCH_ROWS = 122_880
# Repeat the interrupt until the query is over: one that lands between two statements of a
# run is forgotten when the next statement starts.
_INTERRUPT_EVERY = 0.05


@dataclass(frozen=True)
class Cell:
    """One SQL cell, and the chart drawn from its result (if any).

    The SQL is kept with `\\n` line ends and without surrounding blank space, so a cell
    survives saving and a .sql file unchanged.
    """

    sql: str
    chart: ChartSpec | None = None
    kind: ClassVar[Literal["sql"]] = "sql"

    def __post_init__(self) -> None:
        if not isinstance(self.sql, str):
            raise TypeError("a cell's sql is text")
        object.__setattr__(self, "sql", normal_text(self.sql))

    def to_dict(self) -> dict[str, Any]:
        chart = None if self.chart is None else self.chart.to_dict()
        return {"kind": self.kind, "sql": self.sql, "chart": chart}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        chart = data.get("chart")
        return cls(data["sql"], None if chart is None else ChartSpec.from_dict(chart))


NotebookCell = Cell | MarkdownCell
CELL_KINDS: tuple[str, ...] = (Cell.kind, MarkdownCell.kind)


def cell_from_dict(data: Mapping[str, Any]) -> NotebookCell:
    """A cell from its `to_dict()`; one saved before notes existed (no "kind") is SQL."""
    kind = data.get("kind", Cell.kind)
    if kind == Cell.kind:
        return Cell.from_dict(data)
    if kind == MarkdownCell.kind:
        return MarkdownCell.from_dict(data)
    raise ValueError(f"a cell is of kind {' or '.join(CELL_KINDS)}, not {kind!r}")


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
        store: db.Store,
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
        """Run one read statement; desk/notebook/guard.py says what is allowed."""
        started = time.perf_counter()
        with self._session() as cur:
            statement = prepare(cur, sql, self._catalog_for)
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
            prepare(cur, sql, self._catalog_for)

    def schema(self) -> dict[str, list[tuple[str, str]]]:
        """Each analyst view's columns and their types, for a schema browser."""
        with self._store.cursor() as cur:
            rows = cur.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = current_database() AND table_schema = ? "
                "ORDER BY table_name, ordinal_position",
                [ANALYST_SCHEMA],
            ).fetchall()
        out: dict[str, list[tuple[str, str]]] = {view: [] for view in ANALYST_VIEWS}
        for view, column, kind in rows:
            if view in out:
                out[view].append((column, kind))
        return out

    def data_version(self) -> DataVersion | None:
        """A stamp that changes whenever anything is written to the database; None when the
        database is not a file here. Results kept with one are current while it is."""
        return data_version(self._store.path)

    # --- a run ---------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[db.Cursor]:
        """A fresh cursor in the analyst schema, in a read-only transaction, on a deadline."""
        with self._store.cursor() as cur:
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
                        "Narrow it down (filter by date or ad, aggregate, add a LIMIT) and run "
                        "it again."
                    ) from None
                raise _as_notebook_error(exc) from None
            finally:
                with contextlib.suppress(duckdb.Error):  # no transaction left to end
                    cur.execute("ROLLBACK")

    def _fetch(self, cur: db.Cursor, statement: str) -> tuple[pa.Table, bool]:
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

    def _catalog_for(self, cur: db.Cursor) -> _Catalog:
        with self._catalog_lock:
            if self._catalog is None:
                self._catalog = _Catalog.read(cur)
            return self._catalog


class _Deadline:
    """Interrupts a cursor's query once `seconds` have passed, until stopped."""

    def __init__(self, cur: db.Cursor, seconds: float):
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
    return table.to_pandas(types_mapper=db.PANDAS_TYPES.get)
