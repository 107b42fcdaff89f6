"""TikTok business accounts in the app: connecting one on Home (and its token warnings),
syncing it on Videos, the whole conversation around a video, and organic comments on the
Comments, Insights and Export pages beside the ad comments."""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from desk import scheduler
from desk import store as db
from desk.connect import state as oauth_state
from desk.connect.tokens import TokenKeeper
from desk.sources.account_sync import run_organic_sync
from desk.ui import queries
from tests.pages.conftest import no_errors, open_page, plain, sync_now, texts
from tests.pages.test_export import downloaded
from tests.pages.test_export import media as media  # noqa: F401 (the fixture)
from tests.world import WRITER, advertisers_by_access
from tiktok_client.accounts_models import AccountToken
from tiktok_client.client import TikTokClient
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox.walk import walk_account_consent

VIDEOS = "pages/7_Videos.py"
COMMENTS = "pages/3_Comments.py"


def account_link(at) -> str:
    [link] = [b for b in at.get("link_button") if b.proto.label == "Connect a TikTok account"]
    return link.proto.url


def linked_account(sandbox) -> dict:
    """The sandbox's business account whose videos the first writable ad account promotes."""
    admin = advertisers_by_access(sandbox.ground_truth())[WRITER]
    return next(a for a in sandbox.ground_truth_accounts()["accounts"]
                if a["advertiser_id"] == admin)


@pytest.fixture
def client(sandbox):
    with TikTokClient(None, base_url=sandbox.base_url,
                      rate_limiter=RateLimiter(10_000, 1_000_000)) as app_client:
        yield app_client


@pytest.fixture
def keeper(sandbox, credentials, client) -> TokenKeeper:
    return TokenKeeper(credentials, client, sandbox.config.app_id, sandbox.config.secret)


@pytest.fixture
def account(sandbox, keeper) -> str:
    """The linked business account, connected as if its consent flow had run."""
    business_id = linked_account(sandbox)["business_id"]
    keeper.connect(AccountToken.from_api(sandbox.issue_account_token(business_id)))
    return business_id


@pytest.fixture
def organic(account, store, keeper, client) -> str:
    """The connected business account, synced."""
    result = run_organic_sync(store, keeper, client, account)
    assert result.status == "ok"
    return account


def organic_truth(sandbox, business_id: str) -> pd.DataFrame:
    return pd.DataFrame(sandbox.ground_truth_accounts(business_id)["comments"])


def stored(store, sql: str, params=()) -> pd.DataFrame:
    return db.query_frame(store.cursor(), sql, list(params))


# Home: connecting, warnings, disconnecting


def test_connecting_a_tiktok_account_stores_its_tokens_and_profile(sandbox, credentials, store):
    url = account_link(open_page())
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{sandbox.base_url}/v2/auth/authorize/?")
    assert query["client_key"] == sandbox.config.app_id
    assert query["redirect_uri"] == "http://localhost:8501/"
    wanted = linked_account(sandbox)
    location = walk_account_consent(url, open_id=wanted["business_id"])
    callback = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert {"code", "scopes", "state"} <= set(callback)

    at = open_page(query=callback)
    no_errors(at)
    [success] = at.success
    assert f"Connected the TikTok account {wanted['display_name']}" in plain(success.value)
    [conn] = credentials.account_connections()
    assert conn.business_id == wanted["business_id"] and conn.refresh_token
    profile = db.list_business_accounts(store.cursor())
    assert profile["business_id"].tolist() == [wanted["business_id"]]
    assert profile["username"].tolist() == [wanted["username"]]
    assert "code" not in at.query_params and "state" not in at.query_params
    shown = "\n".join(texts(at.main) + texts(at.sidebar))
    assert conn.access_token not in shown and conn.refresh_token not in shown
    assert callback["code"] not in shown
    assert "✅ working" in shown


