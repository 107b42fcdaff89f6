"""How close a sync comes to TikTok's physical limit, and how lean it is.

Measured in one run, against the sandbox in its own process answering after 250 ms with its
rate limits enforced, each figure held to its target:

- an account whose ad groups hold about 1,000 comments each (at least 300), at the Basic
  tier (10 requests a second, 600 a minute): the share of the comments/s limit (10 requests a
  second x 100 comments a page), the share of the request ceiling, throttling that reached the
  person, when the first comments were stored, and what a second sync with nothing new costs;
- the sync and a plain sequential loop over TikTok's official SDK, as a simple script would
  (three 30-day windows over the 90 days, one request at a time), on the account the issue
  measured (60 ad groups, 18,705 comments, 90 days), side by side as in the issue's table:
  comments, comments and requests per second, comments per request, the share of the
  comments/s limit and wall time, and the sync's speed-up over it;
- a bigger account at the Ultimate tier (50 a second, 3,000 a minute);
- a small account (under 50 requests);
- a 1,000,000-comment sync with no latency and no limits (`python -m desk sync
  --no-moderation` in its own process: wall time and peak RSS; classifying and rules are
  measured by the classifier benchmark);
- the client side alone: CPU seconds per 100,000 comments parsed and stored, replaying
  recorded answers (no sandbox, no network).

The request timeline of the Basic-tier sync (requests sent per second) is written to
bench-results/sync-timeline.html (plotly included: it opens without a network), so a reader
can see the budget used; the table is also written to bench-results/sync-YYYY-MM-DD.md with
the host's load before and after.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import plotly.graph_objects as go
import requests
from requests.adapters import BaseAdapter, HTTPAdapter

from bench._harness import BenchResult, peak_rss_mb, render_markdown, timer
from desk.sources.ad_sync import AdSyncProgress, SyncOptions, date_windows, sync_advertiser
from desk.store import Store
from desk.workspace import RATE_LIMIT_MARGIN
from tiktok_client.client import TikTokClient
from tiktok_client.oauth import exchange_auth_code
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import authorization_code

NAME = "sync"
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results"
APP_ID, SECRET = "sandbox-app", "sandbox-secret"
REDIRECT = "http://127.0.0.1:8501/"
LATENCY_MS = "250"
LOOKBACK = 130  # the sandbox's whole history (120 days)
PAGE = 100  # comments a comment/list page holds at most


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

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def world(*, ads: int, comments: int, qps: int, qpm: int, latency: str = LATENCY_MS,
          seed: int = 4) -> Sandbox:
    """One ad account whose ad groups (two ads each) share the comments about evenly."""
    return Sandbox("--seed", str(seed), "--advertisers", "1", "--ads", str(ads),
                   "--comments", str(comments), "--comment-spread", "even",
                   "--latency-ms", latency, "--qps", str(qps), "--qpm", str(qpm),
                   "--new-comments-per-minute", "0")


class RecordingLimiter(RateLimiter):
    """The app's limiter (paced, the app's margin) that remembers when each request went."""

    def __init__(self, qps: int, qpm: int):
        super().__init__(qps, qpm, margin=RATE_LIMIT_MARGIN, burst=1)
        self.sent: list[float] = []
        self._record = threading.Lock()

    def acquire(self, urgent: bool = False) -> float:
        sent = super().acquire(urgent)
        with self._record:
            self.sent.append(sent)
        return sent


class Measured:
    """One sync against a sandbox with limits, and what it shows."""

    def __init__(self, sandbox: Sandbox, qps: int, qpm: int, *, options: SyncOptions,
                 store: Store | None = None) -> None:
        self.token, [self.advertiser_id] = sandbox.connect()
        self.limiter = RecordingLimiter(qps, qpm)
        self.client = TikTokClient(self.token, base_url=sandbox.base_url,
                                   rate_limiter=self.limiter,
                                   deadline=600, max_attempts=12)
        self.qps, self.options = qps, options
        self.first_rows: float | None = None
        self.store = store

    def sync(self):
        started = time.monotonic()

        def progress(report: AdSyncProgress) -> None:
            if self.first_rows is None and report.rows:
                self.first_rows = time.monotonic() - started

        return sync_advertiser(self.store, self.client, self.advertiser_id,
                               options=self.options, progress=progress)

    def adgroups(self) -> int:
        with self.store.cursor() as cur:
            return cur.execute("SELECT count(DISTINCT adgroup_id) FROM ads").fetchone()[0]


def timeline(sent: list[float], qps: int, path: Path, title: str) -> None:
    """Requests sent per second over the sync, against the ceiling, as a plotly page."""
    start = min(sent)
    per_second = Counter(int(t - start) for t in sent)
    seconds = list(range(max(per_second) + 1))
    figure = go.Figure([
        go.Bar(x=seconds, y=[per_second.get(s, 0) for s in seconds], name="requests sent"),
        go.Scatter(x=[0, seconds[-1]], y=[qps, qps], mode="lines", name="rate limit",
                   line={"dash": "dash"}),
    ])
    figure.update_layout(title=title, xaxis_title="seconds into the sync",
                         yaxis_title="requests per second", bargap=0.05)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.write_html(path, include_plotlyjs=True)  # self-contained: no network to a CDN


def sdk_windows(today, lookback_days: int, days: int = 30) -> list[tuple]:
    """The SDK loop's date windows: `days` long, back to back, covering exactly the
    `lookback_days` days up to today (90 days: three windows)."""
    return date_windows(today - timedelta(days=lookback_days - 1), today, days)


def sequential_sdk_sync(base_url: str, token: str, advertiser_id: str, lookback_days: int
                        ) -> tuple[int, int]:
    """The baseline: TikTok's official SDK, one request after another. Returns the requests
    made and the comments they brought."""
    import business_api_client as sdk

    config = sdk.Configuration()
    config.host = base_url
    api_client = sdk.ApiClient(config)
    ads_api, comments_api = sdk.AdApi(api_client), sdk.CommentsApi(api_client)
    requests_made = comments = 0
    adgroups: set[str] = set()
    page = 1
    while True:
        answer = ads_api.ad_get(advertiser_id, token, page=page, page_size=1000)
        requests_made += 1
        adgroups.update(ad["adgroup_id"] for ad in answer["data"]["list"])
        if page >= answer["data"]["page_info"]["total_page"]:
            break
        page += 1
    windows = sdk_windows(datetime.now(UTC).date(), lookback_days)
    for adgroup_id in sorted(adgroups):
        for start, end in windows:
            page = 1
            while True:
                answer = comments_api.comment_list(
                    advertiser_id, start.isoformat(), end.isoformat(), "ADGROUP_ID",
                    adgroup_id, token, page=page, page_size=PAGE)
                requests_made += 1
                data = answer["data"]
                comments += len(data.get("comments") or data.get("list") or ())
                if page >= answer["data"]["page_info"]["total_page"]:
                    break
                page += 1
    return requests_made, comments


def million_comment_sync() -> tuple[float, float]:
    """Peak RSS (MiB) and wall time of `python -m desk sync --no-moderation` over a
    1M-comment account, with no latency and no limits."""
    with Sandbox("--seed", "9", "--advertisers", "1", "--ads", "2000", "--comments",
                 "1000000", "--qps", "100000", "--qpm", "10000000",
                 "--new-comments-per-minute", "0") as sandbox:
        token, [advertiser_id] = sandbox.connect()
        with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
            env = {**os.environ, "TIKTOK_ACCESS_TOKEN": token,
                   "TIKTOK_API_BASE_URL": sandbox.base_url, "DESK_LOOKBACK_DAYS": str(LOOKBACK),
                   "TIKTOK_RATE_LIMIT_QPS": "100000", "TIKTOK_RATE_LIMIT_QPM": "10000000"}
            with timer() as t:
                child = subprocess.Popen(
                    [sys.executable, "-m", "desk", "sync", "--advertiser-id", advertiser_id,
                     "--db", str(Path(tmp) / "million.duckdb"), "--no-moderation"],
                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                peak = 0.0
                while child.poll() is None:
                    peak = max(peak, own_peak_rss_mb(child.pid))
                    time.sleep(0.05)
            if child.returncode != 0:
                raise RuntimeError("the 1M-comment sync failed")
            return peak, t.seconds


def own_peak_rss_mb(pid: int) -> float:
    """The peak resident set of a running process's own memory since it started its program
    (VmHWM, in MiB; 0 once it has ended). Not wait4's ru_maxrss: Linux carries that across
    exec, so a child forked from this big process would be charged this process's memory."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(found[1]) / 1024 if found else 0.0


