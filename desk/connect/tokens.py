"""TikTok business-account tokens: stored with the credentials, refreshed before they expire.

An account's access token lives 24 hours; its refresh token lasts one year from the first
authorisation, and refreshing does not extend that year. `TokenKeeper.access_token()` hands out
a token that is good for at least `margin` more, refreshing first when needed:

- The refresh runs while the credentials file is locked, and the new pair is stored before the
  lock is released. A second caller (thread or process) waits for the lock, reads the new pair
  and uses it: two racing callers make one refresh.
- A refresh that fails half-way loses nothing. Until the new pair is stored, the old one stays
  in the file, and TikTok keeps the used refresh token working until one of its successors is
  used, so the next call simply refreshes again. While the old access token is still valid
  it is handed out meanwhile.
- A refresh token TikTok refuses (or one whose year is over) marks the account as needing to
  be connected again; `AccountNeedsReconnect` carries the sentence to show.

Tokens never reach the analytics database, a log or a repr.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from desk.connect.credentials import AccountConnection, AccountLedger, CredentialStore
from desk.errors import AccountNeedsReconnect, AccountNotConnected, TokenUnavailable
from tiktok_client.accounts import refresh_account_token
from tiktok_client.accounts_models import AccountToken
from tiktok_client.client import TikTokClient
from tiktok_client.errors import RefreshTokenError, TikTokError

__all__ = [
    "REFRESH_MARGIN",
    "WARN_BEFORE",
    "AccountNeedsReconnect",
    "AccountNotConnected",
    "TokenKeeper",
    "TokenStatus",
    "TokenUnavailable",
]

REFRESH_MARGIN = timedelta(minutes=10)
"""An access token expiring sooner than this is refreshed before it is handed out."""

WARN_BEFORE = timedelta(days=14)
"""How long before the refresh token's year ends the account shows a warning."""

Refresher = Callable[..., AccountToken]


@dataclass(frozen=True)
class TokenStatus:
    """How a business account's connection stands, for the UI."""

    business_id: str
    state: Literal["ok", "warn", "reconnect"]
    message: str
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None


def _moment(text: str) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


