import csv
import io
from datetime import UTC, datetime

import pandas as pd

from desk.export import BOM, neutralise_formulas, to_csv_bytes, to_parquet_bytes

HOSTILE = [
    '=HYPERLINK("http://example.invalid","x")',
    "+1 SUM(A1)",
    "-2+3",
    "@cmd",
    "\tleading tab",
    "\rleading return",
    "<img src=x onerror=alert(1)>",
    "line one\nline two, with \"quotes\"",
    "plain praise 🔥",
]


def _read(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM.encode("utf-8"))
    return list(csv.reader(io.StringIO(data.decode("utf-8")[1:], newline="")))


def test_formula_cells_are_neutralised_and_everything_else_is_kept_verbatim():
    frame = pd.DataFrame({"comment_id": [str(i) for i in range(len(HOSTILE))], "content": HOSTILE})
    rows = _read(to_csv_bytes(frame))

    assert rows[0] == ["comment_id", "content"]
    assert [r[1] for r in rows[1:]] == [
        '\'=HYPERLINK("http://example.invalid","x")',
        "'+1 SUM(A1)",
        "'-2+3",
        "'@cmd",
        "'\tleading tab",
        "'\rleading return",
        "<img src=x onerror=alert(1)>",
        "line one\nline two, with \"quotes\"",
        "plain praise 🔥",
    ]


def test_numbers_are_not_touched_even_when_negative():
    frame = pd.DataFrame({"likes": [-1, 3], "user_name": ["-dash", None]})
    rows = _read(to_csv_bytes(frame))
    assert rows[1:] == [["-1", "'-dash"], ["3", ""]]


def test_timestamps_are_written_as_iso_utc():
    frame = pd.DataFrame(
        {"create_time": pd.to_datetime([datetime(2025, 3, 2, 8, 15, tzinfo=UTC)], utc=True)}
    )
    assert _read(to_csv_bytes(frame))[1] == ["2025-03-02 08:15:00Z"]


def test_neutralising_does_not_change_the_callers_frame():
    frame = pd.DataFrame({"content": ["=1+1"]})
    neutralise_formulas(frame)
    assert frame["content"].tolist() == ["=1+1"]


def test_parquet_keeps_text_exactly():
    frame = pd.DataFrame({"content": HOSTILE})
    back = pd.read_parquet(io.BytesIO(to_parquet_bytes(frame)))
    assert back["content"].tolist() == HOSTILE
