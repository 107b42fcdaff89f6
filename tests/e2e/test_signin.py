"""Sign-in per person through a real OpenID Connect provider (Node's oidc-provider, started
here on 127.0.0.1 with its users and its one client), in Chromium, against the app served as
`make run` serves it with an [auth] section in its secrets file.

An admin connects and syncs the demo ad account; a responder answers a comment and the audit
log names them; a viewer reads but cannot reply, not even by replaying the widget messages of
the responder's page on their own connection; an admin's role change applies at the person's
next action; forged and expired sign-in cookies are refused; and nothing of an ID token, the
cookie secret or the client secret reaches a page, the server's log, an export or the
database.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from playwright.sync_api import expect
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.app_bench import Browser
from tests.e2e.harness import App, StreamlitPage, app_environment, serve_app
from tests.e2e.identity import auth_secrets, cookie_header, identity_provider, sign_in
from tests.world import WRITER, advertisers_by_access

BOSS, JO, VI = "boss@brand.example", "jo@brand.example", "vi@agency.example"
USERS = {"boss": {"email": BOSS, "name": "Boss"}, "jo": {"email": JO, "name": "Jo"},
         "vi": {"email": VI, "name": "Vi"}}
CLIENT_ID = "comment-desk"
CLIENT_SECRET = "client-" + secrets.token_urlsafe(24)
COOKIE_SECRET = "cookie-" + secrets.token_urlsafe(32)
REPLY = "Thanks for asking, Jo from the brand here!"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("signin")


@pytest.fixture(scope="module")
def provider(workdir) -> Iterator[tuple[str, int]]:
    """oidc-provider on a free loopback port; yields its issuer URL and the app's port."""
    with identity_provider(workdir, USERS, CLIENT_ID, CLIENT_SECRET) as started:
        yield started


@pytest.fixture(scope="module")
def app(provider, workdir) -> Iterator[App]:
    issuer, port = provider
    secrets_file = auth_secrets(workdir, issuer, port, CLIENT_ID, CLIENT_SECRET, COOKIE_SECRET)
    env = app_environment(workdir, DESK_ADMINS=BOSS, DESK_RESPONDERS=JO, DESK_VIEWERS=VI,
                          DESK_LOOKBACK_DAYS="200")
    with serve_app(env, workdir / "server.log", port=port,
                   streamlit_args=f"--secrets.files={secrets_file}") as running:
        yield running


def minted(app: App, email: str, secret: str, age_days: float = 0) -> str:
    """A sign-in cookie for `email`, signed with `secret`, made `age_days` ago."""
    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age_days * 86_400)

    payload = json.dumps({"origin": f"http://127.0.0.1:{app.port}", "is_logged_in": True,
                          "email": email, "sub": "boss", "name": "Boss"})
    value = URLSafeTimedSerializer(secret, salt="_streamlit_user", signer=Then).dumps(payload)
    return f"_streamlit_user={value}"


def ws_visit(app: App, cookie: str, page: str = "", query: str = ""):
    """One run of a page over the app's WebSocket, as a browser with `cookie` would ask (with
    the XSRF cookie the app hands out first, as a browser has it)."""
    if "_streamlit_xsrf=" not in cookie:
        xsrf = requests.get(f"{app.url}_stcore/health", timeout=30).cookies["_streamlit_xsrf"]
        cookie = f"{cookie}; _streamlit_xsrf={xsrf}"
    with Browser(app.port, cookie=cookie, origin=f"http://127.0.0.1:{app.port}") as tab:
        return tab.open(page, query)


def shown_text(run) -> str:
    return " ".join(str(e) for e in run.elements)


def tables(run) -> list[pd.DataFrame]:
    """The dataframes a page run sent, read from their Arrow data."""
    return [pa.ipc.open_stream(d.arrow_data.data).read_all().to_pandas()
            for d in run.find("dataframe")]


def who_answered(app: App, cookie: str, advertiser_id: str) -> dict[str, int]:
    """Insights' "Who answered": replies per person."""
    [people] = [t for t in tables(ws_visit(app, cookie, "Insights",
                                           f"advertiser={advertiser_id}"))
                if "person" in t.columns]
    return dict(zip(people["person"], people["replies"], strict=True))


def sandbox_posts(sandbox_url: str) -> int:
    answer = requests.get(f"{sandbox_url}/_sandbox/ground_truth",
                          params={"include": "stats"}, timeout=30)
    answer.raise_for_status()
    return answer.json()["stats"]["by_path"].get("/open_api/v1.3/comment/post/", 0)


def admin_connects_and_syncs(app, browser, state):
    """An admin signs in through the provider, connects the demo ad account and syncs it."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = StreamlitPage(context.new_page(), app)
    sign_in(page, "boss", USERS["boss"]["email"])
    connected = page.connect()
    back = connected.page
    back.shows("Connected")
    world = requests.get(f"{connected.sandbox_url}/_sandbox/ground_truth",
                         params={"include": "advertisers"}, timeout=30).json()
    advertiser_id = advertisers_by_access(world)[WRITER]  # one this connection may answer on
    name = next(a["name"] for a in world["advertisers"] if a["advertiser_id"] == advertiser_id)
    back.nav("Advertisers")
    back.choose("Work on", re.compile(re.escape(name)))
    back.click("Sync now")
    back.shows("Sync finished")
    state.update(boss=back, sandbox_url=connected.sandbox_url, advertiser=advertiser_id)


def responder_replies(app, browser, state):
    """A responder's reply lands once at TikTok, and the audit log names them."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = StreamlitPage(context.new_page(), app)
    sign_in(page, "jo", USERS["jo"]["email"])
    page.goto(f"Comments?advertiser={state['advertiser']}")
    card = page.page.locator('[class*="st-key-comments_card_"]').filter(
        has=page.page.get_by_role("button", name="Reply")).first
    comment_id = re.search(r"st-key-comments_card_(\d+)", card.get_attribute("class"))[1]
    before = sandbox_posts(state["sandbox_url"])
    page.reply(comment_id, REPLY)
    page.shows("The reply is posted on TikTok")
    assert sandbox_posts(state["sandbox_url"]) == before + 1
    assert who_answered(app, cookie_header(state["boss"]), state["advertiser"]) == {JO: 1}
    state.update(jo=page, comment_id=comment_id)


