"""Two responders signed in through a real OpenID Connect provider work the same inbox in
Chromium, against the app as `make run` serves it (demo mode, its sandbox in the app's
process), with a real SMTP server and a webhook receiver on 127.0.0.1 for the alerts.

An admin connects and syncs, saves a reply template, sets a response-time target and the
alert channels. Jo takes the first comment; Kim, opening it, is told Jo holds it and her
reply asks first. Jo answers with the saved reply's shortcut from the keyboard and it lands
once at the sandbox. Kim marks one done and snoozes another; when the sandbox's commenter
writes again under the done one, the next sync puts it back in the inbox. Insights' response
time for Jo is the one the sandbox's own timestamps give, and the backlog alert reaches both
the mailbox and the webhook with a link into the inbox.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import expect

from tests.alert_servers import SmtpReceiver, WebhookReceiver
from tests.e2e.conftest import ARTEFACTS
from tests.e2e.harness import App, StreamlitPage, app_environment, serve_app
from tests.e2e.identity import auth_secrets, cookie_header, identity_provider, sign_in
from tests.e2e.test_signin import admin_connects_and_syncs, sandbox_posts, tables, ws_visit

BOSS, JO, KIM = "boss@brand.example", "jo@brand.example", "kim@brand.example"
USERS = {"boss": {"email": BOSS, "name": "Boss"}, "jo": {"email": JO, "name": "Jo"},
         "kim": {"email": KIM, "name": "Kim"}}
CLIENT_ID = "comment-desk"
CLIENT_SECRET = "client-" + secrets.token_urlsafe(24)
COOKIE_SECRET = "cookie-" + secrets.token_urlsafe(32)
TEMPLATE = "Thanks {user_name}, we're on it!"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("inbox")


@pytest.fixture(scope="module")
def mailbox() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def app(workdir, mailbox) -> Iterator[App]:
    with identity_provider(workdir, USERS, CLIENT_ID, CLIENT_SECRET) as (issuer, port):
        secrets_file = auth_secrets(workdir, issuer, port, CLIENT_ID, CLIENT_SECRET,
                                    COOKIE_SECRET)
        env = app_environment(
            workdir, DESK_ADMINS=BOSS, DESK_RESPONDERS=f"{JO},{KIM}", DESK_LOOKBACK_DAYS="200",
            DESK_SMTP_HOST=mailbox.host, DESK_SMTP_PORT=str(mailbox.port),
            DESK_SMTP_FROM="desk@brand.example", DESK_SMTP_STARTTLS="false",
            DESK_PUBLIC_URL=f"http://127.0.0.1:{port}")
        with serve_app(env, workdir / "server.log", port=port,
                       streamlit_args=f"--secrets.files={secrets_file}") as running:
            yield running


def signed_in(app: App, browser, login: str) -> StreamlitPage:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = StreamlitPage(context.new_page(), app)
    sign_in(page, login, USERS[login]["email"])
    return page


def in_hand(page: StreamlitPage) -> str:
    """The id of the comment in hand on the Inbox page."""
    card = page.page.locator('[class*="st-key-inbox_card_"]').first
    expect(card).to_be_visible()
    return re.search(r"st-key-inbox_card_(\d+)", card.get_attribute("class"))[1]


def press(page: StreamlitPage, key: str) -> None:
    """A key pressed with no text field holding the cursor."""
    page.page.locator("h1#inbox").click()
    page.page.keyboard.press(key)
    page.settle()


def next_answerable(page: StreamlitPage) -> str:
    """J until the comment in hand can be answered (some ads' identities never gave comment
    management, so their comments offer no Reply); returns its id."""
    for _ in range(30):
        current = in_hand(page)
        if page.page.locator(f".st-key-inbox_reply_open_{current}").count():
            return current
        press(page, "j")
        expect(page.page.locator(f".st-key-inbox_card_{current}")).to_have_count(0)
    raise AssertionError("no comment on the inbox's first page can be answered")


def bring_in_hand(page: StreamlitPage, comment_id: str) -> None:
    """J until `comment_id` is in hand."""
    for _ in range(30):
        current = in_hand(page)
        if current == comment_id:
            return
        press(page, "j")
        expect(page.page.locator(f".st-key-inbox_card_{current}")).to_have_count(0)
    raise AssertionError(f"{comment_id} is not on the inbox's first page")


def count(page: StreamlitPage, label: str) -> str:
    """One of the Inbox's counts in the sidebar (Open, Mine, Snoozed, Done)."""
    metric = page.sidebar().locator('[data-testid="stMetric"]').filter(
        has=page.page.get_by_text(label, exact=True))
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def truth(state) -> dict:
    return requests.get(f"{state['sandbox_url']}/_sandbox/ground_truth",
                        params={"advertiser_id": state["advertiser"], "include": "comments"},
                        timeout=30).json()


