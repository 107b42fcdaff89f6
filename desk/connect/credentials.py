"""Connected accounts and their tokens, kept apart from the analytics database.

The file is JSON, written atomically with mode 0600, and encrypted with Fernet with the secret
key (DESK_SECRET_KEY, or the key file desk.connect.keys makes); a file written before it was
encrypted is read as it is, and `encrypt_in_place` encrypts it. Nothing here ever logs or
returns a token except `token_for`, which the sync and the actions call to build an API
client.

Two lists live in the file: `connections` (advertiser authorisations, tokens without expiry)
and `accounts` (TikTok business accounts, whose access tokens expire and are refreshed; see
desk/connect/tokens.py). Files written before `accounts` existed read as having none, and
every write keeps the list it did not change.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desk.connect.locks import file_lock
from desk.errors import CredentialsError

_FORMAT = 1


@dataclass(frozen=True)
class Connection:
    """One authorisation: a token and the advertisers it grants."""

    connection_id: str
    access_token: str = field(repr=False)
    advertiser_ids: tuple[str, ...]
    scope: tuple[int, ...] = ()
    connected_at: str = ""
    status: str = "ok"  # "ok" or "needs_reauth"
    status_message: str = ""

    @property
    def needs_reauth(self) -> bool:
        return self.status == "needs_reauth"


@dataclass(frozen=True)
class AccountConnection:
    """One TikTok business account's authorisation: its token pair and when each ends.

    Moments are ISO 8601 UTC strings ("" when TikTok gave none). `status` is "ok" or
    "needs_reconnect" (the refresh token ended or TikTok refused it).
    """

    business_id: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: str = ""
    refresh_expires_at: str = ""
    scope: tuple[str, ...] = ()
    connected_at: str = ""
    refreshed_at: str = ""
    status: str = "ok"
    status_message: str = ""

    @property
    def needs_reconnect(self) -> bool:
        return self.status == "needs_reconnect"


_ACCOUNT_FIELDS = frozenset(f.name for f in fields(AccountConnection))


class AccountLedger:
    """The business-account connections of the file, while its lock is held
    (`CredentialStore.accounts_locked()`); changes are written when the block ends."""

    def __init__(self, accounts: list[AccountConnection]):
        self._accounts = list(accounts)
        self.changed = False

    def __repr__(self) -> str:
        return f"AccountLedger({len(self._accounts)} accounts)"

    def all(self) -> list[AccountConnection]:
        return list(self._accounts)

    def get(self, business_id: str) -> AccountConnection | None:
        for account in self._accounts:
            if account.business_id == str(business_id):
                return account
        return None

    def put(self, account: AccountConnection) -> None:
        """Add the account, or replace the one with its business_id."""
        kept = [a for a in self._accounts if a.business_id != account.business_id]
        self._accounts = [account, *kept]
        self.changed = True

    def remove(self, business_id: str) -> bool:
        kept = [a for a in self._accounts if a.business_id != str(business_id)]
        removed = len(kept) != len(self._accounts)
        self._accounts = kept
        self.changed = self.changed or removed
        return removed


def _account(row: dict) -> AccountConnection:
    values = {k: v for k, v in row.items() if k in _ACCOUNT_FIELDS}
    values["scope"] = tuple(values.get("scope", ()))
    return AccountConnection(**values)


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"comment-desk", info=b"credentials"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _plain(blob: bytes) -> bool:
    """Whether the file's bytes are the JSON itself (written before it was encrypted)."""
    return blob.lstrip()[:1] == b"{"


