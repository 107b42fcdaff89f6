"""The advertiser's consent screen of TikTok's OAuth flow, on ``/portal/auth``.

GET ``/portal/auth?app_id=&state=&redirect_uri=`` shows the screen. Its form posts to
``/portal/auth/authorize``, which answers 302 to
``redirect_uri?auth_code=CODE&code=CODE&state=STATE``, or to ``/portal/auth/cancel``,
which answers 302 to ``redirect_uri?error=access_denied&state=STATE``. Every advertiser
of the sandbox is granted. The redirect URI must be http(s); it must be on loopback
unless ``SandboxConfig.redirect_uris`` lists the allowed ones (compared without their
query string). Anything wrong is shown as an error page, never redirected to.
"""

from __future__ import annotations

import dataclasses
import html
from importlib import resources
from string import Template
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .config import SandboxConfig
from .state import SandboxState

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclasses.dataclass(frozen=True)
class Page:
    """An HTTP answer of the consent flow: an HTML page or a redirect."""

    status: int
    body: str = ""
    location: str | None = None


def error_page(message: str, status: int = 400) -> Page:
    text = html.escape(message)
    return Page(status, (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Authorization error</title></head><body style=\"font-family:system-ui,"
        "sans-serif;max-width:460px;margin:48px auto\"><h1>Authorization error</h1>"
        f"<p>{text}</p></body></html>"
    ))


def redirect_problem(config: SandboxConfig, redirect_uri: str) -> str | None:
    """Why ``redirect_uri`` may not be used for an advertiser, or None when it may."""
    return uri_problem(redirect_uri, config.redirect_uris)


def uri_problem(redirect_uri: str, registered: tuple[str, ...] | None) -> str | None:
    """Why ``redirect_uri`` is not one of ``registered`` (any loopback URL when None)."""
    if not redirect_uri:
        return "redirect_uri is missing."
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "redirect_uri must be an http(s) URL."
    if registered is not None:
        bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        if redirect_uri not in registered and bare not in registered:
            return "redirect_uri is not registered for this app."
    elif parts.hostname not in LOOPBACK_NAMES:
        return "redirect_uri is not registered for this app (only loopback URLs are allowed)."
    return None


def with_query(redirect_uri: str, extra: list[tuple[str, str]]) -> str:
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + extra
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def _checked(config: SandboxConfig, form: dict[str, str]) -> Page | None:
    if form.get("app_id") != config.app_id:
        return error_page("Unknown app_id: this app is not registered.")
    problem = redirect_problem(config, form.get("redirect_uri", ""))
    return error_page(problem) if problem else None


def consent_page(config: SandboxConfig, state: SandboxState, query: dict[str, str]) -> Page:
    problem = _checked(config, query)
    if problem:
        return problem
    redirect_uri = query["redirect_uri"]
    advertisers = "\n".join(
        f'    <li>{html.escape(a.name)} <span class="id">{html.escape(a.advertiser_id)}'
        f" · {html.escape(a.role)}</span></li>"
        for a in state.advertisers()
    )
    template = Template(resources.files(__package__).joinpath("consent.html").read_text("utf-8"))
    return Page(200, template.substitute(
        app_name=html.escape(config.app_name),
        app_id=html.escape(config.app_id),
        state=html.escape(query.get("state", "")),
        redirect_uri=html.escape(redirect_uri),
        redirect_host=html.escape(urlsplit(redirect_uri).netloc),
        advertisers=advertisers,
    ))


def authorize(config: SandboxConfig, state: SandboxState, form: dict[str, str]) -> Page:
    problem = _checked(config, form)
    if problem:
        return problem
    code = state.issue_code()
    extra = [("auth_code", code), ("code", code)]
    if "state" in form:
        extra.append(("state", form["state"]))
    return Page(302, location=with_query(form["redirect_uri"], extra))


def cancel(config: SandboxConfig, form: dict[str, str]) -> Page:
    problem = _checked(config, form)
    if problem:
        return problem
    extra = [("error", "access_denied")]
    if "state" in form:
        extra.append(("state", form["state"]))
    return Page(302, location=with_query(form["redirect_uri"], extra))
