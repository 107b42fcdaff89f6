"""A real OpenID Connect provider for the browser tests (Node's oidc-provider, installed by
`make test` into tests/e2e/oidc), started on 127.0.0.1 with the test's own users and one
client, and signing in through its login page in Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests
from playwright.sync_api import expect

from tests.e2e.harness import ROOT, StreamlitPage, free_port

PROVIDER = ROOT / "tests" / "e2e" / "oidc"


@contextmanager
def identity_provider(workdir: Path, users: Mapping[str, Mapping[str, str]], client_id: str,
                      client_secret: str) -> Iterator[tuple[str, int]]:
    """oidc-provider on a free loopback port, for an app on another free port; yields the
    issuer URL and the app's port (its redirect URI is registered with the client)."""
    port, app_port = free_port(), free_port()
    spec = {"users": dict(users), "clients": [{
        "client_id": client_id, "client_secret": client_secret,
        "redirect_uris": [f"http://127.0.0.1:{app_port}/oauth2callback"],
        "post_logout_redirect_uris": [f"http://127.0.0.1:{app_port}/"],
        "grant_types": ["authorization_code"], "response_types": ["code"],
    }]}
    log = (workdir / "provider.log").open("w")
    process = subprocess.Popen(["node", "provider.mjs", str(port), json.dumps(spec)],
                               cwd=PROVIDER, stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (
                (workdir / "provider.log").read_text())
            time.sleep(0.1)
        yield issuer, app_port
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def auth_secrets(workdir: Path, issuer: str, port: int, client_id: str, client_secret: str,
                 cookie_secret: str) -> Path:
    """A secrets file whose [auth] section signs people in with the provider."""
    secrets_file = workdir / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        f'client_id = "{client_id}"\n'
        f'client_secret = "{client_secret}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
        # Streamlit asks for prompt=select_account unless told otherwise; oidc-provider, like
        # some other providers, takes only login, consent and none.
        'client_kwargs = { prompt = "login" }\n')
    return secrets_file


def sign_in(page: StreamlitPage, login: str, email: str) -> None:
    """Through the provider's own login and consent pages, back to the app."""
    page.goto()
    page.shows("Sign in with your company account")
    page.button("Sign in").click()
    page.page.wait_for_url(re.compile(r"/interaction/"))
    page.page.fill('input[name="login"]', login)
    page.page.fill('input[name="password"]', "any password")
    page.page.get_by_role("button", name="Sign-in").click()
    page.page.wait_for_load_state()
    if "/interaction/" in page.page.url:  # the consent page: allow the app
        page.page.get_by_role("button", name=re.compile("Continue|Authorize|Allow")).click()
    page.page.wait_for_url(page.app.url + "**")
    page.settle()
    expect(page.sidebar()).to_contain_text(f"Signed in as {email}")


def cookie_header(page: StreamlitPage) -> str:
    """The page's cookies as a Cookie header."""
    return "; ".join(f"{c['name']}={c['value']}" for c in page.page.context.cookies(page.app.url))
