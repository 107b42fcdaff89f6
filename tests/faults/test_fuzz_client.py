"""Malformed answers to the client's reads: a typed error, or items of the right types.

Whatever comes back (wrong types, unknown enum values, huge or broken strings, invalid UTF-8,
JSON nested past any limit, HTML, nothing), `TikTokClient` either raises an error from
`tiktok_client.errors` or returns items whose every field has its declared type, whose text can
be stored as UTF-8, and whose enum fields are the strings TikTok sent, unknown ones included.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime, timedelta

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.desk.test_actions_support import FakeClock
from tiktok_client.client import TikTokClient
from tiktok_client.errors import TikTokError
from tiktok_client.models import Ad, Advertiser, Comment
from tiktok_client.oauth import list_authorized_advertisers
from tiktok_client.ratelimit import RateLimiter

from .payloads import ADS, ADVERTISERS, COMMENTS, Answer, Shape, answers

BASE = "https://fuzz.invalid"
ADVERTISER_ID = "7000000000000000001"

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)

READS: dict[str, tuple[Shape, type, typing.Callable[[TikTokClient], list]]] = {
    "ad/get": (ADS, Ad, lambda c: c.ads_page(ADVERTISER_ID).items),
    "comment/list": (
        COMMENTS,
        Comment,
        lambda c: c.comments_page(ADVERTISER_ID, "1700000000000000002", "2030-03-01",
                                  "2030-03-12").items,
    ),
    "advertiser/info": (ADVERTISERS, Advertiser, lambda c: c.get_advertiser_info([ADVERTISER_ID])),
    "oauth2/advertiser/get": (
        ADVERTISERS,
        Advertiser,
        lambda c: list_authorized_advertisers(c, "fuzz-app", "fuzz-secret"),
    ),
}


def fuzz_client() -> TikTokClient:
    clock = FakeClock()
    return TikTokClient(
        "fuzz-token",
        base_url=BASE,
        max_attempts=2,
        sleep=lambda seconds: None,
        rate_limiter=RateLimiter(1000, 100_000, clock=clock, sleep=clock.sleep),
    )


def serve(rsps: responses.RequestsMock, method: str, path: str, answer: Answer) -> None:
    headers = {k: v for k, v in answer.headers.items() if k != "Content-Type"}
    rsps.add(method, f"{BASE}/open_api/v1.3/{path}", body=answer.body, status=answer.status,
             headers=headers, content_type=answer.headers.get("Content-Type") or None)


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def assert_well_typed(item: object, model: type) -> None:
    """Every field holds None or a value of its declared type; text is valid Unicode."""
    assert type(item) is model
    hints = typing.get_type_hints(model)
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        declared = hints[f.name]
        allowed = typing.get_args(declared) if isinstance(declared, types.UnionType) else (
            declared,)
        if value is None:
            assert type(None) in allowed, (f.name, value)
            continue
        kinds = tuple(typing.get_origin(a) or a for a in allowed if a is not type(None))
        assert isinstance(value, kinds), (f.name, type(value), value)
        if bool not in kinds:
            assert not isinstance(value, bool), (f.name, value)
        if isinstance(value, str):
            assert _storable(value), (f.name, value)
        if isinstance(value, datetime):
            assert value.utcoffset() == timedelta(0), (f.name, value)


def assert_items_match(items: list, model: type, shape: Shape, answer: Answer) -> None:
    for item in items:
        assert_well_typed(item, model)
    if answer.entries is None:
        return
    # One item per object in the list, in order; enum values kept exactly as sent.
    assert len(items) == len(answer.entries)
    for item, entry in zip(items, answer.entries, strict=True):
        for name in shape.enums:
            sent = entry.get(name)
            if isinstance(sent, str) and _storable(sent):
                assert getattr(item, name) == sent, (name, sent)


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", list(READS))
@FUZZ
@given(data=st.data())
def test_a_malformed_answer_is_a_typed_error_or_well_typed_items(endpoint, data):
    shape, model, read = READS[endpoint]
    answer = data.draw(answers(shape), label="answer")
    client = fuzz_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, "GET", endpoint + "/", answer)
        try:
            result = read(client)
        except TikTokError as error:
            assert str(error)  # a sentence a person can act on, never empty
            return
    assert_items_match(result, model, shape, answer)
