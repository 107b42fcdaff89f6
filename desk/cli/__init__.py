"""The command line, `python -m desk COMMAND`, for headless or scheduled work while the app is
not running:

    sync --advertiser-id ID | --business-id ID     pull one account's comments, then let the
                                                   enabled rules act on the new ones
    classify [--json]                              classify comment texts read from stdin
    rules check --rules FILE                       which rules each stdin text matches
    rules dry-run|apply|undo --rules FILE --advertiser-id ID | --business-id ID
                                                   the Rules page's operations on one account
    check-serving --address A                      whether the app may listen on an address

Exit status of the commands that act on an account (sync, rules dry-run|apply|undo): 0 when
it ended ok; 1 when it ended partial or interrupted, or TikTok refused the token or the
permission; 2 when the rules file cannot be used, no connection grants the account (or the
credentials cannot be read); 3 when another process holds the database; 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys

from desk.cli import moderation, sync
from desk.cli.common import with_account_ids_joined


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m desk", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    sync.add_commands(commands)
    moderation.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(with_account_ids_joined(sys.argv[1:] if argv is None else argv))
    return int(args.run(args))


__all__ = ["main"]
