"""The server itself: loopback only, concurrent, stoppable, with its /_sandbox endpoints."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tiktok_sandbox import SandboxConfig, start_sandbox

from .conftest import API, Api, small_config


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_only_loopback_is_accepted(host):
    with pytest.raises(ValueError, match="loopback"):
        SandboxConfig(host=host)


def test_base_url_is_the_loopback_host_and_port_without_a_path(sandbox):
    assert sandbox.base_url == f"http://127.0.0.1:{sandbox.port}"
    assert sandbox.port > 0


def test_health(sandbox):
    health = requests.get(sandbox.base_url + "/_sandbox/health", timeout=5).json()
    assert health["status"] == "ok"
    assert health["comments"] == 2000


def test_ground_truth_over_http_matches_the_handle(sandbox, truth):
    served = requests.get(sandbox.base_url + "/_sandbox/ground_truth", timeout=5).json()
    assert served["comments"] == truth["comments"]
    assert served["ads"] == truth["ads"]
    assert served["advertisers"] == truth["advertisers"]
    assert {"total", "by_path", "throttled", "faults"} <= set(served["stats"])


def test_ground_truth_can_be_narrowed(sandbox, truth):
    advertiser_id = truth["advertisers"][1]["advertiser_id"]
    served = requests.get(sandbox.base_url + "/_sandbox/ground_truth", timeout=5,
                          params={"advertiser_id": advertiser_id,
                                  "include": "ads,comments"}).json()
    assert "advertisers" not in served and "stats" not in served
    assert {c["advertiser_id"] for c in served["comments"]} == {advertiser_id}
    assert served["comments"] == [c for c in truth["comments"]
                                  if c["advertiser_id"] == advertiser_id]
    assert sandbox.ground_truth(advertiser_id)["comments"] == served["comments"]


def test_ground_truth_is_a_copy(sandbox):
    truth = sandbox.ground_truth()
    truth["comments"][0]["content"] = "changed"
    assert sandbox.ground_truth()["comments"][0]["content"] != "changed"


def test_requests_are_counted_by_path(sandbox, api):
    api.get("user/info/")
    api.get("user/info/")
    api.get("nothing/here/")
    stats = sandbox.stats()
    assert stats["total"] == 3
    assert stats["by_path"][API + "user/info/"] == 2
    assert stats["by_code"] == {"0": 2, "40006": 1}


def test_concurrent_clients_are_served_in_parallel_despite_latency(clock):
    latency = 0.25
    with start_sandbox(small_config(clock, latency_ms=latency * 1000)) as sandbox:
        token = sandbox.issue_token()
        clients = [Api(sandbox.base_url, token) for _ in range(10)]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=10) as pool:
            codes = list(pool.map(lambda c: [c.get("user/info/")["code"] for _ in range(2)],
                                  clients))
        elapsed = time.monotonic() - started
    assert codes == [[0, 0]] * 10
    assert elapsed < 20 * latency, "one after the other would take 20 times the latency"


def test_stopping_refuses_new_connections_and_ends_the_thread(clock):
    sandbox = start_sandbox(small_config(clock))
    url = sandbox.base_url + "/_sandbox/health"
    assert requests.get(url, timeout=5).status_code == 200
    sandbox.stop()
    sandbox.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)
    assert not any(t.name == f"tiktok-sandbox-{sandbox.port}" for t in threading.enumerate())


def test_stopping_releases_a_stalled_answer(clock):
    sandbox = start_sandbox(small_config(clock, latency_ms=60_000))
    token = sandbox.issue_token()
    outcome = []

    def call():
        try:
            requests.get(sandbox.base_url + API + "user/info/", headers={"Access-Token": token},
                         timeout=30)
            outcome.append("answered")
        except requests.RequestException:
            outcome.append("closed")

    caller = threading.Thread(target=call)
    caller.start()
    while sandbox.stats()["total"] == 0:
        time.sleep(0.01)
    sandbox.stop()
    caller.join(timeout=10)
    assert outcome == ["closed"]


def test_unknown_paths_outside_the_api_are_404(sandbox):
    assert requests.get(sandbox.base_url + "/", timeout=5).status_code == 404
    assert requests.get(sandbox.base_url + "/open_api/v1.2/ad/get/", timeout=5).status_code == 404


def test_start_sandbox_accepts_overrides(clock):
    with start_sandbox(small_config(clock), comments=10) as sandbox:
        assert sandbox.ground_truth()["comment_count"] == 10
        assert sandbox.clock is clock


def test_ground_truth_comment_columns_can_be_chosen(sandbox, truth):
    served = requests.get(sandbox.base_url + "/_sandbox/ground_truth", timeout=5,
                          params={"include": "comments",
                                  "fields": "comment_id,create_ts,comment_status"}).json()
    assert served["comments"] == [
        {"comment_id": c["comment_id"], "create_ts": c["create_ts"],
         "comment_status": c["comment_status"]} for c in truth["comments"]]


def test_a_viewer_writes_again_under_an_ad_comment_over_http(sandbox, truth):
    parent = next(c for c in truth["comments"] if c["comment_type"] == "COMMENT")
    url = f"{sandbox.base_url}/_sandbox/add_reply"

    assert requests.get(url, params={"comment_id": parent["comment_id"]}, timeout=5
                        ).status_code == 405
    assert requests.post(url, params={"comment_id": "404", "text": "x"}, timeout=5
                         ).status_code == 404
    answer = requests.post(url, params={"comment_id": parent["comment_id"],
                                        "text": "Still waiting for my order"}, timeout=5)

    reply_id = answer.json()["comment_id"]
    [reply] = [c for c in sandbox.ground_truth()["comments"] if c["comment_id"] == reply_id]
    assert reply["original_comment_id"] == parent["comment_id"]
    assert reply["content"] == "Still waiting for my order"
    assert reply["comment_type"] == "REPLY" and reply["comment_status"] == "PUBLIC"
    assert reply["can_delete"] is False  # a viewer wrote it, not the brand
