"""The consent flows that connect an account, and what ends a connection.

An ad account (advertiser) connects through TikTok's Marketing API consent page: `connect_url`
sends the person there with a signed, single-use state; TikTok sends the browser back with
`?auth_code=...&state=...`, and `finish_oauth` checks the state, trades the code for a token
and stores it with the ad accounts it grants. A TikTok business account (organic videos)
connects the same way through the account-holder consent page (`account_connect_url`,
`finish_account_oauth`); its tokens are then kept fresh by a TokenKeeper.

Every function takes the `Workspace` and makes its clients with `workspace.app.client()`. A
finished flow changes stored data: callers that cache query results forget them afterwards.
What goes wrong is a desk.errors kind (ConnectionDenied, a StateError) or a TikTokError.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pandas as pd

from desk import store as db
from desk.connect import state as oauth_state
from desk.connect.credentials import AccountConnection
from desk.connect.tokens import TokenKeeper, TokenStatus
from desk.errors import ConnectionDenied, message_for
from desk.text import text
from desk.workspace import Workspace
from tiktok_client.accounts import (
    BusinessAccountClient,
    account_authorization_url,
    exchange_account_code,
    parse_account_redirect,
    revoke_account_token,
)
from tiktok_client.errors import TikTokError
from tiktok_client.oauth import authorization_url, exchange_auth_code

__all__ = (
    "AccountConnected", "Connected", "ConnectionDenied", "account_client", "account_connect_url",
    "account_keeper", "account_statuses", "connect_url", "disconnect", "disconnect_account",
    "finish_account_oauth", "finish_oauth", "is_account_callback", "is_oauth_callback",
)


def _state_secret(workspace: Workspace) -> str:
    settings = workspace.settings
    return oauth_state.secret_key_for(settings.secret_key, settings.credentials_path)


# ---------------------------------------------------------------------------------------------
# Ad accounts (Marketing API)


@dataclass(frozen=True)
class Connected:
    """What a finished connection granted."""

    advertisers: tuple[tuple[str, str], ...]  # (advertiser_id, name)
    warning: str | None = None

    def summary(self) -> str:
        names = ", ".join(f"{name or 'unnamed'} ({a})" for a, name in self.advertisers)
        return f"Connected {len(self.advertisers)} ad account(s): {names}."


def connect_url(workspace: Workspace) -> str:
    """TikTok's consent page for this app, with a fresh signed state."""
    app = workspace.app
    return authorization_url(app.app_id, oauth_state.new_state(_state_secret(workspace)),
                             app.redirect_uri, auth_base=app.auth_url)


def is_oauth_callback(params: Mapping[str, str]) -> bool:
    """Whether the address is TikTok sending the browser back from a consent page."""
    return any(name in params for name in ("auth_code", "code", "state", "error"))


def finish_oauth(workspace: Workspace, params: Mapping[str, str], *,
                 now: float | None = None) -> Connected:
    """Check the state, trade the code for a token, store it and the ad accounts it grants.

    Raises ConnectionDenied, a StateError or a TikTokError; then nothing is stored.
    """
    if params.get("error"):
        if params["error"] == "access_denied":
            raise ConnectionDenied(
                "Access was not granted on TikTok (the consent screen was cancelled), so "
                "nothing was connected. Click Connect to try again."
            )
        raise ConnectionDenied(
            f"TikTok ended the connection with an error ({params['error'][:80]}), so nothing "
            "was connected. Click Connect to try again."
        )
    app = workspace.app
    oauth_state.check_state(
        _state_secret(workspace), params.get("state"),
        oauth_state.nonce_file_for(workspace.settings.credentials_path), now=now,
    )
    code = params.get("auth_code") or params.get("code") or ""
    with app.client() as client:
        grant = exchange_auth_code(client, app.app_id, app.app_secret, code)
    ids = [str(a) for a in grant.advertiser_ids]
    if not ids:
        raise ConnectionDenied(
            "TikTok granted access to no ad account, so nothing was connected. Click Connect "
            "and choose at least one ad account."
        )
    warning = None
    infos = []
    with app.client(grant.access_token) as client:
        try:
            for start in range(0, len(ids), 100):
                infos += client.get_advertiser_info(ids[start:start + 100])
        except TikTokError as exc:
            warning = ("The ad accounts' names could not be read yet "
                       f"({message_for(exc)}); the first sync fills them in.")
    workspace.credentials.add(grant.access_token, ids, list(grant.scope))
    records = {str(i.advertiser_id): i.to_record() for i in infos if i.advertiser_id}
    rows = [records.get(a, {"advertiser_id": a}) for a in ids]
    if rows:
        with workspace.store.cursor() as cur:
            db.upsert_advertisers(cur, pd.DataFrame.from_records(rows))
    return Connected(
        tuple((a, text(records.get(a, {}).get("name"))) for a in ids), warning
    )


def disconnect(workspace: Workspace, connection_id: str) -> bool:
    """Forget a connection's token (its ad accounts' stored comments stay)."""
    return workspace.credentials.remove(connection_id)


