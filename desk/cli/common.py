"""What the commands that act on one account share: its arguments, the database, the account
itself, a progress line, and turning what went wrong into a message and an exit status."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from desk.config import Settings, load_settings
from desk.connect.credentials import CredentialStore
from desk.connect.keys import KeyFileError, with_secret_key
from desk.errors import (
    AccountNeedsReconnect,
    AccountNotConnected,
    CredentialsError,
    NotConnected,
    RuleError,
    StoreLocked,
    SyncAborted,
    TokenUnavailable,
)
from desk.sources import AdAccount, CommentSource, TikTokAccount
from desk.store import Store, mark_interrupted_rule_runs, mark_interrupted_runs
from desk.workspace import TikTokApp, Workspace

OK, PARTIAL, UNUSABLE, LOCKED, INTERRUPTED = 0, 1, 2, 3, 130
"""Exit statuses: see desk.cli."""

SYNC_DB_MEMORY = "128MB"
"""The memory a command lets the database use unless DESK_DB_MEMORY says otherwise: a sync
writes in batches, and a batch too big for it is stored in parts."""


def add_account_arguments(parser: argparse.ArgumentParser) -> None:
    """--advertiser-id | --business-id, and --db: which account, in which database."""
    account = parser.add_mutually_exclusive_group(required=True)
    account.add_argument("--advertiser-id", help="the ad account (advertiser)")
    account.add_argument("--business-id",
                         help="the TikTok business account (its open_id): its own videos and "
                              "their organic comments")
    parser.add_argument("--db", type=Path,
                        help="database file (default: DESK_DB or data/desk.duckdb)")


ACCOUNT_OPTIONS = ("--advertiser-id", "--business-id")


def with_account_ids_joined(argv: list[str]) -> list[str]:
    """`--business-id -000Ab` as `--business-id=-000Ab`: a business account's open_id may
    start with "-", which argparse would take for an option and then say the ID is missing."""
    joined: list[str] = []
    rest = iter(argv)
    for arg in rest:
        if arg in ACCOUNT_OPTIONS:
            value = next(rest, None)
            if value is not None and value.startswith("-") and not value.startswith("--") \
                    and value != "-h":
                joined.append(f"{arg}={value}")
                continue
            joined.append(arg)
            if value is not None:
                joined.append(value)
            continue
        joined.append(arg)
    return joined


class ProgressLine:
    """Rewrites one line on a terminal; prints a line every few seconds otherwise."""

    def __init__(self, stream: TextIO = sys.stderr, every: float = 5.0):
        self.stream, self.every, self.last = stream, every, 0.0
        self.tty = stream.isatty()

    def __call__(self, progress: Any) -> None:
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r\033[K" + progress.line())
            if progress.phase == "done":
                self.stream.write("\n")
        elif progress.phase == "done" or now - self.last >= self.every:
            self.stream.write(progress.line() + "\n")
            self.last = now
        self.stream.flush()


def on_account(args: argparse.Namespace,
               work: Callable[[CommentSource, Store, threading.Event], int]) -> int:
    """Open the database and the account the arguments name, run `work` with a stop event
    that SIGTERM sets, and turn what can go wrong into a message on stderr and an exit
    status."""
    settings = load_settings()
    try:
        store = Store.open(args.db or settings.db_path, settings.db_memory or SYNC_DB_MEMORY)
    except StoreLocked as exc:
        return fail(exc, LOCKED)
    with store.cursor() as cur:  # this process holds the database: a "running" run is stale
        mark_interrupted_runs(cur)
        mark_interrupted_rule_runs(cur)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        return work(_source(args, settings, store), store, stop)
    except (NotConnected, CredentialsError, AccountNotConnected) as exc:
        return fail(f"{exc} (or set TIKTOK_ACCESS_TOKEN)", UNUSABLE)
    except (KeyFileError, RuleError) as exc:
        return fail(exc, UNUSABLE)
    except (SyncAborted, AccountNeedsReconnect, TokenUnavailable) as exc:
        return fail(exc, PARTIAL)
    except KeyboardInterrupt:
        print("\nstopped; run the same command again to resume.", file=sys.stderr)
        return INTERRUPTED
    finally:
        store.close()


def fail(reason: object, status: int) -> int:
    print(f"error: {reason}", file=sys.stderr)
    return status


def _source(args: argparse.Namespace, settings: Settings, store: Store) -> CommentSource:
    """The account the command names, acting with TIKTOK_ACCESS_TOKEN when it is set, else
    with the connection stored for it."""
    settings = with_secret_key(settings)
    workspace = Workspace(settings, store,
                          CredentialStore(settings.credentials_path, settings.secret_key),
                          TikTokApp.from_settings(settings))
    token = os.environ.get("TIKTOK_ACCESS_TOKEN") or None
    if args.business_id:
        return TikTokAccount(workspace, args.business_id, access_token=token)
    return AdAccount(workspace, args.advertiser_id, access_token=token)
