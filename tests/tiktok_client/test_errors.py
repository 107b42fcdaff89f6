"""TikTok error codes map to errors a person can act on."""

import pickle

import pytest

from tiktok_client.errors import (
    AccessTokenExpired,
    AppUnavailable,
    AuthCodeError,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    PartialSuccess,
    PermissionDenied,
    RateLimited,
    RefreshTokenError,
    ServerError,
    TikTokError,
    TokenError,
    TransportError,
    error_for,
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (40102, AccessTokenExpired),
        (40103, RefreshTokenError),
        (40107, RefreshTokenError),
        (40104, TokenError),
        (40105, TokenError),
        (40106, TokenError),
        (40101, AuthCodeError),
        (40110, AuthCodeError),
        (40115, AuthCodeError),
        (40131, AuthCodeError),
        (40113, AppUnavailable),
        (40001, PermissionDenied),
        (40125, PermissionDenied),
        (40130, PermissionDenied),
        (40003, PermissionDenied),
        (40000, InvalidRequest),
        (40002, InvalidRequest),
        (40007, InvalidRequest),
        (40011, InvalidRequest),
        (40108, InvalidRequest),
        (40300, InvalidRequest),
        (40301, InvalidRequest),
        (40100, RateLimited),
        (40133, RateLimited),
        (40016, RateLimited),
        (61000, RateLimited),
        (40132, RateLimited),
        (50000, ServerError),
        (50002, ServerError),
        (51010, ServerError),
        (60001, ServerError),
        (51000, ServerError),
        (51099, ServerError),
        (52000, ServerError),
        (52103, ServerError),
        (52999, ServerError),
        (53102, ServerError),
        (53103, ServerError),
        (20001, PartialSuccess),
    ],
)
def test_each_known_code_picks_its_error_class(code, expected):
    error = error_for(code, "msg", "req-1")

    assert type(error) is expected
    assert (error.code, error.message, error.request_id) == (code, "msg", "req-1")


def test_account_token_states_are_token_errors_with_their_own_advice():
    expired = error_for(40102, "Access token has expired", "r1")
    ended = error_for(40103, "Refresh token has expired", "r2")

    assert isinstance(expired, TokenError)
    assert isinstance(ended, TokenError)
    assert "refresh token" in str(expired) and "send the request again" in str(expired)
    assert "Reconnect the TikTok account" in str(ended)
    assert "Renew" not in str(ended)


def test_an_unknown_code_gives_the_base_error_with_the_api_message():
    error = error_for(41001, "Interface offline", "req-9")

    assert type(error) is TikTokError
    assert error.message == "Interface offline"
    assert "Interface offline" in str(error)
    assert "code 41001" in str(error)


def test_the_sentence_says_what_happened_what_to_do_and_the_reference():
    error = error_for(40105, "Access token is incorrect", "2025ABC")

    text = str(error)

    assert text.startswith("The connection to this TikTok ad account no longer works: ")
    assert "Access token is incorrect." in text
    assert "Reconnect the account" in text
    assert text.endswith("(code 40105, request_id 2025ABC)")


def test_the_reference_is_left_out_when_unknown():
    text = str(TransportError("the connection was refused"))

    assert "code" not in text
    assert "request_id" not in text
    assert text.endswith("Check the network connection and try again.")


def test_permission_denied_asks_the_owner_for_comment_management_not_for_a_role():
    hint = PermissionDenied.hint

    assert "reply to or hide comments" in hint
    assert "ask the account's owner to give you comment management permission" in hint
    assert "Business Center or Ads Manager" in hint
    assert "Ad Comments" in hint
    assert not any(role in hint for role in ("Analyst", "Admin", "Operator"))


def test_a_local_refusal_is_an_invalid_request_without_a_code():
    error = InvalidRequest(code=None, message="The reply is 151 characters long")

    assert error.code is None
    assert "The reply is 151 characters long" in str(error)


@pytest.mark.parametrize(
    ("cls", "retryable"),
    [
        (RateLimited, True),
        (ServerError, True),
        (TransportError, True),
        (MalformedResponse, True),
        (TokenError, False),
        (AuthCodeError, False),
        (AppUnavailable, False),
        (PermissionDenied, False),
        (InvalidRequest, False),
        (OutcomeUnknown, False),
        (TikTokError, False),
    ],
)
def test_retryable_marks_errors_where_repeating_a_read_can_help(cls, retryable):
    assert cls.retryable is retryable
    assert cls("x").retryable is retryable


def test_a_transport_error_can_say_it_is_final_and_certainly_not_applied():
    error = TransportError("HTTP 404", status=404, retryable=False, possibly_applied=False)

    assert (error.status, error.retryable, error.possibly_applied) == (404, False, False)


def test_throttling_and_rejections_certainly_did_not_apply_a_write():
    assert not RateLimited.possibly_applied
    assert not TokenError.possibly_applied
    assert ServerError.possibly_applied
    assert MalformedResponse.possibly_applied


def test_outcome_unknown_carries_its_cause_and_its_reference():
    cause = ServerError("System error", 50000, "req-5")

    error = OutcomeUnknown.from_cause(cause, "POST comment/post/")

    assert error.cause is cause
    assert (error.code, error.request_id) == (50000, "req-5")
    assert str(error).startswith(
        "It is not known whether TikTok carried out the change: POST comment/post/ was sent"
    )
    assert "Check the current state on TikTok" in str(error)


def test_every_error_is_a_tiktok_error():
    for code in (40105, 40110, 40113, 40001, 40000, 40100, 50000, 52001, 99999):
        assert isinstance(error_for(code, "", None), TikTokError)
    assert issubclass(OutcomeUnknown, TikTokError)
    assert issubclass(TransportError, TikTokError)


@pytest.mark.parametrize(
    "error",
    [
        TokenError("revoked", 40105, "r1"),
        TransportError("HTTP 404", status=404, retryable=False, possibly_applied=False),
        OutcomeUnknown("lost", cause=ServerError("System error", 50000)),
    ],
)
def test_errors_survive_pickling(error):
    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is type(error)
    assert str(copy) == str(error)
