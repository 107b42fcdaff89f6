"""The app served as `make run` serves it, and a browser pointed at it.

`App` starts `make run` (demo mode unless the environment says otherwise) on a free loopback
port, waits for Streamlit's health endpoint, keeps the server's output in a log file and stops
the whole process group afterwards. `StreamlitPage` wraps a Playwright page with the few waits
a Streamlit app needs: a script run has finished, an element with some text is shown.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from playwright.sync_api import Page, expect

from desk.connect.credentials import CredentialStore
from desk.connect.keys import key_in

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
RUN_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_environment(workdir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a fresh machine in demo mode, with its files under `workdir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_", "DESK_",
                                                                      "STREAMLIT_"))}
    env.update(
        DESK_DB=str(workdir / "desk.duckdb"),
        DESK_CREDENTIALS=str(workdir / "credentials.json"),
        DESK_SANDBOX_COMMENTS="1200",
        DESK_SANDBOX_ADVERTISERS="2",
        DESK_SANDBOX_ADS="12",
        DESK_SANDBOX_NEW_COMMENTS_PER_MINUTE="0",
        DESK_SECRET_KEY_FILE=str(workdir / "keys" / "secret.key"),
        STREAMLIT_SERVER_ADDRESS="127.0.0.1",
    )
    env.update(overrides)
    return env


@dataclass
class App:
    """A running app server: its address, its log and its process group."""

    port: int
    log_path: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None


@contextlib.contextmanager
def serve_app(env: Mapping[str, str], log_path: Path, *, port: int | None = None,
              timeout: float = 90, streamlit_args: str = "") -> Iterator[App]:
    """`make run` on a (free) loopback port, as a user starts the app; stopped afterwards.
    `streamlit_args` go to `streamlit run` (make's STREAMLIT_ARGS)."""
    port = port or free_port()
    make = shutil.which("make") or "make"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [make, "--no-print-directory", "run", f"PORT={port}",
             f"STREAMLIT_ARGS={streamlit_args}"], cwd=ROOT, env=dict(env),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    app = App(port, log_path, process)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{app.url}_stcore/health", timeout=1).ok:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app server did not start:\n{app.log()[-3000:]}")
            time.sleep(0.2)
        yield app
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def stored_credentials(workdir: Path) -> CredentialStore:
    """The app's connected-accounts file, read with the key the app made in `workdir`."""
    return CredentialStore(workdir / "credentials.json", key_in(workdir / "keys" / "secret.key"))


def real_mode_environment(workdir: Path, api_url: str, app_port: int,
                          **overrides: str) -> dict[str, str]:
    """The environment of a deployment configured for TikTok, with `api_url` standing in."""
    return app_environment(
        workdir, TIKTOK_CLIENT_KEY="sandbox-app", TIKTOK_CLIENT_SECRET="sandbox-secret",
        TIKTOK_REDIRECT_URI=f"http://127.0.0.1:{app_port}/", TIKTOK_API_BASE_URL=api_url,
        TIKTOK_AUTH_URL=f"{api_url}/portal/auth", **overrides,
    )


