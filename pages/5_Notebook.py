"""Notebook: ask your own questions of the synced comments in read-only SQL."""

import streamlit as st

from desk import notebook as nbk
from desk.text import md_escape
from desk.ui import context
from desk.ui import notebook as ui

ctx = context.bootstrap("Notebook")
st.title("Notebook")
st.caption("Read-only SQL (DuckDB) over your synced ads and comments. One statement per cell: "
           "SELECT, WITH, EXPLAIN, DESCRIBE, SHOW or SUMMARIZE. Ctrl/Cmd+Enter runs a cell; "
           "notes are markdown.")
notebook = nbk.Notebook(ctx.store, timeout=ctx.settings.notebook_timeout,
                        download_rows=ctx.settings.notebook_download_rows)
st.session_state.setdefault("notebook_cells", ui.as_state(next(iter(nbk.STARTERS.values()))))
st.session_state.setdefault("notebook_kept", nbk.KeptResults())
cells: list[dict] = st.session_state["notebook_cells"]
kept: nbk.KeptResults = st.session_state["notebook_kept"]
version = notebook.data_version()
if kept.drop_stale(version):
    st.info("The data changed since the cells last ran (a sync or a write): run them again.")
schema = notebook.schema()


def open_cells(opened) -> None:
    st.session_state["notebook_cells"] = ui.as_state(opened)
    kept.clear()


def run_cell(cell: dict) -> None:
    before = notebook.data_version()
    try:
        result = notebook.run(cell["sql"])
    except nbk.NotebookError as exc:
        result = exc
    kept.keep(cell["id"], cell["sql"], result, before)


def add(cell: nbk.NotebookCell) -> None:
    cells.append(ui.new_cell(cell))


def delete(index: int) -> None:
    kept.forget(cells.pop(index)["id"])


def move(index: int, step: int) -> None:
    cells.insert(max(0, min(len(cells) - 1, index + step)), cells.pop(index))


def toggle_editing(cell: dict) -> None:
    cell["editing"] = not cell.get("editing")


with st.sidebar:
    st.subheader("Tables you can query")
    for view, columns in schema.items():
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

completions = nbk.editor_completions(schema)
for index, cell in enumerate(cells):
    key = cell["id"]
    with st.container(border=True, key=f"notebook_cell_{key}"):
        if cell["kind"] == nbk.MarkdownCell.kind:
            ui.note(cell, key)
        elif (answer := ui.sql_editor(cell, completions, key=f"notebook_sql_{key}")) is not None:
            cell["sql"] = nbk.Cell(answer.sql).sql
            if answer.run:
                run_cell(cell)
        buttons = st.columns([1, 1, 1, 1, 6])
        if cell["kind"] == nbk.MarkdownCell.kind:
            buttons[0].button("Done" if cell.get("editing") else "Edit", key=f"notebook_edit_{key}",
                              on_click=toggle_editing, args=(cell,))
        elif buttons[0].button("Run", key=f"notebook_run_{key}", type="primary",
                               help="Ctrl/Cmd+Enter in the editor runs the cell too"):
            run_cell(cell)
        buttons[1].button("↑", key=f"notebook_up_{key}", on_click=move, args=(index, -1),
                          disabled=index == 0, help="Move up")
        buttons[2].button("↓", key=f"notebook_down_{key}", on_click=move, args=(index, 1),
                          disabled=index == len(cells) - 1, help="Move down")
        buttons[3].button("Delete", key=f"notebook_delete_{key}", on_click=delete, args=(index,))
        if cell["kind"] == nbk.Cell.kind:
            ui.outcome(cell, kept.outcome(key, cell["sql"], version), key)

actions = st.columns([1, 1, 1, 3, 1, 2])
actions[0].button("Add cell", key="notebook_add", on_click=add,
                  args=(nbk.Cell("SELECT * FROM comments LIMIT 10"),))
actions[1].button("Add note", key="notebook_add_note", on_click=add, args=(nbk.MarkdownCell(""),))
if actions[2].button("Run all", key="notebook_run_all"):
    for cell in cells:
        if cell["kind"] == nbk.Cell.kind:
            run_cell(cell)
    st.rerun()
name = actions[3].text_input("Name", key="notebook_name", placeholder="Notebook name",
                             label_visibility="collapsed")
if actions[4].button("Save", key="notebook_save", disabled=not name.strip()):
    before = notebook.data_version()
    with ctx.store.cursor() as cur:
        nbk.save_notebook(cur, name.strip(), ui.as_cells(cells), saved_by=ctx.person.email)
    kept.restamp(before, notebook.data_version())  # saving changes no data a cell can read
    st.toast(f"Saved {md_escape(name.strip())}")
actions[5].download_button(".sql file", nbk.notebook_to_sql(ui.as_cells(cells)),
                           file_name="notebook.sql", mime="application/sql",
                           key="notebook_download")
