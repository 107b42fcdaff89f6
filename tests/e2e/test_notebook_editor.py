"""The notebook's SQL editor in the browser, against the app as `make run` starts it: typing
with completion of views and columns, Ctrl+Enter to run, a note; nothing fetched from outside
(the editor's frontend is in its wheel). Leaves screenshots of the editor in test-results/e2e/
for the issue's closing note."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ARTEFACTS
from tests.e2e.harness import app_environment, serve_app
from tests.world import WRITER, advertisers_by_access

SLOW = 120_000  # ms


def editor(page, number: int = 0):
    """The SQL editor of the `number`th SQL cell: the component's frame."""
    return page.page.frame_locator('iframe[title="code_editor.code_editor"]').nth(number)


def completion_list(frame):
    return frame.locator(".ace_autocomplete")


def test_the_editor_completes_names_runs_on_ctrl_enter_and_loads_nothing_from_outside(
        tmp_path, open_browser):
    env = app_environment(tmp_path, DESK_SANDBOX_SEED="15", DESK_LOOKBACK_DAYS="400")
    with serve_app(env, tmp_path / "server.log") as app:
        page, outside = open_browser(app)
        connected = page.connect()
        page = connected.page
        page.shows("Connected 2 ad account(s)")
        world = requests.get(f"{connected.sandbox_url}/_sandbox/ground_truth", timeout=30).json()
        advertiser_id = advertisers_by_access(world)[WRITER]
        admin = next(a for a in world["advertisers"] if a["advertiser_id"] == advertiser_id)
        page.nav("Advertisers")
        page.choose("Work on", re.compile(re.escape(admin["name"])))
        page.button("Sync now").click()
        page.shows("Sync finished", timeout=SLOW)

        page.nav("Notebook")
        frame = editor(page)
        text = frame.locator("#REACT_ACE_EDITOR .ace_content")
        expect(text).to_contain_text("SELECT", timeout=SLOW)
        expect(text.locator(".ace_keyword").first).to_be_visible()  # highlighted SQL

        # Type a query; the completion list offers the view, then the column.
        text.click()
        page.page.keyboard.press("Control+A")
        page.page.keyboard.press("Delete")
        page.page.keyboard.type("SELECT ad_name, count(*) AS said FROM comme", delay=40)
        offered = completion_list(frame)
        expect(offered).to_be_visible()
        expect(offered).to_contain_text("comments")
        expect(offered).to_contain_text("view")
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.page.screenshot(path=str(ARTEFACTS / "notebook-editor-completion.png"))
        page.page.keyboard.press("Tab")  # take the first offer: the main view first
        page.page.keyboard.type(" WHERE sentim", delay=40)
        expect(offered).to_be_visible()
        expect(offered).to_contain_text("sentiment")
        page.page.keyboard.press("Tab")
        page.page.keyboard.type(" IS NOT NULL OR true GROUP BY ad_nam", delay=40)
        expect(offered).to_contain_text("ad_name")
        page.page.keyboard.press("Tab")
        page.page.keyboard.press("Escape")
        expect(text).to_contain_text(
            "SELECT ad_name, count(*) AS said FROM comments WHERE sentiment IS NOT NULL OR true "
            "GROUP BY ad_name")

        # Ctrl+Enter runs the cell: its table appears under it.
        page.page.keyboard.press("Control+Enter")
        page.settle()
        page.shows(re.compile(r"[\d,]+ rows · [\d,]+ ms"), timeout=SLOW)
        table = page.page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').first
        expect(table).to_be_visible()
        expect(table).to_contain_text("said")
        page.choose("Kind", "bar")
        expect(page.page.locator('[data-testid="stPlotlyChart"] .main-svg').first).to_be_visible()

        # Edited, then Run: leaving the editor hands the page its text first.
        text.click()
        page.page.keyboard.press("Control+End")
        page.page.keyboard.type(" ORDER BY said DESC LIMIT 3", delay=20)
        page.page.keyboard.press("Escape")
        page.click("Run", exact=True)
        page.shows(re.compile(r"^3 rows · [\d,]+ ms$"), timeout=SLOW)

        # A note: markdown, rendered, its link shown as typed.
        page.click("Add note")
        note = page.page.get_by_label("Note", exact=True)
        note.fill("## What we saw\n\nQuestions **doubled** on the spring ads "
                  "([brief](https://example.com/brief)).")
        note.press("Tab")
        page.settle()
        page.click("Done")
        expect(page.page.get_by_role("heading", name="What we saw")).to_be_visible()
        main = page.page.locator('[data-testid="stMain"]')
        expect(main.get_by_text("https://example.com/brief", exact=False)).to_be_visible()
        expect(main.get_by_role("link", name="brief")).to_have_count(0)

        page.page.set_viewport_size({"width": 1400, "height": 2100})  # the whole notebook
        page.page.get_by_role("heading", name="Notebook", exact=True).scroll_into_view_if_needed()
        page.settle()
        page.page.screenshot(path=str(ARTEFACTS / "notebook-editor.png"))
        assert outside.urls == []
