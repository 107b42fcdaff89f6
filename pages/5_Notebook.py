"""Notebook: ask your own questions of the synced comments in read-only SQL."""

import uuid

import streamlit as st

from desk import notebook as nbk
from desk.text import md_escape
from desk.ui import context

ctx = context.bootstrap("Notebook")
st.title("Notebook")
st.caption("Read-only SQL (DuckDB) over your synced ads and comments. One statement per cell: "
           "SELECT, WITH, EXPLAIN, DESCRIBE, SHOW or SUMMARIZE.")
notebook = nbk.Notebook(ctx.store, timeout=ctx.settings.notebook_timeout,
                        download_rows=ctx.settings.notebook_download_rows)


def as_state(cells) -> list[dict]:
    return [{"id": uuid.uuid4().hex, **cell.to_dict()} for cell in cells]


def open_cells(cells) -> None:
    st.session_state["notebook_cells"] = as_state(cells)
    st.session_state["notebook_results"] = {}


def run_cell(cell: dict) -> None:
    try:
        st.session_state["notebook_results"][cell["id"]] = notebook.run(cell["sql"])
    except nbk.NotebookError as exc:
        st.session_state["notebook_results"][cell["id"]] = exc


def delete(index: int) -> None:
    removed = st.session_state["notebook_cells"].pop(index)
    st.session_state["notebook_results"].pop(removed["id"], None)


def chart(cell: dict, result: nbk.CellResult, key: str) -> None:
    """Chart settings under a result; kept in the cell, so they survive reruns and saving."""
    if not st.toggle("Chart", value=cell["chart"] is not None, key=f"notebook_chart_{key}"):
        cell["chart"] = None
        return
    spec, columns = cell["chart"] or {}, result.columns
    kinds, colours = list(nbk.CHART_KINDS), ["(none)", *columns]

    def at(value, options, default=0):
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


def move(index: int, step: int) -> None:
    cells = st.session_state["notebook_cells"]
    cells.insert(max(0, min(len(cells) - 1, index + step)), cells.pop(index))


st.session_state.setdefault("notebook_cells", as_state(next(iter(nbk.STARTERS.values()))))
st.session_state.setdefault("notebook_results", {})
cells: list[dict] = st.session_state["notebook_cells"]
results: dict = st.session_state["notebook_results"]

with st.sidebar:
    st.subheader("Tables you can query")
    for view, columns in notebook.schema().items():
        with st.expander(view):
            st.dataframe({"column": [c for c, _ in columns], "type": [t for _, t in columns]},
                         hide_index=True, key=f"notebook_schema_{view}")
    st.subheader("Starter notebooks")
    for name, starter in nbk.STARTERS.items():
        st.button(name, key=f"notebook_starter_{name}", on_click=open_cells, args=(starter,),
                  use_container_width=True)
    st.subheader("Saved notebooks")
    with ctx.store.cursor() as cur:
        saved = nbk.list_notebooks(cur)
    chosen = st.selectbox("Saved notebooks", saved, index=None, key="notebook_saved",
                          placeholder="Choose one", label_visibility="collapsed")
    if chosen and st.button("Open", key="notebook_open"):
        with ctx.store.cursor() as cur:
            open_cells(nbk.load_notebook(cur, chosen))
        st.rerun()
    upload = st.file_uploader("Open a .sql file", type=["sql"], key="notebook_upload")
    if upload is not None and st.session_state.get("notebook_uploaded") != upload.file_id:
        st.session_state["notebook_uploaded"] = upload.file_id
        open_cells(nbk.notebook_from_sql(upload.getvalue().decode("utf-8", "replace")))
        st.rerun()

for index, cell in enumerate(cells):
    key = cell["id"]
    with st.container(border=True):
        cell["sql"] = st.text_area(f"Cell {index + 1}", value=cell["sql"], height=130,
                                   key=f"notebook_sql_{key}")
        buttons = st.columns([1, 1, 1, 1, 6])
        if buttons[0].button("Run", key=f"notebook_run_{key}", type="primary"):
            run_cell(cell)
        buttons[1].button("↑", key=f"notebook_up_{key}", on_click=move, args=(index, -1),
                          disabled=index == 0, help="Move up")
        buttons[2].button("↓", key=f"notebook_down_{key}", on_click=move, args=(index, 1),
                          disabled=index == len(cells) - 1, help="Move down")
        buttons[3].button("Delete", key=f"notebook_delete_{key}", on_click=delete, args=(index,))
        result = results.get(key)
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

actions = st.columns([1, 1, 3, 1, 2])
if actions[0].button("Add cell", key="notebook_add"):
    cells.append({"id": uuid.uuid4().hex, "sql": "SELECT * FROM comments LIMIT 10",
                  "chart": None})
    st.rerun()
if actions[1].button("Run all", key="notebook_run_all"):
    for cell in cells:
        run_cell(cell)
    st.rerun()
name = actions[2].text_input("Name", key="notebook_name", placeholder="Notebook name",
                             label_visibility="collapsed")
if actions[3].button("Save", key="notebook_save", disabled=not name.strip()):
    with ctx.store.cursor() as cur:
        nbk.save_notebook(cur, name.strip(), [nbk.Cell.from_dict(c) for c in cells],
                          saved_by=ctx.person.email)
    st.toast(f"Saved {md_escape(name.strip())}")
actions[4].download_button(".sql file", nbk.notebook_to_sql([nbk.Cell.from_dict(c) for c in cells]),
                           file_name="notebook.sql", mime="application/sql",
                           key="notebook_download")
