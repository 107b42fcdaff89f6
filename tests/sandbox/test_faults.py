"""Injected faults: reproducible from the seed, independent of thread interleaving, never
endless for a retried request, and honest about what was applied. Also failures a test
chooses (``fail_next``): a TikTok code on a path, the next N times."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tiktok_sandbox import ManualClock, start_sandbox
from tiktok_sandbox.faults import (
    APPLIED_DROPPED,
    MAX_CONSECUTIVE,
    SCRIPTED,
    UNPROCESSED_KINDS,
)

from .conftest import API, START, TODAY, Api, small_config
from .test_writes import pick_comment, reply_body


def faulty(seed=3, rate=0.5):
    return start_sandbox(small_config(ManualClock(START), seed=seed, fault_rate=rate,
                                      stall_seconds=0.05))


def outcome(call):
    """What a client sees: an HTTP error, a broken answer, unreadable JSON, or a code."""
    try:
        response = call()
    except requests.RequestException:
        return ("broken",)
    if response.status_code != 200:
        return ("http", response.status_code)
    try:
        return ("code", response.json()["code"])
    except ValueError:
        return ("bad_json",)


def get(sandbox, token, endpoint, **params):
    return outcome(lambda: requests.get(sandbox.base_url + API + endpoint, params=params,
                                        headers={"Access-Token": token}, timeout=5))


def request_sequence(sandbox):
    truth = sandbox.ground_truth()
    advertiser = truth["advertisers"][0]["advertiser_id"]
    adgroups = [g["adgroup_id"] for g in truth["adgroups"]
                if g["advertiser_id"] == advertiser][:3]
    calls = [("user/info/", {})] * 8
    calls += [("ad/get/", {"advertiser_id": advertiser, "page": p, "page_size": 2})
              for p in range(1, 7)]
    calls += [("comment/list/", {"advertiser_id": advertiser, "search_field": "ADGROUP_ID",
                                 "search_value": g, "start_time": "2025-09-10",
                                 "end_time": TODAY, "page": p})
              for g in adgroups for p in (1, 2)]
    return calls


def run_sequence(sandbox):
    token = sandbox.issue_token()
    seen = [get(sandbox, token, endpoint, **params)
            for endpoint, params in request_sequence(sandbox)]
    log = [(entry["request"], entry["path"], entry["kind"])
           for entry in sandbox.stats()["fault_log"]]
    return seen, log


def test_same_seed_and_requests_meet_the_same_faults():
    with faulty() as first, faulty() as second:
        seen_first, log_first = run_sequence(first)
        seen_second, log_second = run_sequence(second)
    assert seen_first == seen_second
    assert log_first == log_second
    assert len({kind for _, _, kind in log_first}) >= 3, "several kinds of fault show up"
    assert ("code", 0) in seen_first, "and some requests get through"


def test_another_seed_meets_other_faults():
    with faulty(seed=3) as first, faulty(seed=4) as second:
        _, log_first = run_sequence(first)
        _, log_second = run_sequence(second)
    assert log_first != log_second


def test_faults_do_not_depend_on_thread_interleaving():
    def pages(sandbox, parallel):
        token = sandbox.issue_token()
        advertiser = sandbox.ground_truth()["advertisers"][0]["advertiser_id"]

        def one(page):
            return page, get(sandbox, token, "ad/get/", advertiser_id=advertiser,
                             page=page, page_size=1)

        if parallel:
            with ThreadPoolExecutor(max_workers=8) as pool:
                return dict(pool.map(one, range(1, 25)))
        return dict(one(page) for page in reversed(range(1, 25)))

    with faulty() as first, faulty() as second:
        assert pages(first, parallel=True) == pages(second, parallel=False)


def test_a_retried_request_gets_through_after_a_few_faults():
    with faulty(rate=1.0) as sandbox:
        token = sandbox.issue_token()
        attempts = [get(sandbox, token, "user/info/") for _ in range(MAX_CONSECUTIVE + 1)]
        faulted = [entry["request"] for entry in sandbox.stats()["fault_log"]]
    assert faulted == list(range(1, MAX_CONSECUTIVE + 1)), "every attempt but the last"
    assert attempts[-1] == ("code", 0)


def test_a_code_exchange_only_meets_faults_that_leave_the_code_unused():
    with faulty(rate=1.0) as sandbox:
        code = requests.post(
            f"{sandbox.base_url}/portal/auth/authorize", allow_redirects=False, timeout=5,
            data={"app_id": sandbox.config.app_id, "redirect_uri": "http://127.0.0.1/cb"},
        ).headers["Location"].split("auth_code=")[1].split("&")[0]
        body = {"app_id": sandbox.config.app_id, "secret": sandbox.config.secret,
                "auth_code": code}
        seen = [outcome(lambda: requests.post(sandbox.base_url + API + "oauth2/access_token/",
                                              json=body, timeout=5))
                for _ in range(MAX_CONSECUTIVE + 1)]
        kinds = [entry["kind"] for entry in sandbox.stats()["fault_log"]]
    assert seen[-1] == ("code", 0)
    assert kinds and set(kinds) <= set(UNPROCESSED_KINDS)


def test_a_faulty_write_is_applied_exactly_when_the_fault_says_so():
    with faulty(rate=1.0) as sandbox:
        truth = sandbox.ground_truth()
        writer = next(a["advertiser_id"] for a in truth["advertisers"] if a["user_can_write"])
        candidates = [c for c in truth["comments"]
                      if c["comment_status"] == "PUBLIC" and c["advertiser_id"] == writer]
        token = sandbox.issue_token()
        kinds_seen = set()
        for comment in candidates[:60]:
            body = {"advertiser_id": comment["advertiser_id"],
                    "comment_ids": [comment["comment_id"]], "operation": "HIDDEN"}
            seen = outcome(lambda body=body: requests.post(
                sandbox.base_url + API + "comment/status/update/", json=body,
                headers={"Access-Token": token}, timeout=5))
            kind = sandbox.stats()["fault_log"][-1]["kind"]
            kinds_seen.add(kind)
            status = next(c["comment_status"] for c in sandbox.ground_truth()["comments"]
                          if c["comment_id"] == comment["comment_id"])
            assert status == ("PUBLIC" if kind in UNPROCESSED_KINDS else "HIDDEN"), kind
            if kind == APPLIED_DROPPED:
                assert seen == ("broken",), "no answer at all reaches the client"
            if APPLIED_DROPPED in kinds_seen and kinds_seen & set(UNPROCESSED_KINDS):
                break
    assert APPLIED_DROPPED in kinds_seen


def test_faults_never_touch_the_consent_screen_or_the_sandbox_endpoints():
    with faulty(rate=1.0) as sandbox:
        params = {"app_id": sandbox.config.app_id, "redirect_uri": "http://127.0.0.1/cb"}
        for _ in range(5):
            assert requests.get(f"{sandbox.base_url}/portal/auth", params=params,
                                timeout=5).status_code == 200
            assert requests.post(f"{sandbox.base_url}/portal/auth/authorize", data=params,
                                 allow_redirects=False, timeout=5).status_code == 302
            assert requests.get(f"{sandbox.base_url}/_sandbox/health",
                                timeout=5).status_code == 200
        assert sandbox.stats()["fault_log"] == []


def test_faults_are_counted_by_kind():
    with faulty() as sandbox:
        run_sequence(sandbox)
        stats = sandbox.stats()
    assert sum(stats["faults"].values()) == len(stats["fault_log"]) > 0
    assert stats["total"] == len(request_sequence(sandbox))


@pytest.mark.parametrize("rate", [0.0])
def test_without_a_fault_rate_nothing_is_injected(rate):
    with faulty(rate=rate) as sandbox:
        seen, log = run_sequence(sandbox)
    assert log == []
    assert set(seen) == {("code", 0)}


# Failures a test chooses


def test_a_chosen_code_answers_the_next_requests_to_its_path_in_tiktoks_envelope(sandbox):
    token = sandbox.issue_token()
    advertiser = sandbox.ground_truth()["advertisers"][0]["advertiser_id"]
    sandbox.fail_next("ad/get/", 40132, "Request frequency limited: too many requests for "
                      "this field value.", times=2)

    answers = [requests.get(sandbox.base_url + API + "ad/get/", timeout=5,
                            params={"advertiser_id": advertiser},
                            headers={"Access-Token": token}) for _ in range(3)]
    other = get(sandbox, token, "user/info/")

    assert [a.status_code for a in answers] == [200] * 3
    first, second, third = (a.json() for a in answers)
    for refused in (first, second):
        assert set(refused) == {"code", "message", "request_id", "data"}
        assert refused["code"] == 40132 and refused["data"] == {}
        assert refused["message"].startswith("Request frequency limited")
        assert refused["request_id"]
    assert first["request_id"] != second["request_id"]
    assert third["code"] == 0 and third["data"]["list"]
    assert other == ("code", 0)  # another path is not touched
    stats = sandbox.stats()
    assert stats["by_code"]["40132"] == 2 and stats["faults"] == {SCRIPTED: 2}
    assert sandbox.pending_failures() == 0


def test_chosen_failures_are_met_in_the_order_they_were_chosen(sandbox):
    api = Api(sandbox.base_url, sandbox.issue_token())
    sandbox.fail_next("/open_api/v1.3/user/info/", 52000, "db error")
    sandbox.fail_next("user/info", 40300, "Advertiser does not exist.", times=2)
    assert sandbox.pending_failures("user/info/") == 3

    codes = [api.get("user/info/")["code"] for _ in range(4)]

    assert codes == [52000, 40300, 40300, 0]


@pytest.mark.parametrize("applied", [False, True], ids=["nothing done", "applied"])
def test_a_chosen_failure_on_a_write_applies_it_only_when_told(sandbox, applied):
    truth = sandbox.ground_truth()
    comment = pick_comment(truth)
    api = Api(sandbox.base_url, sandbox.issue_token())
    sandbox.fail_next("comment/post/", 53103, "serialization error", applied=applied)

    answer = api.post("comment/post/", reply_body(truth, comment, "Chosen failure"))

    assert (answer["code"], answer["message"], answer["data"]) == (
        53103, "serialization error", {})
    replies = [c for c in sandbox.ground_truth()["comments"]
               if c["original_comment_id"] == comment["comment_id"]
               and c["content"] == "Chosen failure"]
    assert len(replies) == (1 if applied else 0)


def test_a_chosen_failure_needs_a_known_endpoint_a_failing_code_and_a_count(sandbox):
    with pytest.raises(KeyError, match="comment/reply/"):
        sandbox.fail_next("comment/reply/", 50000, "no such endpoint")
    with pytest.raises(ValueError, match="code 0"):
        sandbox.fail_next("ad/get/", 0, "OK")
    with pytest.raises(ValueError, match="times"):
        sandbox.fail_next("ad/get/", 50000, "system error", times=0)
    assert sandbox.pending_failures() == 0
