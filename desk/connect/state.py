"""The OAuth `state` parameter: signed, at most ten minutes old, and good for one use.

TikTok's consent screen sends the browser back to the app with `?auth_code=...&state=...`.
That lands in a new Streamlit session, so nothing from before the redirect is in
session_state. The state therefore carries its own proof: a random nonce, signed with the
app's secret key and timestamped (itsdangerous). A state is accepted once: its nonce is
recorded in a small file next to the credentials file, so a replayed redirect is refused even
in another session or after a restart.

The secret key is DESK_SECRET_KEY when set; otherwise a random key is generated once and kept
in `secret_key` next to the credentials file (mode 0600), so a restart between Connect and the
redirect still validates.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from desk.connect.locks import file_lock
from desk.errors import StateError

SALT = "comment-desk-oauth"
MAX_AGE_SECONDS = 600
NONCE_FILE = "oauth_nonces.json"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)

Clock = Callable[[], float]


class StateMissing(StateError):
    message = (
        "TikTok's answer did not carry the check value this app sent, so it was not trusted "
        "and nothing was connected. Click Connect to start again."
    )


class StateForged(StateError):
    message = (
        "TikTok's answer carried a check value this app did not issue (it was altered or "
        "comes from another site), so nothing was connected. Click Connect to start again."
    )


class StateExpired(StateError):
    message = (
        "The connection took longer than 10 minutes to come back from TikTok, so it was not "
        "accepted and nothing was connected. Click Connect to start again."
    )


class StateReused(StateError):
    message = (
        "This connection link was already used (a page reload or the browser's back button "
        "can repeat it), so nothing new was connected. Click Connect to start again."
    )


class _ClockSigner(TimestampSigner):
    """A TimestampSigner that reads the time from an injectable clock."""

    def __init__(self, *args, clock: Clock = time.time, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


def _serializer(secret: str, clock: Clock) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret, salt=SALT, signer=_ClockSigner, signer_kwargs={"clock": clock}
    )


def _clock_at(now: float | None) -> Clock:
    return time.time if now is None else (lambda: now)


ADVERTISER = "advertiser"
ACCOUNT = "account"
PURPOSES = (ADVERTISER, ACCOUNT)
"""What a state was issued for: an ad account (Marketing API) or a TikTok business account
(Accounts API) authorization. It is signed with the nonce, so one flow's state cannot finish
the other."""


def new_state(secret: str, *, now: float | None = None, purpose: str = ADVERTISER) -> str:
    """A fresh state for one authorization URL."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
    payload = {"n": secrets.token_urlsafe(16)}
    if purpose != ADVERTISER:  # advertiser states keep their original shape
        payload["p"] = purpose
    return _serializer(secret, _clock_at(now)).dumps(payload)


def state_purpose(secret: str, state: str | None) -> str | None:
    """The purpose a well-signed state was issued for (None when it is not one of ours).

    Only for routing a callback to the flow that finishes it: it neither checks the age nor
    uses the state up; `check_state` does both.
    """
    if not state:
        return None
    try:
        valid, payload = _serializer(secret, time.time).loads_unsafe(state)
    except BadData:
        return None
    if not valid or not isinstance(payload, dict):
        return None
    purpose = payload.get("p", ADVERTISER)
    return purpose if purpose in PURPOSES else None


def check_state(
    secret: str, state: str | None, nonce_file: Path | str, *, now: float | None = None,
    purpose: str = ADVERTISER,
) -> None:
    """Accept `state` once, for `purpose`, or raise the StateError that says why not.

    Checks, in order: present, signed with `secret`, at most MAX_AGE_SECONDS old, issued for
    `purpose`, not used before. Only a state that passes the first four is recorded as used.
    """
    if not state:
        raise StateMissing()
    clock = _clock_at(now)
    try:
        payload = _serializer(secret, clock).loads(state, max_age=MAX_AGE_SECONDS)
    except SignatureExpired:
        raise StateExpired() from None
    except BadData:
        raise StateForged() from None
    nonce = payload.get("n") if isinstance(payload, dict) else None
    if not isinstance(nonce, str) or not nonce:
        raise StateForged()
    if payload.get("p", ADVERTISER) != purpose:
        raise StateForged()
    _use_nonce(Path(nonce_file), nonce, clock())


def nonce_file_for(credentials_path: Path | str) -> Path:
    """Where used nonces are recorded: next to the credentials file."""
    return Path(credentials_path).with_name(NONCE_FILE)


def secret_key_for(configured: str | None, credentials_path: Path | str) -> str:
    """The key that signs states: the configured one, else one kept next to the credentials."""
    if configured:
        return configured
    return _stored_secret(Path(credentials_path).with_name(SECRET_KEY_FILE))


# ---------------------------------------------------------------------------------------------
# Files


def _stored_secret(path: Path) -> str:
    """Read the generated key, creating it (0600, atomically) the first time."""
    try:
        text = path.read_text("utf-8").strip()
    except FileNotFoundError:
        text = ""
    if text:
        return text
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another process made the key first: use theirs
        except FileExistsError:
            return path.read_text("utf-8").strip() or key
        return key
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


_locked = file_lock


def _read_nonces(path: Path) -> dict[str, float]:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError:
        return {}  # a damaged file only forgets nonces that are about to expire anyway
    if not isinstance(doc, dict):
        return {}
    return {
        str(k): float(v) for k, v in doc.items() if isinstance(v, int | float) and str(k)
    }


def _write_nonces(path: Path, nonces: dict[str, float]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".nonces-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(nonces, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _use_nonce(path: Path, nonce: str, now: float) -> None:
    """Record `nonce` as used at `now`; StateReused if it already was.

    Entries older than MAX_AGE_SECONDS are dropped: a state is issued before it is used, so
    once its use is that old the state itself has expired and is refused for its age.
    """
    with _locked(path):
        used = _read_nonces(path)
        fresh = {n: t for n, t in used.items() if now - t <= MAX_AGE_SECONDS}
        if nonce in fresh:
            raise StateReused()
        fresh[nonce] = now
        _write_nonces(path, fresh)
