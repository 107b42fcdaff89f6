"""Walk the sandbox's consent screen as a browser would, for scripts, tests and benchmarks.

Standard library only, like the rest of the sandbox.
"""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request

_FORM = re.compile(r'<form method="post" action="([^"]+)"')
_FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')
_ACCOUNT = re.compile(r'<input type="radio" name="open_id" value="([^"]*)"( checked)?>')
ACCOUNT_AUTH_PATH = "/v2/auth/authorize/"
DEFAULT_ACCOUNT_SCOPES = (
    "user.info.basic", "user.info.username", "user.info.stats", "user.account.type",
    "user.insights", "video.list", "video.insights", "comment.list", "comment.list.manage",
)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def _open_form(url: str, timeout: float, problem: str) -> tuple[str, str, dict[str, str]]:
    """The consent page at ``url``, its form's action and its hidden fields; ``problem`` is
    the likely cause when the page has no form."""
    with urllib.request.urlopen(url, timeout=timeout) as page:  # noqa: S310
        text = page.read().decode()
    form = _FORM.search(text)
    if form is None:
        raise ValueError(f"the consent page has no form ({problem})")
    fields = {name: html.unescape(value) for name, value in _FIELD.findall(text)}
    return text, form.group(1), fields


def _submit(url: str, fields: dict[str, str], timeout: float) -> str:
    """Post the form to ``url`` and return the Location it redirects to."""
    opener = urllib.request.build_opener(_NoRedirect)
    data = urllib.parse.urlencode(fields).encode()
    try:
        opener.open(url, data=data, timeout=timeout)
    except urllib.error.HTTPError as answer:
        if answer.code == 302:
            return answer.headers["Location"]
        raise
    raise ValueError("the consent form did not redirect")


def walk_consent(base_url: str, *, app_id: str, redirect_uri: str, state: str = "",
                 approve: bool = True, timeout: float = 10.0) -> str:
    """Open the consent page, press Authorize (or Cancel) and return the redirect's Location."""
    query = urllib.parse.urlencode({"app_id": app_id, "state": state,
                                    "redirect_uri": redirect_uri})
    _, action, fields = _open_form(f"{base_url}/portal/auth?{query}", timeout,
                                   "unknown app_id or redirect_uri?")
    return _submit(base_url + (action if approve else "/portal/auth/cancel"), fields, timeout)


def authorization_code(base_url: str, *, app_id: str, redirect_uri: str) -> str:
    """An authorization code, as the redirect after Authorize would carry it."""
    location = walk_consent(base_url, app_id=app_id, redirect_uri=redirect_uri)
    return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["auth_code"][0]


def walk_account_consent(consent_url: str, *, open_id: str | None = None, approve: bool = True,
                         timeout: float = 10.0) -> str:
    """Open a TikTok account holder's consent page (the full URL an app sends the account
    holder to), log in as ``open_id`` (default: the account the page preselects), press
    Authorize (or Cancel) and return the redirect's Location."""
    parts = urllib.parse.urlsplit(consent_url)
    base_url = f"{parts.scheme}://{parts.netloc}"
    text, action, fields = _open_form(consent_url, timeout,
                                      "unknown client_key, scope or redirect_uri?")
    choices = [(html.unescape(value), bool(checked)) for value, checked in _ACCOUNT.findall(text)]
    if open_id is None:
        open_id = next((value for value, checked in choices if checked), None)
    elif open_id not in [value for value, _ in choices]:
        raise ValueError(f"the consent page offers no account {open_id!r}")
    if open_id is not None:
        fields["open_id"] = open_id
    return _submit(base_url + (action if approve else ACCOUNT_AUTH_PATH + "cancel"), fields,
                   timeout)


def account_authorization_code(base_url: str, *, client_key: str, redirect_uri: str,
                               open_id: str | None = None,
                               scopes: tuple[str, ...] = DEFAULT_ACCOUNT_SCOPES) -> str:
    """A TikTok account authorization code, as the redirect after Authorize would carry it."""
    query = urllib.parse.urlencode({"client_key": client_key, "scope": ",".join(scopes),
                                    "response_type": "code", "redirect_uri": redirect_uri})
    location = walk_account_consent(f"{base_url}{ACCOUNT_AUTH_PATH}?{query}", open_id=open_id)
    return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