def viewer_replays_the_reply(app, browser, state):
    """A viewer gets no buttons, and replaying the responder's widget messages on their own
    connection sends nothing."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = StreamlitPage(context.new_page(), app)
    sign_in(page, "vi", USERS["vi"]["email"])
    page.goto(f"Comments?advertiser={state['advertiser']}")
    page.shows("comments")
    expect(page.page.get_by_role("button", name="Reply")).to_have_count(0)
    expect(page.page.get_by_role("button", name=re.compile("^Hide"))).to_have_count(0)

    # The widgets a responder's page has: the Reply button of a comment and, once open, its
    # reply box and Send reply button.
    query, origin = f"advertiser={state['advertiser']}", f"http://127.0.0.1:{app.port}"
    with Browser(app.port, cookie=cookie_header(state["jo"]), origin=origin) as jo:
        run = jo.open("Comments", query)
        [reply] = [b for b in run.find("button") if b.id.endswith("comments_reply_open_"
                                                                  + state["comment_id"])]
        opened = jo.open("Comments", query, [WidgetState(id=reply.id, trigger_value=True)])
        [box] = [t for t in opened.find("text_area") if "reply_text" in t.id]
        [send] = [b for b in opened.find("button") if "reply_send" in b.id]
    before = sandbox_posts(state["sandbox_url"])
    with Browser(app.port, cookie=cookie_header(page), origin=origin) as vi:
        vi.open("Comments", query)
        replayed = [vi.open("Comments", query, widgets) for widgets in (
            [WidgetState(id=reply.id, trigger_value=True)],
            [WidgetState(id=box.id, string_value="replayed by a viewer"),
             WidgetState(id=send.id, trigger_value=True)],
        )]
    assert all(r.errors == [] for r in replayed)
    assert sandbox_posts(state["sandbox_url"]) == before
    assert VI not in who_answered(app, cookie_header(state["boss"]), state["advertiser"])
    state.update(vi=page)


def admin_changes_a_role(app, state):
    """The responder made a viewer: their very next action finds no Reply."""
    boss, jo = state["boss"], state["jo"]
    jo.goto(f"Comments?advertiser={state['advertiser']}")
    expect(jo.page.get_by_role("button", name="Reply").first).to_be_visible()

    boss.goto("Settings")
    boss.page.get_by_label("E-mail address or @domain").fill(JO)
    boss.choose("Role", "viewer")
    boss.click("Save")
    boss.shows(f"{JO} is now a viewer")

    jo.page.get_by_role("button", name="Reply").first.click()  # their very next action
    jo.settle()
    expect(jo.page.get_by_role("button", name="Reply")).to_have_count(0)
    expect(jo.page.get_by_label("Your reply")).to_have_count(0)


def test_a_forged_or_expired_sign_in_cookie_is_refused(app):
    good = ws_visit(app, minted(app, BOSS, COOKIE_SECRET), "Settings")
    forged = ws_visit(app, minted(app, BOSS, "not-the-cookie-secret"), "Settings")
    expired = ws_visit(app, minted(app, BOSS, COOKIE_SECRET, age_days=40), "Settings")

    assert "People and roles" in shown_text(good)  # the signature is what is checked
    for refused in (forged, expired):
        assert "People and roles" not in shown_text(refused)
        assert [b.label for b in refused.find("button")] == ["Sign in"]


def nothing_secret_is_anywhere(app, state, workdir, tmp_path):
    """No ID token, cookie secret or client secret in any page, the server's log, an export
    or the database."""
    pages = []
    for page in (state["boss"], state["jo"], state["vi"]):
        for name in ("", "Comments", "Insights", "Settings", "Notebook", "Export"):
            page.goto(f"{name}?advertiser={state['advertiser']}")
            pages.append(page.page.content())
    boss = state["boss"]
    boss.goto(f"Export?advertiser={state['advertiser']}")
    boss.click("Prepare file")
    with boss.page.expect_download() as download:
        boss.page.get_by_role("button", name=re.compile(r"Download .*\.csv")).click()
    export = tmp_path / "export.csv"
    download.value.save_as(export)

    jwt = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
    database = b"".join(p.read_bytes() for p in workdir.glob("desk.duckdb*"))
    for where, text in (("pages", "\n".join(pages)), ("server log", app.log()),
                        ("export", export.read_text(encoding="utf-8")),
                        ("database", database.decode("latin-1"))):
        assert CLIENT_SECRET not in text and COOKIE_SECRET not in text, where
        assert not jwt.search(text), f"something like an ID token is in the {where}"


def test_people_sign_in_and_act_within_their_roles_and_the_log_names_them(app, browser,
                                                                         workdir, tmp_path):
    state: dict = {}
    admin_connects_and_syncs(app, browser, state)
    responder_replies(app, browser, state)
    viewer_replays_the_reply(app, browser, state)
    admin_changes_a_role(app, state)
    nothing_secret_is_anywhere(app, state, workdir, tmp_path)
