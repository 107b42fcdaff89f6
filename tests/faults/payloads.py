"""Hypothesis strategies for malformed TikTok API answers (no tests here).

An `Answer` is what the fake wire sends back: an HTTP status, headers and raw body bytes, and,
when the body is a JSON envelope the client could read, the item objects it carried (so a test
can check what the client made of each one). Items start from a well-formed example and have
fields dropped, retyped, replaced by unknown enum values, huge or broken strings.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

OK_STATUS = 200

# Strings that have broken parsers: NUL, lone surrogates (valid JSON escapes, not valid UTF-8),
# right-to-left overrides, markup, spreadsheet formulas, numbers that are not quite numbers.
ODD_TEXT = st.sampled_from(
    [
        "",
        "   ",
        "\x00",
        "a\x00b",
        "\ud800",
        "half an emoji \ud83d",
        "x\udfffy",
        "\U0001f600\u200d\U0001f525",
        "\u202eevil.exe",
        "<script>alert(1)</script>",
        '=HYPERLINK("http://x","y")',
        "null",
        "NaN",
        "-Infinity",
        "1e999",
        "--5",
        "\u00b2",
        "\u0661\u0662",
        "9" * 5000,
        "x" * 200_000,
        "\u00e9" * 40_000,
    ]
)

UNKNOWN_ENUM = st.from_regex(r"[A-Z][A-Z_]{2,24}", fullmatch=True)

ODD_NUMBER = st.sampled_from(
    [-1, 0, 2**31, -(2**31) - 1, 2**63, 10**30, 1.5, -0.0, 1e308, float("inf"),
     float("nan"), True, False]
)

LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    ODD_TEXT,
    ODD_NUMBER,
)

ANY_JSON = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

# total_page values: small ones page on, huge ones must not make anyone fetch forever.
TOTAL_PAGE = st.one_of(
    st.sampled_from([1, 2, 3, 0, -1, None, "3", "many", 2.0, 10_001, 2**31, 2**63, 10**30]),
    ANY_JSON,
)

COMMENT = {
    "comment_id": "7100000000000000001",
    "comment_type": "COMMENT",
    "comment_status": "PUBLIC",
    "original_comment_id": "",
    "content": "Where can I buy this?",
    "likes": 3,
    "replies": 0,
    "create_time": "2030-03-10 10:00:00 +0000 UTC",
    "campaign_id": "1800000000000000001",
    "adgroup_id": "1700000000000000002",
    "ad_id": "1600000000000000002",
    "tiktok_item_id": "7300000000000000001",
    "identity_id": "6900000000000000001",
    "identity_type": "BC_AUTH_TT",
    "user_id": "6800000000000000001",
    "user_name": "sam",
    "can_delete": False,
    "hit_blockedword": False,
    "is_pinned": False,
    "app": "TIKTOK",
}
COMMENT_ENUMS = ("comment_type", "comment_status", "identity_type", "app")

AD = {
    "advertiser_id": "7000000000000000001",
    "campaign_id": "1800000000000000001",
    "campaign_name": "Spring",
    "adgroup_id": "1700000000000000002",
    "adgroup_name": "Students",
    "ad_id": "1600000000000000002",
    "ad_name": "Coffee 2",
    "create_time": "2030-02-20 08:00:00",
    "modify_time": "2030-02-21 08:00:00",
    "identity_id": "6900000000000000001",
    "identity_type": "BC_AUTH_TT",
    "tiktok_item_id": "7300000000000000001",
    "video_id": "v10033g50000000000000000",
    "ad_text": "Made to last.",
    "operation_status": "ENABLE",
    "secondary_status": "AD_STATUS_DELIVERY_OK",
}
AD_ENUMS = ("identity_type", "operation_status", "secondary_status")

ADVERTISER = {
    "advertiser_id": "7000000000000000001",
    "name": "Northwind",
    "advertiser_name": "Northwind",
    "timezone": "America/New_York",
    "currency": "USD",
    "company": "Northwind Retail",
    "status": "STATUS_ENABLE",
    "country": "US",
    "role": "ROLE_ADVERTISER",
}
ADVERTISER_ENUMS = ("status", "role", "currency")


@dataclass(frozen=True)
class Shape:
    """What a list endpoint answers: its items' example, their enum fields, the list's key."""

    example: dict[str, Any]
    enums: tuple[str, ...]
    key: str = "list"


COMMENTS = Shape(COMMENT, COMMENT_ENUMS, "comments")
ADS = Shape(AD, AD_ENUMS)
ADVERTISERS = Shape(ADVERTISER, ADVERTISER_ENUMS)


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    entries: list[dict[str, Any]] | None = None  # item objects of a readable envelope
    why: str = ""

    def __repr__(self) -> str:  # keep failure reports readable when a body is huge
        return f"Answer({self.why}, status={self.status}, body={self.body[:300]!r}...)"


@st.composite
def items(draw, shape: Shape, ids=None) -> dict[str, Any]:
    """One item: the example with each field kept, dropped, retyped or made strange."""
    item: dict[str, Any] = {}
    for key, value in shape.example.items():
        if key == "comment_id" and ids is not None:
            item[key] = draw(ids)  # the caller's IDs, odd ones included
            continue
        choice = draw(st.sampled_from(["keep", "keep", "keep", "drop", "odd", "any", "enum"]))
        if choice == "keep":
            item[key] = value
        elif choice == "odd":
            item[key] = draw(st.one_of(ODD_TEXT, ODD_NUMBER))
        elif choice == "any":
            item[key] = draw(ANY_JSON)
        elif choice == "enum" and key in shape.enums:
            item[key] = draw(UNKNOWN_ENUM)
        elif choice == "enum":
            item[key] = value
    if draw(st.booleans()):
        item[draw(st.text(min_size=1, max_size=12))] = draw(ANY_JSON)
    return item


def _encode(payload: Any, ascii_only: bool) -> bytes:
    text = json.dumps(payload, ensure_ascii=ascii_only, allow_nan=True)
    # Without ASCII escapes a lone surrogate becomes bytes that are not valid UTF-8.
    return text.encode("utf-8", "surrogatepass")


ENVELOPE_CODES = st.one_of(
    st.just(0),
    st.just(0),
    st.just(0),
    st.just(0),
    st.sampled_from([40001, 40002, 40100, 40105, 40133, 50000, 51010, 20001, 99999, -1]),
    st.sampled_from(["0", " 0 ", "40100", "\u00b2", "--5", "9" * 5000, "", 0.0, True, None]),
    ANY_JSON,
)


@st.composite
def envelopes(draw, shape: Shape, ids=None) -> Answer:
    """A JSON envelope whose parts (code, data, list, page_info, items) may each be wrong."""
    item = items(shape, ids)
    entries = draw(st.lists(st.one_of(item, item, item, ANY_JSON), max_size=4))
    listed: Any = entries if draw(st.integers(0, 4)) else draw(ANY_JSON)
    data: dict[str, Any] = {shape.key: listed}
    if draw(st.booleans()):
        data["page_info"] = draw(
            st.one_of(
                st.fixed_dictionaries(
                    {"page": st.just(1), "page_size": ANY_JSON, "total_number": ANY_JSON,
                     "total_page": TOTAL_PAGE}
                ),
                ANY_JSON,
            )
        )
    envelope: dict[str, Any] = {"code": draw(ENVELOPE_CODES)}
    if draw(st.integers(0, 7)):
        envelope["data"] = data if draw(st.integers(0, 7)) else draw(ANY_JSON)
    for key in ("message", "request_id"):
        if draw(st.booleans()):
            envelope[key] = draw(st.one_of(st.just("OK"), ANY_JSON))
    readable_items = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
    readable = envelope.get("data") is data
    ascii_only = draw(st.booleans())
    return Answer(
        status=draw(st.sampled_from([200] * 8 + [204, 301, 400, 404, 429, 500, 503])),
        body=_encode(envelope, ascii_only),
        headers={"Content-Type": draw(st.sampled_from(
            ["application/json", "text/html", "text/plain; charset=latin-1", ""]))},
        entries=readable_items if readable else None,
        why="envelope",
    )


DEEP = 50_000
RAW_BODIES = st.sampled_from(
    [
        b"",
        b"null",
        b"[]",
        b"42",
        b'"OK"',
        b"{",
        b'{"code": 0, "data": {"list": [',
        b"\xef\xbb\xbf{}",
        b"\xff\xfe{\x00}\x00",
        b'{"code": 0, "data": {"list": [{"comment_id": "1", "content": "\xff\xfe\xfd"}]}}',
        b'{"code": 0, "message": "\xc3(", "data": {}}',
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        b"   <!DOCTYPE html><title>Maintenance</title>",
        b"OK",
        b"[" * DEEP + b"]" * DEEP,
        b'{"a":' * DEEP + b"1" + b"}" * DEEP,
        b'{"code": 0, "data": {"list": ' + b"[" * 900 + b"]" * 900 + b"}}",
        b'{"code": 0, "data": {"list": [' + b'{"x":' * 900 + b"1" + b"}" * 900 + b"]}}",
        b'{"code": NaN, "data": {}}',
        b'{"code": 0, "data": {"page_info": {"total_page": 1e999}, "list": []}}',
        b'{"code": 0, "code": 40100, "data": {}}',
        b"\x00" * 64,
    ]
)


@st.composite
def raw_answers(draw) -> Answer:
    """Bodies that are not a readable envelope at all: empty, cut, binary, HTML, too deep."""
    body = draw(st.one_of(RAW_BODIES, st.binary(max_size=64)))
    status = draw(st.sampled_from([200, 200, 200, 502, 504]))
    return Answer(status=status, body=body, headers={"Content-Type": "application/json"},
                  why="raw")


@st.composite
def garbled_answers(draw) -> Answer:
    """A readable envelope cut short, or sent as gzip that is not gzip."""
    answer = draw(envelopes(COMMENTS))
    if draw(st.booleans()):
        cut = draw(st.integers(0, max(0, len(answer.body) - 1)))
        return Answer(answer.status, answer.body[:cut], answer.headers, why="cut")
    body = gzip.compress(answer.body)[: draw(st.integers(0, 40))]
    return Answer(200, body, {"Content-Type": "application/json", "Content-Encoding": "gzip"},
                  why="bad gzip")


@st.composite
def item_pages(draw, shape: Shape, ids=None) -> Answer:
    """A well-formed answer (HTTP 200, code 0) whose items are malformed."""
    entries = draw(st.lists(items(shape, ids), min_size=1, max_size=4))
    data: dict[str, Any] = {shape.key: entries}
    if draw(st.integers(0, 3)):
        data["page_info"] = {"page": 1, "page_size": 100, "total_number": len(entries),
                             "total_page": draw(TOTAL_PAGE)}
    envelope = {"code": 0, "message": "OK", "request_id": "fuzz-1", "data": data}
    ascii_only = draw(st.sampled_from([True, True, True, False]))
    return Answer(200, _encode(envelope, ascii_only), {"Content-Type": "application/json"},
                  entries=entries, why="items")


def answers(shape: Shape, ids=None):
    """Any answer a list endpoint might give: odd items in a good envelope more often than not,
    otherwise a broken envelope or junk."""
    kinds = {
        "items": item_pages(shape, ids),
        "envelope": envelopes(shape, ids),
        "raw": raw_answers(),
        "garbled": garbled_answers(),
    }
    weights = ["items"] * 6 + ["envelope"] * 2 + ["raw", "garbled"]
    return st.sampled_from(weights).flatmap(kinds.__getitem__)
