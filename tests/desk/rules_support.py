"""Helpers for the rule-run tests (no tests here): a small world with an ad account and a
TikTok business account, both read through desk.sources; what TikTok's side holds, in one
shape for either kind; and a log of the hides and unhides TikTok carried out.

The sandbox's spam comments carry links, so `LINKS` (has_link, hide) matches them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from desk.config import load_settings
from desk.connect.credentials import CredentialStore
from desk.moderation.words import has_link
from desk.sources import AdAccount, CommentSource, TikTokAccount
from desk.store import Store
from desk.workspace import TikTokApp, Workspace
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import SandboxConfig
from tiktok_sandbox import server as sandbox_server

ROOT = Path(__file__).resolve().parents[2]
LINKS = '[[rule]]\nname = "links"\nhas_link = true\naction = "hide"\n'
STATUS_UPDATE = "comment/status/update/"
ORGANIC_HIDE = "business/comment/hide/"
STATUS_PATH = f"/open_api/v1.3/{STATUS_UPDATE}"
ORGANIC_HIDE_PATH = f"/open_api/v1.3/{ORGANIC_HIDE}"
WRITE_PATHS = {"ad": STATUS_PATH, "organic": ORGANIC_HIDE_PATH}
KINDS = ("ad", "organic")


def world(**overrides: Any) -> SandboxConfig:
    """One ad account and one TikTok business account, nothing arriving by itself."""
    settings: dict[str, Any] = dict(
        seed=11, advertisers=1, ads=6, comments=600, latency_ms=0, qps=100_000,
        qpm=10_000_000, new_comments_per_minute=0.0, business_accounts=1,
        videos_per_account=3, organic_comments=400, new_organic_comments_per_minute=0.0,
        port=0)
    settings.update(overrides)
    return SandboxConfig(**settings)


def advertiser_id_of(sandbox) -> str:
    return sandbox.ground_truth()["advertisers"][0]["advertiser_id"]


def business_id_of(sandbox) -> str:
    return sandbox.ground_truth_accounts()["accounts"][0]["business_id"]


@contextmanager
def open_workspace(sandbox, folder: Path) -> Iterator[Workspace]:
    settings = load_settings(environ={"DESK_LOOKBACK_DAYS": "200"}, secrets={},
                             secrets_path=None)
    app = TikTokApp(api_base_url=sandbox.base_url, auth_url=f"{sandbox.base_url}/portal/auth",
                    app_id=sandbox.config.app_id, app_secret=sandbox.config.secret,
                    redirect_uri="http://localhost:8501/",
                    rate_limiter=RateLimiter(10_000, 1_000_000))
    with Store.open(folder / "desk.duckdb") as store:
        yield Workspace(settings, store, CredentialStore(folder / "credentials.json"), app)


def account(sandbox, workspace: Workspace, kind: str) -> CommentSource:
    """The sandbox's ad account or business account, acting with a token of its own."""
    if kind == "ad":
        return AdAccount(workspace, advertiser_id_of(sandbox),
                         access_token=sandbox.issue_token())
    business_id = business_id_of(sandbox)
    return TikTokAccount(workspace, business_id,
                         access_token=sandbox.issue_account_token(business_id)["access_token"])


def account_token(sandbox, kind: str) -> str:
    if kind == "ad":
        return sandbox.issue_token()
    return sandbox.issue_account_token(business_id_of(sandbox))["access_token"]


def account_option(sandbox, kind: str) -> list[str]:
    """The command line's option naming the account."""
    if kind == "ad":
        return ["--advertiser-id", advertiser_id_of(sandbox)]
    return ["--business-id", business_id_of(sandbox)]  # an open_id, often starting with "-"


def fill(sandbox, folder: Path, kinds=KINDS) -> Path:
    """Sync the accounts into a database in `folder` (closed again); return its path."""
    with open_workspace(sandbox, folder) as workspace:
        for kind in kinds:
            result = account(sandbox, workspace, kind).sync()
            assert result.status == "ok", result.message
    return folder / "desk.duckdb"


# ---------------------------------------------------------------------------------------------
# The command line


def cli_env(sandbox, kind: str, folder: Path, **extra: str) -> dict[str, str]:
    """`python -m desk`'s environment: the account's token, the sandbox, and credentials and
    key files of the test's own."""
    return {**os.environ, "TIKTOK_ACCESS_TOKEN": account_token(sandbox, kind),
            "TIKTOK_API_BASE_URL": sandbox.base_url, "DESK_LOOKBACK_DAYS": "200",
            "TIKTOK_RATE_LIMIT_QPS": "1000", "TIKTOK_RATE_LIMIT_QPM": "100000",
            "DESK_CREDENTIALS": str(folder / "credentials.json"),
            "DESK_SECRET_KEY_FILE": str(folder / "secret.key"), "PYTHONPATH": str(ROOT),
            **extra}


