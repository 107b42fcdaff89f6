"""The key that encrypts stored tokens (and signs OAuth state): DESK_SECRET_KEY, or a key
made on first start and kept in its own file.

The file (`Settings.secret_key_file`, default `.desk/secret.key` beside the app, apart from
the credentials file and the database) is created once with mode 0600 in a 0700 folder, and
read on every later start; several processes starting at once agree on one key. Losing it
means reconnecting the accounts: the tokens it encrypted cannot be read without it.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import replace
from pathlib import Path

from desk.config import Settings
from desk.errors import DeskError


class KeyFileError(DeskError):
    """The key file cannot be made or read; ``str()`` says which file and what to do."""


def with_secret_key(settings: Settings) -> Settings:
    """`settings` with a secret key: DESK_SECRET_KEY when set, else the key file's (made if
    there is none yet)."""
    if settings.secret_key:
        return settings
    return replace(settings, secret_key=key_in(settings.secret_key_file))


def key_in(path: Path) -> str:
    """The key kept in `path`, made first (mode 0600) when the file does not exist."""
    try:
        return path.read_text().strip() or _made_by_another(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise KeyFileError(f"The secret key file {path} cannot be read ({exc.strerror}); make "
                           "it readable by Comment Desk, or set DESK_SECRET_KEY.") from None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process is making it at this moment
        return _made_by_another(path)
    except OSError as exc:
        raise KeyFileError(f"The secret key file {path} cannot be made ({exc.strerror}); set "
                           "DESK_SECRET_KEY_FILE to a writable place, or DESK_SECRET_KEY."
                           ) from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return key


def _made_by_another(path: Path) -> str:
    """The key another process is writing (the file is there, still empty): it is there
    within moments, or the file was emptied."""
    for _ in range(100):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    return _unreadable(path)


def _unreadable(path: Path) -> str:
    raise KeyFileError(f"The secret key file {path} is empty; restore it from a backup (the "
                       "stored tokens need it), or delete it and reconnect the accounts.")
