"""CSV and Parquet export, safe to open in a spreadsheet.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and some also after a leading
tab or carriage return) as a formula. A comment is somebody else's text, so every such text
cell is prefixed with a single quote: it shows as typed and never runs.

Both formats are written by Arrow, column by column: a million comments take seconds, not
minutes.
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

FORMULA_START = r"^[=+\-@\t\r]"
BOM = "\ufeff"

TableData = pd.DataFrame | pa.Table


def _as_table(data: TableData) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    return pa.Table.from_pandas(data, preserve_index=False)


def _neutralised(column: pa.ChunkedArray) -> pa.ChunkedArray:
    risky = pc.fill_null(pc.match_substring_regex(column, FORMULA_START), False)
    if not pc.any(risky).as_py():
        return column
    quote, nothing = pa.scalar("'", column.type), pa.scalar("", column.type)
    return pc.if_else(risky, pc.binary_join_element_wise(quote, column, nothing), column)


def _text_timestamp(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # Whole seconds: Arrow's %S would print the fraction of the column's unit.
    seconds = column.cast(pa.timestamp("s", tz=column.type.tz and "UTC"), safe=False)
    return pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S" + ("Z" if column.type.tz else ""))


def neutralise_formulas(data: TableData) -> pa.Table:
    """The table with every text cell that a spreadsheet would run made inert."""
    table = _as_table(data)
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = _neutralised(column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def to_csv_bytes(data: TableData) -> bytes:
    """UTF-8 CSV with a byte-order mark (so spreadsheets pick the right encoding).

    Timestamps are written as text in UTC (`2025-03-02 08:15:00Z`); local wall-clock columns
    without a timezone as they are.
    """
    table = _as_table(data)
    columns = [
        _text_timestamp(c) if pa.types.is_timestamp(c.type) else c for c in table.columns
    ]
    table = neutralise_formulas(pa.table(columns, names=table.column_names))
    sink = io.BytesIO()
    sink.write(BOM.encode("utf-8"))
    pa_csv.write_csv(
        table, sink, write_options=pa_csv.WriteOptions(quoting_style="needed", eol="\r\n")
    )
    return sink.getvalue()


def to_parquet_bytes(data: TableData) -> bytes:
    """Parquet keeps types and text exactly; it is read by tools, not run as formulas."""
    sink = io.BytesIO()
    pq.write_table(_as_table(data), sink)
    return sink.getvalue()
