"""The Insights page's tabs in Chromium, against the app as `make run` serves it in demo mode:
after a sync each tab draws when opened (overview, sentiment and ads side by side, response
times, top terms, comments against delivery, the models learned from the team, the weekly
summary; each leaves a screenshot in test-results/e2e/ for the record), and the weekly
summary downloads as one HTML file that loads nothing from outside."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ARTEFACTS
from tests.e2e.harness import StreamlitPage, app_environment, serve_app
from tests.world import WRITER, advertisers_by_access

TABS = ("Overview", "Sentiment", "Response times", "Top terms", "Delivery",
        "Learned from the team", "Weekly summary")


@pytest.fixture
def app(tmp_path):
    env = app_environment(tmp_path, DESK_LOOKBACK_DAYS="200")
    with serve_app(env, tmp_path / "server.log") as running:
        yield running


class _References(HTMLParser):
    """The src and href attributes of a document's tags (script bodies are not tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value or "" for name, value in attrs if name in ("src", "href")]


def outside_references(document: str) -> list[str]:
    parser = _References()
    parser.feed(document)
    return [ref for ref in parser.found if re.match(r"(https?:)?//", ref)]


def open_tab(page: StreamlitPage, name: str) -> str:
    """Open one of the page's tabs (a run draws only the open one); the text it shows."""
    page.page.get_by_role("tab", name=name, exact=True).click()
    page.settle()
    expect(page.page.get_by_role("tab", name=name, exact=True)).to_have_attribute(
        "aria-selected", "true")
    return page.text()


def test_the_analytics_sections_are_drawn_after_a_sync(app, open_browser, tmp_path):
    first, outside = open_browser(app)
    connected = first.connect()
    page = connected.page
    world = requests.get(f"{connected.sandbox_url}/_sandbox/ground_truth",
                         params={"include": "advertisers"}, timeout=30).json()
    advertiser_id = advertisers_by_access(world)[WRITER]
    name = next(a["name"] for a in world["advertisers"] if a["advertiser_id"] == advertiser_id)
    page.nav("Advertisers")
    page.choose("Work on", re.compile(re.escape(name)))
    page.click("Sync now")
    page.shows("Sync finished")

    page.nav("Insights")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shown: dict[str, str] = {}
    for tab in TABS:
        shown[tab] = open_tab(page, tab)
        page.page.wait_for_timeout(500)  # charts finish drawing
        slug = tab.lower().replace(" ", "-")
        page.page.screenshot(path=str(ARTEFACTS / f"insights-{slug}.png"), full_page=True)
        expect(page.page.locator('[data-testid="stException"]')).to_have_count(0)
    assert "Median time to first response" in shown["Response times"]
    assert "No words to count yet" not in shown["Top terms"]  # the sync read their words
    assert "No delivery is stored" not in shown["Delivery"]  # the sync read the delivery
    assert "Impressions" in shown["Delivery"]
    assert "Waiting now" not in shown["Overview"], "only the open tab is drawn"

    open_tab(page, "Weekly summary")
    page.click("Prepare")
    with page.page.expect_download() as download:
        page.page.get_by_role("button", name=re.compile(r"^Download .*\.html")).click()
    saved = tmp_path / "weekly.html"
    download.value.save_as(saved)
    report = saved.read_text(encoding="utf-8")
    assert name in report and "<script" in report  # the charts are in the file
    assert not outside_references(report)  # nothing loads from outside
    assert not outside.urls
