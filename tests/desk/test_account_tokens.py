"""Business-account tokens against the sandbox over real HTTP, on a clock moved by hand."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from desk.connect.credentials import CredentialStore
from desk.connect.tokens import AccountNeedsReconnect, TokenKeeper
from desk.sources.account_sync import run_organic_sync
from desk.store import Store
from tiktok_client.accounts import BusinessAccountClient, refresh_account_token
from tiktok_client.accounts_models import AccountToken
from tiktok_client.client import TikTokClient
from tiktok_client.errors import OutcomeUnknown
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import SandboxConfig, start_sandbox
from tiktok_sandbox.config import ManualClock

HOUR, DAY = 3600, 86400
SECRET_KEY = "k" * 40


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def sandbox(clock):
    config = SandboxConfig(seed=3, advertisers=1, ads=2, comments=50, business_accounts=1,
                           videos_per_account=2, organic_comments=40, latency_ms=0,
                           qps=100_000, qpm=10_000_000, new_comments_per_minute=0.0,
                           new_organic_comments_per_minute=0.0, clock=clock, port=0)
    with start_sandbox(config) as sb:
        yield sb


@pytest.fixture
def client(sandbox):
    with TikTokClient(None, base_url=sandbox.base_url,
                      rate_limiter=RateLimiter(10_000, 1_000_000)) as c:
        yield c


def now(clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


class CountingRefresh:
    """refresh_account_token, counted; `then` runs after TikTok answered (to fail there)."""

    def __init__(self, then=None):
        self.calls = 0
        self.then = then
        self.lock = threading.Lock()

    def __call__(self, *args, **kwargs) -> AccountToken:
        with self.lock:
            self.calls += 1
        token = refresh_account_token(*args, **kwargs)
        if self.then is not None:
            self.then()
        return token


def connected(sandbox, client, clock, tmp_path, refresh=None) -> tuple[TokenKeeper, str]:
    credentials = CredentialStore(tmp_path / "credentials.json", secret_key=SECRET_KEY)
    keeper = TokenKeeper(credentials, client, sandbox.config.app_id, sandbox.config.secret,
                         refresh=refresh or refresh_account_token)
    conn = keeper.connect(AccountToken.from_api(sandbox.issue_account_token(), now(clock)),
                          now(clock))
    return keeper, conn.business_id


def works(sandbox, client, business_id, token) -> bool:
    api = BusinessAccountClient(client.with_token(token), business_id)
    return api.get_profile(["username"]).username is not None


def test_a_fresh_token_is_used_as_it_is_and_refreshed_before_it_expires(
        sandbox, client, clock, tmp_path):
    refresh = CountingRefresh()
    keeper, business_id = connected(sandbox, client, clock, tmp_path, refresh)
    first = keeper.access_token(business_id, now(clock))
    clock.advance(23 * HOUR)
    assert keeper.access_token(business_id, now(clock)) == first
    assert refresh.calls == 0

    clock.advance(55 * 60)  # 5 minutes before expiry: inside the 10-minute margin
    second = keeper.access_token(business_id, now(clock))

    assert refresh.calls == 1 and second != first
    clock.advance(10 * 60)  # the first has expired now; the refreshed one works
    assert works(sandbox, client, business_id, second)
    assert keeper.access_token(business_id, now(clock)) == second


def test_two_threads_racing_refresh_once_and_share_the_new_token(
        sandbox, client, clock, tmp_path):
    refresh = CountingRefresh(then=lambda: threading.Event().wait(0.2))
    keeper, business_id = connected(sandbox, client, clock, tmp_path, refresh)
    clock.advance(DAY - 60)
    barrier = threading.Barrier(2)
    got: list[str] = []

    def take() -> None:
        barrier.wait()
        got.append(keeper.access_token(business_id, now(clock)))

    threads = [threading.Thread(target=take) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert refresh.calls == 1
    assert len(got) == 2 and got[0] == got[1]
    clock.advance(120)
    assert works(sandbox, client, business_id, got[0])


def test_a_refresh_whose_answer_is_lost_loses_nothing(sandbox, client, clock, tmp_path):
    def lose() -> None:
        raise OutcomeUnknown("the answer never came")

    keeper, business_id = connected(sandbox, client, clock, tmp_path, CountingRefresh(lose))
    before = keeper._credentials.account_connection(business_id)
    clock.advance(DAY - 60)

    # TikTok issued a new pair that never reached us; the old access token is still valid.
    assert keeper.access_token(business_id, now(clock)) == before.access_token
    assert keeper._credentials.account_connection(business_id) == before

    clock.advance(120)  # now expired for good: a working keeper renews with the old refresh
    healthy = TokenKeeper(keeper._credentials, client, sandbox.config.app_id,
                          sandbox.config.secret)
    token = healthy.access_token(business_id, now(clock))
    assert token != before.access_token
    assert works(sandbox, client, business_id, token)


def test_a_process_dying_before_it_stores_the_new_pair_loses_nothing(
        sandbox, client, clock, tmp_path):
    def die() -> None:
        raise SystemExit("killed after TikTok answered")

    keeper, business_id = connected(sandbox, client, clock, tmp_path, CountingRefresh(die))
    before = keeper._credentials.account_connection(business_id)
    clock.advance(DAY + 60)
    with pytest.raises(SystemExit):
        keeper.access_token(business_id, now(clock))
    assert keeper._credentials.account_connection(business_id) == before

    healthy = TokenKeeper(keeper._credentials, client, sandbox.config.app_id,
                          sandbox.config.secret)
    assert works(sandbox, client, business_id, healthy.access_token(business_id, now(clock)))


def test_status_warns_fourteen_days_before_the_year_ends_and_then_asks_to_reconnect(
        sandbox, client, clock, tmp_path):
    keeper, business_id = connected(sandbox, client, clock, tmp_path)
    assert keeper.status(business_id, now(clock)).state == "ok"
    clock.advance(350 * DAY)
    assert keeper.status(business_id, now(clock)).state == "ok"
    assert keeper.refresh_due(now(clock)) == {business_id: "refreshed"}

    clock.advance(2 * DAY)  # 13 days left
    warned = keeper.status(business_id, now(clock))
    ends = datetime.fromtimestamp(clock() + 13 * DAY, UTC)
    assert warned.state == "warn"
    assert f"{ends.day} {ends:%B %Y}" in warned.message
    assert warned.refresh_expires_at == ends

    clock.advance(14 * DAY)
    assert keeper.status(business_id, now(clock)).state == "reconnect"
    with pytest.raises(AccountNeedsReconnect, match="connected again"):
        keeper.access_token(business_id, now(clock))
    after = keeper.status(business_id, now(clock))
    assert after.state == "reconnect" and "Connect it again" in after.message


def test_a_refresh_token_tiktok_refuses_marks_the_account_for_reconnecting(
        sandbox, client, clock, tmp_path):
    keeper, business_id = connected(sandbox, client, clock, tmp_path)
    sandbox.revoke_account_token(keeper.access_token(business_id, now(clock)))
    clock.advance(DAY)

    with pytest.raises(AccountNeedsReconnect, match="refused"):
        keeper.access_token(business_id, now(clock))
    assert keeper.status(business_id, now(clock)).state == "reconnect"
    assert keeper.refresh_due(now(clock)) == {}


def test_tokens_never_reach_the_database_or_a_repr(sandbox, client, clock, tmp_path):
    keeper, business_id = connected(sandbox, client, clock, tmp_path)
    clock.advance(DAY)  # the sync refreshes on use
    with Store.open(tmp_path / "desk.duckdb") as store:
        result = run_organic_sync(store, keeper, client, business_id,
                                  clock=lambda: now(clock))
    conn = keeper._credentials.account_connection(business_id)
    assert result.status == "ok" and result.rows > 0
    assert conn.refreshed_at == now(clock).isoformat(timespec="seconds")

    secrets = [conn.access_token, conn.refresh_token]
    database = (tmp_path / "desk.duckdb").read_bytes()
    credentials_file = (tmp_path / "credentials.json").read_bytes()
    for secret in secrets:
        assert secret.encode() not in database
        assert secret.encode() not in credentials_file  # encrypted with the secret key
        assert secret not in repr(conn) and secret not in repr(keeper)
        assert secret not in repr(keeper._credentials.account_connections())


def test_advertiser_connections_and_business_accounts_share_the_file(
        sandbox, client, clock, tmp_path):
    keeper, business_id = connected(sandbox, client, clock, tmp_path)
    credentials = keeper._credentials
    conn = credentials.add("ad-token", ["111"], [4])
    credentials.mark_needs_reauth(conn.connection_id, "revoked")
    clock.advance(DAY)
    keeper.access_token(business_id, now(clock))

    assert credentials.connections()[0].needs_reauth
    assert [a.business_id for a in credentials.account_connections()] == [business_id]
    old_format = CredentialStore(tmp_path / "old.json")
    old_format.add("ad-token", ["111"], [4])
    assert old_format.account_connections() == []
