"""Command line: ``python -m tiktok_sandbox --port 8765`` serves until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from .config import LOOPBACK_HOST, SandboxConfig
from .server import start_sandbox

_DEFAULTS = SandboxConfig()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tiktok_sandbox",
        description="Serve a stand-in for TikTok's Business API on loopback.",
        epilog="Ad groups are about half the ads per advertiser, campaigns a quarter of "
               "the ad groups (so --ads 400 gives about 200 ad groups).",
    )
    parser.add_argument("--host", default=LOOPBACK_HOST,
                        help="must be 127.0.0.1 (or localhost): the sandbox is loopback only")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=_DEFAULTS.seed)
    parser.add_argument("--advertisers", type=int, default=_DEFAULTS.advertisers)
    parser.add_argument("--ads", type=int, default=_DEFAULTS.ads)
    parser.add_argument("--comments", type=int, default=_DEFAULTS.comments,
                        help="comment rows at start, replies included")
    parser.add_argument("--history-days", type=int, default=_DEFAULTS.history_days)
    parser.add_argument("--new-comments-per-minute", type=float,
                        default=_DEFAULTS.new_comments_per_minute)
    parser.add_argument("--latency-ms", type=float, default=_DEFAULTS.latency_ms)
    parser.add_argument("--comment-spread", choices=("zipf", "even"),
                        default=_DEFAULTS.comment_spread,
                        help="how comments are spread over the ads")
    parser.add_argument("--qps", type=int, default=_DEFAULTS.qps)
    parser.add_argument("--qpm", type=int, default=_DEFAULTS.qpm)
    parser.add_argument("--fault-rate", type=float, default=_DEFAULTS.fault_rate)
    parser.add_argument("--stall-seconds", type=float, default=_DEFAULTS.stall_seconds)
    parser.add_argument("--app-id", default=_DEFAULTS.app_id)
    parser.add_argument("--secret", default=_DEFAULTS.secret)
    parser.add_argument("--redirect-uri", action="append", dest="redirect_uris",
                        help="allowed OAuth redirect URI (repeatable); default: any loopback URL")
    parser.add_argument("--business-accounts", type=int, default=_DEFAULTS.business_accounts,
                        help="TikTok business accounts (Accounts API)")
    parser.add_argument("--videos-per-account", type=int, default=_DEFAULTS.videos_per_account)
    parser.add_argument("--organic-comments", type=int, default=_DEFAULTS.organic_comments,
                        help="organic comment rows at start, replies included")
    parser.add_argument("--new-organic-comments-per-minute", type=float,
                        default=_DEFAULTS.new_organic_comments_per_minute)
    parser.add_argument("--account-redirect-uri", action="append", dest="account_redirect_uris",
                        help="allowed account-holder redirect URI (repeatable); default: any "
                             "loopback URL")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = SandboxConfig(
            host=args.host, port=args.port, seed=args.seed, advertisers=args.advertisers,
            ads=args.ads, comments=args.comments, history_days=args.history_days,
            new_comments_per_minute=args.new_comments_per_minute, latency_ms=args.latency_ms,
            comment_spread=args.comment_spread,
            qps=args.qps, qpm=args.qpm, fault_rate=args.fault_rate,
            stall_seconds=args.stall_seconds, app_id=args.app_id, secret=args.secret,
            redirect_uris=tuple(args.redirect_uris) if args.redirect_uris else None,
            business_accounts=args.business_accounts,
            videos_per_account=args.videos_per_account,
            organic_comments=args.organic_comments,
            new_organic_comments_per_minute=args.new_organic_comments_per_minute,
            account_redirect_uris=(tuple(args.account_redirect_uris)
                                   if args.account_redirect_uris else None),
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sandbox = start_sandbox(config)
    sandbox.verbose = args.verbose
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly, as on Ctrl-C
    print(sandbox.base_url, flush=True)
    print(f"app_id={config.app_id} secret={config.secret} · consent screen: "
          f"{sandbox.base_url}/portal/auth · TikTok account holder authorization URL: "
          f"{sandbox.account_auth_url} · Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
