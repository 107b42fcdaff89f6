"""The sandbox on loopback HTTP: routing, the request pipeline, and the handle to run it.

Routes:

- ``/open_api/v1.3/<endpoint>/``: TikTok's API (the Marketing API in ``api.ENDPOINTS``,
  ``blocked_words_api.ENDPOINTS`` and ``reporting_api.ENDPOINTS``, the Accounts API in
  ``accounts_api.ENDPOINTS``),
  answered in the envelope ``{"code", "message", "request_id", "data"}``, or with a file
  where a handler returns one (blockedword/task/download); a path without its trailing
  slash is HTTP 404, an unknown endpoint code 40006 "no schema found".
- ``/portal/auth`` (and the legacy ``/marketing_api/auth``), ``/portal/auth/authorize``,
  ``/portal/auth/cancel``: the advertiser's OAuth consent screen (see ``consent.py``).
- ``/v2/auth/authorize/``, ``/v2/auth/authorize/confirm``, ``/v2/auth/authorize/cancel``:
  the TikTok account holder's consent screen (see ``account_consent.py``).
- ``/_sandbox/health`` and ``/_sandbox/ground_truth`` (``?advertiser_id=``,
  ``?adgroup_id=``, ``?include=advertisers,ads,comments,stats``; "ads" and "comments" bring
  the Upgraded Smart+ ads' ``smart_plus_ads`` and ``smart_plus_comments``,
  ``?fields=comment_id,create_ts,...``), ``/_sandbox/ground_truth_accounts``
  (``?business_id=``, ``?video_id=``, ``?include=accounts,videos,comments``), and
  ``POST /_sandbox/add_reply?comment_id=&text=`` (a viewer writing again under an ad
  comment): for tests and benchmarks.

An API request goes through: count it, decide a fault (``faults.py``), check the app's
rate limit (40100), create the comments due by now, run the endpoint, then wait
``latency_ms`` before answering. Faults, latency and rate limits never touch the consent
screen or ``/_sandbox``. A failure a test chose with ``SandboxHandle.fail_next`` replaces the
random fault and the rate limit check for the request it meets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.message
import itertools
import json
import logging
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from . import (
    account_consent,
    accounts_api,
    api,
    blocked_words_api,
    consent,
    faults,
    reporting_api,
)
from .accounts import ACCOUNT_SCOPES
from .config import SandboxConfig
from .endpoint import ApiRequest, Endpoint, FileAnswer
from .errors import (
    INTERNAL_TIMEOUT,
    INTERNAL_TIMEOUT_MESSAGE,
    NO_SCHEMA,
    OK,
    RATE_LIMITED,
    ApiError,
)
from .limits import RateLimiter, RequestStats
from .params import Params
from .state import SandboxState

API_PREFIX = "/open_api/v1.3/"
MAX_BODY_BYTES = 1 << 20
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType({**api.ENDPOINTS,
                                                      **blocked_words_api.ENDPOINTS,
                                                      **reporting_api.ENDPOINTS,
                                                      **accounts_api.ENDPOINTS})
ACCOUNT_AUTH_PATH = "/v2/auth/authorize/"

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: str
    headers: email.message.Message
    body: bytes


@dataclasses.dataclass
class Reply:
    """What to send back, and how: after a delay, cut short, or not at all."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    cut: int | None = None
    cut_keeps_length: bool = True
    drop: bool = False


def _plain(status: int, text: str) -> Reply:
    return Reply(status, text.encode(), "text/plain; charset=utf-8")


def _json(payload: Any, status: int = 200) -> Reply:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Reply(status, text.encode("utf-8"))


def _bad_gateway(status: int) -> bytes:
    title = f"{status} {'Bad Gateway' if status == 502 else 'Service Unavailable'}"
    return (f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1>"
            "</center><hr><center>gateway</center></body></html>").encode()