class CredentialStore:
    """The connected-accounts file. Safe for several threads and processes at once."""

    def __init__(self, path: Path | str, secret_key: str | None = None):
        self.path = Path(path)
        self._fernet = _fernet(secret_key) if secret_key else None

    def __repr__(self) -> str:
        return f"CredentialStore({str(self.path)!r}, encrypted={self._fernet is not None})"

    # reading and writing the file

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(self.path)

    def _read(self) -> list[Connection]:
        return self._read_all()[0]

    def _read_all(self) -> tuple[list[Connection], list[AccountConnection]]:
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return [], []
        if self._fernet is not None and not _plain(blob):
            try:
                blob = self._fernet.decrypt(blob)
            except InvalidToken:
                raise CredentialsError(
                    f"{self.path} cannot be decrypted with the configured secret key "
                    "(DESK_SECRET_KEY, or the key file). Restore the key it was written with, "
                    "or delete the file and reconnect."
                ) from None
        try:
            doc = json.loads(blob)
            rows = doc["connections"]
            connections = [
                Connection(
                    **{
                        **row,
                        "advertiser_ids": tuple(row["advertiser_ids"]),
                        "scope": tuple(row.get("scope", ())),
                    }
                )
                for row in rows
            ]
            return connections, [_account(row) for row in doc.get("accounts", [])]
        except (ValueError, KeyError, TypeError) as exc:
            hint = " (it may be encrypted: set DESK_SECRET_KEY)" if self._fernet is None else ""
            raise CredentialsError(
                f"{self.path} is not a readable credentials file{hint}. "
                "Delete it and reconnect your accounts."
            ) from exc

    def encrypt_in_place(self) -> bool:
        """Encrypt a file written before there was a key (it is read either way); True when
        it was rewritten."""
        if self._fernet is None:
            return False
        with self._locked():
            try:
                plain = _plain(self.path.read_bytes())
            except FileNotFoundError:
                return False
            if plain:
                self._write(*self._read_all())
            return plain

    def _write(self, connections: list[Connection],
               accounts: list[AccountConnection] | None = None) -> None:
        """Replace the file; `accounts=None` keeps the business accounts it holds."""
        if accounts is None:
            accounts = self._read_all()[1]
        doc = {"format": _FORMAT, "connections": [asdict(c) for c in connections]}
        if accounts:
            doc["accounts"] = [asdict(a) for a in accounts]
        blob = json.dumps(doc, indent=1).encode()
        if self._fernet is not None:
            blob = self._fernet.encrypt(blob)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".credentials-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    # the public operations

    def connections(self) -> list[Connection]:
        """Every connection, newest first."""
        with self._locked():
            return self._read()

    def add(self, access_token: str, advertiser_ids: list[str], scope: list[int]) -> Connection:
        """Store a new authorisation. A token already stored is updated, not duplicated."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._locked():
            existing = self._read()
            kept = [c for c in existing if c.access_token != access_token]
            conn = Connection(
                connection_id=base64.urlsafe_b64encode(os.urandom(9)).decode(),
                access_token=access_token,
                advertiser_ids=tuple(str(a) for a in advertiser_ids),
                scope=tuple(int(s) for s in scope),
                connected_at=now,
            )
            self._write([conn, *kept])
            return conn

    def remove(self, connection_id: str) -> bool:
        """Forget a connection. Returns whether it existed."""
        with self._locked():
            existing = self._read()
            kept = [c for c in existing if c.connection_id != connection_id]
            if len(kept) != len(existing):
                self._write(kept)
            return len(kept) != len(existing)

    def mark_needs_reauth(self, connection_id: str, message: str) -> None:
        """Flag a connection whose token TikTok refused, so the UI asks to reconnect."""
        with self._locked():
            rows = [
                replace(c, status="needs_reauth", status_message=message)
                if c.connection_id == connection_id
                else c
                for c in self._read()
            ]
            self._write(rows)

    def connection_for(self, advertiser_id: str) -> Connection | None:
        """The newest usable connection that grants this advertiser."""
        for conn in self.connections():
            if str(advertiser_id) in conn.advertiser_ids and not conn.needs_reauth:
                return conn
        return None

    def advertiser_ids(self) -> list[str]:
        """Every advertiser granted by a usable connection, without duplicates."""
        seen: dict[str, None] = {}
        for conn in self.connections():
            if not conn.needs_reauth:
                seen.update(dict.fromkeys(conn.advertiser_ids))
        return list(seen)

    # business accounts (the Accounts API)

    @contextlib.contextmanager
    def accounts_locked(self) -> Iterator[AccountLedger]:
        """Hold the file lock over a read-change-write of the business accounts: the changes
        made to the ledger are written (atomically) when the block ends without an error.

        Never nest: the lock is not re-entrant, not even within one thread.
        """
        with self._locked():
            connections, accounts = self._read_all()
            ledger = AccountLedger(accounts)
            yield ledger
            if ledger.changed:
                self._write(connections, ledger.all())

    def account_connections(self) -> list[AccountConnection]:
        """Every business account connection, newest first."""
        with self._locked():
            return self._read_all()[1]

    def account_connection(self, business_id: str) -> AccountConnection | None:
        with self.accounts_locked() as ledger:
            return ledger.get(business_id)

    def remove_account(self, business_id: str) -> bool:
        """Forget a business account's tokens. Returns whether they were stored."""
        with self.accounts_locked() as ledger:
            return ledger.remove(business_id)
