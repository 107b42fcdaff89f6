"""What the app learns from TikTok's answers, against the sandbox configured either way where
sources disagree or say nothing: comment/list's longest span, ad/get's largest page, the
longest ad reply, whether this connection may write, Upgraded Smart+ ads whose comments TikTok
does not provide, comments that hit a blocked word, and TikTok's error codes (answered by the
sandbox where a test chooses, ``fail_next``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from desk import outbox
from desk import store as db
from desk.config import load_settings
from desk.connect.credentials import CredentialStore
from desk.errors import ActionRefused, SyncAborted, message_for
from desk.sources import AdAccount
from desk.sources.access import write_access_summary, write_refusal
from desk.sources.ad_sync import (
    REFUSED_ADS_NAMED,
    SyncOptions,
    refused_ads_sentence,
    sync_advertiser,
)
from desk.sources.ads import AdAccountWriter
from desk.store import Store
from desk.workspace import TikTokApp, Workspace
from tests.desk.test_actions_support import (
    ACTOR,
    STATUS_PATH,
    make_client,
    sandbox_config,
    sandbox_replies,
    sends,
)
from tests.world import READ_ONLY, WRITER, advertisers_by_access
from tiktok_client.learned import AD_PAGE_SIZE, AD_REPLY_LENGTH, COMMENT_WINDOW_DAYS
from tiktok_client.models import Ad
from tiktok_sandbox import SandboxConfig, start_sandbox


@contextmanager
def workspace_for(sandbox, tmp_path: Path) -> Iterator[Workspace]:
    settings = load_settings(environ={"DESK_LOOKBACK_DAYS": "200"}, secrets={},
                             secrets_path=None)
    app = TikTokApp(api_base_url=sandbox.base_url, auth_url=f"{sandbox.base_url}/portal/auth",
                    app_id=sandbox.config.app_id, app_secret=sandbox.config.secret,
                    redirect_uri="http://localhost:8501/",
                    rate_limiter=make_client(sandbox).rate_limiter)
    credentials = CredentialStore(tmp_path / "credentials.json")
    ids = [a["advertiser_id"] for a in sandbox.ground_truth()["advertisers"]]
    credentials.add(sandbox.issue_token(), ids, [4, 100, 220, 15000000, 15010100, 15010200])
    with Store.open(tmp_path / "desk.duckdb") as store:
        yield Workspace(settings, store, credentials, app)


@pytest.fixture
def world(request, tmp_path) -> Iterator[tuple[object, Workspace]]:
    """A sandbox with the settings the test is parametrized with, and a workspace on it."""
    config: SandboxConfig = sandbox_config(**getattr(request, "param", {}))
    with start_sandbox(config) as sandbox, workspace_for(sandbox, tmp_path) as workspace:
        yield sandbox, workspace


def learned(workspace: Workspace) -> dict:
    with workspace.store.cursor() as cur:
        return db.learned_values(cur, workspace.app.app_id)


def stored_ids(workspace: Workspace, advertiser_id: str) -> set[str]:
    with workspace.store.cursor() as cur:
        rows = db.query_records(cur, "SELECT comment_id FROM comments WHERE advertiser_id = ?",
                                [advertiser_id])
    return {r["comment_id"] for r in rows}


def truth_ids(sandbox, advertiser_id: str) -> set[str]:
    return {c["comment_id"] for c in sandbox.ground_truth(advertiser_id)["comments"]}


# comment/list's span


@pytest.mark.parametrize("world", [{}, {"comment_window_days": 30}], indirect=True,
                         ids=["no limit", "30-day limit"])
def test_a_sync_asks_for_the_whole_look_back_and_steps_down_only_where_tiktok_refuses(world):
    sandbox, workspace = world
    advertiser_id = advertisers_by_access(sandbox.ground_truth())[WRITER]
    limit = sandbox.config.comment_window_days

    first = AdAccount(workspace, advertiser_id).sync()

    assert first.status == "ok", first.message
    assert stored_ids(workspace, advertiser_id) == truth_ids(sandbox, advertiser_id)
    assert learned(workspace).get(COMMENT_WINDOW_DAYS) == limit  # nothing learned without one
    refused_before = sandbox.stats()["by_code"].get("40002", 0)
    assert (refused_before > 0) == (limit is not None)

    sandbox.add_comments(5, advertiser_id)
    second = AdAccount(workspace, advertiser_id).sync(since=first_day(sandbox))

    assert second.status == "ok", second.message
    assert sandbox.stats()["by_code"].get("40002", 0) == refused_before  # the span was remembered
    assert stored_ids(workspace, advertiser_id) == truth_ids(sandbox, advertiser_id)


def first_day(sandbox) -> date:
    """A day before the sandbox's oldest comment."""
    start = datetime.fromtimestamp(sandbox.ground_truth()["start_ts"], UTC).date()
    return start - timedelta(days=130)