def test_a_replayed_or_cross_flow_account_callback_is_refused(sandbox, credentials, settings):
    url = account_link(open_page())
    callback = {k: v[0] for k, v in parse_qs(urlsplit(walk_account_consent(url)).query).items()}
    open_page(query=callback)
    assert len(credentials.account_connections()) == 1
    credentials.remove_account(credentials.account_connections()[0].business_id)

    replayed = open_page(query=callback)
    no_errors(replayed)
    assert "already used" in plain(replayed.error[0].value)
    # An ad account state (signed by this app) cannot finish a TikTok account connection.
    secret = oauth_state.secret_key_for(settings.secret_key, settings.credentials_path)
    crossed = open_page(query={**callback, "state": oauth_state.new_state(secret)})
    no_errors(crossed)
    assert crossed.error and not credentials.account_connections()


def test_a_cancelled_account_consent_connects_nothing(sandbox, credentials):
    location = walk_account_consent(account_link(open_page()), approve=False)
    at = open_page(query={k: v[0] for k, v in parse_qs(urlsplit(location).query).items()})
    no_errors(at)
    assert "consent screen was cancelled" in plain(at.error[0].value)
    assert not credentials.account_connections()


def age_refresh_token(credentials, business_id: str, ends_in: timedelta) -> None:
    with credentials.accounts_locked() as ledger:
        conn = ledger.get(business_id)
        ends = (datetime.now(UTC) + ends_in).isoformat(timespec="seconds")
        ledger.put(replace(conn, refresh_expires_at=ends))


def test_home_warns_14_days_before_the_year_ends_and_asks_to_reconnect_after(
        account, credentials):
    age_refresh_token(credentials, account, timedelta(days=10))
    at = open_page()
    no_errors(at)
    assert "⚠️ ends soon" in "\n".join(texts(at.main))
    assert any("Connect it again before then" in plain(w.value) for w in at.warning)

    age_refresh_token(credentials, account, -timedelta(days=1))
    at = open_page()
    assert "needs reconnecting" in "\n".join(texts(at.main))
    assert any("must be connected again" in plain(e.value) for e in at.error)
    videos = open_page(VIDEOS)
    assert videos.button(key="videos_sync").disabled


def test_disconnecting_revokes_the_token_and_forgets_it(account, credentials, sandbox, client):
    [conn] = credentials.account_connections()
    at = open_page()
    at.button(key=f"home_account_disconnect_{account}").click().run()
    no_errors(at)
    assert credentials.account_connections() == []
    assert "Disconnected" in plain(at.toast[0].value)
    # The revoked token no longer works on TikTok.
    from tiktok_client.accounts import BusinessAccountClient
    from tiktok_client.errors import TikTokError

    with TikTokClient(conn.access_token, base_url=sandbox.base_url) as revoked, \
            pytest.raises(TikTokError):
        BusinessAccountClient(revoked, account).get_profile()


def test_real_mode_without_the_account_url_says_how_to_enable_it(monkeypatch):
    monkeypatch.setenv("TIKTOK_CLIENT_KEY", "app-1")
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET", "secret-1")
    monkeypatch.setenv("TIKTOK_REDIRECT_URI", "http://localhost:8501/")
    at = open_page()
    no_errors(at)
    labels = [b.proto.label for b in at.get("link_button")]
    assert labels == ["Connect a TikTok ad account"]
    assert any("TIKTOK_ACCOUNT_AUTH_URL" in c.value for c in at.caption)

    monkeypatch.setenv("TIKTOK_ACCOUNT_AUTH_URL",
                       "https://www.tiktok.com/v2/auth/authorize?client_key=app-1&scope=a,b")
    at = open_page()
    url = account_link(at)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith("https://www.tiktok.com/v2/auth/authorize?")
    assert query["client_key"] == "app-1" and query["scope"] == "a,b"
    assert query["redirect_uri"] == "http://localhost:8501/" and query["state"]


# Tokens renewed on a schedule while the app runs


def test_the_schedule_renews_a_token_about_to_expire(account, credentials, settings, sandbox):
    with credentials.accounts_locked() as ledger:
        old = ledger.get(account)
        soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="seconds")
        ledger.put(replace(old, access_expires_at=soon))
    outcome = scheduler.refresh_due_tokens(settings, sandbox.base_url, sandbox.config.app_id,
                                    sandbox.config.secret, RateLimiter(1000, 100000))
    assert outcome == {account: "refreshed"}
    new = credentials.account_connection(account)
    assert new.access_token != old.access_token
    assert datetime.fromisoformat(new.access_expires_at) > datetime.now(UTC) + timedelta(hours=23)
    # Nothing is due now: the next round leaves the tokens alone.
    assert scheduler.refresh_due_tokens(settings, sandbox.base_url, sandbox.config.app_id,
                                 sandbox.config.secret, RateLimiter(1000, 100000)) == {}


