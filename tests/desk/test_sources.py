"""Both comment sources through the one interface: sync with a run record, the command line
for a TikTok business account (progress line, exit codes, lock message, resuming after a
kill), and the outbox writing through either source's Writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desk import outbox
from desk import store as db
from desk.config import load_settings
from desk.connect.credentials import CredentialStore
from desk.connect.tokens import TokenKeeper
from desk.errors import NotConnected, SyncBusy
from desk.scheduler import AutoSync
from desk.sources import KINDS, AdAccount, TikTokAccount, for_row, source
from desk.store import Store
from desk.workspace import TikTokApp, Workspace
from tiktok_client.accounts_models import AccountToken
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import SandboxConfig, start_sandbox

ROOT = Path(__file__).resolve().parents[2]
ACTOR = "sam@brand.example"


def world(**overrides) -> SandboxConfig:
    settings = dict(seed=7, advertisers=2, ads=8, comments=400, latency_ms=0, qps=100_000,
                    qpm=10_000_000, new_comments_per_minute=0.0, business_accounts=2,
                    videos_per_account=6, organic_comments=600,
                    new_organic_comments_per_minute=0.0, port=0)
    settings.update(overrides)
    return SandboxConfig(**settings)


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(world()) as sb:
        yield sb


@pytest.fixture
def workspace(sandbox, tmp_path):
    settings = load_settings(environ={"DESK_LOOKBACK_DAYS": "200"}, secrets={},
                             secrets_path=None)
    app = TikTokApp(api_base_url=sandbox.base_url, auth_url=f"{sandbox.base_url}/portal/auth",
                    app_id=sandbox.config.app_id, app_secret=sandbox.config.secret,
                    redirect_uri="http://localhost:8501/",
                    rate_limiter=RateLimiter(10_000, 1_000_000))
    with Store.open(tmp_path / "desk.duckdb") as store:
        yield Workspace(settings, store, CredentialStore(tmp_path / "credentials.json"), app)


def business_id_of(sandbox) -> str:
    return sandbox.ground_truth_accounts()["accounts"][0]["business_id"]


def connect_account(sandbox, workspace, business_id) -> None:
    with workspace.app.client() as client:
        TokenKeeper(workspace.credentials, client, workspace.app.app_id,
                    workspace.app.app_secret).connect(
            AccountToken.from_api(sandbox.issue_account_token(business_id)))


def stored_organic_ids(store, business_id) -> set[str]:
    with store.cursor() as cur:
        rows = db.query_records(cur, "SELECT comment_id FROM comments WHERE source = 'organic' "
                                "AND business_id = ?", [business_id])
    return {row["comment_id"] for row in rows}


def test_an_organic_sync_is_recorded_in_sync_runs_like_an_ad_sync(sandbox, workspace):
    business_id = business_id_of(sandbox)
    connect_account(sandbox, workspace, business_id)
    account = TikTokAccount(workspace, business_id)

    result = account.sync()

    truth = sandbox.ground_truth_accounts(business_id)["comments"]
    assert result.status == "ok" and result.rows == len(truth)
    with workspace.store.cursor() as cur:
        run = account.last_run(cur)
        assert db.last_sync_run(cur, business_id) is None  # not an ad account's run
    assert (run.run_id, run.status, run.rows, run.source) == (result.run_id, "ok", len(truth),
                                                             "organic")
    assert run.business_id == business_id and run.advertiser_id is None
    assert run.requests == result.requests > 0


def test_a_source_is_found_from_a_stored_row_of_either_kind(sandbox, workspace):
    business_id = business_id_of(sandbox)
    organic = for_row(workspace, {"source": "organic", "business_id": business_id,
                                  "advertiser_id": None})
    ad = for_row(workspace, {"source": None, "advertiser_id": "7001", "business_id": None})
    assert isinstance(organic, TikTokAccount) and organic.account_id == business_id
    assert isinstance(ad, AdAccount) and ad.account_id == "7001"
    assert set(KINDS) == {"ad", "organic"}
    assert source(workspace, "organic", business_id).key == f"organic:{business_id}"


def test_an_account_without_a_connection_says_so_before_any_request(sandbox, workspace):
    before = sandbox.stats()["total"]
    with pytest.raises(NotConnected, match="Connect it on the Home page"):
        AdAccount(workspace, "7000000000000000999").sync()
    assert sandbox.stats()["total"] == before


def test_either_source_replies_and_hides_through_the_one_outbox(sandbox, workspace):
    business_id = business_id_of(sandbox)
    connect_account(sandbox, workspace, business_id)
    account = TikTokAccount(workspace, business_id)
    account.sync()
    with workspace.store.cursor() as cur:
        [parent] = db.query_records(
            cur, "SELECT * FROM comments WHERE business_id = ? AND comment_type = 'COMMENT' "
            "AND comment_status = 'PUBLIC' ORDER BY comment_id LIMIT 1", [business_id])
        with for_row(workspace, parent).writer() as writer:
            sent = outbox.reply(cur, writer, comment_id=parent["comment_id"], text="Thank you!",
                                actor=ACTOR, request_key="sources-reply")
            [hidden] = outbox.set_hidden(cur, writer, comment_ids=[parent["comment_id"]],
                                         hidden=True, actor=ACTOR, request_key="sources-hide")
        log = outbox.audit_log(cur, limit=100)
    truth = {c["comment_id"]: c for c in sandbox.ground_truth_accounts(business_id)["comments"]}
    assert sent.status == "sent" and truth[sent.result_comment_id]["text"] == "Thank you!"
    assert hidden.status == "sent" and truth[parent["comment_id"]]["status"] == "HIDDEN"
    assert set(log["actor"]) == {ACTOR}


def test_two_syncs_of_one_account_never_run_at_once_and_the_message_names_its_kind():
    scheduler = AutoSync(lambda key, stop, progress: None, tick=3600)
    try:
        with scheduler.syncing("organic:1"), pytest.raises(SyncBusy, match="TikTok account"), \
                scheduler.syncing("organic:1", noun="TikTok account"):
            pass
    finally:
        scheduler.stop()


# ---------------------------------------------------------------------------------------------
# The command line


def cli(sandbox, business_id: str, db_path: Path, **env: str) -> list[str]:
    return [sys.executable, "-m", "desk", "sync", f"--business-id={business_id}",
            "--db", str(db_path)]


def cli_env(sandbox, token: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "TIKTOK_ACCESS_TOKEN": token, "TIKTOK_API_BASE_URL": sandbox.base_url,
            "TIKTOK_RATE_LIMIT_QPS": "1000", "TIKTOK_RATE_LIMIT_QPM": "100000",
            "PYTHONPATH": str(ROOT), **extra}


def test_the_sync_help_documents_the_business_id():
    shown = subprocess.run([sys.executable, "-m", "desk", "sync", "--help"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert shown.returncode == 0
    assert "--business-id" in shown.stdout and "--advertiser-id" in shown.stdout
    assert "organic" in shown.stdout


def test_the_cli_syncs_a_business_account_with_a_progress_line(sandbox, tmp_path):
    business_id = business_id_of(sandbox)
    token = sandbox.issue_account_token(business_id)["access_token"]
    done = subprocess.run(cli(sandbox, business_id, tmp_path / "desk.duckdb"), cwd=ROOT,
                          env=cli_env(sandbox, token), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok:") and "organic comments" in done.stdout
    assert "done: videos" in done.stderr  # the progress line, as for ad accounts
    with Store.open(tmp_path / "desk.duckdb") as store:
        truth = sandbox.ground_truth_accounts(business_id)["comments"]
        assert stored_organic_ids(store, business_id) == {c["comment_id"] for c in truth}


def test_the_cli_says_so_when_the_database_is_in_use_for_a_business_account(tmp_path):
    with Store.open(tmp_path / "desk.duckdb"):
        locked = subprocess.run(
            [sys.executable, "-m", "desk", "sync", "--business-id", "1",
             "--db", str(tmp_path / "desk.duckdb")],
            env={**os.environ, "TIKTOK_ACCESS_TOKEN": "x", "PYTHONPATH": str(ROOT)},
            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert locked.returncode == 3
    assert "in use by another Comment Desk process" in locked.stderr


def test_the_cli_without_a_connection_for_the_business_account_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TIKTOK_ACCESS_TOKEN"}
    missing = subprocess.run(
        [sys.executable, "-m", "desk", "sync", "--business-id", "nobody",
         "--db", str(tmp_path / "desk.duckdb")],
        env={**env, "DESK_CREDENTIALS": str(tmp_path / "none.json"), "PYTHONPATH": str(ROOT)},
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
    assert "not connected" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.slow
def test_a_killed_organic_cli_sync_is_marked_interrupted_and_the_next_one_resumes(tmp_path):
    with start_sandbox(world(latency_ms=20, organic_comments=1500)) as sb:
        business_id = business_id_of(sb)
        token = sb.issue_account_token(business_id)["access_token"]
        comment_list = "/open_api/v1.3/business/comment/list/"
        env = cli_env(sb, token)
        before = sb.stats()["by_path"].get(comment_list, 0)
        fresh = subprocess.run(cli(sb, business_id, tmp_path / "fresh.duckdb"), cwd=ROOT,
                               env=env, capture_output=True, text=True, timeout=120)
        assert fresh.returncode == 0, fresh.stderr
        whole = sb.stats()["by_path"].get(comment_list, 0) - before

        path = tmp_path / "desk.duckdb"
        command = cli(sb, business_id, path)
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        before = sb.stats()["by_path"].get(comment_list, 0)
        while sb.stats()["by_path"].get(comment_list, 0) - before < whole * 0.7:
            assert proc.poll() is None, "the sync ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        with Store.open(path) as store, store.cursor() as cur:
            killed = db.query_records(cur, "SELECT status, source FROM sync_runs")
            part = stored_organic_ids(store, business_id)
        assert killed == [{"status": "running", "source": "organic"}]

        before = sb.stats()["by_path"].get(comment_list, 0)
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)

        assert done.returncode == 0, done.stderr
        truth = sb.ground_truth_accounts(business_id)["comments"]
        with Store.open(path) as store, store.cursor() as cur:
            runs = db.query_records(cur, "SELECT status FROM sync_runs ORDER BY run_id")
            assert stored_organic_ids(store, business_id) == {c["comment_id"] for c in truth}
        assert [r["status"] for r in runs] == ["interrupted", "ok"]
        resumed = sb.stats()["by_path"].get(comment_list, 0) - before
        assert part and resumed < whole  # the videos stored before the kill were not read again