# ---------------------------------------------------------------------------------------------
# TikTok business accounts (Accounts API)


@dataclass(frozen=True)
class AccountConnected:
    """What a finished business-account connection granted."""

    business_id: str
    name: str
    warning: str | None = None

    def summary(self) -> str:
        return f"Connected the TikTok account {self.name or 'unnamed'} ({self.business_id})."


def is_account_callback(workspace: Workspace, params: Mapping[str, str]) -> bool:
    """Whether a callback finishes a TikTok business account connection: its signed state
    says (an unreadable state goes to the ad account flow, which refuses it with the
    reason)."""
    return (oauth_state.state_purpose(_state_secret(workspace), params.get("state"))
            == oauth_state.ACCOUNT)


def account_connect_url(workspace: Workspace) -> str | None:
    """TikTok's account-holder consent page with a fresh signed state, or None when this
    installation has no account-holder authorization URL."""
    app = workspace.app
    if not app.account_auth_url or not app.account_redirect_uri:
        return None
    state = oauth_state.new_state(_state_secret(workspace), purpose=oauth_state.ACCOUNT)
    return account_authorization_url(app.account_auth_url, state, app.account_redirect_uri)


def finish_account_oauth(workspace: Workspace, params: Mapping[str, str], *,
                         now: float | None = None) -> AccountConnected:
    """Check the state, trade the code for the account's tokens, store them and its profile.

    Raises ConnectionDenied, a StateError or a TikTokError; then nothing is stored.
    """
    redirect = parse_account_redirect(params)
    if redirect.error:
        reason = ("the consent screen was cancelled" if redirect.error == "access_denied"
                  else f"TikTok ended it with an error: {redirect.error[:80]}")
        raise ConnectionDenied(f"The TikTok account was not connected ({reason}). Click "
                               "Connect a TikTok account to try again.")
    app = workspace.app
    oauth_state.check_state(
        _state_secret(workspace), redirect.state,
        oauth_state.nonce_file_for(workspace.settings.credentials_path),
        now=now, purpose=oauth_state.ACCOUNT,
    )
    with app.client() as client:
        token = exchange_account_code(client, app.app_id, app.app_secret, redirect.code or "",
                                      app.account_redirect_uri)
        if not token.open_id:
            raise ConnectionDenied("TikTok's answer named no TikTok account, so nothing was "
                                   "connected. Click Connect a TikTok account to try again.")
        TokenKeeper(workspace.credentials, client, app.app_id, app.app_secret).connect(token)
    name, warning = "", None
    with app.client(token.access_token) as client:
        try:
            profile = BusinessAccountClient.for_token(client, token).get_profile().to_record()
        except TikTokError as exc:
            warning = (f"The account's profile could not be read yet ({message_for(exc)}); "
                       "the first sync fills it in.")
        else:
            row = {k: v for k, v in profile.items() if not isinstance(v, list)}
            with workspace.store.cursor() as cur:
                db.upsert_business_accounts(cur, pd.DataFrame.from_records([row]))
            name = text(profile.get("display_name")) or text(profile.get("username"))
    return AccountConnected(token.open_id, name, warning)


@contextlib.contextmanager
def account_keeper(workspace: Workspace) -> Iterator[TokenKeeper]:
    """The keeper of the business accounts' tokens, with a client for its refresh calls."""
    app = workspace.app
    with app.client() as client:
        yield TokenKeeper(workspace.credentials, client, app.app_id, app.app_secret)


@contextlib.contextmanager
def account_client(workspace: Workspace, business_id: str) -> Iterator[BusinessAccountClient]:
    """A client acting as the business account, with a token good for a while (renewed
    first when it is about to expire; never shown)."""
    with account_keeper(workspace) as keeper:
        token = keeper.access_token(business_id)
    account = workspace.credentials.account_connection(business_id)
    with workspace.client(token) as client:
        yield BusinessAccountClient(client, business_id,
                                    scopes=account.scope if account is not None else None)


def account_statuses(workspace: Workspace) -> list[tuple[AccountConnection, TokenStatus]]:
    """Every connected business account with how its connection stands."""
    with account_keeper(workspace) as keeper:
        return [(conn, keeper.status(conn.business_id))
                for conn in workspace.credentials.account_connections()]


def disconnect_account(workspace: Workspace, business_id: str) -> str | None:
    """Revoke the app's access on TikTok and forget the account's tokens (its stored comments
    stay). Returns a note when TikTok could not be told."""
    app = workspace.app
    conn = workspace.credentials.account_connection(business_id)
    note = None
    if conn is not None and conn.access_token and not conn.needs_reconnect:
        with app.client() as client:
            try:
                revoke_account_token(client, app.app_id, app.app_secret, conn.access_token)
            except TikTokError as exc:
                note = (f"TikTok could not be told to end the app's access ({message_for(exc)}); "
                        "Comment Desk has forgotten the tokens anyway. To be sure, remove the "
                        "app under Security in the TikTok account's settings.")
    workspace.credentials.remove_account(business_id)
    return note
