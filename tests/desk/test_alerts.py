"""Alerts against a real database, a real SMTP server and a real webhook receiver, both on
127.0.0.1 (tests/alert_servers.py): what raises an alert, that it is raised once, that every
enabled channel receives it with its link into the inbox, and that a delivery that fails is
retried, shown and never lost.

Every time is around NOW (10 March 2025, 12:00 UTC). Ad account A1 ("Acme Ads") answers
within 2 h (a response-time target); business account B1 and ad account A2 have no target.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from desk import store as db
from desk.alerts import check_after_sync, check_and_send, deliver, detect, retry, send_test
from desk.alerts import store as alerts_db
from desk.config import Settings, load_settings
from desk.store import Store
from desk.store.sql import fetch_rows, query_records
from tests.alert_servers import SmtpReceiver, WebhookReceiver

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
ADMIN = "ana@brand.example"
USER, PASSWORD = "desk-mailer", "pa55-w0rd-never-shown"
PUBLIC = "http://desk.example:8501"
TEAM = "team@brand.example"


def at(**delta: float) -> datetime:
    return NOW + timedelta(**delta)


def comment(comment_id: str, created: datetime, *, account: str = "A1", ad_id: str = "ad1",
            labels=(), sentiment: float | None = None, status: str = "PUBLIC",
            parent: str | None = None, brand: bool = False) -> dict:
    organic = account.startswith("B")
    return {
        "comment_id": comment_id,
        "source": "organic" if organic else "ad",
        "advertiser_id": None if organic else account,
        "business_id": account if organic else None,
        "ad_id": None if organic else ad_id,
        "ad_name": None if organic else f"Spring sale {ad_id}",
        "video_id": "v1" if organic else None,
        "comment_type": "REPLY" if parent else "COMMENT",
        "original_comment_id": parent,
        "comment_status": status,
        "likes": 0,
        "create_time": created,
        "labels": list(labels),
        "sentiment": sentiment,
        "classified_with": None if sentiment is None else "test-1",
        "user_name": f"user_{comment_id}",
        "content": f"comment {comment_id}",
        "can_delete": brand,
    }


def store_comments(cur, records) -> None:
    db.upsert_comments(cur, pd.DataFrame.from_records(records), NOW - timedelta(days=30))


def target(cur, account_kind: str, account_id: str, minutes: int, scope: str = "all") -> None:
    fetch_rows(cur, "INSERT INTO response_targets VALUES (?, ?, ?, ?, ?, ?)",
                  [account_kind, account_id, scope, minutes, ADMIN, NOW - timedelta(days=9)])


def backlog_world(cur) -> None:
    """A1: late1 and late2 wait past the 2 h target; the rest do not count."""
    fetch_rows(cur, "INSERT INTO advertisers (advertiser_id, name, updated_at) "
                       "VALUES ('A1', 'Acme Ads', now())")
    target(cur, "ad", "A1", 120)
    store_comments(cur, [
        comment("late1", at(hours=-5)),
        comment("late2", at(hours=-3)),
        comment("fresh", at(minutes=-30)),  # within the target
        comment("answered", at(hours=-6)),
        comment("brand-answer", at(hours=-5), parent="answered", brand=True),
        comment("hidden", at(hours=-6), status="HIDDEN"),
        comment("done", at(hours=-6)),
        comment("snoozed", at(hours=-6)),
        comment("user-reply", at(hours=-6), parent="late1"),  # not first-level
        comment("elsewhere", at(hours=-6), account="A2", ad_id="ad3"),  # A2 has no target
    ])
    db.mark_done(cur, ["done"], ADMIN, at=at(hours=-1))
    db.snooze(cur, ["snoozed"], at(hours=5), ADMIN, at=at(hours=-1))


@pytest.fixture
def cur(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as store, store.cursor() as cursor:
        yield cursor


@pytest.fixture
def smtp():
    with SmtpReceiver(user=USER, password=PASSWORD) as server:
        yield server


@pytest.fixture
def hook():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def settings(smtp) -> Settings:
    return Settings(public_url=PUBLIC, smtp_host=smtp.host, smtp_port=smtp.port,
                    smtp_user=USER, smtp_password=PASSWORD, smtp_from="desk@brand.example",
                    smtp_starttls=False)


@pytest.fixture
def channels(cur, hook) -> dict[str, int]:
    return {"webhook": alerts_db.add_channel(cur, "webhook", hook.url, ADMIN),
            "email": alerts_db.add_channel(cur, "email", TEAM, ADMIN)}


def alerts(cur) -> list[dict]:
    return query_records(cur, "SELECT alert_id, dedup_key, kind, account_kind, account_id, "
                                 "ad_id, title, detail, link FROM alerts ORDER BY alert_id")


def deliveries(cur) -> dict[tuple[int, str], dict]:
    rows = query_records(cur, "SELECT d.*, c.kind AS channel_kind FROM alert_deliveries d "
                                 "JOIN alert_channels c USING (channel_id)")
    return {(row["alert_id"], row["channel_kind"]): row for row in rows}


# ---------------------------------------------------------------------------------------------
# What raises an alert


def test_a_backlog_breach_reaches_both_channels_with_a_link_into_the_inbox(
        cur, settings, smtp, hook, channels):
    backlog_world(cur)

    run = check_and_send(cur, settings, NOW, PUBLIC)

    [alert] = alerts(cur)
    assert run.raised == (alert["alert_id"],) and run.sent == 2
    assert alert["kind"] == "backlog"
    assert (alert["account_kind"], alert["account_id"], alert["ad_id"]) == ("ad", "A1", None)
    assert alert["dedup_key"] == "backlog:ad:A1:2025-03-10T12"
    assert alert["link"] == f"{PUBLIC}/Inbox?advertiser=A1"
    assert alert["title"] == "Backlog over target: Acme Ads"
    assert alert["detail"].startswith("2 comments need an answer and are past the")
    assert "the oldest has waited 5 h 0 min" in alert["detail"]

    [mail] = smtp.wait_for(1)
    assert mail.recipients == (TEAM,) and mail.login == USER
    assert mail.subject == "[Comment Desk] Backlog over target: Acme Ads"
    assert f"Open the inbox: {PUBLIC}/Inbox?advertiser=A1" in mail.body
    [post] = hook.wait_for(1)
    assert post.path == hook.path
    assert post.json() == {"text": f"Backlog over target: Acme Ads\n{alert['detail']}\n"
                                   f"Open the inbox: {PUBLIC}/Inbox?advertiser=A1"}
    assert {row["status"] for row in deliveries(cur).values()} == {"sent"}


def test_repeated_checks_raise_an_alert_once_and_again_only_after_the_repeat_period(
        cur, settings, smtp, hook, channels):
    backlog_world(cur)

    for minutes in (0, 0, 10, 59, 61, 3 * 60 + 59):
        check_and_send(cur, settings, at(minutes=minutes), PUBLIC)
    assert [a["dedup_key"] for a in alerts(cur)] == ["backlog:ad:A1:2025-03-10T12"]
    assert len(smtp.mails) == 1 and len(hook.posts) == 1

    check_and_send(cur, settings, at(hours=4), PUBLIC)  # still breached 4 h (the default) on
    assert [a["dedup_key"] for a in alerts(cur)] == ["backlog:ad:A1:2025-03-10T12",
                                                    "backlog:ad:A1:2025-03-10T16"]
    assert len(smtp.wait_for(2)) == 2 and len(hook.wait_for(2)) == 2


def test_the_repeat_period_is_a_setting_and_holds_across_its_boundaries(cur, settings, channels):
    backlog_world(cur)
    alerts_db.set_thresholds(cur, {"repeat_hours": 2}, ADMIN)

    check_and_send(cur, settings, at(hours=1, minutes=50), PUBLIC)  # the 12:00-14:00 period
    check_and_send(cur, settings, at(hours=2, minutes=10), PUBLIC)  # a new period, 20 min on
    check_and_send(cur, settings, at(hours=3, minutes=55), PUBLIC)

    assert [a["dedup_key"] for a in alerts(cur)] == ["backlog:ad:A1:2025-03-10T12",
                                                    "backlog:ad:A1:2025-03-10T14"]


def test_no_backlog_alert_while_every_open_comment_is_within_its_target(cur, settings):
    backlog_world(cur)
    db.mark_done(cur, ["late1", "late2"], ADMIN, at=NOW)

    check_and_send(cur, settings, NOW, PUBLIC)

    assert alerts(cur) == []


def test_a_labels_target_applies_to_comments_with_that_label(cur, settings):
    target(cur, "organic", "B1", 30, scope="question")
    store_comments(cur, [comment("q", at(hours=-1), account="B1", labels=["question"]),
                         comment("p", at(hours=-9), account="B1", labels=["praise"])])

    check_and_send(cur, settings, NOW, PUBLIC)

    [alert] = alerts(cur)
    assert alert["detail"].startswith("1 comment need")
    assert alert["link"] == f"{PUBLIC}/Inbox?account=B1"


def test_a_labels_target_wins_over_the_accounts_target_for_all(cur, settings):
    target(cur, "ad", "A1", 30)
    target(cur, "ad", "A1", 600, scope="praise")
    store_comments(cur, [comment("p", at(hours=-2), labels=["praise"])])

    check_and_send(cur, settings, NOW, PUBLIC)
    assert alerts(cur) == []  # praise may wait 10 h here

    check_and_send(cur, settings, at(hours=8), PUBLIC)
    assert [a["kind"] for a in alerts(cur)] == ["backlog"]


def test_a_comment_reopened_waits_from_when_its_commenter_wrote_again(cur, settings):
    target(cur, "ad", "A1", 120)
    store_comments(cur, [comment("c", at(days=-2)),
                         comment("b", at(days=-2, minutes=5), parent="c", brand=True)])
    db.mark_done(cur, ["c"], ADMIN, at=at(days=-2, minutes=10))
    store_comments(cur, [comment("again", at(minutes=-30), parent="c")])
    db.reopen_answered_again(cur, at=at(minutes=-20))

    check_and_send(cur, settings, NOW, PUBLIC)
    assert alerts(cur) == []  # back in the inbox 30 min ago: within the 2 h target

    check_and_send(cur, settings, at(hours=2), PUBLIC)
    assert [a["kind"] for a in alerts(cur)] == ["backlog"]


def share_world(cur) -> None:
    """B1: 5% negative and no toxic comment over the week before; half negative and a quarter
    toxic over the last 3 h. B2: one negative comment of two in the last 3 h."""
    before = [comment(f"b{i}", at(days=-6, hours=i), account="B1",
                      sentiment=-0.8 if i < 2 else 0.5) for i in range(40)]
    window = [comment(f"w{i}", at(minutes=-5 - i * 5), account="B1",
                      sentiment=-0.9 if i < 12 else 0.4,
                      labels=["toxic"] if i < 6 else []) for i in range(24)]
    brand = [comment(f"r{i}", at(minutes=-3), account="B1", sentiment=0.9, parent=f"w{i}",
                     brand=True) for i in range(10)]
    small = [comment("s1", at(minutes=-10), account="B2", sentiment=-0.9),
             comment("s2", at(minutes=-20), account="B2", sentiment=0.2)]
    store_comments(cur, before + window + brand + small)


def test_negative_and_toxic_shares_spiking_against_the_baseline_raise_an_alert_each(
        cur, settings):
    share_world(cur)

    check_and_send(cur, settings, NOW, PUBLIC)

    found = {a["kind"]: a for a in alerts(cur)}
    assert set(found) == {"negative_spike", "toxic_spike"}
    assert {(a["account_kind"], a["account_id"]) for a in found.values()} == {("organic", "B1")}
    assert found["negative_spike"]["detail"] == (
        "50% of the 24 comments of the last 3 hours are negative, against 5% over the 7 days "
        "before.")
    assert found["toxic_spike"]["detail"].startswith("25% of the 24 comments")
    assert found["toxic_spike"]["link"] == f"{PUBLIC}/Inbox?account=B1"


def test_one_negative_comment_of_two_is_not_a_spike(cur, settings):
    share_world(cur)
    alerts_db.set_thresholds(cur, {"share_min_comments": 3}, ADMIN)

    check_and_send(cur, settings, NOW, PUBLIC)

    assert "B2" not in {a["account_id"] for a in alerts(cur)}


def test_a_share_close_to_the_baseline_is_not_a_spike(cur, settings):
    share_world(cur)
    alerts_db.set_thresholds(cur, {"share_spike_ratio": 20, "share_spike_points": 60}, ADMIN)

    check_and_send(cur, settings, NOW, PUBLIC)

    assert alerts(cur) == []


def test_the_share_thresholds_decide_a_spike():
    limits = alerts_db.Thresholds()
    assert detect.is_share_spike(0.30, 0.10, limits)
    assert not detect.is_share_spike(0.15, 0.10, limits)  # not twice the baseline
    assert not detect.is_share_spike(0.04, 0.01, limits)  # four times, but 3 points
    assert detect.is_share_spike(0.10, 0.0, limits)
    assert not detect.is_share_spike(0.0, 0.0, limits)


def volume_world(cur) -> None:
    """A2's ad9: 14 comments over the week before, 40 in the last hour. ad8: 30 an hour for
    the two hours before, 30 in the last hour."""
    steady = [comment(f"s{i}", at(hours=-3, minutes=i * 2), account="A2", ad_id="ad8")
              for i in range(90)]
    quiet = [comment(f"q{i}", at(days=-7, hours=i * 12), account="A2", ad_id="ad9")
             for i in range(14)]
    burst = [comment(f"x{i}", at(minutes=-1 - i), account="A2", ad_id="ad9")
             for i in range(40)]
    store_comments(cur, steady + quiet + burst)


def test_an_ad_whose_comments_spike_against_its_hourly_baseline_raises_an_alert(cur, settings):
    volume_world(cur)

    check_and_send(cur, settings, NOW, PUBLIC)

    [alert] = alerts(cur)
    assert (alert["kind"], alert["account_id"], alert["ad_id"]) == ("volume_spike", "A2", "ad9")
    assert alert["dedup_key"] == "volume_spike:ad:A2:ad9:2025-03-10T12"
    assert alert["title"] == "Comment volume spiking on ad Spring sale ad9 (A2)"
    assert alert["detail"].startswith("40 comments in the last hour, against 0.1 an hour")
    assert alert["link"] == f"{PUBLIC}/Inbox?advertiser=A2&ad=ad9"


def test_an_ad_below_the_minimum_count_does_not_spike(cur, settings):
    volume_world(cur)
    alerts_db.set_thresholds(cur, {"volume_min_comments": 41}, ADMIN)

    check_and_send(cur, settings, NOW, PUBLIC)

    assert alerts(cur) == []


# ---------------------------------------------------------------------------------------------
# Delivery: retries, failures, channels


def test_a_failing_webhook_is_retried_with_backoff_until_it_takes_the_alert(
        cur, settings, smtp, hook, channels):
    backlog_world(cur)
    hook.fail_next(2)

    first = check_and_send(cur, settings, NOW, PUBLIC)
    assert (first.sent, first.retrying) == (1, 1)
    row = deliveries(cur)[(first.raised[0], "webhook")]
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"] == "the webhook at 127.0.0.1 answered HTTP 500: internal_error"
    assert row["next_try_at"] == at(minutes=1)

    check_and_send(cur, settings, at(seconds=30), PUBLIC)  # not due yet
    assert len(hook.posts) == 1
    check_and_send(cur, settings, at(minutes=1), PUBLIC)  # the second attempt fails too
    assert deliveries(cur)[(first.raised[0], "webhook")]["next_try_at"] == at(minutes=3)
    check_and_send(cur, settings, at(minutes=3), PUBLIC)

    row = deliveries(cur)[(first.raised[0], "webhook")]
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 3, None)
    assert row["sent_at"] == at(minutes=3)
    assert [p.answered for p in hook.posts] == [500, 500, 200]
    assert len(smtp.mails) == 1  # the e-mail went the first time, once


def test_a_delivery_that_keeps_failing_is_marked_failed_with_its_error_and_kept(
        cur, settings, hook, channels):
    backlog_world(cur)
    alerts_db.set_thresholds(cur, {"delivery_attempts": 3}, ADMIN)
    hook.fail_next(100)

    for minutes in (0, 1, 3, 7, 60, 200):
        check_and_send(cur, settings, at(minutes=minutes), PUBLIC)

    assert len(hook.posts) == 3  # failed for good after the third: no more automatic tries
    [alert] = alerts(cur)
    shown = alerts_db.recent_alerts(cur)
    webhook = shown[shown["channel_kind"] == "webhook"].iloc[0]
    assert (webhook["status"], webhook["attempts"]) == ("failed", 3)
    assert webhook["last_error"] == "the webhook at 127.0.0.1 answered HTTP 500: internal_error"
    assert webhook["channel"] == f"127.0.0.1/…{hook.url[-4:]}"
    assert hook.url not in shown.to_string()

    assert retry(cur, settings, alert["alert_id"], channels["webhook"], at(hours=11)) == \
        "the webhook at 127.0.0.1 answered HTTP 500: internal_error"
    assert deliveries(cur)[(alert["alert_id"], "webhook")]["status"] == "failed"
    hook.fail_next(0)
    assert retry(cur, settings, alert["alert_id"], channels["webhook"], at(hours=12)) is None
    row = deliveries(cur)[(alert["alert_id"], "webhook")]
    assert (row["status"], row["attempts"]) == ("sent", 5)
    with pytest.raises(ValueError, match="sent already"):
        retry(cur, settings, alert["alert_id"], channels["webhook"], at(hours=13))


def test_a_disabled_channel_gets_nothing(cur, settings, smtp, hook, channels):
    backlog_world(cur)
    alerts_db.set_channel_enabled(cur, channels["email"], False, ADMIN)

    run = check_and_send(cur, settings, NOW, PUBLIC)

    assert run.sent == 1 and hook.wait_for(1)
    assert smtp.mails == []
    assert list(deliveries(cur)) == [(run.raised[0], "webhook")]


def test_a_channel_turned_off_keeps_its_pending_delivery_until_it_is_on_again(
        cur, settings, smtp, hook, channels):
    backlog_world(cur)
    hook.fail_next(1)
    [alert_id] = check_and_send(cur, settings, NOW, PUBLIC).raised
    alerts_db.set_channel_enabled(cur, channels["webhook"], False, ADMIN)

    check_and_send(cur, settings, at(minutes=5), PUBLIC)
    assert len(hook.posts) == 1
    assert deliveries(cur)[(alert_id, "webhook")]["status"] == "pending"

    alerts_db.set_channel_enabled(cur, channels["webhook"], True, ADMIN)
    check_and_send(cur, settings, at(minutes=6), PUBLIC)
    assert deliveries(cur)[(alert_id, "webhook")]["status"] == "sent"


def test_a_dead_webhook_costs_one_attempt_per_check_not_one_per_alert(
        cur, settings, hook, channels):
    backlog_world(cur)
    volume_world(cur)
    hook.fail_next(100)

    run = check_and_send(cur, settings, NOW, PUBLIC)

    assert len(run.raised) == 2 and run.sent == 2 and run.retrying == 1
    assert len(hook.posts) == 1
    attempts = sorted(row["attempts"] for (_, kind), row in deliveries(cur).items()
                      if kind == "webhook")
    assert attempts == [0, 1]


def test_two_checks_never_send_one_delivery_twice(cur, settings, channels):
    backlog_world(cur)
    alerts_db.raise_alerts(
        cur, [c.alert(NOW, 4, PUBLIC) for c in detect.candidates(cur, alerts_db.Thresholds(),
                                                                  NOW)],
        repeat=timedelta(hours=4), now=NOW)
    [due, _] = alerts_db.due_deliveries(cur, NOW)

    assert alerts_db.claim(cur, due, NOW, timedelta(minutes=2))
    assert not alerts_db.claim(cur, due, NOW, timedelta(minutes=2))  # the other check
    assert due.channel_id not in {d.channel_id for d in alerts_db.due_deliveries(cur, NOW)}
    assert due.channel_id in {d.channel_id
                              for d in alerts_db.due_deliveries(cur, at(minutes=2))}


def test_e_mail_without_an_smtp_server_stays_pending_and_says_what_to_set(cur, channels):
    backlog_world(cur)

    run = check_and_send(cur, Settings(public_url=PUBLIC), NOW, PUBLIC)

    row = deliveries(cur)[(run.raised[0], "email")]
    assert row["status"] == "pending"
    assert row["last_error"] == ("e-mail is not set up: set DESK_SMTP_HOST and DESK_SMTP_FROM "
                                 "(see the README's Alerts section)")


def test_an_smtp_server_that_refuses_the_login_is_a_failed_attempt(cur, settings, smtp,
                                                                   channels):
    backlog_world(cur)

    run = check_and_send(cur, replace(settings, smtp_password="wrong"), NOW, PUBLIC)

    row = deliveries(cur)[(run.raised[0], "email")]
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"].startswith(f"the SMTP server 127.0.0.1:{smtp.port} refused the "
                                        "user and password")
    assert smtp.mails == []


def test_the_smtp_password_is_never_in_the_database_or_the_logs(cur, settings, smtp, hook,
                                                                channels, caplog):
    caplog.set_level(logging.DEBUG)
    backlog_world(cur)
    hook.fail_next(1)
    check_and_send(cur, replace(settings, smtp_password=PASSWORD + "-old"), NOW, PUBLIC)
    check_and_send(cur, settings, at(minutes=5), PUBLIC)
    send_test(cur, settings, PUBLIC)

    assert smtp.logins[-1] == (USER, PASSWORD) and len(smtp.mails) == 2
    tables = [row[0] for row in fetch_rows(
        cur, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
             "AND table_type = 'BASE TABLE'")]
    for table in tables:
        dump = str(query_records(cur, f"SELECT * FROM {table}"))
        assert PASSWORD not in dump, table
    assert PASSWORD not in caplog.text
    assert "not delivered" in caplog.text  # the failures were logged, without it
    assert PASSWORD not in repr(settings)


def test_a_test_alert_reaches_every_enabled_channel_and_is_not_stored(cur, settings, smtp,
                                                                      hook, channels):
    broken = alerts_db.add_channel(cur, "webhook", "http://127.0.0.1:9/nothing-here", ADMIN)

    results = send_test(cur, settings, PUBLIC)

    said = {channel.channel_id: error for channel, error in results}
    assert said[channels["webhook"]] is None and said[channels["email"]] is None
    assert said[broken] == "could not connect to the webhook at 127.0.0.1"
    assert hook.wait_for(1)[0].json()["text"].startswith("Test alert from Comment Desk")
    assert f"{PUBLIC}/Inbox" in smtp.wait_for(1)[0].body
    assert alerts(cur) == []


# ---------------------------------------------------------------------------------------------
# Channels and thresholds


def test_only_http_and_https_webhooks_are_accepted_and_shown_masked(cur):
    for wrong in ("ftp://hooks.example/x", "javascript:alert(1)", "hooks.slack.com/x", "",
                  "https://", "https://hooks.example/a b", "http://[::1/x",
                  "https://hooks.example:99999/x"):
        with pytest.raises(ValueError, match="A webhook URL starts with https://"):
            alerts_db.add_channel(cur, "webhook", wrong, ADMIN)
    url = "https://hooks.slack.com/services/T0/B0/abcdefghijkl"
    channel_id = alerts_db.add_channel(cur, "webhook", f"  {url} ", ADMIN)

    [channel] = alerts_db.list_channels(cur)
    assert (channel.channel_id, channel.target, channel.created_by) == (channel_id, url, ADMIN)
    assert channel.shown == "hooks.slack.com/…ijkl"
    assert url not in repr(channel)
    [line] = query_records(cur, "SELECT actor, event, detail FROM audit_log")
    assert line == {"actor": ADMIN, "event": "alert_channel",
                    "detail": "added webhook hooks.slack.com/…ijkl"}


def test_e_mail_channels_take_comma_separated_addresses(cur):
    alerts_db.add_channel(cur, "email", " a@brand.example;b@brand.example , a@brand.example",
                          ADMIN)
    assert alerts_db.list_channels(cur)[0].target == "a@brand.example, b@brand.example"
    with pytest.raises(ValueError, match="'not-an-address' is not an e-mail address"):
        alerts_db.add_channel(cur, "email", "a@brand.example, not-an-address", ADMIN)


def test_removing_a_channel_takes_its_deliveries_and_keeps_the_alerts(cur, settings,
                                                                      channels):
    backlog_world(cur)
    check_and_send(cur, settings, NOW, PUBLIC)

    alerts_db.remove_channel(cur, channels["webhook"], "boss@brand.example")

    assert [c.kind for c in alerts_db.list_channels(cur)] == ["email"]
    assert [kind for _, kind in deliveries(cur)] == ["email"]
    assert len(alerts(cur)) == 1


def test_thresholds_are_stored_with_who_set_them_and_checked(cur):
    assert alerts_db.thresholds(cur) == alerts_db.Thresholds()

    changed = alerts_db.set_thresholds(cur, {"repeat_hours": "6", "share_spike_ratio": 2.5,
                                             "baseline_days": 7}, ADMIN)

    assert changed == ["repeat_hours", "share_spike_ratio"]
    limits = alerts_db.thresholds(cur)
    assert (limits.repeat_hours, limits.share_spike_ratio) == (6, 2.5)
    assert query_records(cur, "SELECT name, value, set_by FROM alert_settings ORDER BY name") \
        == [{"name": "repeat_hours", "value": "6", "set_by": ADMIN},
            {"name": "share_spike_ratio", "value": "2.5", "set_by": ADMIN}]
    for wrong, match in (({"repeat_hours": 1.5}, "must be a whole number"),
                         ({"repeat_hours": 0}, "must be from 1 to 168"),
                         ({"share_spike_ratio": "lots"}, "must be a number"),
                         ({"nonsense": 1}, "no alert threshold called 'nonsense'")):
        with pytest.raises(ValueError, match=match):
            alerts_db.set_thresholds(cur, {"baseline_days": 3, **wrong}, ADMIN)
    assert alerts_db.thresholds(cur).baseline_days == 7  # nothing stored when one is wrong


def test_the_smtp_settings_come_from_the_environment_and_the_password_is_never_shown():
    settings = load_settings({"DESK_SMTP_HOST": "smtp.brand.example", "DESK_SMTP_PORT": "2525",
                              "DESK_SMTP_USER": "desk", "DESK_SMTP_PASSWORD": PASSWORD,
                              "DESK_SMTP_FROM": "desk@brand.example",
                              "DESK_SMTP_STARTTLS": "false",
                              "DESK_PUBLIC_URL": "https://desk.brand.example/"},
                             secrets={}, secrets_path=None)

    assert (settings.smtp_host, settings.smtp_port, settings.smtp_user) == \
        ("smtp.brand.example", 2525, "desk")
    assert settings.smtp_from == "desk@brand.example" and settings.smtp_starttls is False
    assert settings.public_url == "https://desk.brand.example"
    assert PASSWORD not in repr(settings)
    defaults = load_settings({}, secrets={}, secrets_path=None)
    assert (defaults.smtp_host, defaults.smtp_port, defaults.smtp_starttls,
            defaults.public_url) == (None, 587, True, "http://localhost:8501")
    for name, wrong in (("DESK_SMTP_STARTTLS", "maybe"), ("DESK_SMTP_PORT", "70000"),
                        ("DESK_PUBLIC_URL", "desk.brand.example")):
        with pytest.raises(ValueError, match=name):
            load_settings({name: wrong}, secrets={}, secrets_path=None)


def test_the_password_is_not_sent_unencrypted_to_another_machine(settings, smtp,
                                                                monkeypatch):
    monkeypatch.setattr(deliver, "_on_this_machine", lambda host: False)  # as if it were afar

    with pytest.raises(deliver.DeliveryFailed, match="would travel unencrypted") as caught:
        deliver.send_email(settings, TEAM, deliver.Message("t", "d", PUBLIC))

    assert PASSWORD not in str(caught.value)
    assert smtp.logins == [] and smtp.mails == []


def test_the_retry_delay_doubles_from_a_minute_up_to_an_hour():
    assert [deliver.retry_delay(n).total_seconds() / 60 for n in range(1, 9)] == \
        [1, 2, 4, 8, 16, 32, 60, 60]


# ---------------------------------------------------------------------------------------------
# After every sync


def test_a_failing_check_after_a_sync_is_logged_and_never_raised(tmp_path, settings, caplog):
    store = Store.open(tmp_path / "closed.duckdb")
    store.close()

    assert check_after_sync(store, settings) is None
    assert "the alert check after the sync failed" in caplog.text


def test_an_alert_arrives_after_a_sync_of_the_sandbox(tmp_path, settings, smtp, hook,
                                                      monkeypatch):
    from desk.moderation import pipeline
    from tests.desk.rules_support import account, advertiser_id_of, open_workspace, world
    from tiktok_sandbox import start_sandbox

    monkeypatch.setattr(pipeline.runs, "after_sync", lambda *args, **kwargs: [])  # no rules
    sandbox_world = world(ads=2, comments=80, videos_per_account=1, organic_comments=20)
    with start_sandbox(sandbox_world) as sandbox, open_workspace(sandbox, tmp_path) as workspace:
        workspace = replace(workspace, settings=replace(settings, lookback_days=200))
        advertiser_id = advertiser_id_of(sandbox)
        with workspace.store.cursor() as cur:
            target(cur, "ad", advertiser_id, 60)
            alerts_db.add_channel(cur, "webhook", hook.url, ADMIN)
            alerts_db.add_channel(cur, "email", TEAM, ADMIN)

        outcome = pipeline.sync_and_moderate(account(sandbox, workspace, "ad"))

        assert outcome.status == "ok"
        link = f"{PUBLIC}/Inbox?advertiser={advertiser_id}"
        [text] = [p.json()["text"] for p in hook.wait_for(1) if "Backlog" in p.json()["text"]]
        assert text.endswith(f"Open the inbox: {link}")
        assert [m for m in smtp.wait_for(1) if link in m.body and "Backlog" in m.subject]
