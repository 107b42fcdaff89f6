"""Malformed answers fed through desk.sources.ad_sync.sync_advertiser into a Store.

Each run either ends (ok, or partial with the broken ad group recorded) or stops with
SyncAborted carrying a typed client error; nothing else escapes. The store then holds exactly
what the client returned for the ad groups whose cursor moved, as the client parsed it (unknown
enum values included), and nothing of the others: no row of a failed ad group or batch, no
cursor past data that was not stored, and the rows it held before untouched.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk import store as st_
from desk.sources.ad_sync import SyncAborted, SyncOptions, sync_advertiser
from desk.store import Store
from tests.desk.test_actions_support import FakeClock
from tiktok_client.client import TikTokClient
from tiktok_client.errors import TikTokError
from tiktok_client.ratelimit import RateLimiter

from .payloads import AD, ADS, ADVERTISER, ADVERTISERS, COMMENT, COMMENTS, Answer, answers

BASE = "https://fuzz.invalid"
API = f"{BASE}/open_api/v1.3/"
ADVERTISER_ID = "7000000000000000001"
GOOD, FUZZED = "1700000000000000001", "1700000000000000002"  # the two ad groups
TODAY = date(2030, 3, 12)
OPTIONS = SyncOptions(lookback_days=20, workers=2)
INT32 = range(-(2**31), 2**31)

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)

# Comment IDs in fuzzed pages: repeats, numbers, odd values; never the good ad group's IDs.
FUZZ_IDS = st.sampled_from(
    ["7200000000000000001", "7200000000000000002", 7200000000000000003, "7200000000000000001 ",
     "\ud800", "7200000000000000004"] * 3 + ["", " ", None, 1.5, True, {"id": 1}]
)


def comment(comment_id: str, adgroup_id: str, ad_id: str, hour: int) -> dict[str, Any]:
    return {**COMMENT, "comment_id": comment_id, "adgroup_id": adgroup_id, "ad_id": ad_id,
            "create_time": f"2030-03-10 {hour:02d}:00:00 +0000 UTC"}


ADS_OK = [
    {**AD, "ad_id": "1600000000000000001", "adgroup_id": GOOD},
    {**AD, "ad_id": "1600000000000000002", "adgroup_id": FUZZED},
]
COMMENTS_OK = {
    GOOD: [comment(f"710000000000000010{i}", GOOD, "1600000000000000001", 8 + i)
           for i in range(3)],
    FUZZED: [comment(f"710000000000000020{i}", FUZZED, "1600000000000000002", 9 + i)
             for i in range(2)],
}


def ok(data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    body = {"code": 0, "message": "OK", "request_id": "fuzz", "data": data}
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def page_of(key: str, entries: list, page: int) -> tuple[int, dict[str, str], bytes]:
    listed = entries if page == 1 else []
    return ok({key: listed, "page_info": {"page": page, "page_size": 100,
                                          "total_number": len(entries), "total_page": 1}})


def as_reply(answer: Answer) -> tuple[int, dict[str, str], bytes]:
    return answer.status, dict(answer.headers), answer.body


class FakeTikTok:
    """ad/get, advertiser/info and comment/list of one advertiser; one of them answers badly."""

    def __init__(self, target: str, answer: Answer):
        self.target, self.answer = target, answer

    def __call__(self, request) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(request.url)
        path = url.path.removeprefix("/open_api/v1.3/")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        page = int(query.get("page", "1"))
        if path == "advertiser/info/":
            return as_reply(self.answer) if self.target == path else ok({"list": [ADVERTISER]})
        if path == "ad/get/":
            if self.target == path and page == 1:
                return as_reply(self.answer)
            return page_of("list", ADS_OK if self.target != path else [], page)
        if path == "smart_plus/ad/get/":
            return page_of("list", [], page)
        adgroup_id = query["search_value"]
        if self.target == path and adgroup_id == FUZZED and page == 1:
            return as_reply(self.answer)
        return page_of("comments", COMMENTS_OK.get(adgroup_id, []), page)


class Recorder:
    """What the client returned to the sync: advertisers, ads, and comment pages per ad group."""

    def __init__(self, client: TikTokClient):
        self.lock = threading.Lock()
        self.advertisers: list | None = None
        self.ads: list | None = None
        self.pages: dict[str, list] = {}
        info, iter_ads, comments_page = (client.get_advertiser_info, client.iter_ads,
                                         client.comment_columns_page)

        def get_advertiser_info(*args, **kwargs):
            self.advertisers = info(*args, **kwargs)
            return self.advertisers

        def record_ads(*args, **kwargs):
            ads = list(iter_ads(*args, **kwargs))
            if not kwargs.get("filtering"):  # ad/get itself, not by buying type
                self.ads = ads
            return iter(ads)

        def record_page(advertiser_id, adgroup_id, *args, **kwargs):
            with self.lock:
                self.pages.setdefault(adgroup_id, [])
            result = comments_page(advertiser_id, adgroup_id, *args, **kwargs)
            with self.lock:
                self.pages[adgroup_id].append(result)
            return result

        client.get_advertiser_info = get_advertiser_info
        client.iter_ads = record_ads
        client.comment_columns_page = record_page


def fuzz_client() -> TikTokClient:
    clock = FakeClock()
    return TikTokClient("fuzz-token", base_url=BASE, max_attempts=2, sleep=lambda s: None,
                        rate_limiter=RateLimiter(1000, 100_000, clock=clock, sleep=clock.sleep))


def rows(cur, table: str, key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in st_.query_records(cur, f"SELECT * FROM {table}")}  # noqa: S608


def cursors(cur) -> dict[str, dict[str, Any]]:
    return rows(cur, "sync_cursors", "adgroup_id")


def columns_of(cur, table: str) -> set[str]:
    return {row[0] for row in cur.execute(f"DESCRIBE {table}").fetchall()}


def seed(cur) -> None:
    """What an earlier sync left: a comment, an ad and the cursor of an ad group now gone."""
    seen = datetime(2030, 1, 2, tzinfo=UTC)
    old = {**COMMENT, "comment_id": "7100000000000000999", "adgroup_id": FUZZED,
           "create_time": datetime(2030, 1, 1, tzinfo=UTC), "advertiser_id": ADVERTISER_ID}
    st_.upsert_comments(cur, pd.DataFrame([old]), seen)
    gone = {**AD, "ad_id": "1600000000000000009", "adgroup_id": "1700000000000000009",
            "create_time": None, "modify_time": None, "advertiser_id": ADVERTISER_ID}
    st_.upsert_ads(cur, pd.DataFrame([gone]), seen)
    st_.set_cursor(cur, ADVERTISER_ID, "1700000000000000009", date(2030, 1, 1),
                   datetime(2030, 1, 1, tzinfo=UTC))


def expected_row(record: dict[str, Any], columns: set[str]) -> dict[str, Any]:
    """A parsed record as the store keeps it: counts that no INTEGER column holds are NULL."""
    row = {k: v for k, v in record.items() if k in columns}
    row["advertiser_id"] = ADVERTISER_ID
    for name in ("likes", "replies"):
        if name in row and row[name] is not None and row[name] not in INT32:
            row[name] = None
    return row


def assert_rows_equal(stored: dict[str, Any], expected: dict[str, Any]) -> None:
    for name, want in expected.items():
        assert stored[name] == want, (name, stored[name], want)


def check_store(cur, before: dict, recorder: Recorder, result, aborted: TikTokError | None):
    after_comments = rows(cur, "comments", "comment_id")
    after_cursors = cursors(cur)
    after_ads = rows(cur, "ads", "ad_id")

    # What was there before is untouched.
    for key, row in before["comments"].items():
        assert after_comments.get(key) == row
    for key, row in before["cursors"].items():
        assert after_cursors.get(key) == row
    for key, row in before["ads"].items():
        assert after_ads.get(key) == row

    # Advertisers: what the client returned (those with an ID), or nothing.
    advertisers = rows(cur, "advertisers", "advertiser_id")
    expected_advertisers = {
        a.advertiser_id: a.to_record() for a in recorder.advertisers or []
        if a.advertiser_id is not None
    }
    if aborted is not None and not advertisers:  # another listing stopped it first
        expected_advertisers = {}
    assert set(advertisers) == set(expected_advertisers)
    columns = columns_of(cur, "advertisers")
    for key, record in expected_advertisers.items():
        assert_rows_equal(advertisers[key], {k: v for k, v in record.items() if k in columns})

    # Ads: all ad/get returned once comments were asked for. The listings run side by side, so
    # a sync another listing aborted may have stored ad/get's whole listing, or nothing.
    new_ads = {k: v for k, v in after_ads.items() if k not in before["ads"]}
    if recorder.pages or aborted is None or new_ads:
        assert recorder.ads is not None
        expected_ads = {a.ad_id: a.to_record() for a in recorder.ads}
        assert set(new_ads) == set(expected_ads) - set(before["ads"])
        columns = columns_of(cur, "ads")
        for key, record in expected_ads.items():
            assert_rows_equal(after_ads[key], expected_row(record, columns))
    else:
        assert new_ads == {}

    # Comments: exactly those of the ad groups whose cursor moved, as the client parsed them.
    moved = {g: c for g, c in after_cursors.items() if g not in before["cursors"]}
    assert set(moved) <= set(recorder.pages)
    expected: dict[str, dict[str, Any]] = {}
    for adgroup_id in sorted(moved):
        items = [dict(zip(p.columns, row, strict=True))
                 for p in recorder.pages[adgroup_id]
                 for row in zip(*p.columns.values(), strict=True)]
        for item in items:
            expected[item["comment_id"]] = item
        times = [c["create_time"] for c in items if c["create_time"] is not None]
        cursor = moved[adgroup_id]
        assert cursor["synced_through"] == TODAY + timedelta(days=1)
        assert cursor["high_water"] == (max(times) if times else None)
    new_comments = {k: v for k, v in after_comments.items() if k not in before["comments"]}
    assert set(new_comments) == set(expected), "stored rows are not those of the moved cursors"
    columns = columns_of(cur, "comments")
    for key, record in expected.items():
        assert_rows_equal(after_comments[key], expected_row(record, columns))

    # The run is recorded as it ended; every ad group asked for either moved or failed.
    [run] = st_.query_records(cur, "SELECT status, errors FROM sync_runs")
    failures = st_.query_records(cur, "SELECT adgroup_id FROM sync_failures")
    if aborted is not None:
        assert run["status"] == "failed"
        return
    failed = {g for g, _ in result.failures}
    assert run["status"] == result.status == ("partial" if failed else "ok")
    assert run["errors"] == len(failed)
    assert {f["adgroup_id"] for f in failures} == failed
    assert failed | set(moved) == set(recorder.pages)
    assert not failed & set(moved)


TARGETS = {
    "comment/list/": answers(COMMENTS, FUZZ_IDS),
    "ad/get/": answers(ADS),
    "advertiser/info/": answers(ADVERTISERS),
}


@pytest.fixture(scope="module")
def store():
    with Store.open(":memory:") as opened:
        yield opened


@pytest.mark.slow
@pytest.mark.parametrize("target", list(TARGETS))
@FUZZ
@given(data=st.data())
def test_a_malformed_answer_never_crashes_a_sync_nor_leaves_a_partial_write(
    store, target, data
):
    answer = data.draw(TARGETS[target], label="answer")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, re.compile(re.escape(API) + ".*"),
                          callback=FakeTikTok(target, answer))
        cur = store.cursor()
        for table in ("comments", "ads", "advertisers", "sync_cursors", "sync_runs",
                      "sync_failures"):
            cur.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)
        seed(cur)
        before = {"comments": rows(cur, "comments", "comment_id"), "cursors": cursors(cur),
                  "ads": rows(cur, "ads", "ad_id")}
        client = fuzz_client()
        recorder = Recorder(client)
        result, aborted = None, None
        try:
            result = sync_advertiser(store, client, ADVERTISER_ID, options=OPTIONS, today=TODAY)
        except SyncAborted as exc:
            assert isinstance(exc.error, TikTokError)
            aborted = exc.error
        check_store(cur, before, recorder, result, aborted)
