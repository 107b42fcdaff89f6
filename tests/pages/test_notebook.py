"""The Notebook page: cells, results, charts, saved notebooks, and refusals, in AppTest."""

from __future__ import annotations

from desk import notebook as nbk
from tests.pages.conftest import open_page

PAGE = "pages/5_Notebook.py"


def cell_ids(at) -> list[str]:
    return [t.key.removeprefix("notebook_sql_") for t in at.text_area]


def test_the_page_opens_on_a_starter_and_runs_every_cell(synced):
    at = open_page(PAGE)
    starter = next(iter(nbk.STARTERS.values()))
    assert [t.value for t in at.text_area] == [c.sql for c in starter]
    assert {e.label for e in at.expander} >= {"comments", "ads", "advertisers", "replies",
                                              "sync_runs"}

    at.button(key="notebook_run_all").click().run()
    assert not at.error
    shown = at.main.dataframe  # the schema browser's tables are in the sidebar
    assert len(shown) == len(starter) and all(len(d.value) > 0 for d in shown)
    assert any("rows ·" in c.value for c in at.caption)


def test_a_statement_that_writes_is_refused_as_read_only(synced, store):
    at = open_page(PAGE)
    [first, *_] = cell_ids(at)
    before = store.cursor().execute("SELECT count(*) FROM comments").fetchone()
    at.text_area(key=f"notebook_sql_{first}").set_value("DELETE FROM comments").run()
    at.button(key=f"notebook_run_{first}").click().run()

    message = at.error[0].value
    assert "notebook is read" in message and "statements are not run" in message
    assert store.cursor().execute("SELECT count(*) FROM comments").fetchone() == before


def test_chart_settings_survive_a_rerun_and_draw_the_chart(synced):
    at = open_page(PAGE)
    [first, *_] = cell_ids(at)
    at.text_area(key=f"notebook_sql_{first}").set_value(
        "SELECT ad_name, count(*) AS comments FROM comments GROUP BY ad_name").run()
    at.button(key=f"notebook_run_{first}").click().run()
    at.toggle(key=f"notebook_chart_{first}").set_value(True).run()
    at.selectbox(key=f"notebook_kind_{first}").set_value("line").run()
    at.selectbox(key=f"notebook_x_{first}").set_value("ad_name").run()
    at.selectbox(key=f"notebook_y_{first}").set_value("comments").run()

    at.run()  # an unrelated rerun
    assert at.selectbox(key=f"notebook_kind_{first}").value == "line"
    assert at.selectbox(key=f"notebook_y_{first}").value == "comments"
    [chart] = at.get("plotly_chart")
    assert '"type":"scatter"' in chart.proto.spec.replace(" ", "")  # plotly draws lines so
    assert '"mode":"lines"' in chart.proto.spec.replace(" ", "")


def test_a_saved_notebook_reopens_with_its_cells(synced):
    at = open_page(PAGE)
    sqls = [t.value for t in at.text_area]
    at.button(key="notebook_add").click().run()
    at.text_input(key="notebook_name").set_value("Weekly review").run()
    at.button(key="notebook_save").click().run()

    again = open_page(PAGE)
    again.button(key="notebook_starter_" + list(nbk.STARTERS)[-1]).click().run()
    assert [t.value for t in again.text_area] != [*sqls, "SELECT * FROM comments LIMIT 10"]
    again.selectbox(key="notebook_saved").set_value("Weekly review").run()
    again.button(key="notebook_open").click().run()
    assert [t.value for t in again.text_area] == [*sqls, "SELECT * FROM comments LIMIT 10"]


def test_cells_can_be_moved_and_deleted(synced):
    at = open_page(PAGE)
    at.button(key="notebook_add").click().run()
    ids = cell_ids(at)
    sqls = [t.value for t in at.text_area]
    assert len(ids) == 2 and sqls[1] == "SELECT * FROM comments LIMIT 10"
    at.button(key=f"notebook_down_{ids[0]}").click().run()
    assert [t.value for t in at.text_area][:2] == [sqls[1], sqls[0]]
    at.button(key=f"notebook_delete_{ids[0]}").click().run()
    assert [t.value for t in at.text_area] == [sqls[1], *sqls[2:]]
