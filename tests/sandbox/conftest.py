"""Fixtures for the sandbox's tests: servers on loopback, a hand-moved clock, a small client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tiktok_sandbox import ManualClock, SandboxConfig, SandboxHandle, start_sandbox

START = 1_760_000_000  # 2025-10-09 08:53:20 UTC
TODAY = "2025-10-09"
API = "/open_api/v1.3/"


def small_config(clock: ManualClock | None = None, **overrides: Any) -> SandboxConfig:
    """A quick sandbox without limits, faults, latency or live comments."""
    settings: dict[str, Any] = {
        "seed": 1, "advertisers": 3, "ads": 24, "comments": 2000, "latency_ms": 0,
        "qps": 100_000, "qpm": 1_000_000, "fault_rate": 0.0, "new_comments_per_minute": 0.0,
        "organic_comments": 800, "new_organic_comments_per_minute": 0.0,
        "port": 0, "clock": clock or ManualClock(START),
    }
    settings.update(overrides)
    return SandboxConfig(**settings)


class Api:
    """Calls one sandbox the way a client would, returning the decoded envelope."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url
        self.token = token
        self.session = requests.Session()

    def _headers(self, token: str | None | bool) -> dict[str, str]:
        chosen = self.token if token is True else token
        return {"Access-Token": chosen} if chosen else {}

    def get(self, endpoint: str, token: str | None | bool = True, **params: Any) -> dict:
        encoded = {k: json.dumps(v) if isinstance(v, list | dict) else v
                   for k, v in params.items()}
        response = self.session.get(self.base_url + API + endpoint, params=encoded,
                                    headers=self._headers(token), timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, endpoint: str, body: dict[str, Any], token: str | None | bool = True) -> dict:
        response = self.session.post(self.base_url + API + endpoint, json=body,
                                     headers=self._headers(token), timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[SandboxHandle]:
    with start_sandbox(small_config(clock)) as running:
        yield running


@pytest.fixture
def api(sandbox: SandboxHandle) -> Api:
    return Api(sandbox.base_url, sandbox.issue_token())


@pytest.fixture
def truth(sandbox: SandboxHandle) -> dict[str, Any]:
    return sandbox.ground_truth()


def writable_advertiser(truth: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """The ``index``-th advertiser on which the connected user may reply and hide."""
    return [a for a in truth["advertisers"] if a["user_can_write"]][index]


def read_only_advertiser(truth: dict[str, Any]) -> dict[str, Any]:
    """The advertiser the connected user may only read (the world's last one)."""
    return next(a for a in truth["advertisers"] if not a["user_can_write"])


def busiest_adgroup(truth: dict[str, Any], advertiser_id: str) -> str:
    counts: dict[str, int] = {}
    for comment in truth["comments"]:
        if comment["advertiser_id"] == advertiser_id:
            counts[comment["adgroup_id"]] = counts.get(comment["adgroup_id"], 0) + 1
    return max(counts, key=lambda g: counts[g])
