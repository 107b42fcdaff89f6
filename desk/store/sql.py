"""What every store module runs SQL with: the cursor type, reading results through Arrow,
and UTC timestamps.

Reads go through Arrow (`query_frame`, `query_records`) because DuckDB's own fetchall() needs
pytz for TIMESTAMPTZ values; `fetch_rows` and `fetch_first` are for statements and results
without timestamps.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

Cursor = duckdb.DuckDBPyConnection
"""A DuckDB cursor: one per thread, from `Store.cursor()`."""

TableData = pd.DataFrame | pa.Table


PANDAS_TYPES = MappingProxyType(
    {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
)


def query_frame(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """Run a read query, through Arrow; integers and booleans as nullable pandas types.

    (DuckDB's own fetchall() needs pytz for TIMESTAMPTZ columns; Arrow does not.)
    """
    table = cur.sql(sql, params=list(params)).to_arrow_table()
    return table.to_pandas(types_mapper=PANDAS_TYPES.get)


def query_records(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Run a query; rows as dicts, via Arrow (TIMESTAMPTZ becomes an aware datetime)."""
    return cur.sql(sql, params=list(params)).to_arrow_table().to_pylist()


def fetch_rows(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run a statement and drain its result (an open result would block the cursor).

    Not for TIMESTAMPTZ values: DuckDB builds those Python objects with pytz. Use
    query_records.
    """
    return cur.execute(sql, list(params)).fetchall()


def fetch_first(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    """The first row of a statement's result, or None when there is none."""
    rows = fetch_rows(cur, sql, params)
    return rows[0] if rows else None


@contextmanager
def transaction(cur: Cursor) -> Iterator[None]:
    """What runs inside happens whole or not at all: committed at the end, rolled back on
    any error (or interruption)."""
    cur.begin()
    try:
        yield
    except BaseException:
        cur.rollback()
        raise
    cur.commit()


@contextmanager
def registered(cur: Cursor, table: pa.Table, prefix: str = "rows") -> Iterator[str]:
    """`table` as a view of `cur` under a name of its own, for one statement to read from;
    unregistered afterwards, whatever happens."""
    name = f"{prefix}_{uuid.uuid4().hex}"
    cur.register(name, table)
    try:
        yield name
    finally:
        cur.unregister(name)


def whole_number(value: int, name: str) -> int:
    """`value` when it is an int of at least 0 (a limit, an offset, a count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of at least 0, not {value!r}")
    return value
