"""A notebook's cells: SQL and notes, kept in order with their chart settings (saved and in
.sql files), notes rendered inert, the editor's completions, and results kept until the data
changes."""

import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from desk import notebook as nbk
from desk import store as db
from desk.notebook import Cell, ChartSpec, KeptResults, MarkdownCell, Notebook
from desk.notebook.notes import ZERO_WIDTH_SPACE

BY_DAY = ChartSpec("line", x="day", y="comments", color="ad_name")
CELLS = [
    MarkdownCell("# Weekly review\n\nWhat people asked, **per ad**."),
    Cell("SELECT ad_name, count(*) AS comments FROM comments GROUP BY 1",
         ChartSpec("bar", x="ad_name", y="comments")),
    MarkdownCell("Days are the ad account's.\n\n- one\n- two"),
    Cell("SELECT 1 AS day, 2 AS comments, 'x' AS ad_name", BY_DAY),
    Cell("SELECT 42 AS answer"),
]


@pytest.fixture
def store(tmp_path):
    with db.Store.open(tmp_path / "desk.duckdb") as opened:
        yield opened


# --- the cell model -------------------------------------------------------------------------


def test_each_kind_of_cell_comes_back_from_its_dict():
    for cell in CELLS:
        assert nbk.cell_from_dict(json.loads(json.dumps(cell.to_dict()))) == cell
    assert CELLS[0].to_dict() == {"kind": "markdown", "text": CELLS[0].text}
    assert CELLS[4].to_dict() == {"kind": "sql", "sql": "SELECT 42 AS answer", "chart": None}


def test_a_cell_without_a_kind_is_sql_and_an_unknown_kind_is_refused():
    assert nbk.cell_from_dict({"sql": "SELECT 1", "chart": None}) == Cell("SELECT 1")
    with pytest.raises(ValueError, match="sql or markdown, not 'python'"):
        nbk.cell_from_dict({"kind": "python", "sql": "print(1)"})


def test_a_note_keeps_its_text_like_a_sql_cell():
    assert MarkdownCell("\r\n  *hi*\r\nthere  \n\n").text == "*hi*\nthere"
    with pytest.raises(TypeError):
        MarkdownCell(None)  # type: ignore[arg-type]


# --- saved notebooks ------------------------------------------------------------------------


def test_a_saved_notebook_keeps_cell_kinds_order_and_chart_settings(store):
    cur = store.cursor()
    nbk.save_notebook(cur, "Weekly review", CELLS, saved_by="ana@brand.example")

    loaded = nbk.load_notebook(cur, "Weekly review")
    assert loaded == CELLS
    assert [cell.kind for cell in loaded] == ["markdown", "sql", "markdown", "sql", "sql"]
    assert loaded[3].chart == BY_DAY

    reordered = [CELLS[3], CELLS[0], CELLS[1]]
    nbk.save_notebook(cur, "Weekly review", reordered)
    assert nbk.load_notebook(cur, "Weekly review") == reordered


def test_a_notebook_saved_before_notes_existed_still_opens(store):
    cur = store.cursor()
    old = [{"sql": "SELECT 1", "chart": None},
           {"sql": "SELECT 2 AS n", "chart": {"kind": "bar", "x": "n", "y": "n"}}]
    cur.execute("INSERT INTO notebooks (name, cells, updated_at, saved_by) VALUES (?, ?, ?, ?)",
                ["Old", json.dumps(old), datetime(2025, 1, 1, tzinfo=UTC), None])

    assert nbk.load_notebook(cur, "Old") == [
        Cell("SELECT 1"), Cell("SELECT 2 AS n", ChartSpec("bar", x="n", y="n"))]


# --- .sql files -----------------------------------------------------------------------------


def test_notes_go_into_a_sql_file_as_comments_and_come_back(store):
    text = nbk.notebook_to_sql(CELLS)

    assert "-- %% markdown\n-- # Weekly review\n--\n-- What people asked, **per ad**." in text
    note_lines = text.split("-- %% markdown\n")[2].split("\n\n")[0].split("\n")
    assert all(line.startswith("--") for line in note_lines)
    assert nbk.notebook_from_sql(text) == CELLS


def test_a_notes_line_that_looks_like_a_marker_survives_the_file():
    cells = [MarkdownCell("%% cell\n%% markdown\n-- %% cell"), Cell("-- %% markdown\nSELECT 1")]
    assert nbk.notebook_from_sql(nbk.notebook_to_sql(cells)) == cells