class Replay(BaseAdapter):
    """Answers every request with the body recorded for its URL: the client side runs as it
    would against TikTok, with no server and no network behind it."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        super().__init__()
        self.bodies = bodies

    def send(self, request, **kwargs):  # noqa: ANN001, ANN003 - requests' adapter interface
        response = requests.Response()
        response.status_code = 200
        response._content = self.bodies[request.url]
        response.headers["Content-Type"] = "application/json"
        response.request, response.url = request, request.url
        return response

    def close(self) -> None:
        pass


class Recording(HTTPAdapter):
    """A real adapter that keeps every answer's body by its URL."""

    def __init__(self) -> None:
        super().__init__(pool_maxsize=64)
        self.bodies: dict[str, bytes] = {}

    def send(self, request, **kwargs):  # noqa: ANN001, ANN003
        response = super().send(request, **kwargs)
        self.bodies[request.url] = response.content
        return response


def client_cpu_per_100k() -> tuple[float, int]:
    """CPU seconds the sync spends per 100,000 comments parsed and stored, replaying recorded
    answers of a 200,000-comment account; and how many comments that was."""
    with Sandbox("--seed", "7", "--advertisers", "1", "--ads", "400", "--comments", "200000",
                 "--qps", "100000", "--qpm", "10000000", "--new-comments-per-minute",
                 "0") as sandbox:
        token, [advertiser_id] = sandbox.connect()
        recording = Recording()
        session = requests.Session()
        session.mount("http://", recording)
        options = SyncOptions(lookback_days=LOOKBACK)
        with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp, \
                Store.open(Path(tmp) / "record.duckdb") as store:
            sync_advertiser(store, TikTokClient(token, base_url=sandbox.base_url,
                                                rate_limiter=RateLimiter(100_000, 10_000_000),
                                                session=session), advertiser_id, options=options)
    replay = requests.Session()
    replay.mount("http://", Replay(recording.bodies))
    with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp, \
            Store.open(Path(tmp) / "replay.duckdb", "256MB") as store:
        client = TikTokClient(token, base_url=sandbox.base_url, session=replay,
                              rate_limiter=RateLimiter(100_000, 10_000_000))
        before = time.process_time()
        result = sync_advertiser(store, client, advertiser_id, options=options)
        cpu = time.process_time() - before
    return cpu / result.rows * 100_000, result.rows


