"""How fast and how lean a sync is, against the sandbox behaving like TikTok under load.

The sandbox runs in its own process with 250 ms latency and the Basic tier's limits
(10 requests a second, 600 a minute) enforced, serving one account of about 200 ad groups and
100,000 comments. Measured in one run:

- the sync's sustained request rate (target: at least 90% of the 10/s ceiling), and that no
  throttling error reaches the user;
- the same account fetched by a plain sequential loop with TikTok's official SDK, one request
  at a time, as a simple script would: the sync must be at least 2.5 times faster;
- a second sync with nothing new: at most one request per ad group plus the ad pages (ad/get
  and smart_plus/ad/get);
- the sync's peak memory, and that of a 1,000,000-comment sync (in its own process).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._harness import BenchResult, peak_rss_mb, timer
from desk.sources.ad_sync import SyncOptions, date_windows, sync_advertiser
from desk.store import Store
from desk.workspace import RATE_LIMIT_MARGIN
from tiktok_client.client import TikTokClient
from tiktok_client.oauth import exchange_auth_code
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import authorization_code

NAME = "sync"
ROOT = Path(__file__).resolve().parents[1]
APP_ID, SECRET = "sandbox-app", "sandbox-secret"
REDIRECT = "http://127.0.0.1:8501/"


class Sandbox:
    """`python -m tiktok_sandbox` in a child process."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tiktok_sandbox", "--port", "0", *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = self.proc.stdout.readline()
        self.base_url = next(w for w in line.split() if w.startswith("http://")).rstrip("/")

    def connect(self) -> tuple[str, list[str]]:
        """A token through the consent screen and the code exchange, as the app gets one."""
        code = authorization_code(self.base_url, app_id=APP_ID, redirect_uri=REDIRECT)
        with TikTokClient(base_url=self.base_url) as anonymous:
            grant = exchange_auth_code(anonymous, APP_ID, SECRET, code)
        return grant.access_token, grant.advertiser_ids

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def sequential_sdk_sync(base_url: str, token: str, advertiser_id: str, lookback_days: int
                        ) -> int:
    """The baseline: TikTok's official SDK, one request after another. Returns requests made."""
    import business_api_client as sdk

    config = sdk.Configuration()
    config.host = base_url
    api_client = sdk.ApiClient(config)
    ads_api, comments_api = sdk.AdApi(api_client), sdk.CommentsApi(api_client)
    requests = 0
    adgroups: set[str] = set()
    page = 1
    while True:
        answer = ads_api.ad_get(advertiser_id, token, page=page, page_size=1000)
        requests += 1
        adgroups.update(ad["adgroup_id"] for ad in answer["data"]["list"])
        if page >= answer["data"]["page_info"]["total_page"]:
            break
        page += 1
    today = datetime.now(UTC).date()
    windows = date_windows(today - timedelta(days=lookback_days), today, 30)
    for adgroup_id in sorted(adgroups):
        for start, end in windows:
            page = 1
            while True:
                answer = comments_api.comment_list(
                    advertiser_id, start.isoformat(), end.isoformat(), "ADGROUP_ID",
                    adgroup_id, token, page=page, page_size=100)
                requests += 1
                if page >= answer["data"]["page_info"]["total_page"]:
                    break
                page += 1
    return requests


def million_comment_sync_peak_mb() -> tuple[float, float]:
    """Peak RSS (MiB) and wall time of `python -m desk sync` over a 1M-comment account."""
    sandbox = Sandbox("--seed", "9", "--advertisers", "1", "--ads", "2000", "--comments",
                      "1000000", "--qps", "100000", "--qpm", "10000000",
                      "--new-comments-per-minute", "0")
    try:
        token, [advertiser_id] = sandbox.connect()
        with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
            env = {**os.environ, "TIKTOK_ACCESS_TOKEN": token,
                   "TIKTOK_API_BASE_URL": sandbox.base_url, "DESK_LOOKBACK_DAYS": "130",
                   "TIKTOK_RATE_LIMIT_QPS": "100000", "TIKTOK_RATE_LIMIT_QPM": "10000000"}
            with timer() as t:
                child = subprocess.Popen(
                    [sys.executable, "-m", "desk", "sync", "--advertiser-id", advertiser_id,
                     "--db", str(Path(tmp) / "million.duckdb")],
                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _, status, usage = os.wait4(child.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError("the 1M-comment sync failed")
            return usage.ru_maxrss / 1024, t.seconds
    finally:
        sandbox.close()


def run() -> list[BenchResult]:
    results: list[BenchResult] = []

    def add(metric: str, value: float, unit: str, target: float | None = None,
            direction: str = "<=") -> None:
        results.append(BenchResult(NAME, metric, value, unit, target, direction))

    sandbox = Sandbox("--seed", "4", "--advertisers", "1", "--ads", "400", "--comments",
                      "100000", "--latency-ms", "250", "--qps", "10", "--qpm", "600",
                      "--new-comments-per-minute", "0")
    try:
        token, [advertiser_id] = sandbox.connect()
        options = SyncOptions(lookback_days=90)
        with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
            store = Store.open(Path(tmp) / "sync.duckdb")
            limiter = RateLimiter(10, 600, margin=RATE_LIMIT_MARGIN)
            client = TikTokClient(token, base_url=sandbox.base_url, rate_limiter=limiter,
                                  deadline=600, max_attempts=12)
            first = sync_advertiser(store, client, advertiser_id, options=options)
            cur = store.cursor()
            adgroups = cur.execute("SELECT count(DISTINCT adgroup_id) FROM ads").fetchone()[0]
            ads = cur.execute("SELECT count(*) FROM ads").fetchone()[0]
            add("ad groups / comments stored", adgroups, "groups")
            add("  comments stored (90-day look-back)", first.rows, "rows")
            add("first sync: requests", first.requests, "requests")
            add("first sync: wall time", first.seconds, "s")
            answered = first.requests - first.throttled
            add("first sync: sustained request rate (answered)", answered / first.seconds,
                "req/s", 9.0, ">=")
            add("first sync: throttled answers (absorbed, retried)", first.throttled, "answers")
            add("first sync: errors surfaced to the user",
                len(first.failures) + (first.status != "ok"), "errors", 0)
            add("first sync: peak RSS of the syncing process", peak_rss_mb(), "MiB")

            second = sync_advertiser(store, client, advertiser_id, options=options)
            add("second sync, nothing new: requests", second.requests - second.throttled,
                "requests", adgroups + math.ceil(ads / 1000) + 1)
            add("  throttled answers in it (retried)", second.throttled, "answers")
            store.close()

        with timer() as t:
            baseline_requests = sequential_sdk_sync(sandbox.base_url, token, advertiser_id, 90)
        add("sequential SDK loop: requests", baseline_requests, "requests")
        add("sequential SDK loop: wall time", t.seconds, "s")
        add("sync speed-up over the sequential loop", t.seconds / first.seconds, "x", 2.5, ">=")
    finally:
        sandbox.close()

    peak, seconds = million_comment_sync_peak_mb()
    add("1M-comment sync: peak RSS of the syncing process", peak, "MiB", 1024)
    add("1M-comment sync: wall time (no latency, no limits)", seconds, "s")
    return results
