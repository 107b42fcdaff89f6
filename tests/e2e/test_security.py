"""Attacks a browser can make: forged and replayed OAuth callbacks, hostile comment text,
hostile CSV cells, and two people using the app at once."""

from __future__ import annotations

import csv
import io
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from desk.connect import state as oauth_state
from desk.connect.keys import key_in
from tests.e2e.harness import (
    app_environment,
    free_port,
    real_mode_environment,
    serve_app,
    stored_credentials,
)
from tiktok_sandbox import SandboxConfig, start_sandbox

HOSTILE = ("<img src=x onerror=alert(1)>", "![t](http://example.invalid/p.png)",
           "[click](javascript:alert(1))")
FORMULA = '=HYPERLINK("http://example.invalid","x")'
# A demo world whose Admin account holds every hostile comment of the corpus.
SEED = "15"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("security")


@pytest.fixture(scope="module")
def app(workdir):
    env = app_environment(workdir, DESK_SANDBOX_SEED=SEED, DESK_LOOKBACK_DAYS="400")
    with serve_app(env, workdir / "server.log") as running:
        yield running


def stored_connections(workdir) -> list:
    return stored_credentials(workdir).connections()


@pytest.fixture(scope="module")
def connected(app, browser, workdir):
    """One real connection, made through the consent page; yields its callback address."""
    from tests.e2e.harness import StreamlitPage

    context = browser.new_context()
    try:
        done = StreamlitPage(context.new_page(), app).connect()
        done.page.shows("Connected 2 ad account(s)")
        callback = next(u for u in done.visited if "auth_code=" in u)
        yield callback
    finally:
        context.close()


def callback_error(page, query: str) -> str:
    page.goto("?" + query)
    alert = page.page.locator('[data-testid="stAlertContentError"]').first
    expect(alert).to_be_visible()
    assert "auth_code" not in page.page.url and "state=" not in page.page.url
    return alert.inner_text()


def test_a_forged_callback_shows_an_error_and_stores_no_token(app, open_browser, workdir):
    before = stored_connections(workdir)
    page, _ = open_browser(app)

    message = callback_error(page, "auth_code=x&state=forged")

    assert "this app did not issue" in message and "Click Connect" in message
    assert stored_connections(workdir) == before


def test_a_callback_without_state_is_refused(app, open_browser, workdir):
    before = stored_connections(workdir)
    page, _ = open_browser(app)

    message = callback_error(page, "auth_code=x")

    assert "did not carry the check value" in message
    assert stored_connections(workdir) == before


def test_an_expired_state_is_refused(app, open_browser, workdir):
    secret = key_in(workdir / "keys" / "secret.key")  # the key the app made and signs with
    old = oauth_state.new_state(secret, now=time.time() - 11 * 60)
    before = stored_connections(workdir)
    page, _ = open_browser(app)

    message = callback_error(page, f"auth_code=x&state={old}")

    assert "longer than 10 minutes" in message
    assert stored_connections(workdir) == before


def test_a_replayed_callback_is_refused(app, connected, open_browser, workdir):
    before = stored_connections(workdir)
    page, _ = open_browser(app)

    message = callback_error(page, urlsplit(connected).query)

    assert "already used" in message
    assert stored_connections(workdir) == before


def test_the_redirect_uri_comes_from_the_settings_never_from_the_request(
        tmp_path, open_browser):
    port = free_port()
    with start_sandbox(SandboxConfig(port=0, advertisers=1, ads=2, comments=10)) as sandbox:
        env = real_mode_environment(tmp_path, sandbox.base_url, port)
        with serve_app(env, tmp_path / "server.log", port=port) as app:
            page, _ = open_browser(app)
            page.page.goto(f"http://localhost:{port}/")  # another name for this server
            page.settle()
            link = page.page.get_by_role("link", name="Connect a TikTok ad account")
            query = parse_qs(urlsplit(link.get_attribute("href")).query)
    assert query["redirect_uri"] == [f"http://127.0.0.1:{port}/"]


def test_hostile_comment_text_shows_as_literal_text_and_runs_nothing(
        app, connected, open_browser):
    page, outside = open_browser(app)
    dialogs: list[str] = []
    page.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("Advertisers")
    page.choose("Work on", re.compile("Northwind"))
    page.click("Sync now")
    page.shows("Sync finished")
    page.nav("Comments")
    main = page.page.locator('[data-testid="stMain"]')
    for text in HOSTILE:
        page.type_into("Text or user name contains", text)
        expect(main.get_by_text(text, exact=True).first).to_be_visible()
    page.type_into("Text or user name contains", "")
    page.choose("Per page", "50")

    assert main.locator('img[src="x"], img[src*="example.invalid"]').count() == 0
    assert main.locator('a[href^="javascript:"], a[href*="example.invalid"]').count() == 0
    assert dialogs == []
    assert outside.urls == []


def test_a_csv_of_hostile_comments_opens_safely(app, connected, open_browser, tmp_path):
    page, _ = open_browser(app)
    page.goto("Advertisers")
    page.choose("Work on", re.compile("Northwind"))
    page.click("Sync now")
    page.shows("Sync finished")
    page.nav("Export")
    page.click("Prepare file")
    with page.page.expect_download() as download:
        page.page.get_by_role("button", name=re.compile(r"Download .*\.csv")).click()
    path = tmp_path / "comments.csv"
    download.value.save_as(path)

    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    contents = [row["content"] for row in rows]
    for text in HOSTILE:
        assert text in contents  # kept exactly, quotes and brackets included
    assert "'" + FORMULA in contents and FORMULA not in contents
    dangerous = [c for c in contents if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert dangerous == []


def test_two_people_keep_their_own_advertiser_and_filters(app, connected, open_browser):
    anna, _ = open_browser(app)
    ben, _ = open_browser(app)
    anna.goto("Advertisers")
    anna.choose("Work on", re.compile("Northwind"))
    ben.goto("Advertisers")
    ben.choose("Work on", re.compile("Kaffeehaus"))
    anna.nav("Comments")
    anna.type_into("Text or user name contains", "sneaker")

    ben.nav("Comments")
    anna.page.reload()
    anna.settle()

    expect(ben.sidebar()).to_contain_text("Kaffeehaus")
    expect(ben.sidebar()).not_to_contain_text("Northwind")
    expect(ben.page.get_by_label("Text or user name contains", exact=True)).to_have_value("")
    expect(anna.sidebar()).to_contain_text("Northwind")
    assert "advertiser=" in anna.page.url and "advertiser=" in ben.page.url
    anna_id = parse_qs(urlsplit(anna.page.url).query)["advertiser"]
    ben_id = parse_qs(urlsplit(ben.page.url).query)["advertiser"]
    assert anna_id != ben_id