NOTE_LINES = hs.one_of(
    hs.sampled_from(["%% cell", "%% markdown", "-- %% cell", "", "  indented", "--", "-- x",
                     "# Title", "![x](http://e.example/a.png)"]),
    hs.text(alphabet=hs.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")),
)
SQL_LINES = hs.one_of(
    hs.sampled_from(["SELECT 1", "-- %% cell", "-- %% markdown", "-- %%% markdown",
                     "-- chart: none", ""]),
    hs.text(alphabet=hs.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")),
)
MIXED = hs.lists(
    hs.one_of(
        hs.builds(MarkdownCell, text=hs.lists(NOTE_LINES, max_size=5).map("\n".join)),
        hs.builds(Cell, sql=hs.lists(SQL_LINES, max_size=5).map("\n".join),
                  chart=hs.one_of(hs.none(), hs.just(BY_DAY))),
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(cells=MIXED)
def test_any_cells_and_notes_survive_a_sql_file(cells):
    assert nbk.notebook_from_sql(nbk.notebook_to_sql(cells)) == cells


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=MIXED)
def test_any_cells_and_notes_survive_saving(store, cells):
    cur = store.cursor()
    nbk.save_notebook(cur, "any", cells)
    assert nbk.load_notebook(cur, "any") == cells


# --- notes are inert ------------------------------------------------------------------------


def shown(markdown: str) -> str:
    return markdown.replace(ZERO_WIDTH_SPACE, "")


@pytest.mark.parametrize("typed", [
    "![tracking pixel](https://evil.example/p.png)",
    "![ref][1]\n\n[1]: https://evil.example/p.png",
    "[click](javascript:alert(1))",
    "[docs][d]\n\n[d]: https://evil.example/",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<https://evil.example/>",
    "go to https://evil.example/x or www.evil.example",
    "`code [a](b)` and\n```\n![x](http://e.example/i.png)\n```",
])
def test_links_images_and_html_in_a_note_show_as_typed(typed):
    inert = nbk.inert_markdown(typed)

    assert shown(inert) == typed  # what the reader sees is what was typed
    assert not re.search(r"!\[|\]\(|\]\[|\]:|<[^\u200b]|://|www\.", inert)


def test_the_rest_of_markdown_is_left_alone():
    typed = "# Title\n\n**bold** _it_ `SELECT 1`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quote"
    assert nbk.inert_markdown(typed) == typed
    assert MarkdownCell(typed).rendered() == typed


# --- the editor's completions ---------------------------------------------------------------


def test_the_editor_completes_every_view_and_each_column_once(store):
    schema = Notebook(store).schema()
    completions = nbk.editor_completions(schema)

    views = [c for c in completions if c["meta"] == "view"]
    assert [c["value"] for c in views] == list(nbk.ANALYST_VIEWS)
    columns = {c["value"]: c for c in completions if c["meta"] != "view"}
    assert {"spend", "impressions", "labels", "sentiment", "ad_name"} <= set(columns)
    assert columns["spend"]["meta"] == "ad_delivery"
    assert re.fullmatch(r"\w+ \+\d+", columns["ad_id"]["meta"])  # in many views
    assert all(set(c) == {"caption", "value", "meta", "score"} for c in completions)


# --- results kept until the data changes ----------------------------------------------------


def test_the_data_version_moves_with_any_write_and_not_with_a_notebook_run(store):
    nb = Notebook(store)
    first = nb.data_version()
    assert first is not None
    nb.run("SELECT count(*) FROM comments")
    assert nb.data_version() == first

    nbk.save_notebook(store.cursor(), "a", [Cell("SELECT 1")])
    second = nb.data_version()
    assert second != first
    store.cursor().execute("CHECKPOINT")
    assert nb.data_version() not in (first, second)


def test_a_database_in_memory_has_no_data_version():
    with db.Store.open(":memory:") as opened:
        assert Notebook(opened).data_version() is None
    assert nbk.data_version("/no/such/file.duckdb") is None


def test_kept_results_are_shown_for_the_same_sql_until_the_version_moves(store):
    nb, kept = Notebook(store), KeptResults()
    result = nb.run("SELECT 1 AS one")
    kept.keep("c1", "SELECT 1 AS one", result, ("v", 1))
    kept.keep("c2", "SELECT x", nbk.NotebookQueryError("no x"), ("v", 1))

    assert kept.outcome("c1", "SELECT 1 AS one", ("v", 1)) is result
    assert kept.outcome("c1", "SELECT 2", ("v", 1)) is None  # the cell was edited since
    assert isinstance(kept.outcome("c2", "SELECT x", ("v", 1)), nbk.NotebookQueryError)
    assert kept.drop_stale(("v", 1)) == 0 and len(kept) == 2

    assert kept.outcome("c1", "SELECT 1 AS one", ("v", 2)) is None
    assert len(kept) == 0


def test_restamping_after_an_own_write_keeps_what_was_current():
    kept = KeptResults()
    kept.keep("now", "SELECT 1", nbk.NotebookQueryError("x"), ("v", 2))
    kept.keep("older", "SELECT 1", nbk.NotebookQueryError("x"), ("v", 1))

    kept.restamp(("v", 2), ("v", 3))
    assert kept.outcome("now", "SELECT 1", ("v", 3)) is not None
    assert kept.outcome("older", "SELECT 1", ("v", 3)) is None
