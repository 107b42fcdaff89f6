"""Real servers on 127.0.0.1 that receive alerts: an SMTP server (aiosmtpd) and an incoming-
webhook receiver (http.server). No pytest here, so the browser tests can start them too.

    with SmtpReceiver() as smtp, WebhookReceiver() as hook:
        ...  # DESK_SMTP_HOST=smtp.host, DESK_SMTP_PORT=smtp.port; a channel at hook.url
        [mail] = smtp.wait_for(1)
        [post] = hook.wait_for(1)

Each listens on a port of its own, chosen by the system (no races between test workers).
`WebhookReceiver.fail_next(n)` answers the next n POSTs with HTTP 500 (and records them as
refused); `SmtpReceiver(user=..., password=...)` takes that login (over plain SMTP, as a
server on this machine may) and records each login tried in `logins`; each `Mail` says which
login sent it.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Mail:
    """One message the SMTP server took."""

    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage
    login: str | None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        return "" if part is None else part.get_content().replace("\r\n", "\n")


@dataclass(frozen=True)
class Post:
    """One POST the webhook receiver got; `answered` is the status it answered with."""

    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)


def _wait(items: list[Any], lock: threading.Lock, count: int, timeout: float,
          what: str) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        with lock:
            if len(items) >= count:
                return list(items)
        if time.monotonic() > deadline:
            with lock:
                raise AssertionError(f"expected {count} {what}, got {len(items)} in {timeout} s")
        time.sleep(0.02)


# ---------------------------------------------------------------------------------------------
# SMTP


class _BoundController(Controller):
    """aiosmtpd's Controller on a socket already bound to a free port."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((HOST, 0))
        super().__init__(handler, hostname=HOST, port=self._socket.getsockname()[1], **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._socket)


@dataclass
class _SmtpHandler:
    mails: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        with self.lock:
            self.mails.append(Mail(envelope.mail_from, tuple(envelope.rcpt_tos),
                                   message, login))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """An SMTP server on 127.0.0.1 that keeps every message it takes."""

    def __init__(self, *, user: str | None = None, password: str | None = None) -> None:
        self._handler = _SmtpHandler()
        self.logins: list[tuple[str, str]] = []
        options: dict[str, Any] = {}
        if user is not None:
            options = {"authenticator": self._authenticate(user, password or ""),
                       "auth_require_tls": False}
        self._controller = _BoundController(self._handler, **options)
        self.host = HOST
        self.port = self._controller.port

    def _authenticate(self, user: str, password: str) -> Any:
        def check(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
            if isinstance(auth_data, LoginPassword):
                given = (auth_data.login.decode(), auth_data.password.decode())
                self.logins.append(given)
                if given == (user, password):
                    return AuthResult(success=True, auth_data=user)
            return AuthResult(success=False, handled=False)

        return check

    @property
    def mails(self) -> list[Mail]:
        with self._handler.lock:
            return list(self._handler.mails)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Mail]:
        """The messages taken so far, once there are at least `count`."""
        return _wait(self._handler.mails, self._handler.lock, count, timeout, "e-mails")

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# Webhook


class WebhookReceiver:
    """An incoming-webhook receiver on 127.0.0.1: records every POST and answers 200 "ok"
    (Slack's answer), or 500 while told to fail."""

    def __init__(self, path: str = "/services/T000/B000/s3cr3tW3bh00kT0ken") -> None:
        self.path = path
        self._posts: list[Post] = []
        self._lock = threading.Lock()
        self._failures = 0
        self._fail_status = 500
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._answer()
                with receiver._lock:
                    receiver._posts.append(Post(self.path, dict(self.headers), body, status))
                answer = b"ok" if status == 200 else b"internal_error"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="webhook-receiver")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{self.path}"

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next `count` POSTs with `status` instead of 200."""
        with self._lock:
            self._failures = count
            self._fail_status = status

    def _answer(self) -> int:
        with self._lock:
            if self._failures > 0:
                self._failures -= 1
                return self._fail_status
            return 200

    @property
    def posts(self) -> list[Post]:
        """Every POST, refused ones too."""
        with self._lock:
            return list(self._posts)

    @property
    def delivered(self) -> list[Post]:
        """The POSTs answered 200."""
        return [post for post in self.posts if post.answered == 200]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Post]:
        """The POSTs answered 200 so far, once there are at least `count`."""
        deadline = time.monotonic() + timeout
        while len(self.delivered) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} webhook posts, got "
                                     f"{len(self.delivered)} in {timeout} s")
            time.sleep(0.02)
        return self.delivered

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
