"""Saved notebooks: in the store's `notebooks` table, and as .sql files.

In the store (`save_notebook`, `load_notebook`, `list_notebooks`, `delete_notebook`) they go
through an ordinary store cursor, the caller's. In a .sql file (`notebook_to_sql`,
`notebook_from_sql`) each cell starts with the line `-- %% cell`, optionally followed by
`-- chart: {"kind": "bar", "x": ..., "y": ...}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from desk import store as db
from desk.notebook.cells import Cell
from desk.notebook.charts import ChartSpec
from desk.notebook.errors import NotebookNotFound


def save_notebook(cur: db.Cursor, name: str, cells: Sequence[Cell],
                  saved_by: str | None = None) -> None:
    """Save the cells under `name`, replacing a notebook of that name; `saved_by` is who
    saved it (an e-mail)."""
    key = _notebook_name(name)
    doc = json.dumps([cell.to_dict() for cell in cells], ensure_ascii=False)
    cur.execute(
        "INSERT INTO notebooks (name, cells, updated_at, saved_by) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET cells = excluded.cells, "
        "updated_at = excluded.updated_at, saved_by = excluded.saved_by",
        [key, doc, datetime.now(UTC), saved_by],
    ).fetchall()


def load_notebook(cur: db.Cursor, name: str) -> list[Cell]:
    """The cells saved under `name`; NotebookNotFound if there is none."""
    rows = cur.execute("SELECT cells FROM notebooks WHERE name = ?", [name]).fetchall()
    if not rows:
        raise NotebookNotFound(f"there is no saved notebook named {name!r}")
    return [Cell.from_dict(item) for item in json.loads(rows[0][0])]


def list_notebooks(cur: db.Cursor) -> list[str]:
    """The names of the saved notebooks, alphabetically."""
    return [row[0] for row in cur.execute("SELECT name FROM notebooks ORDER BY name").fetchall()]


def delete_notebook(cur: db.Cursor, name: str) -> bool:
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