def _text(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def _refresh_ended(conn: AccountConnection, now: datetime) -> bool:
    ends = _moment(conn.refresh_expires_at)
    return not conn.refresh_token or (ends is not None and now >= ends)


def _reconnect_message(business_id: str, reason: str) -> str:
    return (f"The TikTok business account {business_id} must be connected again: {reason} "
            "Connect it again to keep syncing its comments.")


class TokenKeeper:
    """Hands out valid access tokens for the connected business accounts.

    `client` is any client of the app (its token is not used: the token calls authenticate
    with `app_id` and `secret`). `refresh` is the call that trades a refresh token for a
    new pair (tiktok_client's `refresh_account_token`; replaceable in tests).
    """

    def __init__(self, credentials: CredentialStore, client: TikTokClient, app_id: str,
                 secret: str, *, margin: timedelta = REFRESH_MARGIN,
                 refresh: Refresher = refresh_account_token) -> None:
        self._credentials = credentials
        self._client = client
        self._app_id = str(app_id)
        self._secret = secret
        self._margin = margin
        self._refresh = refresh

    def __repr__(self) -> str:
        return f"TokenKeeper({self._credentials!r}, app_id={self._app_id!r})"

    # connecting

    def connect(self, token: AccountToken, now: datetime | None = None) -> AccountConnection:
        """Store the tokens of a new authorisation (from exchange_account_code); an account
        already stored is replaced, and is usable again if it needed reconnecting."""
        if not token.open_id:
            raise ValueError("the token names no open_id (business_id)")
        stamp = _text(_utc(now))
        conn = AccountConnection(
            business_id=token.open_id, access_token=token.access_token,
            refresh_token=token.refresh_token or "",
            access_expires_at=_text(token.access_expires_at),
            refresh_expires_at=_text(token.refresh_expires_at), scope=token.scope,
            connected_at=stamp, refreshed_at=stamp,
        )
        with self._credentials.accounts_locked() as ledger:
            ledger.put(conn)
        return conn

    # handing out tokens

    def access_token(self, business_id: str, now: datetime | None = None) -> str:
        """An access token for the account valid for at least `margin` past `now`,
        refreshed (and stored) first if needed.

        Raises AccountNotConnected, AccountNeedsReconnect, or TokenUnavailable (the token
        has expired and could not be renewed just now).
        """
        return self._ensure(str(business_id), _utc(now), force=False).access_token

    def refresh(self, business_id: str, now: datetime | None = None) -> AccountConnection:
        """Refresh the account's tokens now, whatever their expiry (same errors as
        access_token)."""
        return self._ensure(str(business_id), _utc(now), force=True)

    def refresh_due(self, now: datetime | None = None) -> dict[str, str]:
        """Refresh every usable account whose access token expires within `margin`: for a
        scheduler. Returns each account refreshed or failed with a word or the reason."""
        moment = _utc(now)
        outcome: dict[str, str] = {}
        for conn in self._credentials.account_connections():
            if conn.needs_reconnect or not self._expiring(conn, moment):
                continue
            try:
                self._ensure(conn.business_id, moment, force=False)
                outcome[conn.business_id] = "refreshed"
            except (AccountNeedsReconnect, TokenUnavailable, AccountNotConnected) as exc:
                outcome[conn.business_id] = str(exc)
        return outcome

    # status

    def status(self, business_id: str, now: datetime | None = None) -> TokenStatus:
        """ok, warn (the refresh token ends within WARN_BEFORE; reconnect before that day) or
        reconnect (ended, refused, or never connected)."""
        moment = _utc(now)
        conn = self._credentials.account_connection(str(business_id))
        if conn is None:
            return TokenStatus(str(business_id), "reconnect",
                               "This business account is not connected.")
        access, ends = _moment(conn.access_expires_at), _moment(conn.refresh_expires_at)
        if conn.needs_reconnect:
            return TokenStatus(conn.business_id, "reconnect", conn.status_message, access, ends)
        if _refresh_ended(conn, moment):
            reason = f"its authorisation ended on {_day(ends)}." if ends else (
                "it has no refresh token.")
            return TokenStatus(conn.business_id, "reconnect",
                               _reconnect_message(conn.business_id, reason), access, ends)
        if ends is not None and ends - moment <= WARN_BEFORE:
            return TokenStatus(
                conn.business_id, "warn",
                f"The connection of TikTok business account {conn.business_id} ends on "
                f"{_day(ends)} (TikTok allows one year). Connect it again before then.",
                access, ends)
        return TokenStatus(conn.business_id, "ok", "Connected.", access, ends)

    # the refresh itself

    def _expiring(self, conn: AccountConnection, now: datetime) -> bool:
        expires = _moment(conn.access_expires_at)
        return expires is not None and now + self._margin >= expires

    def _ensure(self, business_id: str, now: datetime, *, force: bool) -> AccountConnection:
        problem: Exception | None = None
        with self._credentials.accounts_locked() as ledger:
            conn = ledger.get(business_id)
            if conn is None:
                raise AccountNotConnected(
                    f"The TikTok business account {business_id} is not connected.")
            if conn.needs_reconnect:
                raise AccountNeedsReconnect(conn.status_message)
            if not force and not self._expiring(conn, now):
                return conn  # fresh enough, possibly refreshed by another caller meanwhile
            fresh, problem = self._renew(ledger, conn, now)
            if problem is None:
                return fresh
        raise problem

    def _renew(self, ledger: AccountLedger, conn: AccountConnection, now: datetime
               ) -> tuple[AccountConnection, Exception | None]:
        """Trade the refresh token; store the new pair in the ledger (written when the lock
        is released), or mark the account for reconnecting. Returns the connection to use,
        or the error to raise once the ledger is written."""
        if _refresh_ended(conn, now):
            ends = _moment(conn.refresh_expires_at)
            reason = f"its authorisation ended on {_day(ends)}." if ends else (
                "it has no refresh token.")
            return conn, self._needs_reconnect(ledger, conn, reason)
        try:
            token = self._refresh(self._client, self._app_id, self._secret, conn.refresh_token,
                                  now=now)
        except RefreshTokenError as exc:
            return conn, self._needs_reconnect(ledger, conn, f"TikTok refused to renew its "
                                                             f"token ({exc.message}).")
        except TikTokError as exc:
            if not self._hard_expired(conn, now):
                return conn, None  # the stored token still works; renew on a later call
            return conn, TokenUnavailable(
                f"The access token of TikTok business account {conn.business_id} has expired "
                f"and could not be renewed just now ({exc}). Try again in a minute.")
        fresh = replace(
            conn, access_token=token.access_token,
            refresh_token=token.refresh_token or conn.refresh_token,
            access_expires_at=_text(token.access_expires_at),
            refresh_expires_at=_text(token.refresh_expires_at) or conn.refresh_expires_at,
            scope=token.scope or conn.scope, refreshed_at=_text(now), status="ok",
            status_message="",
        )
        ledger.put(fresh)
        return fresh, None

    @staticmethod
    def _hard_expired(conn: AccountConnection, now: datetime) -> bool:
        expires = _moment(conn.access_expires_at)
        return expires is not None and now >= expires

    @staticmethod
    def _needs_reconnect(ledger: AccountLedger, conn: AccountConnection, reason: str
                         ) -> AccountNeedsReconnect:
        message = _reconnect_message(conn.business_id, reason)
        ledger.put(replace(conn, status="needs_reconnect", status_message=message))
        return AccountNeedsReconnect(message)
