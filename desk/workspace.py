"""What every part of Comment Desk that syncs, writes or connects shares.

`TikTokApp` is the TikTok developer app Comment Desk acts as: where TikTok's API and consent
pages are, the app's ID and secret, and the one rate limiter every request of the app shares
(TikTok counts its limits per developer app, across every token). It makes every client, so
that each comment source, sync, write and connection gets the same deadlines and retries.

`Workspace` adds the settings, the analytics store and the credentials file: everything a
comment source needs to act for one account. Both are plain frozen values, safe to share
between threads; the limiter and the store are thread-safe handles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from desk import store as db
from desk.config import Settings
from desk.connect.credentials import CredentialStore
from desk.store import Store
from tiktok_client.client import TikTokClient
from tiktok_client.learned import Learned
from tiktok_client.ratelimit import RateLimiter

RATE_LIMIT_MARGIN = 0.02
"""Seconds kept between the limiter's window and TikTok's: the app's sends are paced one
every (1 + margin) / qps seconds, so a request may reach TikTok up to 20 ms later than the one
before it without crowding TikTok's window, and 98% of the budget is used. The limiter widens
it after a 40100, up to 100 ms, and eases it back (tiktok_client.ratelimit)."""

Purpose = Literal["sync", "write"]

SYNC_DEADLINE = 600.0
"""A sync call may wait out throttling this long: throttling slows a sync but never fails it."""
SYNC_ATTEMPTS = 12
WRITE_DEADLINE = 60.0
"""A person waits for a write: after a minute the outbox reconciles instead."""
WRITE_ATTEMPTS = 6


def app_rate_limiter(settings: Settings) -> RateLimiter:
    """The one limiter every request of this app should share (per the app's tier)."""
    return RateLimiter(settings.rate_limit_qps, settings.rate_limit_qpm, margin=RATE_LIMIT_MARGIN,
                       burst=1)


@dataclass(frozen=True)
class TikTokApp:
    """The TikTok developer app: endpoints, identity and the shared rate limiter."""

    api_base_url: str
    auth_url: str
    app_id: str
    app_secret: str = field(repr=False)
    redirect_uri: str
    rate_limiter: RateLimiter
    account_auth_url: str | None = None  # None: business accounts cannot be connected
    account_redirect_uri: str = ""

    def client(self, access_token: str | None = None, *, purpose: Purpose = "write",
               learned: Learned | None = None) -> TikTokClient:
        """A client of this app's API, with the deadline and retries `purpose` calls for."""
        deadline, attempts = ((SYNC_DEADLINE, SYNC_ATTEMPTS) if purpose == "sync"
                              else (WRITE_DEADLINE, WRITE_ATTEMPTS))
        return TikTokClient(access_token, base_url=self.api_base_url,
                            rate_limiter=self.rate_limiter, deadline=deadline,
                            max_attempts=attempts, learned=learned)

    @classmethod
    def from_settings(cls, settings: Settings, rate_limiter: RateLimiter | None = None,
                      base_url: str | None = None) -> TikTokApp:
        """The app as configured (real mode): TikTok's endpoints unless settings say otherwise."""
        return cls(
            api_base_url=base_url or settings.api_base_url,
            auth_url=settings.auth_url,
            app_id=settings.client_key or "",
            app_secret=settings.client_secret or "",
            redirect_uri=settings.redirect_uri or "",
            rate_limiter=rate_limiter or app_rate_limiter(settings),
            account_auth_url=settings.account_auth_url,
            account_redirect_uri=settings.account_redirect_uri or "",
        )


@dataclass(frozen=True)
class Workspace:
    """Settings, the store, the credentials and the TikTok app: what a source acts with."""

    settings: Settings
    store: Store
    credentials: CredentialStore
    app: TikTokApp

    def client(self, access_token: str | None = None, *,
               purpose: Purpose = "write") -> TikTokClient:
        """The app's client (see `TikTokApp.client`), starting from what earlier runs learned
        about TikTok's limits and remembering in the store whatever this one learns."""
        return self.app.client(access_token, purpose=purpose, learned=self.learned())

    def learned(self) -> Learned:
        """The limits learned for this app so far, saved to the store as they change."""
        with self.store.cursor() as cur:
            known = db.learned_values(cur, self.app.app_id)
        return Learned(known, on_change=partial(_save_learned, self.store, self.app.app_id))


def _save_learned(store: Store, app_id: str, key: str, value: Any) -> None:
    with store.cursor() as cur:
        db.save_learned(cur, app_id, key, value)