def desk(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m desk ARGS` to its end."""
    return subprocess.run([sys.executable, "-m", "desk", *args], cwd=ROOT, input=stdin,
                          env=env or {**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# TikTok's side


@dataclass(frozen=True)
class OnTikTok:
    """One comment as TikTok holds it, for either kind of account."""

    comment_id: str
    text: str
    user_name: str | None
    hidden: bool
    place: str  # "ad <ad name>" or "video <video id>", as a dry run names it
    own: bool  # written by the account itself (its replies): no rule acts on those
    blocked: bool  # hidden by TikTok's blocked words: no one may change it by hand


def on_tiktok(sandbox, kind: str) -> dict[str, OnTikTok]:
    """The account's comments as TikTok holds them now."""
    if kind == "ad":
        truth = sandbox.ground_truth(advertiser_id_of(sandbox))
        ads = {ad["ad_id"]: ad for ad in truth["ads"]}
        return {c["comment_id"]: OnTikTok(
            c["comment_id"], c["content"], c["user_name"], c["comment_status"] == "HIDDEN",
            f"ad {ads[c['ad_id']]['ad_name']}", bool(c["can_delete"]),
            bool(c["hit_blockedword"])) for c in truth["comments"]}
    truth = sandbox.ground_truth_accounts(business_id_of(sandbox))
    return {c["comment_id"]: OnTikTok(
        c["comment_id"], c["text"], c["username"], c["status"] == "HIDDEN",
        f"video {c['video_id']}",
        bool(c["owner"]), False) for c in truth["comments"]}


def brand_names(sandbox, kind: str) -> list[str]:
    """The names a commenter imitating the brand would copy (as desk.store.brand_names)."""
    if kind == "ad":
        truth = sandbox.ground_truth(advertiser_id_of(sandbox))
        [advertiser] = truth["advertisers"]
        names = {advertiser["name"], advertiser["company"]}
        names |= {c["user_name"] for c in truth["comments"] if c["can_delete"]}
    else:
        [holder] = sandbox.ground_truth_accounts(business_id_of(sandbox))["accounts"]
        names = {holder["username"], holder["display_name"]}
    return sorted(n for n in names if n)


def with_links(comments: dict[str, OnTikTok]) -> set[str]:
    """The comments the `LINKS` rule matches: every viewer comment with a link."""
    return {c.comment_id for c in comments.values() if not c.own and has_link(c.text)}


def hideable(comments: dict[str, OnTikTok], ids: set[str]) -> set[str]:
    """Of these comments, those a hide would change: visible, not held by a blocked word."""
    return {i for i in ids if not comments[i].hidden and not comments[i].blocked}


def hidden(comments: dict[str, OnTikTok]) -> set[str]:
    return {c.comment_id for c in comments.values() if c.hidden}


# ---------------------------------------------------------------------------------------------
# What TikTok carried out


class StatusWrites:
    """Every hide and unhide the sandbox carried out (ad accounts' comment/status/update,
    business accounts' business/comment/hide), per comment, whatever became of the answer:
    a lost or cut-short answer still counts, a refused or never-processed request does not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hides: Counter[str] = Counter()
        self.unhides: Counter[str] = Counter()

    def install(self, monkeypatch) -> StatusWrites:
        endpoints = dict(sandbox_server.ENDPOINTS)
        endpoints[STATUS_UPDATE] = replace(
            endpoints[STATUS_UPDATE], handler=self._logged(endpoints[STATUS_UPDATE].handler,
                                                           self._ad_writes))
        endpoints[ORGANIC_HIDE] = replace(
            endpoints[ORGANIC_HIDE], handler=self._logged(endpoints[ORGANIC_HIDE].handler,
                                                          self._organic_writes))
        monkeypatch.setattr(sandbox_server, "ENDPOINTS", MappingProxyType(endpoints))
        return self

    def _logged(self, handler, writes):
        def logged(request):
            answer = handler(request)  # raises when TikTok refuses: nothing changed
            hide, ids = writes(request.params)
            with self._lock:
                (self.hides if hide else self.unhides).update(ids)
            return answer

        return logged

    @staticmethod
    def _ad_writes(params) -> tuple[bool, list[str]]:
        return params.string("operation") == "HIDDEN", params.string_list("comment_ids") or []

    @staticmethod
    def _organic_writes(params) -> tuple[bool, list[str]]:
        return params.string("action") == "HIDE", [params.string("comment_id")]

    def count(self) -> int:
        with self._lock:
            return sum(self.hides.values()) + sum(self.unhides.values())
