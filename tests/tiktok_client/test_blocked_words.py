"""client.blocked_words against a faked wire: exact requests, every documented item shape,
calls split by the number of words TikTok takes, and the export's file."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from tiktok_client import (
    BlockedWord,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    RateLimiter,
    TikTokClient,
    TokenError,
)
from tiktok_client.blocked_words import LIST_PAGE_SIZE, words_per_call_key

API = "https://business-api.tiktok.com/open_api/v1.3/"
TOKEN = "tok-bw-SECRET"
ADVERTISER = "7000000000000000001"


def envelope(data=None, code=0, message="OK"):
    return {"code": code, "message": message, "request_id": "req-1", "data": data or {}}


def word_page(items, page=1, total_page=1, key="list"):
    return envelope({key: items, "page_info": {"page": page, "page_size": 500,
                                               "total_number": len(items),
                                               "total_page": total_page}})


def query_of(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


@pytest.fixture
def api():
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def client() -> TikTokClient:
    return TikTokClient(TOKEN, rate_limiter=RateLimiter(1000, 100_000), sleep=lambda s: None)


def test_list_asks_for_pages_of_500_in_page_info_with_the_token_header(api, client):
    api.get(f"{API}blockedword/list/", json=word_page([{"bw_content": "spam"}], 1, 2))
    api.get(f"{API}blockedword/list/", json=word_page([{"bw_content": "scam"}], 2, 2))
    assert client.blocked_words.list(ADVERTISER) == [BlockedWord("spam"), BlockedWord("scam")]
    first, second = api.calls
    assert first.request.headers["Access-Token"] == TOKEN
    assert query_of(first) == {"advertiser_id": ADVERTISER,
                               "page_info": '{"page":1,"page_size":500}'}
    assert json.loads(query_of(second)["page_info"]) == {"page": 2, "page_size": 500}


def test_every_documented_item_shape_is_read_and_others_are_skipped(api, client):
    items = [{"bw_content": " spam "}, "plain", {"word": "w"}, {"blocked_word": "b"},
             {"content": 567}, None, {}, {"bw_content": ""}, True, ["nested"]]
    api.get(f"{API}blockedword/list/", json=word_page(items, key="blocked_word_list"))
    page = client.blocked_words.page(ADVERTISER)
    assert [w.word for w in page] == ["spam", "plain", "w", "b", "567"]
    assert page.page_info.total_page == 1


def test_a_refused_page_size_steps_down_and_is_learned(api, client):
    api.get(f"{API}blockedword/list/", json=envelope(code=40002, message="page_info.page_size: "
                                                     "Not a valid value."))
    api.get(f"{API}blockedword/list/", json=word_page(["a", "b"]))
    assert [w.word for w in client.blocked_words.list(ADVERTISER)] == ["a", "b"]
    assert json.loads(query_of(api.calls[1])["page_info"])["page_size"] == 200
    assert client.learned.get(LIST_PAGE_SIZE) == 200
    assert client.blocked_words.page_size() == 200


def test_words_are_trimmed_sent_once_and_split_into_calls_of_100(api, client):
    api.post(f"{API}blockedword/create/", json=envelope())
    words = [f" w{n} " for n in range(250)] + ["W1"]
    client.blocked_words.add(ADVERTISER, words)
    bodies = [json.loads(call.request.body) for call in api.calls]
    assert [len(b["blocked_words"]) for b in bodies] == [100, 100, 50]
    assert bodies[0]["advertiser_id"] == ADVERTISER
    assert bodies[0]["blocked_words"][:2] == ["w0", "w1"]


def test_a_refused_count_is_learned_and_the_rest_sent_in_smaller_calls(api, client):
    api.post(f"{API}blockedword/delete/", json=envelope(
        code=40002, message="blocked_words: Length must be between 1 and 40."))
    api.post(f"{API}blockedword/delete/", json=envelope())
    client.blocked_words.remove(ADVERTISER, [f"w{n}" for n in range(90)])
    sizes = [len(json.loads(c.request.body)["blocked_words"]) for c in api.calls]
    assert sizes == [90, 40, 40, 10]
    assert client.learned.get(words_per_call_key("blockedword/delete")) == 40


def test_a_word_refused_as_too_long_is_not_taken_for_a_count_limit(api, client):
    api.post(f"{API}blockedword/create/", json=envelope(
        code=40002, message="blocked_words: Each blocked word must be at most 30 characters "
                            "long."))
    with pytest.raises(InvalidRequest, match="30 characters"):
        client.blocked_words.add(ADVERTISER, ["short", "x" * 40])
    assert len(api.calls) == 1 and client.learned.snapshot() == {}


def test_empty_words_and_a_lone_string_are_refused_before_sending(api, client):
    with pytest.raises(InvalidRequest, match="empty"):
        client.blocked_words.add(ADVERTISER, ["ok", " "])
    with pytest.raises(TypeError):
        client.blocked_words.remove(ADVERTISER, "spam")
    with pytest.raises(InvalidRequest):
        client.blocked_words.rename(ADVERTISER, "spam", "  ")
    client.blocked_words.add(ADVERTISER, [])  # nothing to send
    assert len(api.calls) == 0


def test_an_add_whose_answer_is_lost_is_outcome_unknown_not_resent(api, client):
    api.post(f"{API}blockedword/create/", body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(OutcomeUnknown):
        client.blocked_words.add(ADVERTISER, ["spam"])
    assert len(api.calls) == 1


def test_check_reads_results_by_word_ignoring_case(api, client):
    api.get(f"{API}blockedword/check/", json=envelope({"results": [
        {"word": "SPAM", "blocked": True}, {"word": "eggs", "blocked": "false"},
        {"word": "odd"}]}))
    assert client.blocked_words.check(ADVERTISER, ["spam", "eggs", "odd", "ham"]) == {
        "spam": True, "eggs": False}
    assert json.loads(query_of(api.calls[0])["blocked_words"]) == ["spam", "eggs", "odd", "ham"]


def test_rename_sends_old_and_new_word(api, client):
    api.post(f"{API}blockedword/update/", json=envelope())
    client.blocked_words.rename(ADVERTISER, " scam ", "scammer")
    assert json.loads(api.calls[0].request.body) == {
        "advertiser_id": ADVERTISER, "old_word": "scam", "new_word": "scammer"}


def test_an_export_is_created_checked_and_downloaded_as_bytes(api, client):
    api.post(f"{API}blockedword/task/create/", json=envelope({"task_id": 7380001}))
    api.get(f"{API}blockedword/task/check/", json=envelope({"task_id": "7380001",
                                                            "status": "SUCCEED"}))
    api.get(f"{API}blockedword/task/download/", body=b"Blocked word\r\nspam\r\n",
            content_type="text/csv")
    words = client.blocked_words
    assert words.create_export(ADVERTISER, words=["spam"], lang="JA") == "7380001"
    assert json.loads(api.calls[0].request.body) == {
        "advertiser_id": ADVERTISER, "blocked_words": ["spam"], "lang": "JA"}
    assert words.export_status(ADVERTISER, "7380001") == "SUCCEED"
    assert words.download_export(ADVERTISER, "7380001") == b"Blocked word\r\nspam\r\n"
    assert query_of(api.calls[2]) == {"advertiser_id": ADVERTISER, "task_id": "7380001"}
    with pytest.raises(ValueError):
        words.create_export(ADVERTISER, lang="DE")


def test_a_download_answered_with_an_envelope_raises(api, client):
    api.get(f"{API}blockedword/task/download/", json=envelope(code=40105, message="bad token"))
    api.get(f"{API}blockedword/task/download/", json=envelope({"url": "https://x"}))
    with pytest.raises(TokenError):
        client.blocked_words.download_export(ADVERTISER, "1")
    with pytest.raises(MalformedResponse, match="url"):
        client.blocked_words.download_export(ADVERTISER, "1")


def test_answers_without_a_task_id_or_status_are_malformed(api, client):
    api.post(f"{API}blockedword/task/create/", json=envelope({}))
    api.get(f"{API}blockedword/task/check/", json=envelope({"task_id": "1"}))
    with pytest.raises(MalformedResponse):
        client.blocked_words.create_export(ADVERTISER)
    with pytest.raises(MalformedResponse):
        client.blocked_words.export_status(ADVERTISER, "1")
