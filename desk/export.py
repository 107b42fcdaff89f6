"""CSV and Parquet export, safe to open in a spreadsheet.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and some also after a leading
tab or carriage return) as a formula. A comment is somebody else's text, so every such text
cell is prefixed with a single quote: it shows as typed and never runs.
"""

from __future__ import annotations

import io

import pandas as pd

FORMULA_START = r"^[=+\-@\t\r]"
BOM = "\ufeff"


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` where every text cell that a spreadsheet would run is made inert."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        text = column.astype("string")
        risky = text.str.contains(FORMULA_START, regex=True, na=False)
        if risky.any():
            out[name] = column.where(~risky, "'" + text)
    return out


def _text_timestamps(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.strftime("%Y-%m-%d %H:%M:%S%z").str.replace(
                r"\+0000$", "Z", regex=True)
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark (so spreadsheets pick the right encoding)."""
    buffer = io.StringIO()
    neutralise_formulas(_text_timestamps(frame)).to_csv(buffer, index=False, lineterminator="\r\n")
    return (BOM + buffer.getvalue()).encode("utf-8")


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet keeps types and text exactly; it is read by tools, not run as formulas."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()
