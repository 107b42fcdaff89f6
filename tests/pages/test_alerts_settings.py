"""The Settings page's Alerts block: an admin adds a webhook and an e-mail channel (the
webhook's URL is never shown whole), sends a test alert that reaches both real receivers on
127.0.0.1, saves thresholds, and retries a delivery that failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from desk import store as db
from desk.alerts import store as alerts_db
from desk.people import LOCAL_USER
from tests.alert_servers import SmtpReceiver, WebhookReceiver
from tests.pages.conftest import no_errors, open_page, plain, texts

PAGE = "pages/8_Settings.py"
TEAM = "team@brand.example"


@pytest.fixture
def smtp(monkeypatch):
    with SmtpReceiver() as server:
        monkeypatch.setenv("DESK_SMTP_HOST", server.host)
        monkeypatch.setenv("DESK_SMTP_PORT", str(server.port))
        monkeypatch.setenv("DESK_SMTP_FROM", "desk@brand.example")
        monkeypatch.setenv("DESK_SMTP_STARTTLS", "false")
        monkeypatch.setenv("DESK_PUBLIC_URL", "http://desk.example:8501")
        yield server


@pytest.fixture
def hook():
    with WebhookReceiver() as server:
        yield server


def table(at, column: str):
    """The shown table that has this column (AppTest does not keep a dataframe's key)."""
    [found] = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def add_channel(at, kind: str, target: str):
    at.selectbox(key="settings_alerts_kind").select(kind)
    at.text_input(key="settings_alerts_target").input(target)
    return at.button(key="settings_alerts_add").click().run()


def test_an_admin_adds_channels_and_a_test_alert_reaches_both(smtp, hook):
    at = open_page(PAGE)
    no_errors(at)
    assert "No channel yet" in " ".join(m.value for m in at.markdown)

    add_channel(at, "webhook", hook.url)
    add_channel(at, "email", TEAM)
    no_errors(at)

    channels = table(at, "shown")
    assert channels["shown"].tolist() == [f"127.0.0.1/…{hook.url[-4:]}", TEAM]
    assert channels["created_by"].tolist() == [LOCAL_USER, LOCAL_USER]
    assert not [t for t in texts(at.main) if hook.path in t]  # the URL is a secret

    at.button(key="settings_alerts_test").click().run()
    no_errors(at)
    assert [plain(s.value) for s in at.success] == [f"127.0.0.1/…{hook.url[-4:]}: sent.",
                                                    f"{TEAM}: sent."]
    assert hook.wait_for(1)[0].json()["text"].endswith(
        "Open the inbox: http://desk.example:8501/Inbox")
    assert smtp.wait_for(1)[0].recipients == (TEAM,)


def test_a_wrong_webhook_url_says_what_to_give(smtp):
    at = add_channel(open_page(PAGE), "webhook", "ftp://hooks.example/x")

    assert "A webhook URL starts with https://" in plain(at.error[0].value)
    assert "No channel yet" in " ".join(m.value for m in at.markdown)


def test_a_channel_is_turned_off_and_removed(smtp, hook):
    at = add_channel(open_page(PAGE), "webhook", hook.url)

    at.button(key="settings_alerts_toggle").click().run()
    assert table(at, "shown")["enabled"].tolist() == ["off"]
    at.button(key="settings_alerts_remove").click().run()
    no_errors(at)
    assert "No channel yet" in " ".join(m.value for m in at.markdown)


def test_thresholds_are_saved_with_who_saved_them(smtp, store):
    at = open_page(PAGE)
    at.number_input(key="settings_alerts_repeat_hours").set_value(6)
    at.number_input(key="settings_alerts_share_spike_ratio").set_value(2.5)
    at.button(key="settings_alerts_save").click().run()
    no_errors(at)

    with store.cursor() as cur:
        limits = alerts_db.thresholds(cur)
        rows = db.query_records(cur, "SELECT name, set_by FROM alert_settings ORDER BY name")
    assert (limits.repeat_hours, limits.share_spike_ratio) == (6, 2.5)
    assert rows == [{"name": "repeat_hours", "set_by": LOCAL_USER},
                    {"name": "share_spike_ratio", "set_by": LOCAL_USER}]


def test_a_failed_delivery_is_shown_with_its_error_and_retried(smtp, hook, store):
    now = datetime.now(UTC)
    with store.cursor() as cur:
        channel_id = alerts_db.add_channel(cur, "webhook", hook.url, "ana@brand.example")
        [alert_id] = alerts_db.raise_alerts(cur, [alerts_db.NewAlert(
            "backlog:ad:A1:x", "backlog", "ad", "A1", None, "Backlog over target: Acme",
            "3 comments need an answer.", "http://desk.example:8501/Inbox?advertiser=A1")],
            repeat=timedelta(hours=4), now=now)
        [due] = alerts_db.due_deliveries(cur, now)
        alerts_db.claim(cur, due, now, timedelta(minutes=2))
        alerts_db.record_failure(cur, due, "the webhook at 127.0.0.1 answered HTTP 500",
                                 next_try_at=None)

    at = open_page(PAGE)
    no_errors(at)
    assert "1 alert delivery failed after every attempt" in plain(at.warning[0].value)
    shown = table(at, "last_error").iloc[0]
    assert (shown["status"], shown["attempts"]) == ("⚠️ failed", 1)
    assert shown["last_error"] == "the webhook at 127.0.0.1 answered HTTP 500"

    at.button(key="settings_alerts_retry").click().run()
    no_errors(at)
    [post] = hook.wait_for(1)
    assert "Open the inbox: http://desk.example:8501/Inbox?advertiser=A1" in post.json()["text"]
    assert table(at, "last_error").iloc[0]["status"] == "✅ sent"
    with store.cursor() as cur:
        assert alerts_db.delivery_error(cur, alert_id, channel_id) is None
