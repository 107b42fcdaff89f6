"""A brand's own TikTok account in one browser: connect it beside an ad account, sync its
videos, read the conversation around a video, answer an organic comment and export both
kinds, against the app started as `make run` starts it."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.harness import app_environment, serve_app, stored_credentials

REPLY = "Glad you like it! More colours soon 🎨"


@pytest.fixture
def app(tmp_path):
    env = app_environment(tmp_path, DESK_SANDBOX_SEED="15", DESK_LOOKBACK_DAYS="400",
                          DESK_SANDBOX_VIDEOS_PER_ACCOUNT="4",
                          DESK_SANDBOX_ORGANIC_COMMENTS="400",
                          DESK_SANDBOX_NEW_ORGANIC_COMMENTS_PER_MINUTE="0")
    with serve_app(env, tmp_path / "server.log") as running:
        yield running


def organic_truth(sandbox_url: str, business_id: str | None = None) -> dict:
    query = {"business_id": business_id} if business_id else {}
    answer = requests.get(f"{sandbox_url}/_sandbox/ground_truth_accounts", params=query,
                          timeout=30)
    answer.raise_for_status()
    return answer.json()


def test_connect_sync_read_answer_and_export_a_tiktok_account(app, open_browser, tmp_path):
    first, outside = open_browser(app)
    connected = first.connect("Connect a TikTok account")
    assert urlsplit(connected.consent_url).path == "/v2/auth/authorize/"
    callback = next(u for u in connected.visited if u.startswith(app.url))
    assert {"code", "scopes", "state"} <= set(parse_qs(urlsplit(callback).query))
    page, sandbox_url = connected.page, connected.sandbox_url
    [conn] = stored_credentials(tmp_path).account_connections()
    business_id = conn.business_id
    world = organic_truth(sandbox_url, business_id)
    [account] = world["accounts"]
    page.shows(f"Connected the TikTok account {account['display_name']}")
    assert "code=" not in page.page.url
    expect(page.page.get_by_text("✅ working")).to_be_visible()

    # Videos: the account is the only one, so it is chosen; sync it with visible progress.
    page.nav("Videos")
    page.button("Sync now").click()
    page.shows("Syncing")
    page.settle()
    page.shows("Sync finished")
    page.shows(f"{len(world['comments']):,} organic comments from")
    metric = page.page.locator('[data-testid="stMetric"]').filter(has_text="Organic comments")
    expect(metric).to_contain_text(f"{len(world['comments']):,}")

    # Comments: the organic comments, marked, and one answered inline.
    page.nav("Comments")
    page.choose("Type", "Comments")
    target = next(c for c in sorted(world["comments"], key=lambda c: -c["create_ts"])
                  if c["comment_type"] == "COMMENT" and c["status"] == "PUBLIC"
                  and not c["owner"])
    page.type_into("Text or user name contains", target["username"])
    expect(page.card(target["comment_id"])).to_contain_text("Organic")
    card = page.reply(target["comment_id"], REPLY)
    expect(card).to_contain_text("TikTok's ID for the reply")
    after = organic_truth(sandbox_url, business_id)["comments"]
    posted = [c for c in after if c["text"] == REPLY]
    assert len(posted) == 1 and posted[0]["parent_comment_id"] == target["comment_id"]

    # Export: the organic comments with their source, and the reply just sent.
    page.nav("Export")
    page.click("Reset filters")  # the Comments page's filters came along
    page.click("Prepare file")
    with page.page.expect_download() as download:
        page.button("Download").first.click()
    rows = list(csv.DictReader(io.StringIO(
        download.value.path().read_text(encoding="utf-8-sig"))))
    assert {r["source"] for r in rows} == {"organic"}
    assert len(rows) == len(after)
    assert any(re.sub(r"^'", "", r["content"]) == REPLY for r in rows)
    assert outside.urls == []

    # The account's tokens are nowhere but the credentials file.
    html = page.page.content()
    page.nav("Home")
    html += page.page.content()
    db_bytes = (tmp_path / "desk.duckdb").read_bytes()
    exported = download.value.path().read_bytes()
    for token in (conn.access_token, conn.refresh_token):
        assert token and token not in html and token not in app.log()
        assert token.encode() not in db_bytes and token.encode() not in exported
