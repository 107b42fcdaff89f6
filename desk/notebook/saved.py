"""Saved notebooks: in the store's `notebooks` table, and as .sql files.

In the store (`save_notebook`, `load_notebook`, `list_notebooks`, `delete_notebook`) they go
through an ordinary store cursor, the caller's: `cells` holds the cells in order as a JSON
list of their `to_dict()` (kind, text, chart settings); a list saved before notes existed has
no kinds and is read as SQL cells. In a .sql file (`notebook_to_sql`, `notebook_from_sql`) each
SQL cell starts with the line `-- %% cell`, optionally followed by
`-- chart: {"kind": "bar", "x": ..., "y": ...}`; a note starts with `-- %% markdown` and each
of its lines is an SQL comment (`-- ` and the line), so the file still runs as SQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from desk import store as db
from desk.notebook.cells import Cell, NotebookCell, cell_from_dict
from desk.notebook.charts import ChartSpec
from desk.notebook.errors import NotebookNotFound
from desk.notebook.notes import MarkdownCell


def save_notebook(cur: db.Cursor, name: str, cells: Sequence[NotebookCell],
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


def load_notebook(cur: db.Cursor, name: str) -> list[NotebookCell]:
    """The cells saved under `name`, in their order; NotebookNotFound if there is none."""
    rows = cur.execute("SELECT cells FROM notebooks WHERE name = ?", [name]).fetchall()
    if not rows:
        raise NotebookNotFound(f"there is no saved notebook named {name!r}")
    return [cell_from_dict(item) for item in json.loads(rows[0][0])]


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
NOTE_MARKER = "-- %% markdown"
_MARKER = re.compile(r"^-- %% (cell|markdown)[ \t]*$")
# A line of a cell that looks like a marker is written with one more "%", and read back with
# one fewer, so any SQL survives the file.
_ESCAPED_MARKER = re.compile(r"^-- %%(%+) (cell|markdown)[ \t]*$")
_NEEDS_ESCAPE = re.compile(r"^-- %%+ (cell|markdown)[ \t]*$")
_CHART = re.compile(r"^-- chart:(.*)$")
_HEADER = "-- Comment Desk notebook: each cell starts with a '-- %% cell' line."


def notebook_to_sql(cells: Sequence[NotebookCell]) -> str:
    """The cells as a .sql file that `notebook_from_sql` reads back to the same cells."""
    parts = [_HEADER]
    for cell in cells:
        if isinstance(cell, MarkdownCell):
            parts.append("\n".join([NOTE_MARKER, *_as_comments(cell.text)]))
            continue
        lines = [CELL_MARKER]
        body = [_escape(line) for line in cell.sql.split("\n")] if cell.sql else []
        if cell.chart is not None:
            lines.append("-- chart: " + json.dumps(cell.chart.to_dict()))
        elif body and _CHART.match(body[0]):
            lines.append("-- chart: none")
        lines += body
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def notebook_from_sql(text: str) -> list[NotebookCell]:
    """The cells of a .sql file; a file without cell markers is one cell.

    Before the first marker, comment lines are the file's header and dropped; SQL there is
    a cell of its own.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    chunks: list[list[str]] = [[]]
    kinds: list[str] = [Cell.kind]
    for line in lines:
        if found := _MARKER.match(line):
            chunks.append([])
            kinds.append(Cell.kind if found.group(1) == "cell" else MarkdownCell.kind)
        else:
            chunks[-1].append(line)
    header = [line for line in chunks[0] if line != _HEADER]
    cells: list[NotebookCell] = []
    has_sql = any(line.strip() and not line.lstrip().startswith("--") for line in header)
    if has_sql or (len(chunks) == 1 and "\n".join(header).strip()):
        cells.append(Cell("\n".join(_unescape(header))))
    for kind, chunk in zip(kinds[1:], chunks[1:], strict=True):
        if kind == MarkdownCell.kind:
            cells.append(MarkdownCell("\n".join(_from_comments(chunk))))
            continue
        chart = None
        if chunk and (found := _CHART.match(chunk[0])):
            chart = _read_chart(found.group(1), len(cells) + 1)
            chunk = chunk[1:]
        cells.append(Cell("\n".join(_unescape(chunk)), chart))
    return cells


def _as_comments(text: str) -> list[str]:
    """A note's lines as SQL comments: `-- ` and the line, `--` for an empty one (escaped
    like SQL where that makes a marker: a note's line `%% cell`)."""
    comments = [f"-- {line}" if line else "--" for line in text.split("\n")] if text else []
    return [_escape(line) for line in comments]


def _escape(line: str) -> str:
    return line.replace("-- %%", "-- %%%", 1) if _NEEDS_ESCAPE.match(line) else line


def _from_comments(lines: list[str]) -> list[str]:
    """A note's lines back from its comments; blank lines are the gap before the next cell."""
    out = []
    for line in _unescape(lines):
        if line.startswith("-- "):
            out.append(line[3:])
        elif line.startswith("--"):
            out.append(line[2:])
        elif line.strip():
            out.append(line)  # a line someone added to the file by hand
    return out


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
