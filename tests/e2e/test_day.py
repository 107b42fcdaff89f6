"""A marketer's whole day in one browser, against the app started as `make run` starts it."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
import requests
from playwright.sync_api import expect

from desk.connect.credentials import CredentialStore
from tests.e2e.harness import app_environment, serve_app
from tests.world import WRITER, advertisers_by_access

# A demo world whose busiest ad of the Admin account can be answered (its identity has
# comment permission). The test checks this against the sandbox before relying on it.
SEED = "15"
SECRET_KEY = "day-in-the-life-" + "k" * 16
REPLY = "Thanks for asking! Restock lands Friday 👟"


@pytest.fixture
def app(tmp_path):
    env = app_environment(tmp_path, DESK_SANDBOX_SEED=SEED, DESK_SANDBOX_LATENCY_MS="40",
                          DESK_LOOKBACK_DAYS="400",
                          DESK_SECRET_KEY=SECRET_KEY)
    with serve_app(env, tmp_path / "server.log") as running:
        yield running


def truth(sandbox_url: str, advertiser_id: str | None = None) -> dict:
    query = {"advertiser_id": advertiser_id} if advertiser_id else {}
    answer = requests.get(f"{sandbox_url}/_sandbox/ground_truth", params=query, timeout=30)
    answer.raise_for_status()
    return answer.json()


def test_a_whole_day_connect_sync_read_reply_hide_chart_query_export(
        app, open_browser, tmp_path):
    first, outside = open_browser(app)
    html: list[str] = []  # every page's HTML along the way, for the token check

    # Connect: Home -> TikTok's (the sandbox's) consent page -> back with auth_code and state.
    connected = first.connect()
    assert urlsplit(connected.consent_url).path == "/portal/auth"
    callback = next(u for u in connected.visited if u.startswith(app.url))
    assert {"auth_code", "state"} <= set(parse_qs(urlsplit(callback).query))
    page = connected.page
    page.shows("Connected 2 ad account(s)")
    assert "auth_code" not in page.page.url  # the spent code is not left in the address
    html.append(page.page.content())
    world = truth(connected.sandbox_url)
    advertiser_id = advertisers_by_access(world)[WRITER]
    admin = next(a for a in world["advertisers"] if a["advertiser_id"] == advertiser_id)

    # Pick the Admin ad account: the address names it, and a reload keeps it.
    page.nav("Advertisers")
    page.choose("Work on", re.compile(re.escape(admin["name"])))
    expect(page.page).to_have_url(re.compile(rf"advertiser={advertiser_id}"))
    page.page.reload()
    page.settle()
    expect(page.page).to_have_url(re.compile(rf"advertiser={advertiser_id}"))
    expect(page.page.get_by_role("combobox", name="Work on")).to_have_value(
        re.compile(re.escape(admin["name"])))

    # Sync with visible progress.
    page.button("Sync now").click()
    page.shows(f"Syncing {admin['name']}")
    page.settle()
    page.shows("Sync finished")
    html.append(page.page.content())

    # The ads with their counts; the busiest first.
    mine = truth(connected.sandbox_url, advertiser_id)
    per_ad = Counter(c["ad_id"] for c in mine["comments"])
    busiest, busiest_count = per_ad.most_common(1)[0]
    ad = next(a for a in mine["ads"] if a["ad_id"] == busiest)
    identity = next(i for i in mine["identities"] if i["identity_id"] == ad["identity_id"])
    assert identity["is_auth_comment_manage_scope"], "choose a SEED whose busiest ad can reply"
    page.nav("Ads")
    metrics = page.page.locator('[data-testid="stMetric"]')
    # The demo's Upgraded Smart+ ads are ads too, though TikTok gives none of their comments.
    all_ads = len(mine["ads"]) + len(mine.get("smart_plus_ads", []))
    expect(metrics.nth(0)).to_contain_text(f"{all_ads:,}")
    expect(metrics.nth(1)).to_contain_text(f"{len(mine['comments']):,}")
    grid = page.page.locator('[data-testid="stDataFrame"]').first
    grid.click(position={"x": 18, "y": 35 + 17})  # the first row: the most comments
    page.page.wait_for_url(re.compile(rf"/Comments\?.*ad={busiest}"))
    page.settle()
    page.shows(f"{busiest_count:,} comments")
    html.append(page.page.content())

    # Filter and search, then answer a first-level comment inline.
    page.choose("Type", "Comments")
    target = next(
        c for c in sorted(mine["comments"], key=lambda c: -c["create_ts"])
        if c["ad_id"] == busiest and c["comment_type"] == "COMMENT"
        and c["comment_status"] == "PUBLIC" and len(c["content"]) >= 6
    )
    page.type_into("Text or user name contains", target["user_name"])
    expect(page.card(target["comment_id"])).to_be_visible()
    card = page.reply(target["comment_id"], REPLY)
    expect(card).to_contain_text("TikTok's ID for the reply")
    sent = truth(connected.sandbox_url, advertiser_id)
    posted = [c for c in sent["comments"] if c["content"] == REPLY]
    assert len(posted) == 1 and posted[0]["original_comment_id"] == target["comment_id"]
    expect(card).to_contain_text(posted[0]["comment_id"])

    # The reply is still there after another sync.
    page.nav("Advertisers")
    page.click("Sync now")
    page.shows("Sync finished")
    page.nav("Comments")
    card = page.card(target["comment_id"])
    expect(card).to_contain_text(REPLY)

    # Hide it: the status changes here and on TikTok.
    card.get_by_role("button", name="Hide", exact=True).click()
    page.settle()
    expect(card).to_contain_text("Hidden")
    expect(card.get_by_role("button", name="Unhide", exact=True)).to_be_visible()
    hidden = {c["comment_id"]: c for c in truth(connected.sandbox_url, advertiser_id)["comments"]}
    assert hidden[target["comment_id"]]["comment_status"] == "HIDDEN"
    html.append(page.page.content())

    # Insights draws the volume per ad.
    page.sidebar().get_by_role("button", name="Reset filters").click()
    page.settle()
    page.nav("Insights")
    chart = page.page.locator('[data-testid="stPlotlyChart"]').first
    expect(chart.locator(".main-svg").first).to_be_visible()
    assert chart.locator("g.point").count() > 0
    html.append(page.page.content())

    # The notebook runs a starter and shows its table and chart.
    page.nav("Notebook")
    page.sidebar().get_by_role("button", name="Comment volume per ad per day").click()
    page.settle()
    page.click("Run", exact=True)
    page.shows(re.compile(r"[\d,]+ rows · [\d,]+ ms"))
    expect(page.page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').first
           ).to_be_visible()
    expect(page.page.locator('[data-testid="stPlotlyChart"] .main-svg').first).to_be_visible()
    html.append(page.page.content())

    # Export every comment of the account as CSV and download it.
    page.nav("Export")
    page.sidebar().get_by_role("button", name="Reset filters").click()
    page.settle()
    page.click("Prepare file")
    with page.page.expect_download() as download:
        page.page.get_by_role("button", name=re.compile(r"Download .*\.csv")).click()
    exported = (tmp_path / "export.csv")
    download.value.save_as(exported)
    html.append(page.page.content())
    assert outside.urls == []

    # Afterwards: the file matches the database, and the token is nowhere it should not be.
    tokens = [c.access_token for c in
              CredentialStore(tmp_path / "credentials.json", SECRET_KEY).connections()]
    app.process.terminate()  # the app's own database handle goes with it
    app.process.wait(timeout=30)
    raw = exported.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    with duckdb.connect(str(tmp_path / "desk.duckdb"), read_only=True) as db:
        stored = dict(db.execute("SELECT comment_id, content FROM comments "
                                 "WHERE advertiser_id = ?", [advertiser_id]).fetchall())
        text_columns = db.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema = 'main'").fetchall()
        for token in tokens:
            for table, column in text_columns:
                found = db.execute(f'SELECT count(*) FROM "{table}" '
                                   f'WHERE position(? IN "{column}") > 0', [token]).fetchone()
                assert found == (0,), (table, column)
    assert {r["comment_id"] for r in rows} == set(stored)
    for row in rows:
        content = stored[row["comment_id"]] or ""
        assert row["content"] in (content, "'" + content), row["comment_id"]
        assert row["content"] == content or content[:1] in ("=", "+", "-", "@", "\t", "\r")
    assert tokens and all(len(t) >= 16 for t in tokens)
    db_bytes = (tmp_path / "desk.duckdb").read_bytes()
    creds_bytes = (tmp_path / "credentials.json").read_bytes()
    for token in tokens:
        assert all(token not in page_html for page_html in html)
        assert token not in app.log()
        assert token.encode() not in raw
        assert token.encode() not in db_bytes
        assert token.encode() not in creds_bytes  # encrypted at rest with DESK_SECRET_KEY
