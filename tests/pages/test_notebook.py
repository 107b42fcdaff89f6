"""The Notebook page: cells, the SQL editor's answers, notes, results kept until the data
changes, charts, saved notebooks and refusals, in AppTest.

AppTest cannot run the editor's frontend (a custom component): `editor_sends` puts in the
component's value what the editor sends when it loses focus or on Ctrl/Cmd+Enter. What the
browser does (typing, completion, the keys) is tests/e2e/test_notebook_editor.py's.
"""

from __future__ import annotations

import uuid

import pytest

from desk import notebook as nbk
from desk.notebook.cells import Notebook
from desk.notebook.notes import ZERO_WIDTH_SPACE
from tests.pages.conftest import infos, open_page

PAGE = "pages/5_Notebook.py"
ADS_PAGE = "pages/2_Ads.py"


def cell_ids(at) -> list[str]:
    return [cell["id"] for cell in at.session_state["notebook_cells"]]


def sqls(at) -> list[str]:
    return [cell.get("sql", cell.get("text")) for cell in at.session_state["notebook_cells"]]


def editor_sends(at, cell_id: str, sql: str, *, run: bool = False):
    """The editor's answer: its text on losing focus, or on Ctrl/Cmd+Enter (`run`)."""
    at.session_state[f"notebook_sql_{cell_id}"] = {
        "id": uuid.uuid4().hex[:8], "type": "submit" if run else "blur", "lang": "sql",
        "text": sql, "selected": "", "cursor": {"row": 0, "column": 0}}
    return at.run()


@pytest.fixture
def runs(monkeypatch) -> list[str]:
    """The SQL of every query the notebook runs, in order."""
    ran: list[str] = []
    real = Notebook.run

    def counted(self, sql):
        ran.append(sql)
        return real(self, sql)

    monkeypatch.setattr(Notebook, "run", counted)
    return ran


def test_the_page_opens_on_a_starter_with_an_editor_per_cell_and_runs_every_cell(synced):
    at = open_page(PAGE)
    starter = next(iter(nbk.STARTERS.values()))
    assert sqls(at) == [c.sql for c in starter]
    assert len(at.get("component_instance")) == len(starter)  # the SQL editors
    assert {e.label for e in at.expander} >= {"comments", "ads", "advertisers", "replies",
                                              "sync_runs", "ad_delivery"}

    at.button(key="notebook_run_all").click().run()
    assert not at.error
    shown = at.main.dataframe  # the schema browser's tables are in the sidebar
    assert len(shown) == len(starter) and all(len(d.value) > 0 for d in shown)
    assert any("rows ·" in c.value for c in at.caption)


def test_ctrl_enter_in_the_editor_runs_the_cell_once(synced, runs):
    at = open_page(PAGE)
    [first, *_] = cell_ids(at)

    editor_sends(at, first, "SELECT count(*) AS n FROM comments", run=True)
    assert runs == ["SELECT count(*) AS n FROM comments"]
    assert at.main.dataframe[0].value["n"].iloc[0] > 0
    at.run()
    at.run()  # the component keeps returning its last answer: it is acted on once
    assert len(runs) == 1


def test_leaving_the_editor_keeps_its_text_without_running_it(synced, runs):
    at = open_page(PAGE)
    [first, *_] = cell_ids(at)

    editor_sends(at, first, "  SELECT 2 AS two\r\n")
    assert sqls(at)[0] == "SELECT 2 AS two" and runs == []
    at.button(key=f"notebook_run_{first}").click().run()
    assert runs == ["SELECT 2 AS two"]
    assert at.main.dataframe[0].value["two"].tolist() == [2]


def test_a_statement_that_writes_is_refused_as_read_only(synced, store):
    at = open_page(PAGE)
    [first, *_] = cell_ids(at)
    before = store.cursor().execute("SELECT count(*) FROM comments").fetchone()
    editor_sends(at, first, "DELETE FROM comments", run=True)

    message = at.error[0].value
    assert "notebook is read" in message and "statements are not run" in message
    assert store.cursor().execute("SELECT count(*) FROM comments").fetchone() == before


def test_run_all_results_stay_across_reruns_and_pages_until_the_data_changes(
        synced, sync, runs):
    at = open_page(PAGE)
    at.button(key="notebook_run_all").click().run()
    ran = len(runs)
    assert ran == len(cell_ids(at)) and len(at.main.dataframe) == ran

    at.run()
    at.switch_page(ADS_PAGE).run()
    at.switch_page(PAGE).run()
    assert len(at.main.dataframe) == ran and len(runs) == ran  # shown, not run again
    assert not infos(at)

    sync("WRITER")  # a sync writes: the results are not the data's any more
    at.run()
    assert len(at.main.dataframe) == 0 and len(runs) == ran
    assert any("The data changed" in message for message in infos(at))


