"""A moderation rule end to end in the browser, against the app as `make run` starts it: write
it, dry-run it, turn it on with the backlog, see TikTok hide exactly what it matched, and undo
the run, which makes exactly those comments public again."""

from __future__ import annotations

import re
import time

import requests
from playwright.sync_api import expect

from desk.moderation.words import has_link
from tests.e2e.harness import app_environment, serve_app
from tests.world import WRITER, advertisers_by_access

RULE = """[[rule]]
name = "links"
has_link = true
action = "hide"
"""
SLOW = 120_000  # ms: a backlog run waits for TikTok's answers


def truth(sandbox_url: str, advertiser_id: str | None = None) -> dict:
    query = {"advertiser_id": advertiser_id} if advertiser_id else {}
    answer = requests.get(f"{sandbox_url}/_sandbox/ground_truth", params=query, timeout=30)
    answer.raise_for_status()
    return answer.json()


def statuses(sandbox_url: str, advertiser_id: str) -> dict[str, str]:
    return {c["comment_id"]: c["comment_status"]
            for c in truth(sandbox_url, advertiser_id)["comments"]}


def settled(sandbox_url: str, advertiser_id: str, hidden: set[str],
            seconds: float = SLOW / 1000) -> dict[str, str]:
    """The comments' statuses once exactly `hidden` are hidden (or as they stand after
    `seconds`): the run goes on in the background after the click."""
    deadline = time.monotonic() + seconds
    while True:
        now = statuses(sandbox_url, advertiser_id)
        if {i for i, s in now.items() if s == "HIDDEN"} == hidden or time.monotonic() > deadline:
            return now
        time.sleep(0.5)


def metric(page, label: str) -> int:
    box = page.page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return int(box.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


def test_a_rule_is_dry_run_applied_and_undone_in_the_browser(tmp_path, open_browser):
    env = app_environment(tmp_path, DESK_SANDBOX_SEED="15", DESK_LOOKBACK_DAYS="400")
    with serve_app(env, tmp_path / "server.log") as app:
        page, _ = open_browser(app)
        connected = page.connect()
        page = connected.page
        page.shows("Connected 2 ad account(s)")
        world = truth(connected.sandbox_url)
        advertiser_id = advertisers_by_access(world)[WRITER]
        admin = next(a for a in world["advertisers"] if a["advertiser_id"] == advertiser_id)
        page.nav("Advertisers")
        page.choose("Work on", re.compile(re.escape(admin["name"])))
        page.button("Sync now").click()
        page.shows("Sync finished", timeout=SLOW)

        before = truth(connected.sandbox_url, advertiser_id)["comments"]
        linked = {c["comment_id"] for c in before
                  if has_link(c["content"]) and c["comment_status"] == "PUBLIC"
                  and not c.get("hit_blockedword")}
        assert linked, "the demo world has spam comments with links"

        # Write the rule and save it.
        page.nav("Rules")
        editor = page.page.get_by_role("textbox", name="The rule (TOML)")
        editor.fill(RULE)
        editor.press("Tab")
        page.settle()
        page.click("Save")
        page.shows('"links" saved as version 1')

        # Dry run: it matches what has a link, and changes nothing at TikTok.
        expect(page.page.get_by_role("combobox", name="Account")).to_have_value(
            re.compile(re.escape(admin["name"])))  # the account the session works on
        page.click("Dry run")
        page.shows("Would act on", timeout=SLOW)
        page.settle()
        assert metric(page, "Would act on") == len(linked)
        assert metric(page, "Matched") >= len(linked)
        expect(page.page.locator('[data-testid="stDataFrame"]').nth(1)).to_be_visible()
        assert statuses(connected.sandbox_url, advertiser_id) == {
            c["comment_id"]: c["comment_status"] for c in before}

        # Turn on with the backlog: TikTok hides exactly the matched comments.
        hidden_before = {c["comment_id"] for c in before if c["comment_status"] == "HIDDEN"}
        page.click("Turn on and apply to the backlog")
        page.shows(re.compile(rf"Run \d+ acted on {len(linked):,} of "), timeout=SLOW)
        after = settled(connected.sandbox_url, advertiser_id, linked | hidden_before)
        assert {i for i, s in after.items() if s == "HIDDEN"} == linked | hidden_before

        # Undo the run: exactly those comments are public again.
        page.click("Undo this run")
        restored = settled(connected.sandbox_url, advertiser_id, hidden_before)
        assert restored == {c["comment_id"]: c["comment_status"] for c in before}
        page.shows(re.compile(rf"Run \d+ gave back {len(linked):,} of "), timeout=SLOW)
