"""`python -m desk sync` (pull one account's comments, then let the enabled rules act on the
new ones) and `python -m desk check-serving` (whether the app may listen on an address;
`make run` asks it first)."""

from __future__ import annotations

import argparse
import sys
import threading
from datetime import date
from typing import Any

from desk.cli.common import (
    OK,
    PARTIAL,
    UNUSABLE,
    ProgressLine,
    add_account_arguments,
    on_account,
)
from desk.config import load_settings
from desk.moderation.pipeline import sync_and_moderate
from desk.serving import refusal
from desk.sources import CommentSource
from desk.store import Store


def add_commands(commands: Any) -> None:
    sync = commands.add_parser(
        "sync", help="pull one account's comments into the database",
        description="Pull one account's comments into the database: an ad account's ads and "
                    "their comments, or a TikTok business account's videos and their organic "
                    "comments; then classify the new comments and let the enabled rules act "
                    "on them. A sync that is stopped or killed resumes where it left off.")
    add_account_arguments(sync)
    sync.add_argument("--since", type=_parse_date,
                      help="ad accounts: refetch comments from this day (YYYY-MM-DD)")
    sync.add_argument("--workers", type=int, default=None,
                      help="concurrent requests (default: as many as the rate limit needs)")
    sync.add_argument("--refresh", action="store_true",
                      help="list the last DESK_REFRESH_DAYS days (default 7) again, for likes, "
                           "replies, hidden status and deletions of stored comments (done "
                           "anyway when the last refresh is DESK_REFRESH_MINUTES old)")
    sync.add_argument("--no-moderation", action="store_true",
                      help="only fetch and store: leave classifying the new comments to the "
                           "app, and do not run the rules")
    sync.set_defaults(run=sync_command)
    serving = commands.add_parser(
        "check-serving", help="say whether the app may listen on an address",
        description="Exit 0 when Comment Desk may listen on ADDRESS with these settings; else "
                    "say why on stderr and exit 2 (beyond this machine, people must sign in: "
                    "an identity provider or DESK_PASSWORD). `make run` asks first.")
    serving.add_argument("--address", default="127.0.0.1",
                         help="the address the app is to listen on (default 127.0.0.1)")
    serving.set_defaults(run=check_serving_command)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-03-01") from None


def check_serving_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ValueError as exc:
        print(f"error: Comment Desk's settings cannot be read: {exc}", file=sys.stderr)
        return UNUSABLE
    why = refusal(args.address, settings)
    if why is not None:
        print(f"error: {why}", file=sys.stderr)
        return UNUSABLE
    return OK


def sync_command(args: argparse.Namespace) -> int:
    def work(source: CommentSource, store: Store, stop: threading.Event) -> int:
        outcome = sync_and_moderate(source, progress=ProgressLine(), stop=stop,
                                    moderate=not args.no_moderation, since=args.since,
                                    workers=args.workers,
                                    refresh=True if args.refresh else None)
        result = outcome.sync
        print(f"{result.status}: {result.message} ({result.requests} requests in "
              f"{result.seconds:.1f} s)")
        for item, error in result.failures:
            print(f"  {result.part} {item}: {error}", file=sys.stderr)
        for run in outcome.runs:
            print(f'rule "{run.rule_name}" v{run.version}: {run_summary(run)}')
        if outcome.problem:
            print(f"error: the rules did not run: {outcome.problem}", file=sys.stderr)
        return OK if outcome.status == "ok" else PARTIAL

    return on_account(args, work)


def run_summary(run: Any) -> str:
    """One line on what a rule run did."""
    verb = {"dry_run": "would act on", "undo": "reversed"}.get(run.mode, "acted on")
    line = f"{verb} {run.done:,} of {run.matched:,} comments (run {run.run_id}, {run.status})"
    return f"{line}: {run.message}" if run.message and run.status != "ok" else line