def test_the_periodic_job_runs_until_stopped_and_survives_a_failing_round():
    calls = []
    ran_twice = threading.Event()

    def job():
        calls.append(1)
        if len(calls) >= 2:
            ran_twice.set()
        raise RuntimeError("TikTok is down")

    periodic = scheduler.PeriodicJob(job, 0.01, "test-periodic")
    assert ran_twice.wait(5)
    periodic.stop()
    count = len(calls)
    threading.Event().wait(0.05)
    assert len(calls) == count


# Videos: sync with progress, the table, the conversation


def test_sync_now_on_videos_stores_exactly_the_accounts_organic_comments(account, store, sandbox):
    at = open_page(VIDEOS)
    no_errors(at)
    assert at.selectbox(key="videos_account").value == account
    before = sandbox.stats()["total"]
    sync_now(at, "videos_sync", rerun=False)
    at = open_page(VIDEOS)  # the account now has a name, which the same session's selectbox
    no_errors(at)           # cannot take over in AppTest; a browser can
    line = plain(at.main.caption[0].value)
    assert line.startswith("Last sync just now: ok.") and "organic comments from" in line
    assert f"({sandbox.stats()['total'] - before:,} requests)" in line
    truth = organic_truth(sandbox, account)
    mine = stored(store, "SELECT comment_id, content, comment_status, original_comment_id "
                         "FROM comments WHERE source = 'organic' AND business_id = ?", [account])
    assert len(mine) == len(truth) > 0
    assert set(mine["comment_id"]) == set(truth["comment_id"].astype(str))
    videos = at.dataframe[0].value
    assert int(videos["organic_comments"].sum()) == len(truth)
    assert at.metric[1].value == f"{len(truth):,}"


def test_a_videos_conversation_holds_its_organic_and_spark_ads_comments(organic, sync, store):
    sync("WRITER")
    videos = db.videos_with_counts(store.cursor(), organic)
    spark = videos.loc[videos["ad_comments"] > 0]
    assert len(spark), "the linked account has a video promoted by a Spark Ad"
    index = int(spark.index[0])
    video_id = str(videos.loc[index, "video_id"])
    at = open_page(VIDEOS)
    at.session_state["videos_table"] = {"selection": {"rows": [index], "columns": [], "cells": []}}
    at.run()
    no_errors(at)
    assert [s.value for s in at.subheader][-1].startswith("Conversation")
    table = at.dataframe[1].value
    expected = int(videos.loc[index, "organic_comments"] + videos.loc[index, "ad_comments"])
    assert len(table) == min(expected, queries.CONVERSATION_ROWS)
    assert set(table["where"].str.split(":").str[0]) == {"Organic", "Spark Ad"}
    assert table["create_time"].is_monotonic_increasing
    at.button(key="videos_open_comments").click().run()
    no_errors(at)
    assert at.multiselect(key="comments_videos").value == [video_id]


# Comments, Insights and Export with both sources


def test_comments_page_filters_by_source_and_shows_organic_badges(organic, synced, store):
    at = open_page(COMMENTS, query={"advertiser": synced["WRITER"]})
    no_errors(at)
    everything = db.comments_count(store.cursor(), db.CommentFilters(
        synced["WRITER"], business_id=organic))
    assert f"{everything:,} comments" in plain(at.main.markdown[0].value)
    at.selectbox(key="comments_source").select("Organic comments").run()
    no_errors(at)
    organic_total = len(stored(store, "SELECT 1 FROM comments WHERE source = 'organic' "
                                      "AND business_id = ?", [organic]))
    assert f"{organic_total:,} comments" in plain(at.main.markdown[0].value)
    assert len([c for c in at.main.caption if "Organic" in c.value]) >= 25
    at.selectbox(key="comments_source").select("Ad comments").run()
    no_errors(at)
    assert not [c for c in at.main.caption if "violet-badge[Organic]" in c.value]