def test_saving_a_notebook_keeps_the_results_shown(synced, runs):
    at = open_page(PAGE)
    at.button(key="notebook_run_all").click().run()
    shown = len(at.main.dataframe)

    at.text_input(key="notebook_name").set_value("Kept").run()
    at.button(key="notebook_save").click().run()
    at.run()
    assert len(at.main.dataframe) == shown and not infos(at)


def test_an_edited_cell_no_longer_shows_the_old_result(synced):
    at = open_page(PAGE)
    [first, *_] = cell_ids(at)
    at.button(key=f"notebook_run_{first}").click().run()
    assert len(at.main.dataframe) == 1

    editor_sends(at, first, "SELECT 3 AS three")
    assert len(at.main.dataframe) == 0


def test_chart_settings_survive_a_rerun_and_draw_the_chart(synced):
    at = open_page(PAGE)
    [first, *_] = cell_ids(at)
    editor_sends(at, first, "SELECT ad_name, count(*) AS comments FROM comments GROUP BY ad_name",
                 run=True)
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


def test_a_note_renders_as_markdown_with_links_images_and_html_as_typed(synced):
    at = open_page(PAGE)
    at.button(key="notebook_add_note").click().run()
    note = cell_ids(at)[-1]
    typed = ("## Findings\n\n**Complaints** doubled. <img src=x onerror=alert(1)> "
             "![pixel](https://evil.example/p.png) [open](javascript:alert(1))")
    at.text_area(key=f"notebook_note_{note}").set_value(typed).run()
    at.button(key=f"notebook_edit_{note}").click().run()  # Done

    assert not at.text_area  # no longer being written
    [rendered] = [m for m in at.main.markdown if "Findings" in m.value]
    assert rendered.value.replace(ZERO_WIDTH_SPACE, "") == typed
    assert "![" not in rendered.value and "](" not in rendered.value
    assert "<img" not in rendered.value
    assert not rendered.proto.allow_html


def test_a_saved_notebook_reopens_with_its_kinds_order_and_chart_settings(synced):
    at = open_page(PAGE)
    [first] = cell_ids(at)
    at.button(key=f"notebook_run_{first}").click().run()
    at.toggle(key=f"notebook_chart_{first}").set_value(True).run()
    at.selectbox(key=f"notebook_kind_{first}").set_value("scatter").run()
    at.button(key="notebook_add").click().run()
    at.button(key="notebook_add_note").click().run()
    note = cell_ids(at)[-1]
    at.text_area(key=f"notebook_note_{note}").set_value("Read me *first*").run()
    at.button(key=f"notebook_up_{note}").click().run()
    at.button(key=f"notebook_up_{note}").click().run()
    expected = nbk.notebook_from_sql(nbk.notebook_to_sql(
        [nbk.cell_from_dict(c) for c in at.session_state["notebook_cells"]]))
    assert [c.kind for c in expected] == ["markdown", "sql", "sql"]
    assert expected[1].chart is not None and expected[1].chart.kind == "scatter"
    at.text_input(key="notebook_name").set_value("Weekly review").run()
    at.button(key="notebook_save").click().run()

    again = open_page(PAGE)
    again.button(key="notebook_starter_" + list(nbk.STARTERS)[-1]).click().run()
    again.selectbox(key="notebook_saved").set_value("Weekly review").run()
    again.button(key="notebook_open").click().run()
    assert [nbk.cell_from_dict(c) for c in again.session_state["notebook_cells"]] == expected
    opened = cell_ids(again)[1]
    again.button(key=f"notebook_run_{opened}").click().run()
    assert again.selectbox(key=f"notebook_kind_{opened}").value == "scatter"
    assert len(again.get("plotly_chart")) == 1


def test_cells_can_be_moved_and_deleted(synced):
    at = open_page(PAGE)
    at.button(key="notebook_add").click().run()
    ids = cell_ids(at)
    before = sqls(at)
    assert len(ids) == 2 and before[1] == "SELECT * FROM comments LIMIT 10"
    at.button(key=f"notebook_down_{ids[0]}").click().run()
    assert sqls(at)[:2] == [before[1], before[0]]
    at.button(key=f"notebook_delete_{ids[0]}").click().run()
    assert sqls(at) == [before[1], *before[2:]]


def test_the_new_starters_open_and_run_on_an_account_without_delivery(synced):
    at = open_page(PAGE)
    for name in ("Complaints per 1,000 impressions per ad", "Sentiment vs spend by day",
                 "Label mix by week"):
        at.button(key=f"notebook_starter_{name}").click().run()
        at.button(key="notebook_run_all").click().run()
        assert not at.error, name
        assert len(at.main.dataframe) == len(nbk.STARTERS[name]), name