# ad/get's page size


@pytest.mark.parametrize("world", [{"ad_page_size_max": 5}], indirect=True)
def test_ad_pages_step_down_to_what_tiktok_accepts_and_the_size_is_kept_for_the_app(world):
    sandbox, workspace = world
    advertiser_id = advertisers_by_access(sandbox.ground_truth())[WRITER]

    result = AdAccount(workspace, advertiser_id).sync()

    truth_ads = {a["ad_id"] for a in sandbox.ground_truth(advertiser_id)["ads"]}
    assert result.status == "ok" and result.ads == len(truth_ads) > 5
    with workspace.store.cursor() as cur:
        stored = {r["ad_id"] for r in db.query_records(
            cur, "SELECT ad_id FROM ads WHERE advertiser_id = ?", [advertiser_id])}
    assert stored == truth_ads
    assert learned(workspace)[AD_PAGE_SIZE] == 5
    with workspace.client(purpose="sync") as client:  # a new client starts from what was learned
        assert client.ad_page_size() == 5


# the longest reply to an ad comment


def a_comment_to_answer(workspace: Workspace, advertiser_id: str) -> dict:
    with workspace.store.cursor() as cur:
        rows = db.query_records(
            cur, "SELECT * FROM comments WHERE advertiser_id = ? AND comment_type = 'COMMENT' "
            "AND is_auth_comment_manage_scope ORDER BY comment_id LIMIT 1", [advertiser_id])
    return rows[0]


def reply(workspace: Workspace, advertiser_id: str, text: str, key: str):
    comment = a_comment_to_answer(workspace, advertiser_id)
    with AdAccount(workspace, advertiser_id).writer() as writer, \
            workspace.store.cursor() as cur:
        return outbox.reply(cur, writer, comment_id=comment["comment_id"], text=text,
                            actor=ACTOR, request_key=key)


@pytest.mark.parametrize("world", [{}, {"ad_reply_max_length": 150}], indirect=True,
                         ids=["no limit", "150 characters"])
def test_a_reply_tiktok_finds_too_long_teaches_the_limit_that_the_next_reply_is_checked_against(
        world):
    sandbox, workspace = world
    advertiser_id = advertisers_by_access(sandbox.ground_truth())[WRITER]
    AdAccount(workspace, advertiser_id).sync()
    limit = sandbox.config.ad_reply_max_length

    first = reply(workspace, advertiser_id, "y" * 200, "long-1")

    if limit is None:
        assert first.status == "sent"
        assert AdAccountWriter.reply_limit(learned(workspace)) == 1200
        return
    assert first.status == "failed" and "at most 150" in first.message
    assert learned(workspace)[AD_REPLY_LENGTH] == 150
    assert AdAccountWriter.reply_limit(learned(workspace)) == 150  # what the reply box shows
    posted = sends(sandbox)
    with pytest.raises(ActionRefused, match="at most 150"):
        reply(workspace, advertiser_id, "z" * 151, "long-2")
    assert sends(sandbox) == posted  # refused before anything was sent
    assert reply(workspace, advertiser_id, "z" * 150, "long-3").status == "sent"


# may this connection write?


