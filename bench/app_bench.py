"""The app at a million comments: how long the Comments and Insights pages take, and how much
memory the app server holds after serving them.

The database is store_bench's synthetic account (1,000,000 comments on 400 ads). Page times
are AppTest runs of one session: "cold" clears st.cache_data first, so every query runs (a
first visit, or the first run after a sync or a write); "warm" is a rerun served from the
cache (any click on the page). The memory figure comes from a real `streamlit run Home.py`
on loopback, driven over its WebSocket the way a browser drives it (no browser needed), after
opening every page.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import requests

from bench import store_bench
from bench._harness import BenchResult, timer

NAME = "app"
ROOT = Path(__file__).resolve().parents[1]
ADVERTISER_ID = store_bench.ADVERTISER_ID
PAGES = {"Comments": "pages/3_Comments.py", "Insights": "pages/4_Insights.py"}
TARGETS_SECONDS = {"Comments": 1.0, "Insights": 1.5}
RSS_TARGET_MB = 500
REPEAT = 5


def build_database(path: Path) -> None:
    """store_bench's million synthetic comments, their ads and their advertiser."""
    from desk import store as db

    with db.Store.open(path) as store:
        cur = store.cursor()
        db.upsert_advertisers(cur, pa.table({
            "advertiser_id": [ADVERTISER_ID], "name": ["Bench Outfitters"],
            "timezone": [store_bench.TIMEZONE], "currency": ["USD"], "role": ["ADMIN"],
        }))
        rng = np.random.default_rng(20250201)
        ads, launch = store_bench.synthetic_ads(rng)
        seen = datetime(2025, 6, 1, tzinfo=UTC)
        db.upsert_ads(cur, ads, seen)
        db.upsert_comments(cur, store_bench.synthetic_comments(rng, ads, launch), seen)


def app_env(tmp: Path) -> dict[str, str]:
    """Demo mode (a tiny sandbox: the pages read only the database) on the bench database."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TIKTOK_", "DESK_"))}
    env.update(DESK_DB=str(tmp / "bench.duckdb"), DESK_CREDENTIALS=str(tmp / "credentials.json"),
               DESK_SANDBOX_COMMENTS="100", DESK_SANDBOX_NEW_COMMENTS_PER_MINUTE="0")
    return env


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def page_times(page: str, advertiser_id: str = ADVERTISER_ID,
               query: dict[str, str] | None = None) -> tuple[float, float]:
    """Median seconds of a cold and of a warm run of one page (after a warm-up run), with
    the ad account chosen and any other query parameters (e.g. a tab)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=300)
    at.query_params["advertiser"] = advertiser_id
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.switch_page(page)
    at.run()

    def once(clear: bool) -> float:
        if clear:
            st.cache_data.clear()
        with timer() as t:
            at.run()
        if at.exception:
            raise RuntimeError(f"{page} failed: {at.exception[0].value}")
        return t.seconds

    cold = statistics.median(once(clear=True) for _ in range(REPEAT))
    warm = statistics.median(once(clear=False) for _ in range(REPEAT))
    return cold, warm


