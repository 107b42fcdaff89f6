"""The app's rate limit: ``qps`` requests in any second and ``qpm`` in any minute, across all
tokens, answered with 40100 in an HTTP 200. The clock is moved by hand, so no test waits."""

from __future__ import annotations

import pytest

from tiktok_sandbox import start_sandbox

from .conftest import Api, small_config


@pytest.fixture
def limited(clock):
    with start_sandbox(small_config(clock, qps=5, qpm=12)) as running:
        yield running


@pytest.fixture
def limited_api(limited):
    return Api(limited.base_url, limited.issue_token())


def call(api):
    return api.get("user/info/")


def test_requests_within_the_qps_limit_succeed(limited_api):
    assert [call(limited_api)["code"] for _ in range(5)] == [0] * 5


def test_one_request_beyond_qps_in_the_same_second_is_40100(limited, limited_api):
    codes = [call(limited_api)["code"] for _ in range(6)]
    assert codes == [0] * 5 + [40100]
    refused = call(limited_api)
    assert "QPS" in refused["message"]
    assert refused["data"] == {}
    assert limited.stats()["throttled"] == 2


def test_the_second_window_slides(clock, limited_api):
    for _ in range(5):
        call(limited_api)
    clock.advance(0.5)
    assert call(limited_api)["code"] == 40100
    clock.advance(0.6)
    assert call(limited_api)["code"] == 0


def test_the_minute_limit_applies_across_seconds(clock, limited_api):
    codes = []
    for _ in range(13):
        codes.append(call(limited_api)["code"])
        clock.advance(2)
    assert codes == [0] * 12 + [40100]
    assert "QPM" in call(limited_api)["message"]
    clock.advance(60)
    assert call(limited_api)["code"] == 0


def test_the_limit_is_per_app_not_per_token(limited):
    first = Api(limited.base_url, limited.issue_token())
    second = Api(limited.base_url, limited.issue_token())
    codes = [call(first if i % 2 else second)["code"] for i in range(6)]
    assert codes == [0] * 5 + [40100]


def test_refused_requests_do_not_use_up_the_window(clock, limited_api):
    for _ in range(20):
        call(limited_api)
    clock.advance(1.01)
    assert [call(limited_api)["code"] for _ in range(5)] == [0] * 5
