"""The Notebook page's widgets: the SQL editor, notes, and a cell's result with its chart.

The page keeps its cells in `st.session_state["notebook_cells"]`, a list of dicts: a cell's
`to_dict()` (desk.notebook) with an `id`, and what the widgets need between runs (`seen`: the
editor's last answer handled; `editing`: a note being written).

The SQL editor is streamlit-code-editor (react-ace, its frontend built into the wheel). It
highlights SQL, completes the analyst views and their columns (`editor_completions` in
desk.notebook) besides SQL keywords, and answers the page when it loses focus (the text) or on
Ctrl/Cmd+Enter (the text, to run). Each answer carries a new id, so the page acts on it
once though the component keeps returning it. Its own "streamlit" colour themes import a font
from Google Fonts, so the editor is given one of Ace's bundled themes instead: nothing is
fetched from outside at run time (tests/e2e/test_notebook_editor.py checks).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import streamlit as st
from code_editor import code_editor

from desk import notebook as nbk
from desk.text import md_escape

EDITOR_LINES = (6, 30)
"""The editor's height in lines: at least (room for the completion list), at most."""
EDITOR_THEMES = MappingProxyType({"light": "tomorrow", "dark": "tomorrow_night"})
"""Ace's bundled themes for Streamlit's light and dark themes (none loads a web font)."""
NOTE_HELP = ("Markdown: headings, **bold**, _italics_, lists, tables and `code`. Links, images "
             "and HTML show as typed.")


@dataclass(frozen=True)
class EditorAnswer:
    """What the editor sent: its text, and whether Ctrl/Cmd+Enter asked to run it."""

    sql: str
    run: bool


def as_state(cells: Iterable[nbk.NotebookCell]) -> list[dict[str, Any]]:
    """Cells as the page keeps them: each a new id and its to_dict()."""
    return [new_cell(cell) for cell in cells]


def new_cell(cell: nbk.NotebookCell) -> dict[str, Any]:
    state = {"id": uuid.uuid4().hex, **cell.to_dict()}
    if isinstance(cell, nbk.MarkdownCell) and not cell.text:
        state["editing"] = True
    return state


def as_cells(state: Sequence[Mapping[str, Any]]) -> list[nbk.NotebookCell]:
    """The page's cells as notebook cells, in order (for saving and the .sql file)."""
    return [nbk.cell_from_dict(cell) for cell in state]


def sql_editor(cell: dict[str, Any], completions: list[dict[str, Any]],
               key: str) -> EditorAnswer | None:
    """The cell's SQL in the code editor; its answer if it sent one since the last run."""
    answer = code_editor(
        cell["sql"], lang="sql", height=list(EDITOR_LINES), completions=completions,
        response_mode="blur", key=key,
        options={"wrap": True, "tabSize": 2},
        props={"enableBasicAutocompletion": True, "enableLiveAutocompletion": True,
               "showGutter": False,
               "placeholder": "SELECT … FROM comments  (Ctrl/Cmd+Enter runs the cell)",
               "theme": EDITOR_THEMES.get(st.context.theme.type or "", EDITOR_THEMES["light"])},
    )
    if not isinstance(answer, Mapping) or not answer.get("id") or answer["id"] == cell.get("seen"):
        return None
    cell["seen"] = answer["id"]
    return EditorAnswer(str(answer.get("text", "")), answer.get("type") == "submit")


def note(cell: dict[str, Any], key: str) -> None:
    """A markdown cell: its text rendered inert (desk.notebook.notes); a text box while
    being written."""
    if cell.get("editing"):
        cell["text"] = st.text_area("Note", cell["text"], height=120, key=f"notebook_note_{key}",
                                    help=NOTE_HELP, placeholder="Write a note in markdown")
    text = nbk.MarkdownCell(cell["text"])
    if text.text:
        st.markdown(text.rendered())
    elif not cell.get("editing"):
        st.caption("An empty note.")


def outcome(cell: dict[str, Any], result: nbk.CellResult | nbk.NotebookError | None,
            key: str) -> None:
    """What the cell's last run gave: the error, or the table, its chart and downloads."""
    if isinstance(result, nbk.NotebookError):
        st.error(md_escape(result))
    elif result is not None:
        more = "" if not result.truncated else f" (showing the first {len(result.frame):,})"
        st.caption(f"{result.total_rows:,}{'' if result.complete else '+'} rows{more} · "
                   f"{result.elapsed_ms:,.0f} ms")
        st.dataframe(result.frame, hide_index=True, key=f"notebook_table_{key}")
        chart(cell, result, key)
        downloads = st.columns([1, 1, 8])
        downloads[0].download_button("CSV", result.csv_bytes, file_name="result.csv",
                                     mime="text/csv", key=f"notebook_csv_{key}")
        downloads[1].download_button("Parquet", result.parquet_bytes,
                                     file_name="result.parquet", key=f"notebook_pq_{key}")


def chart(cell: dict[str, Any], result: nbk.CellResult, key: str) -> None:
    """Chart settings under a result; kept in the cell, so they survive reruns and saving."""
    if not st.toggle("Chart", value=cell["chart"] is not None, key=f"notebook_chart_{key}"):
        cell["chart"] = None
        return
    spec, columns = cell["chart"] or {}, result.columns
    kinds, colours = list(nbk.CHART_KINDS), ["(none)", *columns]

    def at(value: Any, options: list[str], default: int = 0) -> int:
        return options.index(value) if value in options else default

    pick = st.columns(4)
    kind = pick[0].selectbox("Kind", kinds, at(spec.get("kind"), kinds), key=f"notebook_kind_{key}")
    x = pick[1].selectbox("x", columns, at(spec.get("x"), columns), key=f"notebook_x_{key}")
    y = pick[2].selectbox("y", columns, at(spec.get("y"), columns, min(1, len(columns) - 1)),
                          key=f"notebook_y_{key}")
    colour = pick[3].selectbox("Colour", colours, at(spec.get("color"), colours),
                               key=f"notebook_colour_{key}")
    cell["chart"] = {"kind": kind, "x": x, "y": y} | ({} if colour == "(none)" else
                                                       {"color": colour})
    try:
        figure = nbk.chart_figure(result.frame, nbk.ChartSpec.from_dict(cell["chart"]))
    except ValueError as exc:
        st.warning(md_escape(exc))
    else:
        st.plotly_chart(figure, key=f"notebook_plot_{key}", config={"displaylogo": False})
