"""CSV and Parquet export, safe to open in a spreadsheet.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and some also after a leading
tab or carriage return) as a formula. A comment is somebody else's text, so every such text
cell is prefixed with a single quote: it shows as typed and never runs.

Both formats are written by Arrow, column by column: a million comments take seconds, not
minutes. `build_export` makes the file a person downloads: the filtered comments, newest
first, read from the store in chunks of a few days each, at most EXPORT_CAP rows.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from desk import store as db
from desk.store import CommentFilters, Store

FORMULA_START = r"^[=+\-@\t\r]"
BOM = "\ufeff"
EXPORT_CAP = 1_000_000
"""The most rows one export file holds."""
EXPORT_CHUNK = 50_000
"""About how many rows are read from the store at a time."""
CSV_COLUMNS = (
    "comment_id", "create_time", "create_time_local", "comment_type", "original_comment_id",
    "comment_status", "answered", "user_name", "user_id", "content", "likes", "replies",
    "hit_blockedword", "source", "ad_id", "ad_name", "adgroup_id", "adgroup_name", "campaign_id",
    "campaign_name", "advertiser_id", "video_id", "business_id",
)
"""The columns a spreadsheet user needs; Parquet gets every stored column."""
NOTES_COLUMN = "internal_notes"
"""The team's notes on each comment: in a file (last) only when asked for."""

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


# ---------------------------------------------------------------------------------------------
# The export file


@dataclass(frozen=True)
class ExportFile:
    """A file ready to download: its name, bytes and type, and how many rows it holds of the
    `total` that matched."""

    name: str
    data: bytes = field(repr=False)
    mime: str
    rows: int
    total: int

    @property
    def truncated(self) -> bool:
        return self.rows < self.total


def build_export(store: Store, filters: CommentFilters, fmt: str,
                 progress: Callable[[int, int], None] | None = None, *,
                 cap: int | None = None, chunk: int | None = None,
                 notes: bool = False) -> ExportFile:
    """The filtered comments, newest first, as CSV or Parquet, read in chunks of about
    `chunk` rows (EXPORT_CHUNK), at most `cap` rows in all (EXPORT_CAP). The team's internal
    notes are left out unless `notes` (then one NOTES_COLUMN: each note as
    "author, time: text", oldest first, one per line)."""
    cap = EXPORT_CAP if cap is None else cap
    chunk = EXPORT_CHUNK if chunk is None else chunk
    with store.cursor() as cur:
        total = db.comments_count(cur, filters)
        wanted = min(total, cap)
        frames = _export_frames(cur, filters, total, wanted, chunk)
        if notes:
            frames = _with_notes(cur, frames)
        if fmt == "csv":
            data = _csv_in_chunks(frames, wanted, progress)
        else:
            data = _parquet_in_chunks(frames, wanted, progress)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    owner = filters.advertiser_id or filters.business_id or "all"
    name = f"comments-{owner}-{stamp}.{'csv' if fmt == 'csv' else 'parquet'}"
    mime = "text/csv" if fmt == "csv" else "application/vnd.apache.parquet"
    return ExportFile(name, data, mime, wanted, total)


def _export_frames(cur: db.Cursor, filters: CommentFilters, total: int, wanted: int,
                   chunk: int) -> Iterator[pd.DataFrame]:
    """The first `wanted` comments (newest first) in chunks, each read as a page of a few
    days' comments: a deep LIMIT/OFFSET would make DuckDB sort everything before it for every
    chunk. The days come from the per-day counts, in the ad account's timezone."""
    if wanted == 0:
        yield db.comments_page(cur, filters, limit=0)
        return
    per_day = db.comment_volume_over_time(cur, filters, "day")
    days = sorted(((pd.Timestamp(b).date(), int(n)) for b, n
                   in zip(per_day["bucket"], per_day["comments"], strict=True) if n),
                  reverse=True)
    if sum(n for _, n in days) != total:  # comments without a time: plain paging
        for offset in range(0, wanted, chunk):
            yield db.comments_page(cur, filters, limit=min(chunk, wanted - offset), offset=offset)
        return
    groups: list[list[tuple[date, int]]] = [[]]
    for day, count in days:
        if groups[-1] and sum(n for _, n in groups[-1]) + count > chunk:
            groups.append([])
        groups[-1].append((day, count))
    left = wanted
    for group in groups:
        window = replace(filters, date_from=group[-1][0], date_to=group[0][0])
        size = sum(n for _, n in group)
        for offset in range(0, size, chunk):  # a single day can hold more than a chunk
            if left <= 0:
                return
            frame = db.comments_page(cur, window, limit=min(chunk, size - offset, left),
                                     offset=offset)
            left -= len(frame)
            yield frame


def _with_notes(cur: db.Cursor, frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Each frame with its comments' internal notes in one `internal_notes` column."""
    for frame in frames:
        kept = db.notes(cur, frame["comment_id"].astype(str).tolist())
        if kept.empty:
            yield frame.assign(**{NOTES_COLUMN: pd.Series(pd.NA, index=frame.index,
                                                            dtype="string")})
            continue
        when = pd.to_datetime(kept["created_at"], utc=True).dt.strftime("%Y-%m-%d %H:%M UTC")
        lines = kept["author"].astype(str) + ", " + when + ": " + kept["body"].astype(str)
        joined = lines.groupby(kept["comment_id"].astype(str)).agg("\n".join)
        yield frame.assign(**{NOTES_COLUMN: frame["comment_id"].astype(str).map(joined)})


def _csv_in_chunks(frames: Iterator[pd.DataFrame], wanted: int,
                   progress: Callable[[int, int], None] | None) -> bytes:
    parts: list[bytes] = []
    done = 0
    bom = BOM.encode("utf-8")
    for frame in frames:
        blob = to_csv_bytes(frame[[c for c in (*CSV_COLUMNS, NOTES_COLUMN)
                                   if c in frame.columns]])
        if parts:  # later chunks: no byte-order mark, no header line
            blob = blob[blob.index(b"\r\n", len(bom)) + 2:]
        parts.append(blob)
        done += len(frame)
        if progress is not None:
            progress(done, wanted)
    return b"".join(parts)


def _parquet_in_chunks(frames: Iterator[pd.DataFrame], wanted: int,
                       progress: Callable[[int, int], None] | None) -> bytes:
    out = io.BytesIO()
    writer = None
    done = 0
    try:
        for frame in frames:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema)
            elif table.schema != writer.schema:
                table = table.cast(writer.schema)
            writer.write_table(table)
            done += len(frame)
            if progress is not None:
                progress(done, wanted)
    finally:
        if writer is not None:
            writer.close()
    return out.getvalue()