def side_by_side(label: str, comments: int, requests_made: int, seconds: float, qps: int
                 ) -> list[tuple[str, float, str]]:
    """The issue's table rows for one contender: (metric, value, unit)."""
    return [
        (f"  {label}: comments", comments, "comments"),
        (f"  {label}: comments per second", comments / seconds, "comments/s"),
        (f"  {label}: share of the comments/s limit", 100 * comments / seconds / (qps * PAGE),
         "%"),
        (f"  {label}: requests per second", requests_made / seconds, "requests/s"),
        (f"  {label}: comments per request", comments / requests_made, "comments"),
        (f"  {label}: wall time", seconds, "s"),
    ]


def write_markdown(results: list[BenchResult], load_before: tuple[float, ...],
                   load_after: tuple[float, ...]) -> Path:
    """A dated copy of the table in bench-results/, with the host's load around the run."""
    day = datetime.now(UTC).date().isoformat()
    path = RESULTS / f"sync-{day}.md"
    cores = os.cpu_count() or 0

    def load(values: tuple[float, ...]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    text = "\n".join([
        f"# Sync benchmark, {day}",
        "",
        "`python -m bench sync` (`make bench sync`). Sandbox in its own process, answering "
        f"after {LATENCY_MS} ms with its rate limits enforced, unless a row says otherwise; "
        "the 1M-comment sync and the client-side figure run with no latency and no limits.",
        "",
        f"Host: {cores} cores; load average (1, 5, 15 min) {load(load_before)} before, "
        f"{load(load_after)} after. Others' work on the host lowers the figures.",
        "",
        render_markdown(results),
        "",
    ])
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run() -> list[BenchResult]:
    load_before = os.getloadavg()
    results: list[BenchResult] = []

    def add(metric: str, value: float, unit: str, target: float | None = None,
            direction: str = "<=") -> None:
        results.append(BenchResult(NAME, metric, value, unit, target, direction))

    def share_of_limits(label: str, run: Measured, result, comments_target: float | None,
                        requests_target: float | None) -> None:
        answered = result.requests - result.throttled
        add(f"{label}: comments per second", result.rows / result.seconds, "comments/s")
        add(f"{label}: share of the comments/s limit",
            100 * result.rows / result.seconds / (run.qps * PAGE), "%", comments_target, ">=")
        add(f"{label}: share of the request ceiling", 100 * answered / result.seconds / run.qps,
            "%", requests_target, ">=")
        add(f"{label}: comments per request", result.rows / result.requests, "comments")
        add(f"{label}: throttled answers (absorbed, retried)", result.throttled, "answers")
        add(f"{label}: errors shown to the person",
            len(result.failures) + (result.status != "ok"), "errors", 0)

    basic = SyncOptions(lookback_days=LOOKBACK)
    with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
        # Basic tier, 60 ad groups of about 1,000 comments.
        with world(ads=120, comments=60_000, qps=10, qpm=600) as sandbox, \
                Store.open(Path(tmp) / "basic.duckdb") as store:
            run = Measured(sandbox, 10, 600, options=basic, store=store)
            first = run.sync()
            adgroups = run.adgroups()
            add("Basic tier (10/s, 600/min), 250 ms: ad groups", adgroups, "groups")
            add("  comments stored", first.rows, "comments")
            add("  wall time", first.seconds, "s")
            share_of_limits("  Basic", run, first, 90, 97)
            add("  first comments stored after", run.first_rows or float("nan"), "s", 2.0)
            timeline(run.limiter.sent, 10, RESULTS / "sync-timeline.html",
                     f"Requests per second: {first.rows:,} comments, {adgroups} ad groups, "
                     "Basic tier, 250 ms answers")
            add("  peak RSS of this process so far", peak_rss_mb(), "MiB")
            second = run.sync()
            listings = second.requests - second.pages
            add("  re-sync, nothing new: comment requests per ad group",
                second.pages / adgroups, "requests", 1.0)
            add("  re-sync, nothing new: ad listing requests besides", listings, "requests")

        # Against the official SDK in a sequential loop, on the world the issue measured:
        # 60 ad groups, 18,705 comments, a 90-day look-back.
        with Sandbox("--seed", "4", "--advertisers", "1", "--ads", "120", "--comments",
                     "18705", "--latency-ms", LATENCY_MS, "--qps", "10", "--qpm", "600",
                     "--new-comments-per-minute", "0") as sandbox, \
                Store.open(Path(tmp) / "versus.duckdb") as store:
            run = Measured(sandbox, 10, 600, options=SyncOptions(lookback_days=90), store=store)
            ours = run.sync()
            with timer() as t:
                baseline, fetched = sequential_sdk_sync(sandbox.base_url, run.token,
                                                        run.advertiser_id, 90)
            add("Versus the SDK loop (60 ad groups, 18,705 comments, 90 days, 10/s): ad "
                "groups", run.adgroups(), "groups")
            rows = (side_by_side("sync", ours.rows, ours.requests, ours.seconds, 10)
                    + side_by_side("SDK loop", fetched, baseline, t.seconds, 10))
            for metric, value, unit in rows:
                add(metric, value, unit)
            add("  speed-up over the SDK loop (same world, same run)",
                t.seconds / ours.seconds, "x", 3.3, ">=")

        # Ultimate tier: the CPU path must keep up with 5,000 comments a second.
        with world(ads=300, comments=150_000, qps=50, qpm=3000, seed=5) as sandbox, \
                Store.open(Path(tmp) / "ultimate.duckdb") as store:
            run = Measured(sandbox, 50, 3000, options=basic, store=store)
            share_of_limits("Ultimate tier (50/s, 3,000/min)", run, run.sync(), 90, None)

        # A small account: under 50 requests.
        with world(ads=40, comments=2_400, qps=10, qpm=600, seed=6) as sandbox, \
                Store.open(Path(tmp) / "small.duckdb") as store:
            run = Measured(sandbox, 10, 600, options=basic, store=store)
            small = run.sync()
            add("Small account: requests", small.requests, "requests", 50)
            share_of_limits("Small account", run, small, None, 85)

    cpu, rows = client_cpu_per_100k()
    add(f"Client side alone ({rows:,} recorded comments): CPU per 100k parsed and stored",
        cpu, "CPU s")

    peak, seconds = million_comment_sync()
    add("1M-comment sync (--no-moderation), no latency, no limits: wall time", seconds, "s",
        120)
    add("1M-comment sync: peak RSS of the syncing process", peak, "MiB", 600)
    written = write_markdown(results, load_before, os.getloadavg())
    print(f"the table is also in {written.relative_to(ROOT)}", file=sys.stderr)
    return results