def test_tiktoks_answer_to_a_write_is_remembered_per_account_and_put_into_words(world):
    sandbox, workspace = world
    people = advertisers_by_access(sandbox.ground_truth())
    for advertiser_id in (people[WRITER], people[READ_ONLY]):
        AdAccount(workspace, advertiser_id).sync()
    with workspace.store.cursor() as cur:
        assert db.write_access(cur, "ad", people[WRITER]) is None  # TikTok has not said yet
    assert "Not known yet" in write_access_summary(None)

    assert reply(workspace, people[WRITER], "Thanks!", "ok-1").status == "sent"
    refused = reply(workspace, people[READ_ONLY], "Thanks!", "no-1")

    assert refused.status == "failed"
    with workspace.store.cursor() as cur:
        allowed = db.write_access(cur, "ad", people[WRITER])
        denied = db.write_access(cur, "ad", people[READ_ONLY])
    assert allowed.allowed and write_refusal(allowed, "ad account") is None
    assert write_access_summary(allowed).startswith("Allowed")
    assert not denied.allowed and denied.code == 40001
    assert "Refused by TikTok with code 40001" in write_access_summary(denied)
    notice = write_refusal(denied, "ad account")
    assert "comment management permission" in notice and "Analyst" not in notice


# TikTok's error codes


@pytest.mark.parametrize(("code", "message", "words"), [
    (40113, "App has been blocked or does not exist.",
     "TikTok reports this app (the TIKTOK_CLIENT_KEY app) as blocked or non-existent; check "
     "the app ID and its secret"),
    (40300, "Advertiser does not exist.",
     "TikTok does not know this ad account (it may have been deleted or the ID is wrong)"),
], ids=["40113 app blocked", "40300 no such advertiser"])
def test_an_app_tiktok_blocks_or_an_advertiser_it_does_not_know_stops_the_sync_in_words(
        world, code, message, words):
    sandbox, workspace = world
    advertiser_id = advertisers_by_access(sandbox.ground_truth())[WRITER]
    # The first page of each ad/get listing: all ads, Reach & Frequency ones, TopView ones.
    sandbox.fail_next("ad/get/", code, message, times=3)

    with pytest.raises(SyncAborted) as caught:
        AdAccount(workspace, advertiser_id).sync()

    assert caught.value.error.code == code
    assert message_for(caught.value).startswith(words)
    assert sends(sandbox, "/open_api/v1.3/comment/list/") == 0
    with workspace.store.cursor() as cur:
        run = AdAccount(workspace, advertiser_id).last_run(cur)
    assert run.status == "failed" and message in run.message
    assert stored_ids(workspace, advertiser_id) == set()


@pytest.mark.parametrize("applied", [False, True], ids=["not carried out", "carried out"])
def test_a_reply_met_by_53103_is_settled_with_tiktok_and_never_posted_twice(world, applied):
    sandbox, workspace = world
    advertiser_id = advertisers_by_access(sandbox.ground_truth())[WRITER]
    AdAccount(workspace, advertiser_id).sync()
    parent = a_comment_to_answer(workspace, advertiser_id)["comment_id"]
    text = "Thanks, we will DM you!"
    sandbox.fail_next("comment/post/", 53103, "Serialization error.", applied=applied)

    first = reply(workspace, advertiser_id, text, "53103-1")

    # Sent once; the outcome was unknown, so TikTok was asked instead of sending again.
    assert sends(sandbox) == 1
    assert len(sandbox_replies(sandbox, advertiser_id, parent, text)) == (1 if applied else 0)
    assert first.status == ("sent" if applied else "failed"), first.message
    with AdAccount(workspace, advertiser_id).writer() as writer, \
            workspace.store.cursor() as cur:
        again = outbox.retry(cur, writer, first.action_id, actor=ACTOR)
    assert again.status == "sent", again.message
    assert sends(sandbox) == (1 if applied else 2)
    assert len(sandbox_replies(sandbox, advertiser_id, parent, text)) == 1


# Upgraded Smart+ ads


@pytest.mark.parametrize(("refusal", "smart_plus_ads"), [("40002", 2), ("51010", 2),
                                                          ("40002", 21)],
                         ids=["40002", "51010", "40002, seven ads"])
