"""A business account's profile in the organic sync, against the sandbox over real HTTP: asked
for by granted scope, never in the way of the comments, and the organic reply limit."""

from __future__ import annotations

import pytest

from desk import store as db
from desk.config import load_settings
from desk.connect.credentials import CredentialStore
from desk.connect.tokens import TokenKeeper
from desk.sources import TikTokAccount, TikTokAccountWriter
from desk.sources.account_sync import sync_business_account
from desk.store import Store
from desk.workspace import TikTokApp, Workspace
from tiktok_client.accounts import BusinessAccountClient
from tiktok_client.accounts_models import AccountToken
from tiktok_client.client import TikTokClient
from tiktok_client.errors import InvalidRequest
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import SandboxConfig, start_sandbox

PROFILE_PATH = "/open_api/v1.3/business/get/"
ALL_BUT_STATS = ("user.info.basic", "video.list", "comment.list", "comment.list.manage")
NO_PROFILE = ("video.list", "comment.list", "comment.list.manage")


@pytest.fixture(scope="module")
def sandbox():
    config = SandboxConfig(seed=3, advertisers=1, ads=4, comments=50, latency_ms=0,
                           qps=100_000, qpm=10_000_000, new_comments_per_minute=0.0,
                           business_accounts=2, videos_per_account=3, organic_comments=150,
                           new_organic_comments_per_minute=0.0, port=0)
    with start_sandbox(config) as sb:
        yield sb


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as handle:
        yield handle


def account_of(sandbox, n: int = 0) -> dict:
    return sandbox.ground_truth_accounts()["accounts"][n]


def profile_calls(sandbox) -> int:
    return sandbox.stats()["by_path"].get(PROFILE_PATH, 0)


def sync_with(sandbox, store, business_id, scopes, *, tell_scopes=True):
    token = sandbox.issue_account_token(business_id, scopes=scopes)["access_token"]
    with TikTokClient(None, base_url=sandbox.base_url,
                      rate_limiter=RateLimiter(10_000, 1_000_000)) as client:
        return sync_business_account(store, client, business_id, lambda: token,
                                     scopes=scopes if tell_scopes else None)


def stored_account(store, business_id) -> dict:
    [row] = db.query_records(store.cursor(), "SELECT * FROM business_accounts "
                             "WHERE business_id = ?", [business_id])
    return row


def stored_comments(store, business_id) -> int:
    [(count,)] = store.cursor().execute(
        "SELECT count(*) FROM comments WHERE source = 'organic' AND business_id = ?",
        [business_id]).fetchall()
    return count


def test_a_profile_that_cannot_be_read_does_not_stop_the_comment_sync(sandbox, store):
    account = account_of(sandbox)
    truth = sandbox.ground_truth_accounts(account["business_id"])

    result = sync_with(sandbox, store, account["business_id"], NO_PROFILE)

    assert result.status == "ok", result.message
    assert result.rows == len(truth["comments"]) == stored_comments(store,
                                                                    account["business_id"])
    assert result.videos == len(truth["videos"])
    assert result.profile_error is not None and "user.info.basic" in result.profile_error
    assert "profile could not be read" in result.message
    assert "user.info.basic" in result.summary()
    row = stored_account(store, account["business_id"])
    assert row["display_name"] is None, "the account is known by its business_id alone"
    with store.cursor() as cur:
        run = db.last_sync_run(cur, account["business_id"], "organic")
    assert "profile could not be read" in run.message


def test_the_sync_asks_only_for_the_profile_fields_the_grant_covers(sandbox, store):
    account = account_of(sandbox)
    before = profile_calls(sandbox)

    result = sync_with(sandbox, store, account["business_id"], ALL_BUT_STATS)

    assert profile_calls(sandbox) - before == 1
    assert result.profile_error is None and result.status == "ok"
    row = stored_account(store, account["business_id"])
    assert (row["display_name"], row["bio_description"]) == (account["display_name"],
                                                             account["bio_description"])
    assert (row["username"], row["followers_count"]) == (None, None)


def test_without_known_scopes_a_refused_profile_falls_back_to_the_basic_fields(sandbox,
                                                                               store):
    account = account_of(sandbox)
    before = profile_calls(sandbox)

    result = sync_with(sandbox, store, account["business_id"], ALL_BUT_STATS,
                       tell_scopes=False)

    assert profile_calls(sandbox) - before == 2, "40130, then the basic fields"
    assert result.profile_error is None
    assert stored_account(store, account["business_id"])["display_name"] == (
        account["display_name"])


def test_a_profile_read_with_fewer_fields_keeps_what_was_stored_before(sandbox, store):
    account = account_of(sandbox)
    sync_with(sandbox, store, account["business_id"], None)  # every scope
    assert stored_account(store, account["business_id"])["username"] == account["username"]

    sync_with(sandbox, store, account["business_id"], ALL_BUT_STATS)

    row = stored_account(store, account["business_id"])
    assert (row["username"], row["followers_count"]) == (account["username"],
                                                         account["followers_count"])


def test_the_source_syncs_with_the_scopes_stored_with_the_tokens(sandbox, tmp_path):
    account = account_of(sandbox, 1)
    settings = load_settings(environ={}, secrets={}, secrets_path=None)
    app = TikTokApp(api_base_url=sandbox.base_url, auth_url=f"{sandbox.base_url}/portal/auth",
                    app_id=sandbox.config.app_id, app_secret=sandbox.config.secret,
                    redirect_uri="http://localhost:8501/",
                    rate_limiter=RateLimiter(10_000, 1_000_000))
    with Store.open(tmp_path / "desk.duckdb") as store:
        workspace = Workspace(settings, store, CredentialStore(tmp_path / "credentials.json"),
                              app)
        tokens = sandbox.issue_account_token(account["business_id"], scopes=ALL_BUT_STATS)
        with app.client() as client:
            TokenKeeper(workspace.credentials, client, app.app_id, app.app_secret).connect(
                AccountToken.from_api(tokens))
        before = profile_calls(sandbox)

        result = TikTokAccount(workspace, account["business_id"]).sync()

        assert profile_calls(sandbox) - before == 1
        assert result.status == "ok" and result.profile_error is None


# -- the reply limit -------------------------------------------------------------------------


def test_organic_replies_take_1200_characters(sandbox):
    writer = TikTokAccountWriter(BusinessAccountClient(
        TikTokClient("act.x", base_url=sandbox.base_url), account_of(sandbox)["business_id"]))

    assert writer.max_reply_length == TikTokAccountWriter.reply_limit({}) == 1200
    writer.check_text("x" * 1200)
    with pytest.raises(InvalidRequest, match="1201 characters long; the limit is 1200"):
        writer.check_text("x" * 1201)