class Sandbox:
    """One sandbox's state, limits, faults and statistics; shared by all handler threads."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.state = SandboxState(config)
        self.stats = RequestStats()
        self.limiter = RateLimiter(config.qps, config.qpm)
        self.faults = faults.FaultInjector(config.seed, config.fault_rate)
        self.scripted = faults.ScriptedFaults()
        self.stopping = threading.Event()
        self.verbose = False
        self._request_numbers = itertools.count(1)
        self._numbers_lock = threading.Lock()

    def request_id(self) -> str:
        with self._numbers_lock:
            number = next(self._request_numbers)
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.config.now()))
        return f"{stamp}{number:018X}"

    def envelope(self, code: int, message: str, data: Any = None, *, delay: float = 0.0
                 ) -> Reply:
        self.stats.answered(code)
        payload = {"code": code, "message": message, "request_id": self.request_id(),
                   "data": {} if data is None else data}
        reply = _json(payload)
        reply.delay = delay
        return reply

    def handle_api(self, request: HttpRequest) -> Reply:
        if not request.path.endswith("/"):
            return _plain(404, "404 page not found")
        name = request.path[len(API_PREFIX):]
        endpoint = ENDPOINTS.get(name)
        sequence = self.stats.request(request.path)
        delay = self.config.latency_ms / 1000.0
        if endpoint is None:
            return self.envelope(NO_SCHEMA, "no schema found", delay=delay)
        if request.method != endpoint.method:
            return _plain(405, "405 method not allowed")
        try:
            if request.method == "GET":
                params = Params.from_query(request.query)
            else:
                params = Params.from_body(request.body, request.headers.get("Content-Type", ""))
        except ApiError as error:
            return self.envelope(error.code, error.message, delay=delay)
        api_request = ApiRequest(params, request.headers.get("Access-Token"), self.state,
                                 self.config)
        chosen = self.scripted.take(name)
        if chosen is not None:
            self.stats.fault(sequence, request.method, request.path, faults.SCRIPTED)
            return self._chosen(chosen, endpoint, api_request, delay)
        fault = self.faults.decide(request.method, name, params.canonical(),
                                   endpoint.fault_kinds)
        if fault is not None:
            self.stats.fault(sequence, request.method, request.path, fault.kind)
            if not fault.processes_request:
                return self._unprocessed(fault, delay)
        refusal = self.limiter.admit(self.state.now())
        if refusal is not None:
            self.stats.throttled()
            return self.envelope(RATE_LIMITED, refusal, delay=delay)
        self.state.catch_up()
        try:
            answer = endpoint.handler(api_request)
            reply = (self._file(answer, delay) if isinstance(answer, FileAnswer)
                     else self.envelope(OK, "OK", answer, delay=delay))
        except ApiError as error:
            reply = self.envelope(error.code, error.message, delay=delay)
        if fault is not None:
            self._spoil(reply, fault)
        return reply

    def fail_next(self, name: str, failure: faults.ScriptedFailure, times: int = 1) -> None:
        """Answer the next ``times`` requests to the endpoint ``name`` (``comment/post/``)
        with ``failure``."""
        if name not in ENDPOINTS:
            raise KeyError(f"no endpoint {name!r} (known: {', '.join(sorted(ENDPOINTS))})")
        self.scripted.add(name, failure, times)

    def _chosen(self, failure: faults.ScriptedFailure, endpoint: Endpoint,
                api_request: ApiRequest, delay: float) -> Reply:
        """A chosen failure's answer; an applied one carries the request out first (what the
        endpoint would have answered is not sent)."""
        if failure.applied:
            self.state.catch_up()
            with contextlib.suppress(ApiError):
                endpoint.handler(api_request)
        return self.envelope(failure.code, failure.message, delay=delay)

    def _file(self, answer: FileAnswer, delay: float) -> Reply:
        self.stats.answered(OK)
        disposition = f'attachment; filename="{answer.filename}"'
        return Reply(200, answer.body, answer.content_type,
                     (("Content-Disposition", disposition),), delay=delay)

    def _unprocessed(self, fault: faults.Fault, delay: float) -> Reply:
        if fault.kind == faults.HTTP_5XX:
            status = 502 if fault.variant % 2 == 0 else 503
            return Reply(status, _bad_gateway(status), HTML_TYPE, delay=delay)
        if fault.kind == faults.THROTTLED:
            return self.envelope(RATE_LIMITED, f"Rate limit exceeded: app QPS limit of "
                                               f"{self.config.qps} requests per second reached. "
                                               "Please retry later.", delay=delay)
        return self.envelope(INTERNAL_TIMEOUT, INTERNAL_TIMEOUT_MESSAGE, delay=delay)

    def _spoil(self, reply: Reply, fault: faults.Fault) -> None:
        if fault.kind == faults.STALL:
            reply.delay += self.config.stall_seconds
        elif fault.kind == faults.TRUNCATED:
            reply.cut = max(1, min(len(reply.body) - 1, len(reply.body) // 2))
            reply.cut_keeps_length = fault.variant % 2 == 0
        elif fault.kind == faults.APPLIED_DROPPED:
            reply.drop = True

    def ground_truth(self, advertiser_id: str | None = None, adgroup_id: str | None = None,
                     sections: Iterable[str] = ("advertisers", "ads", "comments", "stats")
                     ) -> dict[str, Any]:
        wanted = set(sections)
        truth = self.state.ground_truth(advertiser_id, adgroup_id, wanted)
        if "stats" in wanted:
            truth["stats"] = self.stats.snapshot()
        return truth

    def ground_truth_accounts(self, business_id: str | None = None,
                              video_id: str | None = None,
                              sections: Iterable[str] = ("accounts", "videos", "comments")
                              ) -> dict[str, Any]:
        return self.state.accounts.ground_truth(business_id, video_id, set(sections))


# Routes outside the API


def _single(query: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}


def _health(app: Sandbox, request: HttpRequest) -> Reply:
    app.state.catch_up()
    return _json({"status": "ok", "advertisers": len(app.state.advertisers()),
                  "comments": app.state.comment_count(), "start_ts": app.state.start_ts,
                  "business_accounts": len(app.state.accounts.accounts()),
                  "organic_comments": app.state.accounts.comment_count()})


def _ground_truth(app: Sandbox, request: HttpRequest) -> Reply:
    """``?advertiser_id=&adgroup_id=`` narrow it, ``?include=ads,comments,...`` picks sections,
    ``?fields=comment_id,create_ts,...`` picks the columns of comment rows (Smart+ ones too)."""
    query = _single(request.query)
    include = query.get("include", "advertisers,ads,comments,stats")
    truth = app.ground_truth(query.get("advertiser_id") or None,
                             query.get("adgroup_id") or None,
                             [part.strip() for part in include.split(",")])
    if query.get("fields") and "comments" in truth:
        fields = [part.strip() for part in query["fields"].split(",") if part.strip()]
        for section in ("comments", "smart_plus_comments"):
            truth[section] = [{f: row[f] for f in fields if f in row} for row in truth[section]]
    return _json(truth)


def _add_reply(app: Sandbox, request: HttpRequest) -> Reply:
    """POST ``?comment_id=&text=``: a viewer's reply now under that ad comment (a test writing
    as TikTok's users would, against a sandbox running in another process)."""
    if request.method != "POST":
        return _plain(405, "405 POST only")
    query = _single(request.query)
    try:
        reply_id = app.state.add_reply(query.get("comment_id", ""), query.get("text", ""))
    except KeyError as exc:
        return _plain(404, f"404 {exc.args[0]}")
    return _json({"comment_id": reply_id})