def admin_sets_up(state) -> None:
    """A saved reply with a shortcut, a one-minute target, a webhook and a mailbox."""
    boss = state["boss"]
    boss.goto(f"Saved_replies?advertiser={state['advertiser']}")
    boss.page.get_by_role("textbox", name="Name", exact=True).fill("Thanks")
    boss.page.get_by_role("textbox", name="Shortcut (optional)").fill("thx")
    boss.page.get_by_role("textbox", name="Text", exact=True).fill(TEMPLATE)
    boss.click("Save", exact=True)
    boss.shows("Saved reply “Thanks” saved.")

    boss.goto(f"Settings?advertiser={state['advertiser']}")
    boss.choose("Unit", "minutes")
    boss.page.get_by_role("spinbutton", name="Answered within").fill("1")
    boss.click("Save target")
    boss.shows("answered within 1 min")
    for kind, target in (("Webhook (Slack, Teams)", state["webhook"]),
                         ("E-mail", "ops@brand.example")):
        boss.choose("New channel", kind)
        boss.page.get_by_role("textbox", name=re.compile("^Incoming-webhook URL")).fill(target)
        boss.click("Add channel")
        boss.shows("Alerts now go to")


def claims_are_respected(state) -> None:
    """Jo takes the first comment; Kim sees who holds it, and her reply asks first."""
    jo, kim = state["jo"], state["kim"]
    jo.goto(f"Inbox?advertiser={state['advertiser']}")
    held = next_answerable(jo)
    jo.click("Take")
    jo.shows("You hold this comment.")

    kim.goto(f"Inbox?advertiser={state['advertiser']}")
    bring_in_hand(kim, held)
    kim.shows(f"{JO} holds this comment")
    card = kim.page.locator(f".st-key-inbox_card_{held}")
    kim.page.locator(f".st-key-inbox_reply_open_{held} button").click()
    kim.settle()
    box = card.get_by_label("Your reply")
    box.fill("Kim here, happy to help!")
    box.press("Tab")
    kim.settle()
    before = sandbox_posts(state["sandbox_url"])
    kim.page.locator(f".st-key-inbox_reply_send_{held} button").click()
    kim.settle()
    kim.shows("may be answering it")
    kim.click("Don't send")
    assert sandbox_posts(state["sandbox_url"]) == before
    state["held"] = held


def saved_reply_by_keyboard(state) -> None:
    """Jo: T opens the reply box, /thx is the saved reply, Ctrl+Enter sends it: once."""
    jo, held = state["jo"], state["held"]
    jo.goto(f"Inbox?advertiser={state['advertiser']}")
    bring_in_hand(jo, held)
    before = sandbox_posts(state["sandbox_url"])
    press(jo, "t")
    box = jo.page.locator(f".st-key-inbox_card_{held}").get_by_label("Your reply")
    box.fill("/thx")
    box.press("Tab")
    jo.settle()
    jo.page.keyboard.press("Control+Enter")
    jo.settle()
    jo.shows("The reply is posted on TikTok")
    assert sandbox_posts(state["sandbox_url"]) == before + 1
    comments = truth(state)["comments"]
    parent = next(c for c in comments if c["comment_id"] == held)
    answers = [c for c in comments if c.get("original_comment_id") == held
               and c["content"] == TEMPLATE.replace("{user_name}", parent["user_name"])]
    assert len(answers) == 1
    state["answer"], state["parent"] = answers[0], parent


