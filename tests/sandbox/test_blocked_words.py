"""The sandbox's blocked-word lists: blockedword/* parameters, limits and permissions, how a
word matches a comment, what it does to comments, and the export task."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from tests.sandbox.conftest import API, Api, read_only_advertiser, small_config, writable_advertiser
from tiktok_sandbox import ManualClock, start_sandbox
from tiktok_sandbox.blocked_words import Phrase, first_hit
from tiktok_sandbox.state import GRANTED_SCOPES, READ_BLOCKED_WORDS, WRITE_BLOCKED_WORDS


@pytest.fixture
def advertiser_id(truth) -> str:
    return writable_advertiser(truth)["advertiser_id"]


def create(api: Api, advertiser_id: str, words, **kwargs) -> dict:
    return api.post("blockedword/create/", {"advertiser_id": advertiser_id,
                                            "blocked_words": words}, **kwargs)


def listed(api: Api, advertiser_id: str, page: int = 1, page_size: int = 500) -> list[str]:
    answer = api.get("blockedword/list/", advertiser_id=advertiser_id,
                     page_info={"page": page, "page_size": page_size})
    assert answer["code"] == 0, answer
    return [item["bw_content"] for item in answer["data"]["list"]]


def comment_row(sandbox, advertiser_id: str, comment_id: str) -> dict:
    return next(c for c in sandbox.ground_truth(advertiser_id)["comments"]
                if c["comment_id"] == comment_id)


# How a word matches


@pytest.mark.parametrize(("word", "text"), [
    ("free", "Free shipping?"),
    ("free", "is it free"),
    ("free", "free!!!"),
    ("I love", "I, love you"),
    ("I love", "i LOVE this"),
    ("567", "i love 567"),
    ("567", "123 567"),
    ("コーラ", "コーラ大好き"),
    ("我喜欢你", "我喜欢你啊"),
    ("🤡", "what a 🤡🤡"),
])
def test_a_blocked_word_matches_as_a_phrase_ignoring_case(word, text):
    assert first_hit([Phrase.of(word)], text) is not None


@pytest.mark.parametrize(("word", "text"), [
    ("free", "so carefree today"),
    ("free", "freedom"),
    ("I love", "Iloveit"),
    ("I love", "I loved it"),
    ("I love", "love, I"),
    ("567", "1234567"),
    ("567", "i love567"),
    ("コーラ", "コーーラ"),
    ("我喜欢你", "我,喜欢你。"),
])
def test_a_word_inside_another_word_does_not_match(word, text):
    assert first_hit([Phrase.of(word)], text) is None


# Parameters and limits


def test_words_are_trimmed_listed_newest_first_and_added_once_whatever_their_case(
        api, advertiser_id):
    assert create(api, advertiser_id, ["  Free ", "scam"])["code"] == 0
    assert create(api, advertiser_id, ["FREE", "free", "dm me"])["code"] == 0
    assert listed(api, advertiser_id) == ["dm me", "Free", "scam"]


def test_adding_a_word_that_is_there_already_is_no_error(api, advertiser_id):
    for _ in range(2):
        answer = create(api, advertiser_id, ["spam"])
        assert (answer["code"], answer["data"]) == (0, {})
    assert listed(api, advertiser_id) == ["spam"]


def test_deleting_a_word_that_is_not_there_is_no_error(api, advertiser_id):
    create(api, advertiser_id, ["spam", "scam"])
    answer = api.post("blockedword/delete/", {"advertiser_id": advertiser_id,
                                              "blocked_words": ["SPAM", "never added"]})
    assert (answer["code"], answer["data"]) == (0, {})
    assert listed(api, advertiser_id) == ["scam"]


@pytest.mark.parametrize(("words", "message"), [
    (None, "blocked_words: Missing data for required field."),
    ([], "blocked_words: Missing data for required field."),
    ("spam", "blocked_words: Not a valid list."),
    ([["nested"]], "blocked_words: Not a valid list of strings."),
    (["ok", "   "], "blocked_words: Blocked words must not be empty."),
])
def test_create_refuses_missing_and_empty_words(api, advertiser_id, words, message):
    body = {"advertiser_id": advertiser_id}
    if words is not None:
        body["blocked_words"] = words
    answer = api.post("blockedword/create/", body)
    assert (answer["code"], answer["message"]) == (40002, message)
    assert listed(api, advertiser_id) == []


def test_the_longest_word_and_the_most_words_per_call_are_refused_naming_the_limit(
        api, advertiser_id):
    answer = create(api, advertiser_id, ["ok", "x" * 31])
    assert answer["code"] == 40002
    assert answer["message"].startswith("blocked_words: Each blocked word must be at most 30 "
                                        "characters long")
    assert create(api, advertiser_id, [" " + "x" * 30 + " "])["code"] == 0  # trimmed first

    answer = create(api, advertiser_id, [f"w{i}" for i in range(101)])
    assert (answer["code"], answer["message"]) == (
        40002, "blocked_words: Length must be between 1 and 100.")
    assert listed(api, advertiser_id) == ["x" * 30]  # nothing of a refused call is added


def test_the_limits_come_from_the_config(clock):
    config = small_config(clock, blocked_word_max_length=5, blocked_words_per_call=3,
                          blocked_word_page_size_max=2)
    with start_sandbox(config) as sb:
        api = Api(sb.base_url, sb.issue_token())
        advertiser_id = writable_advertiser(sb.ground_truth())["advertiser_id"]
        assert "at most 5 characters" in create(api, advertiser_id, ["sixsix"])["message"]
        assert create(api, advertiser_id, ["a", "b", "c", "d"])["message"] == (
            "blocked_words: Length must be between 1 and 3.")
        assert create(api, advertiser_id, ["a", "b", "c"])["code"] == 0
        answer = api.get("blockedword/list/", advertiser_id=advertiser_id,
                         page_info={"page": 1, "page_size": 3})
        assert (answer["code"], answer["message"]) == (
            40002, "page_info.page_size: Must be greater than or equal to 1 and less than or "
                   "equal to 2.")


def test_list_pages_with_page_info_and_defaults_to_ten(api, advertiser_id):
    for start in range(0, 25, 5):
        create(api, advertiser_id, [f"word {n}" for n in range(start, start + 5)])
    answer = api.get("blockedword/list/", advertiser_id=advertiser_id)
    assert answer["data"]["page_info"] == {"page": 1, "page_size": 10, "total_number": 25,
                                           "total_page": 3}
    pages = [listed(api, advertiser_id, page, 10) for page in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [10, 10, 5, 0]
    assert pages[0][:6] == ["word 20", "word 21", "word 22", "word 23", "word 24", "word 15"]


@pytest.mark.parametrize(("page_info", "message"), [
    ({"page": 1, "page_size": 501}, "page_info.page_size: Must be greater than or equal to 1 "
                                    "and less than or equal to 500."),
    ({"page": 0}, "page_info.page: Must be greater than or equal to 1."),
    ({"page_size": "many"}, "page_info.page_size: Not a valid integer."),
    ("not json", "page_info: Not a valid JSON object."),
])
def test_list_refuses_bad_page_info(api, advertiser_id, page_info, message):
    answer = api.get("blockedword/list/", advertiser_id=advertiser_id, page_info=page_info)
    assert (answer["code"], answer["message"]) == (40002, message)


def test_check_tells_which_words_are_on_the_list_in_either_query_encoding(sandbox, api,
                                                                          advertiser_id):
    create(api, advertiser_id, ["Spam"])
    answer = api.get("blockedword/check/", advertiser_id=advertiser_id,
                     blocked_words=["spam", " eggs ", "spam and eggs"])
    assert answer["data"] == {"results": [{"word": "spam", "blocked": True},
                                          {"word": "eggs", "blocked": False},
                                          {"word": "spam and eggs", "blocked": False}]}
    repeated = requests.get(f"{sandbox.base_url}{API}blockedword/check/", timeout=5,
                            params=[("advertiser_id", advertiser_id), ("blocked_words", "SPAM"),
                                    ("blocked_words", "ham")],
                            headers={"Access-Token": api.token}).json()
    assert repeated["data"]["results"] == [{"word": "SPAM", "blocked": True},
                                           {"word": "ham", "blocked": False}]


def test_update_replaces_a_word_and_refuses_one_that_is_not_listed(api, advertiser_id):
    create(api, advertiser_id, ["spam", "scam", "dm me"])
    body = {"advertiser_id": advertiser_id, "old_word": "SCAM", "new_word": " scammer "}
    assert api.post("blockedword/update/", body)["code"] == 0
    assert listed(api, advertiser_id) == ["scammer", "spam", "dm me"]

    answer = api.post("blockedword/update/", body)
    assert (answer["code"], answer["message"]) == (
        40002, "old_word: 'SCAM' is not on the blocked word list.")
    answer = api.post("blockedword/update/", {**body, "old_word": "spam", "new_word": ""})
    assert (answer["code"], answer["message"]) == (
        40002, "new_word: Missing data for required field.")
    # Renaming to a word that is listed already leaves that word once.
    assert api.post("blockedword/update/", {**body, "old_word": "spam",
                                            "new_word": "DM ME"})["code"] == 0
    assert listed(api, advertiser_id) == ["scammer", "dm me"]


# Access and permissions


def test_no_token_and_a_revoked_token_are_refused(sandbox, api, advertiser_id):
    assert api.get("blockedword/list/", token=None, advertiser_id=advertiser_id)["code"] == 40104
    token = sandbox.issue_token()
    sandbox.revoke_token(token)
    assert api.get("blockedword/list/", token=token,
                   advertiser_id=advertiser_id)["code"] == 40105


def test_an_advertiser_the_token_does_not_reach_is_refused(sandbox, truth):
    first, second = (a["advertiser_id"] for a in truth["advertisers"][:2])
    api = Api(sandbox.base_url, sandbox.issue_token([first]))
    answer = create(api, second, ["spam"])
    assert answer["code"] == 40106
    assert sandbox.blocked_words(second) == []


def test_reading_and_changing_need_the_blocked_word_permissions(sandbox, advertiser_id):
    without = [s for s in GRANTED_SCOPES if s not in (READ_BLOCKED_WORDS, WRITE_BLOCKED_WORDS)]
    no_scope = Api(sandbox.base_url, sandbox.issue_token(scopes=without))
    for answer in (
        no_scope.get("blockedword/list/", advertiser_id=advertiser_id),
        no_scope.get("blockedword/check/", advertiser_id=advertiser_id, blocked_words=["a"]),
        no_scope.post("blockedword/task/create/", {"advertiser_id": advertiser_id}),
        create(no_scope, advertiser_id, ["spam"]),
    ):
        assert answer["code"] == 40001
        assert "Blocked Words permission" in answer["message"]

    read_only = Api(sandbox.base_url,
                    sandbox.issue_token(scopes=[*without, READ_BLOCKED_WORDS]))
    assert read_only.get("blockedword/list/", advertiser_id=advertiser_id)["code"] == 0
    answer = create(read_only, advertiser_id, ["spam"])
    assert answer["code"] == 40001
    assert "Write Blocked Words permission (15020200)" in answer["message"]
    assert sandbox.blocked_words(advertiser_id) == []


def test_a_user_who_may_only_read_the_advertiser_cannot_change_its_words(api, truth):
    advertiser_id = read_only_advertiser(truth)["advertiser_id"]
    answer = create(api, advertiser_id, ["spam"])
    assert (answer["code"], answer["message"]) == (
        40001, f"You don't have permission to operate this advertiser: {advertiser_id}.")
    assert listed(api, advertiser_id) == []


def test_the_endpoints_are_rate_limited_like_the_others(clock):
    with start_sandbox(small_config(clock, qps=1, qpm=1000)) as sb:
        api = Api(sb.base_url, sb.issue_token())
        advertiser_id = writable_advertiser(sb.ground_truth())["advertiser_id"]
        assert create(api, advertiser_id, ["spam"])["code"] == 0
        assert api.get("blockedword/list/", advertiser_id=advertiser_id)["code"] == 40100


def test_injected_faults_reach_the_endpoints_but_never_cut_a_download_short(clock):
    with start_sandbox(small_config(clock, fault_rate=1.0, stall_seconds=0.0)) as sb:
        api = Api(sb.base_url, sb.issue_token())
        advertiser_id = writable_advertiser(sb.ground_truth())["advertiser_id"]
        for _ in range(8):
            api.session.get(f"{sb.base_url}{API}blockedword/task/download/", timeout=5,
                            params={"advertiser_id": advertiser_id, "task_id": "1"},
                            headers={"Access-Token": api.token})
        kinds = set(sb.stats()["faults"])
        assert kinds and kinds <= {"http_5xx", "throttled", "internal_timeout", "stall"}


# What a blocked word does to comments


def test_a_comment_created_after_a_word_was_added_is_hidden_with_hit_blockedword(
        sandbox, api, advertiser_id):
    before = sandbox.add_comment("is shipping free?", advertiser_id)
    create(api, advertiser_id, ["free"])
    hit = sandbox.add_comment("Free shipping?", advertiser_id)
    clean = sandbox.add_comment("so carefree, love it", advertiser_id)
    other_account = sandbox.add_comment("free stuff",
                                        writable_advertiser(sandbox.ground_truth(), 1)
                                        ["advertiser_id"])
    assert [
        (row["hit_blockedword"], row["comment_status"])
        for row in (comment_row(sandbox, advertiser_id, hit),
                    comment_row(sandbox, advertiser_id, clean),
                    comment_row(sandbox, advertiser_id, before))
    ] == [(True, "HIDDEN"), (False, "PUBLIC"), (False, "PUBLIC")]
    assert comment_row(sandbox, None, other_account)["comment_status"] == "PUBLIC"


def test_with_hide_existing_a_word_added_hides_the_comments_already_there(clock):
    with start_sandbox(small_config(clock, blocked_words_hide_existing=True)) as sb:
        api = Api(sb.base_url, sb.issue_token())
        advertiser_id = writable_advertiser(sb.ground_truth())["advertiser_id"]
        before = sb.add_comment("is shipping FREE?", advertiser_id)
        create(api, advertiser_id, ["free"])
        row = comment_row(sb, advertiser_id, before)
        assert (row["hit_blockedword"], row["comment_status"]) == (True, "HIDDEN")


def test_removing_a_word_leaves_the_comments_it_hid_hidden(sandbox, api, advertiser_id):
    create(api, advertiser_id, ["free"])
    hidden = sandbox.add_comment("free stuff here", advertiser_id)
    api.post("blockedword/delete/", {"advertiser_id": advertiser_id, "blocked_words": ["free"]})
    later = sandbox.add_comment("free stuff again", advertiser_id)
    assert comment_row(sandbox, advertiser_id, hidden)["comment_status"] == "HIDDEN"
    assert comment_row(sandbox, advertiser_id, hidden)["hit_blockedword"] is True
    assert comment_row(sandbox, advertiser_id, later)["comment_status"] == "PUBLIC"


def test_a_comment_hidden_by_a_word_cannot_be_shown_or_hidden_by_hand(sandbox, api,
                                                                      advertiser_id):
    create(api, advertiser_id, ["free"])
    hidden = sandbox.add_comment("free stuff here", advertiser_id)
    for operation in ("PUBLIC", "HIDDEN"):
        answer = api.post("comment/status/update/", {
            "advertiser_id": advertiser_id, "comment_ids": [hidden], "operation": operation})
        assert (answer["code"], answer["message"]) == (
            40002, f"comment_ids: Comment {hidden} hit a blocked word; its status cannot be "
                   "changed by hand.")


def test_comments_arriving_live_are_screened_against_the_list():
    clock = ManualClock(1_760_000_000)
    with start_sandbox(small_config(clock, new_comments_per_minute=60.0)) as sb:
        api = Api(sb.base_url, sb.issue_token())
        advertiser_id = writable_advertiser(sb.ground_truth())["advertiser_id"]
        old = {c["comment_id"]: (c["hit_blockedword"], c["comment_status"])
               for c in sb.ground_truth(advertiser_id)["comments"]}
        create(api, advertiser_id, ["is"])  # in many of the generated English comments
        clock.advance(40 * 60)
        rows = sb.ground_truth(advertiser_id)["comments"]
        new = [c for c in rows if c["comment_id"] not in old]
        saying = [c for c in new if first_hit([Phrase.of("is")], c["content"])
                  and not c["can_delete"]]
        assert saying, "no arriving comment said the word"
        assert all(c["hit_blockedword"] and c["comment_status"] == "HIDDEN" for c in saying)
        assert {c["comment_id"]: (c["hit_blockedword"], c["comment_status"])
                for c in rows if c["comment_id"] in old} == old


# Export


def test_an_export_runs_then_succeeds_and_downloads_as_csv(sandbox, api, advertiser_id):
    create(api, advertiser_id, ["spam", 'say "hi", ok', "コーラ"])
    task = api.post("blockedword/task/create/", {"advertiser_id": advertiser_id,
                                                 "lang": "JA"})
    task_id = task["data"]["task_id"]
    query = {"advertiser_id": advertiser_id, "task_id": task_id}

    early = api.get("blockedword/task/download/", **query)
    assert early["code"] == 40201
    assert api.get("blockedword/task/check/", **query)["data"] == {"task_id": task_id,
                                                                  "status": "RUNNING"}
    assert api.get("blockedword/task/check/", **query)["data"]["status"] == "SUCCEED"

    response = requests.get(f"{sandbox.base_url}{API}blockedword/task/download/", params=query,
                            headers={"Access-Token": api.token}, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f"blocked_words_{task_id}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows == [["ブロックワード"], ["spam"], ['say "hi", ok'], ["コーラ"]]


def test_an_export_of_some_words_holds_those_on_the_list(clock):
    with start_sandbox(small_config(clock, blocked_word_export_running_checks=0)) as sb:
        api = Api(sb.base_url, sb.issue_token())
        advertiser_id = writable_advertiser(sb.ground_truth())["advertiser_id"]
        create(api, advertiser_id, ["spam", "scam", "dm me"])
        task_id = api.post("blockedword/task/create/", {
            "advertiser_id": advertiser_id, "blocked_words": ["SCAM", "dm me", "unlisted"]
        })["data"]["task_id"]
        query = {"advertiser_id": advertiser_id, "task_id": task_id}
        assert api.get("blockedword/task/check/", **query)["data"]["status"] == "SUCCEED"
        response = api.session.get(f"{sb.base_url}{API}blockedword/task/download/",
                                   params=query, headers={"Access-Token": api.token}, timeout=5)
        assert response.content.decode() == "Blocked word\r\nscam\r\ndm me\r\n"


def test_an_export_task_of_another_advertiser_or_a_bad_lang_is_refused(api, truth,
                                                                       advertiser_id):
    task_id = api.post("blockedword/task/create/",
                       {"advertiser_id": advertiser_id})["data"]["task_id"]
    other = writable_advertiser(truth, 1)["advertiser_id"]
    answer = api.get("blockedword/task/check/", advertiser_id=other, task_id=task_id)
    assert (answer["code"], answer["message"]) == (40002,
                                                   f"task_id: Task {task_id} does not exist.")
    answer = api.post("blockedword/task/create/", {"advertiser_id": advertiser_id,
                                                   "lang": "DE"})
    assert (answer["code"], answer["message"]) == (40002, "lang: Must be one of: EN, JA, ZH.")