def test_smart_plus_ads_are_listed_and_the_sync_says_which_ads_comments_tiktok_does_not_give(
        tmp_path, refusal, smart_plus_ads):
    config = sandbox_config(smart_plus_ads=smart_plus_ads, smart_plus_refusal=refusal)
    with start_sandbox(config) as sandbox, workspace_for(sandbox, tmp_path) as workspace:
        truth = sandbox.ground_truth()
        smart = truth["smart_plus_ads"]
        advertiser_id = smart[0]["advertiser_id"]
        client = make_client(sandbox)  # never really sleeps through the 51010 retries

        result = sync_advertiser(workspace.store, client, advertiser_id,
                                 options=SyncOptions(lookback_days=200))

        mine = [a for a in smart if a["advertiser_id"] == advertiser_id]
        assert result.status == "ok", result.message  # not a failure: a sync cannot change it
        assert set(result.refused) == {a["adgroup_id"] for a in mine}
        # The message names the ads (at most five, by name, then how many more).
        names = sorted(a["ad_name"] for a in mine)
        named, unnamed = names[:REFUSED_ADS_NAMED], names[REFUSED_ADS_NAMED:]
        which = ("this Upgraded Smart+ ad" if len(mine) == 1
                 else f"these {len(mine)} Upgraded Smart+ ads")
        listed = ", ".join(f'"{name}"' for name in named)
        if unnamed:
            listed += f" and {len(unnamed)} more"
        assert f"TikTok does not provide the comments of {which}: {listed};" in result.message
        assert not any(f'"{name}"' in result.message for name in unnamed)
        assert (len(mine) > REFUSED_ADS_NAMED) == (smart_plus_ads == 21)
        with workspace.store.cursor() as cur:
            ads = {r["ad_id"]: r for r in db.ads_with_counts(cur, advertiser_id)
                   .to_dict("records")}
        for ad in mine:
            row = ads[ad["smart_plus_ad_id"]]
            assert row["smart_plus"] and pd.notna(row["comments_refused"])
        others = [row for ad_id, row in ads.items()
                  if ad_id not in {a["smart_plus_ad_id"] for a in mine}]
        assert others
        assert not any(row["smart_plus"] or pd.notna(row["comments_refused"]) for row in others)
        assert stored_ids(workspace, advertiser_id) == truth_ids(sandbox, advertiser_id)


def test_a_refused_ad_without_a_name_is_named_by_its_id_and_a_long_name_is_shortened():
    ads = [Ad(advertiser_id="1", adgroup_id="g", ad_id="42"),
           Ad(advertiser_id="1", adgroup_id="g", ad_id="43", ad_name="Spring " * 20)]

    sentence = refused_ads_sentence(ads, 1)

    assert sentence.startswith("TikTok does not provide the comments of these 2 Upgraded "
                               'Smart+ ads: ad 42, "Spring Spring')
    assert '…"; the Ads page lists them all.' in sentence and len(sentence) < 200


# comments that hit a blocked word


def test_a_comment_that_hit_a_blocked_word_is_never_sent_to_be_hidden_or_unhidden(world):
    sandbox, workspace = world
    advertiser_id = advertisers_by_access(sandbox.ground_truth())[WRITER]
    AdAccount(workspace, advertiser_id).sync()
    with workspace.store.cursor() as cur:
        blocked = db.query_records(cur, "SELECT comment_id FROM comments WHERE advertiser_id = ? "
                                   "AND hit_blockedword ORDER BY comment_id", [advertiser_id])
        plain = db.query_records(cur, "SELECT comment_id FROM comments WHERE advertiser_id = ? "
                                 "AND NOT hit_blockedword ORDER BY comment_id", [advertiser_id])
    assert blocked and plain
    with AdAccount(workspace, advertiser_id).writer() as writer, \
            workspace.store.cursor() as cur:
        for ids in ([blocked[0]["comment_id"]], [plain[0]["comment_id"], blocked[0]["comment_id"]]):
            with pytest.raises(ActionRefused, match="blocked-word list"):
                outbox.set_hidden(cur, writer, comment_ids=ids, hidden=False, actor=ACTOR,
                                  request_key=f"blocked-{len(ids)}")
    assert sends(sandbox, STATUS_PATH) == 0