def done_snooze_and_reopen(state) -> None:
    """Kim: D marks a comment done, another is snoozed; the commenter writing again under
    the done one puts it back after the next sync."""
    kim, advertiser = state["kim"], state["advertiser"]
    kim.goto(f"Inbox?advertiser={advertiser}")
    done = next_answerable(kim)  # its commenter will write again: an ad that can be read
    assert done != state["held"]  # answered: out of the inbox
    press(kim, "d")
    kim.shows("1 comment marked done")
    snoozed = in_hand(kim)
    assert snoozed != done
    kim.choose("Snooze for", "1 hour")
    kim.click("Snooze", exact=True)
    kim.shows("1 comment snoozed")
    assert in_hand(kim) not in (done, snoozed)
    assert (count(kim, "Done"), count(kim, "Snoozed")) == ("1", "1")
    waiting = int(count(kim, "Open").replace(",", ""))

    answer = requests.post(f"{state['sandbox_url']}/_sandbox/add_reply",
                           params={"comment_id": done, "text": "Hello? Any news?"}, timeout=30)
    answer.raise_for_status()
    boss = state["boss"]
    boss.nav("Advertisers")
    boss.click("Sync now")
    boss.shows("Sync finished")
    kim.goto(f"Inbox?advertiser={advertiser}")
    expect(kim.sidebar()).to_contain_text("Done")
    assert count(kim, "Done") == "0" and count(kim, "Snoozed") == "1"
    assert int(count(kim, "Open").replace(",", "")) == waiting + 1  # back in the queue


def response_time_matches_the_sandbox(state) -> None:
    """Insights' time to first response for Jo: her reply's time minus the comment's, as
    the sandbox stamped them."""
    minutes = (state["answer"]["create_ts"] - state["parent"]["create_ts"]) / 60
    query = urlencode({"advertiser": state["advertiser"], "tab": "Response times"})
    [people] = [t for t in tables(ws_visit(state["boss"].app, cookie_header(state["boss"]),
                                           "Insights", query))
                if "answered_by" in t.columns and "median_minutes" in t.columns]
    row = people.set_index("answered_by").loc[JO]
    assert int(row["answered"]) == 1
    assert float(row["median_minutes"]) == pytest.approx(minutes, abs=1e-6)
    assert float(row["p90_minutes"]) == pytest.approx(minutes, abs=1e-6)


def alerts_arrive(state, mailbox: SmtpReceiver, webhook: WebhookReceiver) -> None:
    """The backlog is past its one-minute target: the alert reaches both channels, once
    each, with a link into the inbox."""
    link = f"/Inbox?advertiser={state['advertiser']}"
    webhook.wait_for(1, timeout=60)
    mailbox.wait_for(1, timeout=60)
    posts = [p.json()["text"] for p in webhook.delivered if "backlog" in p.json()["text"].lower()]
    mails = [m for m in mailbox.mails if "backlog" in (m.subject + m.body).lower()]
    assert len(posts) == 1 and link in posts[0]
    assert len(mails) == 1 and link in mails[0].body
    assert mails[0].recipients == ("ops@brand.example",)


def keep_artefacts(state, app: App, name: str) -> None:
    """A failing run leaves each person's page (screenshot and text) and the server's log."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for who in ("boss", "jo", "kim"):
        page = state.get(who)
        if isinstance(page, StreamlitPage):
            page.page.screenshot(path=str(ARTEFACTS / f"{name}-{who}.png"), full_page=True)
            (ARTEFACTS / f"{name}-{who}.txt").write_text(page.page.content())
    (ARTEFACTS / f"{name}-server.log").write_text(app.log())


def test_two_responders_work_the_same_inbox(app, browser, mailbox, webhook):
    state: dict = {"webhook": webhook.url}
    try:
        admin_connects_and_syncs(app, browser, state)
        admin_sets_up(state)
        state["jo"] = signed_in(app, browser, "jo")
        state["kim"] = signed_in(app, browser, "kim")
        claims_are_respected(state)
        saved_reply_by_keyboard(state)
        done_snooze_and_reopen(state)
        response_time_matches_the_sandbox(state)
        alerts_arrive(state, mailbox, webhook)
    except BaseException:
        keep_artefacts(state, app, "test_inbox")
        raise