@dataclass
class Outside:
    """Requests the browser tried to send to any host but this machine (all refused)."""

    urls: list[str] = field(default_factory=list)

    def guard(self, route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.urls.append(route.request.url)
            route.abort()


class StreamlitPage:
    """A Playwright page showing the app, with waits that suit Streamlit."""

    def __init__(self, page: Page, app: App) -> None:
        self.page = page
        self.app = app

    def goto(self, path: str = "") -> StreamlitPage:
        self.page.goto(self.app.url + path.lstrip("/"))
        self.settle()
        return self

    def settle(self, timeout: float = RUN_TIMEOUT_MS) -> None:
        """Wait until the app is connected and no script run is going on."""
        app = self.page.locator('[data-testid="stApp"]')
        expect(app).to_have_attribute("data-test-connection-state", "CONNECTED",
                                      timeout=timeout)
        deadline = time.monotonic() + timeout / 1000
        quiet_since = None
        while time.monotonic() < deadline:
            state = app.get_attribute("data-test-script-state")
            if state == "running" or self.page.locator('[data-testid="stStatusWidget"]').count():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 0.4:
                return
            time.sleep(0.1)
        raise AssertionError("the app kept running a script")

    def text(self) -> str:
        return self.page.locator('[data-testid="stMain"]').inner_text()

    def sidebar(self):
        return self.page.locator('[data-testid="stSidebar"]')

    def button(self, name: str, *, exact: bool = False):
        return self.page.get_by_role("button", name=name, exact=exact)

    def click(self, name: str, *, exact: bool = False) -> None:
        self.button(name, exact=exact).first.click()
        self.settle()

    def shows(self, text: str, timeout: float = RUN_TIMEOUT_MS) -> None:
        expect(self.page.get_by_text(text).first).to_be_visible(timeout=timeout)

    # Streamlit widgets, found by their labels

    def nav(self, page_name: str) -> None:
        """Open another page through the sidebar's navigation (same session)."""
        nav = self.page.locator('[data-testid="stSidebarNav"]')
        links = nav.get_by_role("link")
        home = page_name == "Home"  # the main script's link comes first
        link = links.first if home else links.filter(has_text=re.compile(rf"^{page_name}$"))
        if not home and not link.count():  # past the first ten: behind "View N more"
            nav.get_by_text(re.compile(r"^View \d+ more$")).click()
        link.click()
        self.page.wait_for_url(re.compile(rf"/{page_name}\b") if page_name != "Home"
                               else re.compile(r"/(\?|$)"))
        self.settle()

    def choose(self, label: str, option: str | re.Pattern[str]) -> None:
        box = self.page.locator('[data-testid="stSelectbox"]').filter(
            has=self.page.get_by_text(label, exact=True))
        # In the middle of the view: a box at the bottom edge of a long sidebar takes focus
        # without opening its list.
        box.first.evaluate("element => element.scrollIntoView({block: 'center'})")
        box.first.click()
        self.page.get_by_role("option", name=option).first.click()
        self.settle()

    def type_into(self, label: str, value: str) -> None:
        field = self.page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Enter")
        self.settle()

    def card(self, comment_id: str):
        """A comment's box on the Comments page."""
        return self.page.locator(f".st-key-comments_card_{comment_id}")

    def reply(self, comment_id: str, text: str):
        """Answer a comment from its box on the Comments page; returns the box."""
        card = self.card(comment_id)
        card.get_by_role("button", name="Reply").click()
        self.settle()
        box = card.get_by_label("Your reply")
        box.fill(text)
        box.press("Tab")
        self.settle()
        expect(card).to_contain_text(f"{len(text)}/1200 characters")
        card.get_by_role("button", name="Send reply").click()
        self.settle()
        return card

    def connect(self, link_name: str = "Connect a TikTok ad account") -> Connected:
        """Home's Connect link (an ad account's, or "Connect a TikTok account"), the consent
        page's Authorize, and the way back to the app."""
        self.goto()
        link = self.page.get_by_role("link", name=link_name, exact=True)
        with self.page.context.expect_page() as opened:
            link.click()
        consent = opened.value
        consent.wait_for_load_state()
        consent_url = consent.url
        visited: list[str] = []
        consent.on("framenavigated",
                   lambda frame: visited.append(frame.url) if frame.parent_frame is None else None)
        consent.get_by_role("button", name="Authorize").click()
        consent.wait_for_url(self.app.url + "**")
        back = StreamlitPage(consent, self.app)
        back.settle()
        parts = urlsplit(consent_url)
        return Connected(back, f"{parts.scheme}://{parts.netloc}", consent_url, visited)


@dataclass
class Connected:
    """Where a connection through the consent page ended."""

    page: StreamlitPage  # the tab TikTok sent back to the app
    sandbox_url: str  # the consent page's origin: the sandbox's base URL in demo mode
    consent_url: str
    visited: list[str]  # the tab's addresses after the consent page


class Outage:
    """A loopback TCP relay in front of a server that can be switched off and on again.

    Switched off, its port refuses connections and open ones are cut, as when the real API
    is unreachable; switched on again, it listens on the same port.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._open = self._open, set()
        for sock in (listener, *connections):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    server.close()
                    return
                self._open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
