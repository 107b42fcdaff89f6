"""client.blocked_words against a running sandbox, over real HTTP on loopback: the list, its
limits learned from the sandbox's refusals, the export, errors, and what a blocked word does
to comments."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.world import READ_ONLY, SECOND_WRITER, WRITER, advertisers_by_access
from tiktok_client import BlockedWord, TikTokClient
from tiktok_client.blocked_words import LIST_PAGE_SIZE, words_per_call_key
from tiktok_client.errors import InvalidRequest, PermissionDenied, TikTokError, TokenError
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import SandboxConfig, start_sandbox
from tiktok_sandbox.state import GRANTED_SCOPES, READ_BLOCKED_WORDS, WRITE_BLOCKED_WORDS

API = "/open_api/v1.3/"


def _config(**overrides) -> SandboxConfig:
    settings = {"seed": 4, "advertisers": 3, "ads": 12, "comments": 600, "latency_ms": 0,
                "qps": 1000, "qpm": 100_000, "new_comments_per_minute": 0.0, "port": 0,
                **overrides}
    return SandboxConfig(**settings)


@pytest.fixture
def sandbox():
    with start_sandbox(_config()) as sb:
        yield sb


def _client(sandbox, token: str | None = None) -> TikTokClient:
    return TikTokClient(token or sandbox.issue_token(), base_url=sandbox.base_url,
                        rate_limiter=RateLimiter(1000, 100_000), sleep=lambda s: None)


@pytest.fixture
def client(sandbox):
    return _client(sandbox)


@pytest.fixture
def advertiser_id(sandbox) -> str:
    return advertisers_by_access(sandbox.ground_truth())[WRITER]


def _calls(sandbox, endpoint: str) -> int:
    return sandbox.stats()["by_path"].get(f"{API}{endpoint}", 0)


def test_words_are_added_listed_over_pages_checked_renamed_and_removed(sandbox, client,
                                                                      advertiser_id):
    words = client.blocked_words
    many = [f"word {n:03d}" for n in range(620)]
    words.add(advertiser_id, [*many, "  Free  ", "FREE", "word 001"])
    assert _calls(sandbox, "blockedword/create/") == 7  # 100 words a call

    listed = words.list(advertiser_id)
    assert len(listed) == 621 and all(isinstance(w, BlockedWord) for w in listed)
    assert {w.word for w in listed} == {*many, "Free"}
    assert _calls(sandbox, "blockedword/list/") == 2  # pages of 500
    assert [w.word for w in words.page(advertiser_id, page=2, page_size=500)] == [
        w.word for w in listed[500:]]

    assert words.check(advertiser_id, ["free", " word 619 ", "carefree"]) == {
        "free": True, "word 619": True, "carefree": False}

    words.rename(advertiser_id, "free", "free money")
    words.remove(advertiser_id, many[:150])
    assert words.check(advertiser_id, ["free", "free money", "word 000", "word 150"]) == {
        "free": False, "free money": True, "word 000": False, "word 150": True}
    remaining = [w.word for w in words.list(advertiser_id)]
    assert remaining[0] == "free money" and len(remaining) == 471
    assert remaining == sandbox.blocked_words(advertiser_id)


def test_the_words_per_call_and_the_page_size_are_learned_from_tiktoks_refusals():
    with start_sandbox(_config(blocked_words_per_call=25, blocked_word_page_size_max=60)) as sb:
        client = _client(sb)
        advertiser_id = advertisers_by_access(sb.ground_truth())[WRITER]
        words = [f"w{n}" for n in range(130)]
        client.blocked_words.add(advertiser_id, words)
        # One refused call of 100, then 25 at a time: nothing is sent twice.
        assert _calls(sb, "blockedword/create/") == 1 + 6
        assert sorted(sb.blocked_words(advertiser_id)) == sorted(words)

        assert {w.word for w in client.blocked_words.list(advertiser_id)} == set(words)
        assert client.learned.snapshot() == {words_per_call_key("blockedword/create"): 25,
                                             LIST_PAGE_SIZE: 60}
        assert client.blocked_words.check(advertiser_id, words) == dict.fromkeys(words, True)
        assert _calls(sb, "blockedword/check/") == 1 + 6

        # Another client of the same app starts at the learned sizes...
        again = client.with_token(sb.issue_token())
        again.blocked_words.add(advertiser_id, [f"more {n}" for n in range(50)])
        assert _calls(sb, "blockedword/create/") == 7 + 2
        # ... and delete learns its own limit.
        again.blocked_words.remove(advertiser_id, words)
        assert _calls(sb, "blockedword/delete/") == 1 + 6
        assert len(sb.blocked_words(advertiser_id)) == 50


def test_an_export_is_created_followed_and_downloaded(client, advertiser_id):
    words = client.blocked_words
    words.add(advertiser_id, ["spam", "scam", 'say "hi", ok'])
    task_id = words.create_export(advertiser_id)
    with pytest.raises(TikTokError) as early:
        words.download_export(advertiser_id, task_id)
    assert early.value.code == 40201
    assert [words.export_status(advertiser_id, task_id) for _ in range(2)] == [
        "RUNNING", "SUCCEED"]
    rows = list(csv.reader(io.StringIO(words.download_export(advertiser_id, task_id).decode())))
    assert rows == [["Blocked word"], ["spam"], ["scam"], ['say "hi", ok']]

    some = words.create_export(advertiser_id, words=["SCAM"], lang="ZH")
    words.export_status(advertiser_id, some)
    assert words.export_status(advertiser_id, some) == "SUCCEED"
    assert words.download_export(advertiser_id, some).decode().splitlines() == ["屏蔽词", "scam"]


def test_errors_map_to_the_clients_exception_types(sandbox, client, advertiser_id):
    words = client.blocked_words
    sent_before = sandbox.stats()["total"]
    with pytest.raises(InvalidRequest, match="empty"):
        words.add(advertiser_id, ["fine", "  "])
    with pytest.raises(TypeError):
        words.add(advertiser_id, "a single string")
    assert sandbox.stats()["total"] == sent_before  # refused before sending

    with pytest.raises(InvalidRequest, match="at most 30 characters"):
        words.add(advertiser_id, ["x" * 31])
    with pytest.raises(InvalidRequest, match="old_word"):
        words.rename(advertiser_id, "never added", "something")
    with pytest.raises(InvalidRequest, match="does not exist"):
        words.export_status(advertiser_id, "123")

    truth = sandbox.ground_truth()
    read_only = advertisers_by_access(truth)[READ_ONLY]
    with pytest.raises(PermissionDenied):
        words.add(read_only, ["spam"])
    assert sandbox.blocked_words(read_only) == []

    without = [s for s in GRANTED_SCOPES if s not in (READ_BLOCKED_WORDS, WRITE_BLOCKED_WORDS)]
    unscoped = _client(sandbox, sandbox.issue_token(scopes=without)).blocked_words
    with pytest.raises(PermissionDenied):
        unscoped.list(advertiser_id)
    with pytest.raises(PermissionDenied):
        unscoped.add(advertiser_id, ["spam"])

    second = advertisers_by_access(truth)[SECOND_WRITER]
    with pytest.raises(TokenError):
        _client(sandbox, sandbox.issue_token([advertiser_id])).blocked_words.list(second)
    token = sandbox.issue_token()
    sandbox.revoke_token(token)
    with pytest.raises(TokenError):
        _client(sandbox, token).blocked_words.check(advertiser_id, ["spam"])


def _listed_comment(sandbox, client, advertiser_id: str, comment_id: str):
    """The comment as comment/list lists it for its ad group today."""
    row = next(c for c in sandbox.ground_truth(advertiser_id)["comments"]
               if c["comment_id"] == comment_id)
    day = datetime.fromtimestamp(row["create_ts"], UTC).date()
    return next(c for c in client.iter_comments(advertiser_id, row["adgroup_id"], day, day)
                if c.comment_id == comment_id)


def test_a_comment_saying_a_blocked_word_is_hidden_from_the_listing(sandbox, client,
                                                                    advertiser_id):
    before = sandbox.add_comment("is shipping free?", advertiser_id)
    client.blocked_words.add(advertiser_id, ["free"])
    hit = sandbox.add_comment("FREE shipping, really?", advertiser_id)
    clean = sandbox.add_comment("what a carefree summer", advertiser_id)
    plain = sandbox.add_comment("love the colours", advertiser_id)

    def state(comment_id: str) -> tuple[bool | None, str | None]:
        comment = _listed_comment(sandbox, client, advertiser_id, comment_id)
        return comment.hit_blockedword, comment.comment_status

    assert state(hit) == (True, "HIDDEN")
    assert state(clean) == (False, "PUBLIC")
    assert state(plain) == (False, "PUBLIC")
    assert state(before) == (False, "PUBLIC")  # only comments created after the word

    with pytest.raises(InvalidRequest, match="blocked word"):
        client.unhide_comments(advertiser_id, [hit])

    client.blocked_words.remove(advertiser_id, ["free"])
    assert state(hit) == (True, "HIDDEN")  # removing the word leaves it hidden
    assert state(sandbox.add_comment("free again", advertiser_id)) == (False, "PUBLIC")