def first_organic(store, business_id: str, status: str = "PUBLIC") -> str:
    return stored(store, "SELECT comment_id FROM comments WHERE source = 'organic' AND "
                         "business_id = ? AND comment_type = 'COMMENT' AND comment_status = ? "
                         "ORDER BY create_time DESC LIMIT 1", [business_id, status]
                  )["comment_id"][0]


def test_reply_and_hide_an_organic_comment_from_the_comments_page(organic, store, sandbox):
    at = open_page(COMMENTS)
    at.selectbox(key="comments_order").select("newest").run()
    comment_id = first_organic(store, organic)
    at.button(key=f"comments_reply_open_{comment_id}").click().run()
    at.text_area(key=f"comments_reply_text_{comment_id}").set_value("Thank you for watching!")
    at.button(key=f"comments_reply_send_{comment_id}").click().run()
    no_errors(at)
    truth = organic_truth(sandbox, organic)
    posted = truth.loc[(truth["parent_comment_id"].astype(str) == comment_id)
                       & (truth["text"] == "Thank you for watching!")]
    assert len(posted) == 1
    assert "posted on TikTok" in plain(at.toast[0].value)

    at.button(key=f"comments_hide_{comment_id}").click().run()
    no_errors(at)
    truth = organic_truth(sandbox, organic).set_index("comment_id")
    assert truth.loc[comment_id, "status"] == "HIDDEN"
    assert stored(store, "SELECT comment_status FROM comments WHERE comment_id = ?",
                  [comment_id])["comment_status"][0] == "HIDDEN"
    at.button(key=f"comments_unhide_{comment_id}").click().run()
    no_errors(at)
    assert organic_truth(sandbox, organic).set_index("comment_id").loc[
        comment_id, "status"] == "PUBLIC"


def test_retry_of_a_failed_organic_reply_sends_it_once_with_a_renewed_token(organic, store,
                                                                             sandbox):
    from desk import outbox
    from desk.sources import TikTokAccountWriter
    from tiktok_client.accounts import BusinessAccountClient

    comment_id = first_organic(store, organic)
    with TikTokClient("revoked-token", base_url=sandbox.base_url) as revoked:
        writer = TikTokAccountWriter(BusinessAccountClient(revoked, organic))
        failed = outbox.reply(store.cursor(), writer, comment_id=comment_id,
                              text="Sorry for the wait!", actor="test",
                              request_key="retry-organic")
    assert failed.status == "failed"
    at = open_page(COMMENTS)
    at.button(key=f"comments_retry_{failed.action_id}").click().run()
    no_errors(at)
    truth = organic_truth(sandbox, organic)
    posted = truth.loc[truth["text"] == "Sorry for the wait!"]
    assert posted["parent_comment_id"].tolist() == [comment_id]
    assert "posted on TikTok" in plain(at.toast[0].value)


def test_bulk_hide_of_ad_and_organic_comments_goes_through_each_account(organic, synced, store,
                                                                        sandbox):
    advertiser_id = synced["WRITER"]
    at = open_page(COMMENTS, query={"advertiser": advertiser_id})
    at.selectbox(key="comments_status").select("Public").run()
    cards = {c.key.removeprefix("comments_pick_") for c in at.checkbox
             if c.key and c.key.startswith("comments_pick_")}
    sources = stored(store, "SELECT comment_id, source FROM comments WHERE comment_id IN "
                            f"({', '.join('?' for _ in cards)})", sorted(cards))
    by_source = sources.groupby("source")["comment_id"].apply(list).to_dict()
    chosen = [by_source["ad"][0], by_source["organic"][0]]
    for comment_id in chosen:
        at.checkbox(key=f"comments_pick_{comment_id}").check()
    at.run()
    at.button(key="comments_bulk_hide").click().run()
    no_errors(at)
    assert "2 of 2 comments hidden" in plain(at.toast[0].value)
    ad_truth = pd.DataFrame(sandbox.ground_truth(advertiser_id)["comments"]).set_index(
        "comment_id")
    assert ad_truth.loc[chosen[0], "comment_status"] == "HIDDEN"
    assert organic_truth(sandbox, organic).set_index("comment_id").loc[
        chosen[1], "status"] == "HIDDEN"
    mine = stored(store, "SELECT comment_status FROM comments WHERE comment_id IN (?, ?)", chosen)
    assert set(mine["comment_status"]) == {"HIDDEN"}