# A browser, as far as the server can tell: one WebSocket session per page visit.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(env: dict[str, str], cwd: Path = ROOT, timeout: float = 60) -> Iterator[tuple[int, int]]:
    """`streamlit run Home.py` on a free loopback port; yields (port, pid)."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).ok:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the app server did not start")
            time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class PageRun:
    """What one script run of a page sent to the browser."""

    seconds: float
    elements: list[Any] = field(default_factory=list)  # Element protos, in order
    errors: list[str] = field(default_factory=list)  # exception messages

    def find(self, kind: str) -> list[Any]:
        """The elements of one kind ("button", "alert", "link_button", ...)."""
        return [getattr(e, kind) for e in self.elements if e.WhichOneof("type") == kind]


class Browser:
    """One browser tab as the server sees it: a WebSocket session that runs pages."""

    def __init__(self, port: int, timeout: float = 120, cookie: str | None = None,
                 origin: str | None = None) -> None:
        """`cookie` and `origin`: the Cookie and Origin headers a signed-in browser sends
        (with the XSRF cookie among the cookies, its token goes along as the browser's does,
        so the server reads the sign-in cookie)."""
        from websockets.sync.client import connect

        self.timeout = timeout
        self._stack = contextlib.ExitStack()
        xsrf = re.search(r"(?:^|;\s*)_streamlit_xsrf=([^;]+)", cookie or "")
        self.socket = self._stack.enter_context(connect(
            f"ws://127.0.0.1:{port}/_stcore/stream", max_size=None,
            subprotocols=["streamlit", xsrf[1]] if xsrf else ["streamlit"],
            additional_headers={"Cookie": cookie} if cookie else None,
            origin=origin))

    def open(self, page_name: str = "", query: str = "", widgets: Sequence[Any] = ()) -> PageRun:
        """Run a page (with widget values, e.g. a button's trigger) until it has finished,
        reruns included."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        request = BackMsg()
        request.rerun_script.query_string = query
        request.rerun_script.page_name = page_name
        request.rerun_script.widget_states.widgets.extend(widgets)
        started = time.perf_counter()
        self.socket.send(request.SerializeToString())
        run = PageRun(0.0)
        while True:
            message = ForwardMsg()
            message.ParseFromString(self.socket.recv(timeout=self.timeout))
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                run.elements.append(element)
                if element.WhichOneof("type") == "exception":
                    run.errors.append(element.exception.message)
            elif kind == "script_finished":
                if message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    run.seconds = time.perf_counter() - started
                    return run
                run = PageRun(0.0, errors=run.errors)  # st.rerun(): the next run draws anew

    def click(self, run: PageRun, label: str, page_name: str = "", query: str = "") -> PageRun:
        """Press the button labelled `label` that `run` drew."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        [button] = [b for b in run.find("button") if b.label == label]
        return self.open(page_name, query, [WidgetState(id=button.id, trigger_value=True)])

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def visit(port: int, page_name: str = "", query: str = "") -> PageRun:
    """Open one page in a new session."""
    with Browser(port) as browser:
        return browser.open(page_name, query)


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process, in MiB (Linux)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def run() -> list[BenchResult]:
    results: list[BenchResult] = []

    def add(metric: str, value: float, unit: str, target: float | None = None) -> None:
        results.append(BenchResult(NAME, metric, value, unit, target))

    with tempfile.TemporaryDirectory(prefix="desk-app-bench-") as tmp_name:
        tmp = Path(tmp_name)
        with timer() as t:
            build_database(tmp / "bench.duckdb")
        add("build the 1M-comment database", t.seconds, "s")
        env = app_env(tmp)

        import streamlit as st

        with environment(env):
            try:
                for name, page in PAGES.items():
                    cold, warm = page_times(page)
                    add(f"{name} page, AppTest run, cold cache", cold, "s", TARGETS_SECONDS[name])
                    add(f"{name} page, AppTest rerun, warm cache", warm, "s")
            finally:
                st.cache_data.clear()
                st.cache_resource.clear()  # closes the database: the server needs the file

        with serve(env) as (port, pid):
            query = f"advertiser={ADVERTISER_ID}"
            first: dict[str, float] = {}
            for page in ("", "Advertisers", "Ads", "Comments", "Insights", "Export",
                         "Comments", "Insights"):
                run_ = visit(port, page, query)
                if run_.errors:
                    raise RuntimeError(f"page {page or 'Home'} failed: {run_.errors[0]}")
                first.setdefault(page, run_.seconds)
            current, peak = rss_mb(pid)
        add("server: first Comments visit over WebSocket", first["Comments"], "s")
        add("server: first Insights visit over WebSocket", first["Insights"], "s")
        add("server RSS after browsing every page", current, "MiB", RSS_TARGET_MB)
        add("server peak RSS", peak, "MiB")
    return results


if __name__ == "__main__":
    from bench._harness import render

    print(render(run()))
