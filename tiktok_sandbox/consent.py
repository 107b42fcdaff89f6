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
from collections.abc import Mapping
from importlib import resources
from string import Template
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .config import SandboxConfig
from .data import ROLE_ADVERTISER, ROLE_AGENT, ROLE_CHILD_ADVERTISER, ROLE_CHILD_AGENT
from .state import SandboxState

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
# How the consent screen names each account type (advertiser/info's ``role``).
ACCOUNT_TYPE_LABELS = {
    ROLE_ADVERTISER: "Advertiser",
    ROLE_CHILD_ADVERTISER: "Agency client",
    ROLE_CHILD_AGENT: "Sub-agency",
    ROLE_AGENT: "Agency",
}


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


def redirect_back(form: Mapping[str, str], extra: list[tuple[str, str]]) -> Page:
    """302 to the form's ``redirect_uri`` with ``extra`` added to its query, and the form's
    ``state`` when it has one."""
    if "state" in form:
        extra = [*extra, ("state", form["state"])]
    return Page(302, location=with_query(form["redirect_uri"], extra))


def _package_text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text("utf-8")


def consent_screen(config: SandboxConfig, content: str, *, site: str, access: str,
                   hidden: Mapping[str, str], redirect_uri: str, cancel_action: str,
                   page_style: str = "", **values: str) -> Page:
    """A consent screen: ``content`` (a template file of the package, ending in the opening
    of its form) inside the frame both screens share, which closes the form with Authorize
    and Cancel (posting to ``cancel_action``).

    ``hidden`` are the form's hidden fields, ``redirect_uri`` where the account holder is
    sent back to; ``values`` are HTML, put into ``content`` as they are. ``page_style`` adds
    CSS rules, one a line.
    """
    inputs = "\n".join(f'    <input type="hidden" name="{name}" value="{html.escape(value)}">'
                       for name, value in hidden.items())
    filled = Template(_package_text(content)).substitute(
        hidden=inputs, redirect_host=html.escape(urlsplit(redirect_uri).netloc), **values)
    return Page(200, Template(_package_text("consent_frame.html")).substitute(
        app_name=html.escape(config.app_name), site=site, access=access,
        page_style=page_style, content=filled.removesuffix("\n"),
        cancel_action=cancel_action,
    ))


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
        f" · {html.escape(ACCOUNT_TYPE_LABELS[a.account_type])}</span></li>"
        for a in state.advertisers()
    )
    return consent_screen(
        config, "consent.html", site="TikTok for Business", access="TikTok ad accounts",
        hidden={"app_id": config.app_id, "state": query.get("state", ""),
                "redirect_uri": redirect_uri},
        redirect_uri=redirect_uri, cancel_action="/portal/auth/cancel", advertisers=advertisers,
    )


def authorize(config: SandboxConfig, state: SandboxState, form: dict[str, str]) -> Page:
    problem = _checked(config, form)
    if problem:
        return problem
    code = state.issue_code()
    return redirect_back(form, [("auth_code", code), ("code", code)])


def cancel(config: SandboxConfig, form: dict[str, str]) -> Page:
    problem = _checked(config, form)
    if problem:
        return problem
    return redirect_back(form, [("error", "access_denied")])
