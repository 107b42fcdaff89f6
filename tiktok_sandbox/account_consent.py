"""The TikTok account holder's consent screen (Accounts API), on ``/v2/auth/authorize/``.

GET ``/v2/auth/authorize/?client_key=&scope=&response_type=code&redirect_uri=&state=``
(the shape of the "TikTok account holder authorization URL" of TikTok's developer portal)
shows the screen: the business accounts to log in as (the first one chosen) and the scopes
asked for. Its form posts to ``/v2/auth/authorize/confirm``, which answers 302 to
``redirect_uri?code=CODE&scopes=a,b&state=STATE``, or to ``/v2/auth/authorize/cancel``,
which answers 302 to ``redirect_uri?error=access_denied&error_description=...&state=STATE``.
Every scope asked for is granted, unless ``SandboxConfig.account_granted_scopes`` says which
the account holder grants: the screen then marks the others as not granted, and ``scopes``
names only the granted ones. The redirect URI must be http(s); it must be on loopback
unless ``SandboxConfig.account_redirect_uris`` lists the allowed ones (compared without
their query string). Anything wrong is shown as an error page, never redirected to.
"""

from __future__ import annotations

import html

from .accounts import KNOWN_SCOPES, AccountsState
from .config import SandboxConfig
from .consent import Page, consent_screen, error_page, redirect_back, uri_problem

SCOPE_LABELS = {
    "user.info.basic": "Read your profile info (avatar, display name)",
    "user.info.username": "Read your username",
    "user.info.stats": "Read your follower, like and video counts",
    "user.account.type": "Read your account type",
    "user.insights": "Read your account's analytics",
    "video.list": "Read your public videos",
    "video.insights": "Read your videos' analytics",
    "video.publish": "Post videos to your account",
    "comment.list": "Read comments on your videos",
    "comment.list.manage": "Reply to, hide, pin, like and delete comments on your videos",
}
# The accounts to log in as are radio buttons, each in its label.
LABEL_STYLE = "  label { display: block; margin: 6px 0; }\n"


def _scopes(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def _checked(config: SandboxConfig, form: dict[str, str], *, page: bool) -> Page | None:
    if form.get("client_key") != config.app_id:
        return error_page("Unknown client_key: this app is not registered.")
    if page and form.get("response_type") != "code":
        return error_page("response_type must be code.")
    scopes = _scopes(form.get("scope", ""))
    if not scopes:
        return error_page("scope is missing: list the scopes the app asks for.")
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        return error_page(f"Unknown scope: {', '.join(unknown)}.")
    problem = uri_problem(form.get("redirect_uri", ""), config.account_redirect_uris)
    return error_page(problem) if problem else None


def consent_page(config: SandboxConfig, accounts: AccountsState, query: dict[str, str]
                 ) -> Page:
    problem = _checked(config, query, page=True)
    if problem:
        return problem
    choices = accounts.accounts()
    if not choices:
        return error_page("There is no TikTok business account to log in as.")
    redirect_uri = query["redirect_uri"]
    scopes = _scopes(query["scope"])
    rows = "\n".join(
        f'    <label><input type="radio" name="open_id" value="{html.escape(a.open_id)}"'
        f'{" checked" if n == 0 else ""}> @{html.escape(a.username)} '
        f'<span class="id">{html.escape(a.display_name)}</span></label>'
        for n, a in enumerate(choices)
    )
    granted = accounts.granted_scopes(scopes)
    labels = "\n".join(
        f"      <li>{html.escape(SCOPE_LABELS.get(s, s))} "
        f'<span class="id">{html.escape(s)}</span>'
        f"{'' if s in granted else ' (not granted)'}</li>"
        for s in scopes
    )
    return consent_screen(
        config, "account_consent.html", site="TikTok", access="TikTok account",
        hidden={"client_key": config.app_id, "scope": ",".join(scopes),
                "state": query.get("state", ""), "redirect_uri": redirect_uri},
        redirect_uri=redirect_uri, cancel_action="/v2/auth/authorize/cancel",
        page_style=LABEL_STYLE, accounts=rows, scopes=labels,
    )


def authorize(config: SandboxConfig, accounts: AccountsState, form: dict[str, str]) -> Page:
    problem = _checked(config, form, page=False)
    if problem:
        return problem
    open_id = form.get("open_id", "")
    if accounts.account(open_id) is None:
        return error_page("Choose the TikTok account to log in as.")
    scopes = accounts.granted_scopes(_scopes(form["scope"]))
    code = accounts.issue_code(open_id, scopes, form["redirect_uri"])
    return redirect_back(form, [("code", code), ("scopes", ",".join(scopes))])


def cancel(config: SandboxConfig, form: dict[str, str]) -> Page:
    problem = _checked(config, form, page=False)
    if problem:
        return problem
    return redirect_back(form, [("error", "access_denied"),
                                ("error_description", "The user denied the authorization.")])