def test_insights_chart_comments_per_video_and_by_source(organic, synced, store):
    at = open_page("pages/4_Insights.py", query={"advertiser": synced["WRITER"]})
    no_errors(at)
    charts = {c.proto.id: c for c in at.get("plotly_chart")}
    assert charts
    by_video = db.comment_volume_by_video(store.cursor(), organic)
    import json

    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    stacked = next(s for s in specs if s["layout"].get("barmode") == "stack")
    shown = sum(sum(trace["x"]) for trace in stacked["data"])
    top = by_video.groupby("video_id")["comments"].sum().sort_values(ascending=False)[:10]
    assert shown == int(top.sum())
    assert {t["name"] for t in stacked["data"]} == {"Organic comments", "On Spark Ads"}

    at.segmented_control(key="insights_lines").set_value("By source").run()
    no_errors(at)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    lines = next(s for s in specs if s["data"] and s["data"][0].get("mode") == "lines")
    assert {t["name"] for t in lines["data"]} == {"Ad comments", "Organic comments"}
    totals = stored(store, "SELECT source, count(*) AS n FROM comments WHERE advertiser_id = ? "
                           "OR business_id = ? GROUP BY source", [synced["WRITER"], organic])
    expected = dict(zip(totals["source"], totals["n"], strict=True))
    assert {t["name"]: sum(t["y"]) for t in lines["data"]} == {
        "Ad comments": expected["ad"], "Organic comments": expected["organic"]}


def test_export_covers_both_sources_with_a_source_column(organic, synced, store, media):  # noqa: F811
    at = open_page("pages/6_Export.py", query={"advertiser": synced["WRITER"]})
    at.radio(key="export_format").set_value("csv")
    at.button(key="export_prepare").click().run()
    no_errors(at)
    _, data = downloaded(at, media)
    frame = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")
    assert {"source", "video_id", "business_id"} <= set(frame.columns)
    totals = stored(store, "SELECT source, count(*) AS n FROM comments WHERE advertiser_id = ? "
                           "OR (source = 'organic' AND business_id = ?) GROUP BY source",
                    [synced["WRITER"], organic])
    assert frame["source"].value_counts().to_dict() == dict(
        zip(totals["source"], totals["n"], strict=True))
    # TikTok's open_ids can start with "-": such cells are neutralised like any formula.
    safe = organic if organic[0] not in "=+-@\t\r" else f"'{organic}"
    assert set(frame.loc[frame["source"] == "organic", "business_id"]) == {safe}

    at.selectbox(key="export_source").select("Organic comments").run()
    at.button(key="export_prepare").click().run()
    _, data = downloaded(at, media)
    frame = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")
    assert set(frame["source"]) == {"organic"}


def test_the_notebook_queries_both_sources_and_a_spark_video_has_both(organic, synced, store):
    from desk import notebook as nbk

    book = nbk.Notebook(store)
    counts = book.run("SELECT source, count(*) AS n FROM comments GROUP BY source").frame
    expected = stored(store, "SELECT source, count(*) AS n FROM main.comments GROUP BY source")
    assert dict(zip(counts["source"], counts["n"], strict=True)) == dict(
        zip(expected["source"], expected["n"], strict=True))
    assert set(counts["source"]) == {"ad", "organic"}
    starter = nbk.STARTERS["Comments per video, ads and organic"][0]
    per_video = book.run(starter.sql).frame
    videos = db.videos_with_counts(store.cursor(), organic)
    spark = videos.loc[(videos["ad_comments"] > 0) & (videos["organic_comments"] > 0)]
    video_id = str(spark["video_id"].iloc[0])
    both = per_video.loc[per_video["video"] == video_id].set_index("source")["comments"]
    assert int(both["organic"]) == int(spark["organic_comments"].iloc[0])
    assert int(both["ad"]) == int(spark["ad_comments"].iloc[0])