def _ground_truth_accounts(app: Sandbox, request: HttpRequest) -> Reply:
    """``?business_id=&video_id=`` narrow it, ``?include=accounts,videos,comments`` picks
    sections."""
    query = _single(request.query)
    include = query.get("include", "accounts,videos,comments")
    return _json(app.ground_truth_accounts(query.get("business_id") or None,
                                           query.get("video_id") or None,
                                           [part.strip() for part in include.split(",")]))


def _page_reply(page: consent.Page) -> Reply:
    headers = [("Cache-Control", "no-store"), ("X-Frame-Options", "DENY"),
               ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")]
    if page.location:
        headers.append(("Location", page.location))
    return Reply(page.status, page.body.encode("utf-8"), HTML_TYPE, tuple(headers))


def _form(request: HttpRequest) -> dict[str, str]:
    if request.method == "POST":
        return _single(request.body.decode("utf-8", "replace"))
    return _single(request.query)


def _consent(app: Sandbox, request: HttpRequest) -> Reply:
    if request.method != "GET":
        return _plain(405, "405 method not allowed")
    return _page_reply(consent.consent_page(app.config, app.state, _single(request.query)))


def _authorize(app: Sandbox, request: HttpRequest) -> Reply:
    if request.method != "POST":
        return _plain(405, "405 method not allowed")
    return _page_reply(consent.authorize(app.config, app.state, _form(request)))


def _cancel(app: Sandbox, request: HttpRequest) -> Reply:
    return _page_reply(consent.cancel(app.config, _form(request)))


def _account_consent(app: Sandbox, request: HttpRequest) -> Reply:
    if request.method != "GET":
        return _plain(405, "405 method not allowed")
    return _page_reply(account_consent.consent_page(app.config, app.state.accounts,
                                                    _single(request.query)))


def _account_authorize(app: Sandbox, request: HttpRequest) -> Reply:
    if request.method != "POST":
        return _plain(405, "405 method not allowed")
    return _page_reply(account_consent.authorize(app.config, app.state.accounts,
                                                 _form(request)))


def _account_cancel(app: Sandbox, request: HttpRequest) -> Reply:
    return _page_reply(account_consent.cancel(app.config, _form(request)))


ROUTES: Mapping[str, Callable[[Sandbox, HttpRequest], Reply]] = MappingProxyType({
    "/_sandbox/health": _health,
    "/_sandbox/ground_truth": _ground_truth,
    "/_sandbox/ground_truth_accounts": _ground_truth_accounts,
    "/_sandbox/add_reply": _add_reply,
    ACCOUNT_AUTH_PATH: _account_consent,
    ACCOUNT_AUTH_PATH.rstrip("/"): _account_consent,
    ACCOUNT_AUTH_PATH + "confirm": _account_authorize,
    ACCOUNT_AUTH_PATH + "cancel": _account_cancel,
    "/portal/auth": _consent,
    "/marketing_api/auth": _consent,
    "/portal/auth/authorize": _authorize,
    "/portal/auth/cancel": _cancel,
})


# HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SandboxBusinessAPI/1.3"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    disable_nagle_algorithm = True  # headers and body go out at once, no delayed-ACK stall
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.app.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def _dispatch(self) -> None:
        app = self.server.app
        try:
            body = self._read_body()
            if body is None:
                self._send(_plain(413, "413 request body too large"))
                return
            url = urlsplit(self.path)
            request = HttpRequest(self.command, url.path, url.query, self.headers, body)
            route = ROUTES.get(url.path)
            if route is not None:
                reply = route(app, request)
            elif url.path.startswith(API_PREFIX) or url.path == API_PREFIX.rstrip("/"):
                reply = app.handle_api(request)
            else:
                reply = _plain(404, "404 page not found")
        except Exception:
            log.exception("sandbox failed to answer %s %s", self.command, self.path)
            reply = _plain(500, "500 internal server error")
        self._send(reply)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: Reply) -> None:
        if reply.delay > 0 and self.server.app.stopping.wait(reply.delay):
            self.close_connection = True
            return
        if reply.drop:
            self.close_connection = True
            return
        body = reply.body
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.cut is not None:
            sent = body[:reply.cut]
            self.send_header("Content-Length", str(len(body) if reply.cut_keeps_length
                                                   else len(sent)))
            self.end_headers()
            self.wfile.write(sent)
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, app: Sandbox) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((app.config.bind_host, app.config.port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would look up the host's FQDN; loopback needs no lookup.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client went away: expected with timeouts and dropped answers
        super().handle_error(request, client_address)


class SandboxHandle:
    """A running sandbox: its base URL, its ground truth, and test helpers."""

    def __init__(self, app: Sandbox, server: _Server, thread: threading.Thread) -> None:
        self._app = app
        self._server = server
        self._thread = thread
        self._stopped = False
        self.host = app.config.bind_host
        self.port = server.server_port
        self.base_url = f"http://{self.host}:{self.port}"

    @property
    def config(self) -> SandboxConfig:
        return self._app.config

    @property
    def clock(self) -> Callable[[], float]:
        """The clock the sandbox runs on (a ``ManualClock`` when the config gave one)."""
        return self._app.config.clock or time.time

    @property
    def verbose(self) -> bool:
        return self._app.verbose

    @verbose.setter
    def verbose(self, value: bool) -> None:
        self._app.verbose = value

    def stop(self) -> None:
        """Stop serving and close open connections; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._app.stopping.set()
        stopper = threading.Thread(target=self._server.shutdown, daemon=True)
        stopper.start()
        while stopper.is_alive():
            # A connection wakes the accept loop, which then sees the shutdown request.
            with contextlib.suppress(OSError):
                socket.create_connection((self.host, self.port), timeout=0.2).close()
            stopper.join(timeout=0.01)
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until the server stops (the command line waits here for Ctrl-C)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def ground_truth(self, advertiser_id: str | None = None, *, adgroup_id: str | None = None
                     ) -> dict[str, Any]:
        """A copy of the current advertisers, ads, comments and request stats."""
        return self._app.ground_truth(advertiser_id, adgroup_id)

    def stats(self) -> dict[str, Any]:
        return self._app.stats.snapshot()

    def add_comments(self, n: int, advertiser_id: str | None = None) -> list[str]:
        """Create ``n`` new top-level comments now (deterministically); returns their IDs."""
        return self._app.state.add_comments(n, advertiser_id)

    def add_reply(self, comment_id: str, text: str) -> str:
        """Create a viewer's reply saying ``text`` now under the ad comment ``comment_id``, as
        its commenter writing again would; returns its ID."""
        return self._app.state.add_reply(comment_id, text)

    def change_comment(self, comment_id: str, *, likes: int | None = None,
                       status: str | None = None, deleted: bool = False) -> None:
        """Change an ad or organic comment as TikTok would outside the app: its likes, its
        status (PUBLIC or HIDDEN, as if set in Ads Manager or the TikTok app), or delete it
        with its replies (as its author can)."""
        changes = {"likes": likes, "status": status, "deleted": deleted}
        if not (self._app.state.change_comment(comment_id, **changes)
                or self._app.state.accounts.change_comment(comment_id, **changes)):
            raise KeyError(f"no comment {comment_id}")

    def issue_token(self, advertiser_ids: Iterable[str] | None = None,
                    scopes: Iterable[int] | None = None) -> str:
        """A valid access token without going through the consent screen, for every
        advertiser and with every permission scope unless told (``state.GRANTED_SCOPES``)."""
        return self._app.state.issue_token(advertiser_ids, scopes)

    def add_comment(self, text: str, advertiser_id: str | None = None) -> str:
        """Create a viewer's top-level comment saying ``text`` now, on the advertiser's
        newest enabled ad; it is PUBLIC unless it hits a blocked word. Returns its ID."""
        return self._app.state.add_comment(text, advertiser_id)

    def delivery(self, advertiser_id: str, first_day: date | None = None,
                 last_day: date | None = None) -> list[dict[str, Any]]:
        """Each ad's delivery per day (days of the advertiser's time zone, both included;
        None: from each ad's first day up to today), as report/integrated/get/ reports it:
        advertiser_id, campaign_id, adgroup_id, ad_id, stat_day (ISO), spend, impressions,
        clicks, video_play_actions, likes, comments and currency; by day, then ad."""
        return [row.truth() for row in
                self._app.state.delivery.rows(advertiser_id, first_day, last_day)]

    def blocked_words(self, advertiser_id: str) -> list[str]:
        """The advertiser's blocked words, in blockedword/list's order (newest first)."""
        return self._app.state.blocked_words.words(advertiser_id)

    def revoke_token(self, token: str) -> bool:
        return self._app.state.revoke_token(token)

    def fail_next(self, path: str, code: int, message: str, times: int = 1, *,
                  applied: bool = False) -> None:
        """Answer the next ``times`` requests to ``path`` with TikTok's ``code`` and
        ``message``, in TikTok's envelope (HTTP 200, ``data`` ``{}``), whatever the fault
        rate and the rate limit. ``path`` is the endpoint (``"comment/post/"``) or its whole
        path (``"/open_api/v1.3/comment/post/"``). ``applied=True`` carries each request out
        first (a write is applied) and then answers the code; by default nothing is done.
        Queued after failures chosen before; see ``faults.ScriptedFaults``."""
        self._app.fail_next(_endpoint_name(path),
                            faults.ScriptedFailure(int(code), str(message), applied), times)

    def pending_failures(self, path: str | None = None) -> int:
        """How many failures chosen with :meth:`fail_next` have not been met yet (on the
        endpoint ``path``, or on all)."""
        return self._app.scripted.pending(None if path is None else _endpoint_name(path))

    def authorize_url(self, redirect_uri: str, state: str = "") -> str:
        """The consent screen's URL, as an app would build it."""
        query = urlencode({"app_id": self.config.app_id, "state": state,
                           "redirect_uri": redirect_uri})
        return f"{self.base_url}/portal/auth?{query}"

    # TikTok business accounts (the Accounts API)

    @property
    def account_auth_url(self) -> str:
        """The "TikTok account holder authorization URL" as TikTok's developer portal shows
        it: client key, scopes and response type, but no state and no redirect URI yet."""
        query = urlencode({"client_key": self.config.app_id, "scope": ",".join(ACCOUNT_SCOPES),
                           "response_type": "code"})
        return f"{self.base_url}{ACCOUNT_AUTH_PATH}?{query}"

    def account_authorize_url(self, redirect_uri: str, state: str = "",
                              scopes: Iterable[str] | None = None) -> str:
        """The account holder's consent screen URL, as an app would build it."""
        query = urlencode({
            "client_key": self.config.app_id,
            "scope": ",".join(ACCOUNT_SCOPES if scopes is None else scopes),
            "response_type": "code", "state": state, "redirect_uri": redirect_uri,
        })
        return f"{self.base_url}{ACCOUNT_AUTH_PATH}?{query}"

    def issue_account_token(self, open_id: str | None = None,
                            scopes: Iterable[str] | None = None) -> dict[str, Any]:
        """Tokens for a business account (default: the first) without the consent screen.

        Returns what tt_user/oauth2/token/ answers: access_token, refresh_token, open_id,
        scope, expires_in, refresh_token_expires_in, token_type. ``scopes`` defaults to
        every scope Comment Desk needs.
        """
        return self._app.state.accounts.issue_token(open_id, scopes)

    def revoke_account_token(self, access_token: str) -> bool:
        """End the authorization an account access token belongs to."""
        return self._app.state.accounts.revoke(access_token)

    def add_organic_comments(self, n: int, business_id: str | None = None) -> list[str]:
        """Create ``n`` new top-level viewer comments on the accounts' videos now."""
        return self._app.state.accounts.add_comments(n, business_id)

    def ground_truth_accounts(self, business_id: str | None = None, *,
                              video_id: str | None = None) -> dict[str, Any]:
        """A copy of the current business accounts, videos and organic comments."""
        return self._app.ground_truth_accounts(business_id, video_id)


def _endpoint_name(path: str) -> str:
    """``comment/post/`` from ``comment/post``, ``/comment/post/`` or the whole API path."""
    name = path[len(API_PREFIX):] if path.startswith(API_PREFIX) else path.lstrip("/")
    return name if name.endswith("/") else f"{name}/"


def start_sandbox(config: SandboxConfig | None = None, **overrides: Any) -> SandboxHandle:
    """Start a sandbox in a background thread; ``overrides`` replace fields of ``config``."""
    if config is None:
        config = SandboxConfig(**overrides)
    elif overrides:
        config = dataclasses.replace(config, **overrides)
    app = Sandbox(config)
    server = _Server(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"tiktok-sandbox-{server.server_port}", daemon=True)
    thread.start()
    return SandboxHandle(app, server, thread)
