"""Command line: `python -m desk sync --advertiser-id ID` (an ad account) or
`python -m desk sync --business-id ID` (a TikTok business account), for headless or
scheduled syncs while the app is not running; `python -m desk check-serving --address A`,
whether the app may listen on an address (`make run` asks it first).

Exit status: 0 when the sync ended ok; 1 when it ended partial or interrupted, or TikTok
refused the token or the permission; 2 when no connection grants the account (or the
credentials cannot be read); 3 when another process holds the database; 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import TextIO

from desk.config import Settings, load_settings
from desk.connect.credentials import CredentialStore
from desk.connect.keys import KeyFileError, with_secret_key
from desk.errors import (
    AccountNeedsReconnect,
    AccountNotConnected,
    CredentialsError,
    NotConnected,
    StoreLocked,
    SyncAborted,
    TokenUnavailable,
)
from desk.serving import refusal
from desk.sources import AdAccount, CommentSource, Progress, TikTokAccount
from desk.store import Store, mark_interrupted_runs
from desk.workspace import TikTokApp, Workspace


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-03-01") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m desk", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser(
        "sync", help="pull one account's comments into the database",
        description="Pull one account's comments into the database: an ad account's ads and "
                    "their comments, or a TikTok business account's videos and their organic "
                    "comments. A sync that is stopped or killed resumes where it left off.")
    account = sync.add_mutually_exclusive_group(required=True)
    account.add_argument("--advertiser-id", help="the ad account (advertiser) to sync")
    account.add_argument("--business-id",
                         help="the TikTok business account (its open_id) to sync: its own "
                              "videos and their organic comments")
    sync.add_argument("--db", type=Path,
                      help="database file (default: DESK_DB or data/desk.duckdb)")
    sync.add_argument("--since", type=_parse_date,
                      help="ad accounts: refetch comments from this day (YYYY-MM-DD)")
    sync.add_argument("--workers", type=int, default=None,
                      help="concurrent requests (default: as many as the rate limit needs)")
    sync.add_argument("--refresh", action="store_true",
                      help="list the last DESK_REFRESH_DAYS days (default 7) again, for likes, "
                           "replies, hidden status and deletions of stored comments (done "
                           "anyway when the last refresh is DESK_REFRESH_MINUTES old)")
    serving = commands.add_parser(
        "check-serving", help="say whether the app may listen on an address",
        description="Exit 0 when Comment Desk may listen on ADDRESS with these settings; else "
                    "say why on stderr and exit 2 (beyond this machine, people must sign in: "
                    "an identity provider or DESK_PASSWORD). `make run` asks first.")
    serving.add_argument("--address", default="127.0.0.1",
                         help="the address the app is to listen on (default 127.0.0.1)")
    return parser


def check_serving_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ValueError as exc:
        print(f"error: Comment Desk's settings cannot be read: {exc}", file=sys.stderr)
        return 2
    why = refusal(args.address, settings)
    if why is not None:
        print(f"error: {why}", file=sys.stderr)
        return 2
    return 0


SYNC_DB_MEMORY = "128MB"
"""The memory a command-line sync lets the database use unless DESK_DB_MEMORY says otherwise:
a sync writes in batches, and a batch too big for it is stored in parts."""


class _ProgressLine:
    """Rewrites one line on a terminal; prints a line every few seconds otherwise."""

    def __init__(self, stream: TextIO = sys.stderr, every: float = 5.0):
        self.stream, self.every, self.last = stream, every, 0.0
        self.tty = stream.isatty()

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r\033[K" + progress.line())
            if progress.phase == "done":
                self.stream.write("\n")
        elif progress.phase == "done" or now - self.last >= self.every:
            self.stream.write(progress.line() + "\n")
            self.last = now
        self.stream.flush()


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


def sync_command(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        store = Store.open(args.db or settings.db_path, settings.db_memory or SYNC_DB_MEMORY)
    except StoreLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    with store.cursor() as cur:  # this process holds the database: a "running" run is stale
        mark_interrupted_runs(cur)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        source = _source(args, settings, store)
        result = source.sync(progress=_ProgressLine(), stop=stop, since=args.since,
                             workers=args.workers, refresh=True if args.refresh else None)
    except (NotConnected, CredentialsError, AccountNotConnected) as exc:
        print(f"error: {exc} (or set TIKTOK_ACCESS_TOKEN)", file=sys.stderr)
        return 2
    except KeyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (SyncAborted, AccountNeedsReconnect, TokenUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopped; run the same command again to resume.", file=sys.stderr)
        return 130
    finally:
        store.close()
    print(f"{result.status}: {result.message} ({result.requests} requests in "
          f"{result.seconds:.1f} s)")
    for item, error in result.failures:
        print(f"  {result.part} {item}: {error}", file=sys.stderr)
    return 0 if result.status == "ok" else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sync":
        return sync_command(args)
    if args.command == "check-serving":
        return check_serving_command(args)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
