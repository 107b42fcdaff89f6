"""What the client learns from TikTok: the store of values and the reading of refusals."""

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiktok_client.errors import InvalidRequest, ServerError, TikTokError
from tiktok_client.learned import (
    AD_PAGE_SIZE,
    AD_REPLY_LENGTH,
    COMMENT_WINDOW_DAYS,
    KEYS,
    SMART_PLUS_AD_PAGE_SIZE,
    Learned,
    rejects,
    stated_limit,
    step_down,
)

LADDER = (1000, 500, 200, 100, 50, 20, 10)


# -- stated_limit ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "limit"),
    [
        ("page_size: Must be between 1 and 1000.", 1000),
        ("page_size: Must be between 1 and 1,000.", 1000),
        ("page_size: Must be greater than or equal to 1 and less than or equal to 500.", 500),
        ("page_size should be in the range [1, 100]", 100),
        ("page_size: range 1-500", 500),
        ("page_size must be in [1, 200]", 200),
        ("The time span between start_time and end_time must not exceed 30 days.", 30),
        ("end_time: time range should be less than 31 days", 30),
        ("text: Length must be less than or equal to 500.", 500),
        ("text: length must be <= 300", 300),
        ("text: at most 150 characters", 150),
        ("text: max 150", 150),
        ("The maximum length of text is 1,200 characters", 1200),
        ("text can be up to 1200 characters", 1200),
        ("text: cannot be longer than 280 characters", 280),
        ("page_size: no more than 100 is allowed", 100),
        ("page_size between 1 and 1000; at most 500 per page for this filter", 500),
    ],
)
def test_stated_limit_reads_tiktok_style_messages(message, limit):
    assert stated_limit(message) == limit


@pytest.mark.parametrize(
    "message",
    [
        "",
        None,
        "start_time: Not a valid date.",
        "text: Missing data for required field.",
        "end_time must be later than start_time",
        "Invalid page_size.",
        "page_size: Must be greater than or equal to 1.",
        "comment 7400000000000000001 does not exist",
    ],
)
def test_stated_limit_is_none_when_the_message_states_no_limit(message):
    assert stated_limit(message) is None


# -- rejects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [40000, 40002])
def test_a_40000_or_40002_naming_the_parameter_rejects_it(code):
    error = InvalidRequest("page_size: Must be between 1 and 1000.", code, "req-1")

    assert rejects(error, "page_size")
    assert rejects(error, "PAGE_SIZE")


@pytest.mark.parametrize(
    ("message", "parameter"),
    [
        ("page_size: Must be between 1 and 1000.", "page"),
        ("ad_text: too long", "text"),
        ("text_id: unknown", "text"),
        ("filtering: ad_ids has at most 100 items", "page_size"),
    ],
)
def test_a_parameter_is_named_only_as_a_whole_word(message, parameter):
    assert not rejects(InvalidRequest(message, 40002), parameter)


@pytest.mark.parametrize(
    "error",
    [
        InvalidRequest("page_size: Must be between 1 and 1000."),  # refused before sending
        InvalidRequest("page_size: Must be between 1 and 1000.", 40007),
        ServerError("page_size: internal timeout", 51010),
        TikTokError("page_size: Must be between 1 and 1000.", 41001),
        ValueError("page_size must be at least 1"),
    ],
    ids=["local", "40007", "51010", "unknown code", "not from TikTok"],
)
def test_other_failures_are_not_rejections(error):
    assert not rejects(error, "page_size")


def test_a_40002_is_a_rejection_whatever_class_the_code_table_gives_it():
    assert rejects(TikTokError("page_size: Must be between 1 and 1000.", 40002), "page_size")


# -- step_down --------------------------------------------------------------------------------


def test_step_down_goes_to_the_stated_limit_when_it_is_smaller():
    assert step_down(1000, LADDER, "page_size: Must be between 1 and 300.") == 300


def test_step_down_takes_the_next_rung_when_no_limit_is_stated():
    assert step_down(1000, LADDER, "Invalid page_size.") == 500
    assert step_down(500, LADDER) == 200
    assert step_down(700, LADDER) == 500


def test_step_down_ignores_a_stated_limit_that_is_not_smaller():
    assert step_down(500, LADDER, "page_size: Must be between 1 and 1000.") == 200


def test_step_down_ends_below_the_smallest_rung():
    assert step_down(10, LADDER, "Invalid page_size.") is None
    assert step_down(1, LADDER) is None


@given(
    refused=st.integers(min_value=1, max_value=10_000),
    message=st.one_of(
        st.text(max_size=60),
        st.integers(min_value=-5, max_value=20_000).map(lambda n: f"must not exceed {n}"),
    ),
)
def test_step_down_always_goes_down_so_a_ladder_ends(refused, message):
    smaller = step_down(refused, LADDER, message)

    assert smaller is None or 1 <= smaller < refused


# -- Learned ----------------------------------------------------------------------------------


def test_learn_remembers_a_value_and_reports_only_changes():
    changes = []
    learned = Learned(on_change=lambda key, value: changes.append((key, value)))

    assert learned.learn(AD_PAGE_SIZE, 500) is True
    assert learned.learn(AD_PAGE_SIZE, 500) is False
    assert learned.get(AD_PAGE_SIZE) == 500
    assert changes == [(AD_PAGE_SIZE, 500)]


def test_lower_only_ever_lowers_a_limit():
    changes = []
    learned = Learned({AD_REPLY_LENGTH: 500}, on_change=lambda k, v: changes.append((k, v)))

    assert learned.lower(AD_REPLY_LENGTH, 800) is False
    assert learned.lower(AD_REPLY_LENGTH, 500) is False
    assert learned.lower(AD_REPLY_LENGTH, 150) is True
    assert learned.get(AD_REPLY_LENGTH) == 150
    assert changes == [(AD_REPLY_LENGTH, 150)]


def test_lower_replaces_a_value_that_is_no_limit():
    learned = Learned({COMMENT_WINDOW_DAYS: "thirty"})

    assert learned.lower(COMMENT_WINDOW_DAYS, 30) is True
    assert learned.get(COMMENT_WINDOW_DAYS) == 30


@pytest.mark.parametrize("stored", [None, "500", 0, -3, True, 2.5, [500]])
def test_get_limit_ignores_stored_values_that_are_no_limit(stored):
    learned = Learned({} if stored is None else {AD_PAGE_SIZE: stored})

    assert learned.get_limit(AD_PAGE_SIZE, 1000) == 1000


def test_get_limit_returns_a_learned_limit():
    assert Learned({AD_PAGE_SIZE: 200}).get_limit(AD_PAGE_SIZE, 1000) == 200


def test_the_smallest_limit_wins_when_many_threads_lower_at_once():
    learned = Learned()

    def lower(value: int) -> None:
        for _ in range(200):
            learned.lower(COMMENT_WINDOW_DAYS, value)

    threads = [threading.Thread(target=lower, args=(v,)) for v in (90, 30, 7, 14, 60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert learned.get(COMMENT_WINDOW_DAYS) == 7


def test_snapshot_is_a_copy_and_every_key_is_listed():
    learned = Learned({AD_PAGE_SIZE: 500})
    snapshot = learned.snapshot()
    snapshot[AD_PAGE_SIZE] = 1

    assert learned.get(AD_PAGE_SIZE) == 500
    assert set(KEYS) == {AD_PAGE_SIZE, SMART_PLUS_AD_PAGE_SIZE, COMMENT_WINDOW_DAYS,
                         AD_REPLY_LENGTH}
    assert len(set(KEYS)) == len(KEYS)

