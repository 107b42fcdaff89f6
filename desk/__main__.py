"""Command line: `python -m desk sync --advertiser-id ID` for headless or scheduled syncs."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path

from desk.config import load_settings
from desk.connect.credentials import CredentialsError, CredentialStore
from desk.store import Store, StoreLocked, mark_interrupted_runs
from desk.sync import (
    NotConnected,
    SyncAborted,
    SyncOptions,
    SyncProgress,
    make_client,
    run_sync,
    sync_advertiser,
)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-03-01") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m desk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync", help="pull one advertiser's ads and comments")
    sync.add_argument("--advertiser-id", required=True)
    sync.add_argument("--db", type=Path,
                      help="database file (default: DESK_DB or data/desk.duckdb)")
    sync.add_argument("--since", type=_parse_date,
                      help="refetch comments from this day (YYYY-MM-DD)")
    sync.add_argument("--workers", type=int, default=8, help="concurrent requests (default 8)")
    return parser


class _ProgressLine:
    """Rewrites one line on a terminal; prints a line every few seconds otherwise."""

    def __init__(self, stream=sys.stderr, every: float = 5.0):
        self.stream, self.every, self.last = stream, every, 0.0
        self.tty = stream.isatty()

    def __call__(self, progress: SyncProgress) -> None:
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r\033[K" + progress.line())
            if progress.phase == "done":
                self.stream.write("\n")
        elif progress.phase == "done" or now - self.last >= self.every:
            self.stream.write(progress.line() + "\n")
            self.last = now
        self.stream.flush()


def sync_command(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        store = Store.open(args.db or settings.db_path)
    except StoreLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    with store.cursor() as cur:  # this process holds the database: a "running" run is stale
        mark_interrupted_runs(cur)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    options = SyncOptions(lookback_days=settings.lookback_days, workers=args.workers,
                          since=args.since)
    progress = _ProgressLine()
    env_token = os.environ.get("TIKTOK_ACCESS_TOKEN")
    try:
        if env_token:
            with make_client(settings, env_token) as client:
                result = sync_advertiser(store, client, args.advertiser_id, options=options,
                                         progress=progress, stop=stop)
        else:
            credentials = CredentialStore(settings.credentials_path, settings.secret_key)
            result = run_sync(settings, store, credentials, args.advertiser_id,
                              options=options, progress=progress, stop=stop)
    except (NotConnected, CredentialsError) as exc:
        print(f"error: {exc} (or set TIKTOK_ACCESS_TOKEN)", file=sys.stderr)
        return 2
    except SyncAborted as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopped; run the same command again to resume.", file=sys.stderr)
        return 130
    finally:
        store.close()
    print(f"{result.status}: {result.message} ({result.requests} requests in "
          f"{result.seconds:.1f} s)")
    for adgroup_id, error in result.failures:
        print(f"  ad group {adgroup_id}: {error}", file=sys.stderr)
    return 0 if result.status == "ok" else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sync":
        return sync_command(args)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
