"""Walk the sandbox's consent screen as a browser would, for scripts, tests and benchmarks.

Standard library only, like the rest of the sandbox.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

_FORM = re.compile(r'<form method="post" action="([^"]+)"')
_FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def walk_consent(base_url: str, *, app_id: str, redirect_uri: str, state: str = "",
                 approve: bool = True, timeout: float = 10.0) -> str:
    """Open the consent page, press Authorize (or Cancel) and return the redirect's Location."""
    import html

    query = urllib.parse.urlencode({"app_id": app_id, "state": state,
                                    "redirect_uri": redirect_uri})
    with urllib.request.urlopen(f"{base_url}/portal/auth?{query}", timeout=timeout) as page:  # noqa: S310
        text = page.read().decode()
    form = _FORM.search(text)
    if form is None:
        raise ValueError("the consent page has no form (unknown app_id or redirect_uri?)")
    action = form.group(1) if approve else "/portal/auth/cancel"
    fields = {name: html.unescape(value) for name, value in _FIELD.findall(text)}
    opener = urllib.request.build_opener(_NoRedirect)
    data = urllib.parse.urlencode(fields).encode()
    try:
        opener.open(base_url + action, data=data, timeout=timeout)
    except urllib.error.HTTPError as answer:
        if answer.code == 302:
            return answer.headers["Location"]
        raise
    raise ValueError("the consent form did not redirect")


def authorization_code(base_url: str, *, app_id: str, redirect_uri: str) -> str:
    """An authorization code, as the redirect after Authorize would carry it."""
    location = walk_consent(base_url, app_id=app_id, redirect_uri=redirect_uri)
    return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["auth_code"][0]
