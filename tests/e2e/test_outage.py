"""When TikTok cannot be reached the app keeps serving what it has, says what is wrong, and
recovers by itself when TikTok is back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import Outage, free_port, real_mode_environment, serve_app
from tiktok_sandbox import SandboxConfig, start_sandbox

UNREACHABLE = "could not reach TikTok"


@pytest.fixture
def outage():
    config = SandboxConfig(port=0, seed=4, advertisers=1, ads=6, comments=300,
                           new_comments_per_minute=0)
    with start_sandbox(config) as sandbox:
        relay = Outage(int(sandbox.base_url.rsplit(":", 1)[1]))
        relay.up()
        try:
            yield relay
        finally:
            relay.down()


def test_the_app_keeps_serving_while_tiktok_is_down_and_recovers(outage, tmp_path, open_browser):
    port = free_port()
    env = real_mode_environment(tmp_path, outage.url, port, DESK_LOOKBACK_DAYS="400")
    with serve_app(env, tmp_path / "server.log", port=port) as app:
        page, _ = open_browser(app)
        done = page.connect()
        page = done.page
        page.shows("Connected 1 ad account(s)")
        page.nav("Advertisers")
        page.click("Sync now")
        page.shows("Sync finished")
        page.nav("Comments")
        count = page.page.get_by_text(re.compile(r"^[\d,]+ comments$")).first.inner_text()

        outage.down()
        page.nav("Advertisers")
        page.click("Sync now")
        page.shows("Sync stopped")
        expect(page.page.locator('[data-testid="stAlertContentError"]').first
               ).to_contain_text(UNREACHABLE)
        page.nav("Comments")  # what is stored is still there
        page.shows(count)
        page.nav("Home")
        page.shows("Connected ad accounts")

        outage.up()
        page.nav("Advertisers")
        page.click("Sync now")
        page.shows("Sync finished")
        assert app.alive()