# comments on reserved ads (Reach & Frequency, TopView) are hidden with ad_type BRAND


def stored_buying_types(workspace: Workspace, advertiser_id: str) -> dict[str, str | None]:
    with workspace.store.cursor() as cur:
        rows = db.query_records(cur, "SELECT ad_id, buying_type FROM ads WHERE advertiser_id = ?",
                                [advertiser_id])
    return {r["ad_id"]: r["buying_type"] for r in rows}


def one_comment_per_buying_type(sandbox, advertiser_id: str) -> dict[str, str]:
    truth = sandbox.ground_truth(advertiser_id)
    bought = {ad["ad_id"]: ad["buying_type"] for ad in truth["ads"]}
    chosen: dict[str, str] = {}
    for comment in sorted(truth["comments"], key=lambda c: c["comment_id"]):
        kind = bought[comment["ad_id"]]
        if comment["comment_status"] == "PUBLIC" and not comment["hit_blockedword"]:
            chosen.setdefault(kind, comment["comment_id"])
    return chosen


@pytest.mark.parametrize("world", [{"reservation_adgroups": 2}], indirect=True)
@pytest.mark.parametrize("known", [True, False], ids=["buying types known", "not known"])
def test_comments_on_reserved_ads_are_hidden_with_the_ad_type_tiktok_wants(world, known):
    sandbox, workspace = world
    advertiser_id = advertisers_by_access(sandbox.ground_truth())[WRITER]
    truth_ads = {a["ad_id"]: a["buying_type"]
                 for a in sandbox.ground_truth(advertiser_id)["ads"]}

    AdAccount(workspace, advertiser_id).sync()

    # ad/get lists TopView ads only when asked for them alone; the sync asks, and records how
    # every ad was bought.
    assert stored_buying_types(workspace, advertiser_id) == truth_ads
    assert stored_ids(workspace, advertiser_id) == truth_ids(sandbox, advertiser_id)
    if not known:  # as when TikTok would not filter ad/get by buying type
        with workspace.store.cursor() as cur:
            cur.execute("UPDATE ads SET buying_type = NULL").fetchall()
    chosen = one_comment_per_buying_type(sandbox, advertiser_id)
    assert set(chosen) == {"AUCTION", "RESERVATION_RF", "RESERVATION_TOP_VIEW"}

    with AdAccount(workspace, advertiser_id).writer() as writer, \
            workspace.store.cursor() as cur:
        results = outbox.set_hidden(cur, writer, comment_ids=list(chosen.values()), hidden=True,
                                    actor=ACTOR, request_key="reserved")
        rows = {r["comment_id"]: r for r in db.query_records(
            cur, "SELECT comment_id, ad_type FROM outbox WHERE request_key LIKE 'reserved:%'")}

    assert [r.status for r in results] == ["sent"] * 3, [r.message for r in results]
    status = {c["comment_id"]: c["comment_status"]
              for c in sandbox.ground_truth(advertiser_id)["comments"]}
    assert all(status[c] == "HIDDEN" for c in chosen.values())
    expected = {"AUCTION": "BIDDING", "RESERVATION_RF": "BRAND", "RESERVATION_TOP_VIEW": "BRAND"}
    assert {kind: rows[c]["ad_type"] for kind, c in chosen.items()} == (
        expected if known else dict.fromkeys(chosen))
    # Known: auction comments and reserved ones go in separate calls, none refused. Not known:
    # one call, refused for its ad_type; then each ad's comments on their own, and a reserved
    # ad's, refused for the ad_type TikTok takes by default, once more with BRAND.
    refused = sandbox.stats()["by_code"].get("40002", 0)
    assert refused == (0 if known else 3)
    assert sends(sandbox, STATUS_PATH) == (2 if known else 1 + 3 + 2)
