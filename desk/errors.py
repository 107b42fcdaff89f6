"""What a person can meet, and the words for it: one base class and one table.

Every error of Comment Desk's own that reaches a person derives from `DeskError`; its
`str()` is already a sentence that says what happened and what to do. Errors from TikTok come
from `tiktok_client.errors` (`TikTokError` and its kinds). `USER_ERRORS` is what pages catch,
and `message_for(error, noun)` turns any of them into the words a person reads, from the one
table `WORDING` below: the first row whose kind (and, where given, condition) matches speaks.

    DeskError
    ├── ActionRefused        a write refused before anything was sent
    ├── NotConnected         no working connection for the account
    ├── SyncAborted          a sync stopped as a whole (the token or the permission is gone)
    ├── SyncBusy             the account is already syncing in this app
    ├── ConnectionDenied     TikTok's consent screen gave nothing to connect
    ├── StoreError           the analytics database cannot be used as asked
    │   └── StoreLocked      another process holds the database file
    ├── CredentialsError     the credentials file cannot be read
    ├── StateError           an OAuth state that cannot be accepted (kinds: desk.connect.state)
    ├── AccountNotConnected  no tokens are stored for the business account
    ├── AccountNeedsReconnect  its refresh token has ended or was refused
    ├── TokenUnavailable     renewing an expired access token failed for now
    ├── NotAllowed           the person's role does not allow it (desk.people)
    ├── RuleError            a rule or rules file that cannot be used (desk.moderation)
    │   └── RegexTooSlow     a rule's regex ran out of time on too many comments
    ├── BlockedWordsRefused  TikTok refused a call on an ad account's blocked-word list
    ├── KeyFileError         the key file cannot be made or read (desk.connect.keys)
    └── NotebookError        a notebook cell refused, timed out or failed (desk.notebook)

`noun` names the kind of account the error is about ("ad account" or "TikTok account"), so
the same table words trouble for either comment source.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tiktok_client import errors as api
from tiktok_client.client import MAX_REPLY_LENGTH
from tiktok_client.learned import stated_limit
from tiktok_client.marketing_limits import ReplyTooLong

AD_ACCOUNT = "ad account"
TIKTOK_ACCOUNT = "TikTok account"


class DeskError(Exception):
    """An error a person can meet and act on; ``str()`` says what happened and what to do."""


class ActionRefused(DeskError):
    """The write was refused before anything was sent; ``str()`` is the human reason."""


class NotConnected(DeskError):
    """No usable connection grants the account."""


class SyncBusy(DeskError):
    """A sync of this account is already running in this app."""

    def __init__(self, noun: str = AD_ACCOUNT) -> None:
        super().__init__(
            f"A sync of this {noun} is already running (perhaps the automatic one); "
            "wait for it to finish, then look again."
        )


class ConnectionDenied(DeskError):
    """The account holder did not grant access on TikTok's consent screen."""


class SyncAborted(DeskError):
    """The whole run stopped: the token or the permissions are gone. ``error`` says which."""

    def __init__(self, error: api.TikTokError, noun: str = AD_ACCOUNT):
        super().__init__(str(error))
        self.error = error
        self.noun = noun


class StoreError(DeskError):
    """The analytics database cannot be used as asked."""


class StoreLocked(StoreError):
    """Another process holds the database file."""

    def __init__(self, path: str):
        super().__init__(
            f"the database {path} is in use by another Comment Desk process (the app?). "
            "Stop it or sync from the app."
        )
        self.path = path


class RuleError(DeskError, ValueError):
    """A rule or rules file that cannot be used; ``str()`` is the reason, in one line."""


class RegexTooSlow(RuleError):
    """A rule's regex ran out of time on too many comments in one pass."""


class BlockedWordsRefused(DeskError):
    """TikTok refused a call on an ad account's blocked-word list; ``error`` is its answer
    (worded for the list, not for comments)."""

    def __init__(self, error: api.TikTokError) -> None:
        super().__init__(str(error))
        self.error = error


class CredentialsError(DeskError):
    """The credentials file cannot be read: wrong key, or damaged."""


class StateError(DeskError):
    """The state that came back with TikTok's redirect cannot be accepted.

    `str()` says what happened and what to do next; nothing was connected. Its kinds (missing,
    forged, expired, reused) are in desk.connect.state.
    """

    message = "The connection could not be confirmed. Click Connect to start again."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)


class AccountNotConnected(DeskError):
    """No tokens are stored for this business account."""


class AccountNeedsReconnect(DeskError):
    """The account's refresh token has ended or was refused; ``str()`` says what to do."""


class TokenUnavailable(DeskError):
    """The access token has expired and renewing it failed for now (network, TikTok busy);
    the stored tokens are unchanged, so trying again later is safe."""


USER_ERRORS: tuple[type[BaseException], ...] = (DeskError, api.TikTokError)
"""Errors a person can meet and act on: pages catch these and show `message_for`."""

FIRST_LEVEL_ONLY = (
    "Only first-level comments can be answered; reply to the original comment instead."
)
RECONNECT_TIKTOK_ACCOUNT = (
    "The connection to this TikTok account no longer works; reconnect the TikTok account on "
    "the Home page, then retry."
)


def message_for(error: BaseException, noun: str = AD_ACCOUNT) -> str:
    """What happened and what to do next, for any error a person can meet."""
    for row in WORDING:
        if isinstance(error, row.kind) and (row.when is None or row.when(error)):
            return row.words(error, noun)
    return (
        f"Something went wrong in Comment Desk ({type(error).__name__}); try again, and if it "
        "keeps happening report it to whoever runs Comment Desk."
    )


# ---------------------------------------------------------------------------------------------
# The table


@dataclass(frozen=True)
class Wording:
    """One row of the table: errors of `kind` (for which `when` holds) read as `words`."""

    kind: type[BaseException] | tuple[type[BaseException], ...]
    words: Callable[[BaseException, str], str]
    when: Callable[[BaseException], bool] | None = None


def _said(text: str) -> Callable[[BaseException, str], str]:
    return lambda error, noun: text


def _own_words(error: BaseException, noun: str) -> str:
    return str(error)


def _organic(noun: str) -> bool:
    return noun == TIKTOK_ACCOUNT


def _sentence(text: str) -> str:
    return text.strip().rstrip(".")[:200]


def _reference(error: BaseException) -> str:
    request_id = getattr(error, "request_id", None)
    return f" (TikTok request ID {request_id})" if request_id else ""


def _aborted(error: BaseException, noun: str) -> str:
    assert isinstance(error, SyncAborted)
    return message_for(error.error, error.noun)


def _token(error: BaseException, noun: str) -> str:
    if _organic(noun):
        return RECONNECT_TIKTOK_ACCOUNT
    return (
        "The connection to this TikTok ad account no longer works; reconnect the account on "
        "the Home page, then retry."
    )


def _permission(error: BaseException, noun: str) -> str:
    if _organic(noun):
        return (
            "TikTok does not allow managing this comment as this TikTok account; reconnect "
            "the TikTok account on the Home page and grant the comment-management permission."
        )
    text = getattr(error, "message", "").lower()
    if "comment_manage" in text or "comment management" in text or "identity" in text:
        return (
            "The ad's identity has not given comment-management permission, so no reply can be "
            "posted as it; ask the owner of that TikTok account to authorize comment management."
        )
    return (
        "TikTok refused this connection permission to reply to or hide comments on this ad "
        "account; ask the ad account's owner to give you comment management permission in "
        "TikTok (Business Center or Ads Manager), or reconnect the account on the Home page and "
        "grant the Ad Comments permission."
    )


def _invalid(error: BaseException, noun: str) -> str:
    assert isinstance(error, api.InvalidRequest)
    text = error.message.lower()
    if "first-level" in text or "first level" in text or "top-level comments can" in text:
        return FIRST_LEVEL_ONLY
    if isinstance(error, ReplyTooLong):
        size = f"{error.length} characters long" if error.length else "too long"
        return (
            f"The reply is {size}; TikTok takes at most {error.limit} "
            "characters in a reply to an ad comment, so shorten it and send again."
        )
    length = re.search(r"(\d+) characters long", text)
    if length or "length must be" in text or "too long" in text:
        size = f"{length.group(1)} characters long" if length else "too long"
        limit = stated_limit(text) or MAX_REPLY_LENGTH
        return (
            f"The reply is {size}; TikTok takes at most {limit} characters, so "
            "shorten it and send again."
        )
    if "empty" in text or "blank" in text:
        return "The reply is empty; write some text first."
    if error.code in (40300, 40301):
        return (
            f"TikTok does not know this {noun} (it may have been deleted or the ID is wrong); "
            "check it on the Advertisers page, or reconnect the account on the Home page."
            f"{_reference(error)}"
        )
    if "blocked word" in text or "blockedword" in text:
        return (
            "TikTok does not let comments that hit a word on the blocked-word list be hidden or "
            "unhidden by hand; change the blocked-word list on the Blocked words page instead."
        )
    if "does not exist" in text or "not found" in text or error.code == 40007:
        return (
            "TikTok no longer has this comment or its ad (it may have been deleted); sync the "
            f"{noun} to refresh the list."
        )
    if "identity" in text or "video" in text:
        return f"TikTok says the ad's video or identity has changed; sync the {noun} and try again."
    what = f" ({_sentence(error.message)})" if error.message else ""
    return (f"TikTok did not accept the request{what}; sync the {noun} and try again."
            f"{_reference(error)}")


def _unreachable(error: BaseException) -> bool:
    return (isinstance(error, api.TransportError) and error.status is None
            and not error.possibly_applied)


def _tiktok(error: BaseException, noun: str) -> str:
    message = getattr(error, "message", "")
    what = f" ({_sentence(message)})" if message else ""
    return (
        f"TikTok returned an error{what}; try again later, and if it keeps happening contact "
        f"TikTok support.{_reference(error)}"
    )


def _blocked_words(error: BaseException, noun: str) -> str:
    assert isinstance(error, BlockedWordsRefused)
    cause = error.error
    said = (cause.message or "").lower()
    if isinstance(cause, api.PermissionDenied):
        return (
            "TikTok refused this connection permission to read or change the ad account's "
            "blocked-word list; ask the ad account's owner to give you that permission in "
            "TikTok (Business Center or Ads Manager), or reconnect the account on the Home "
            "page and grant the Blocked Words permissions."
        )
    if isinstance(cause, api.InvalidRequest):
        limit = stated_limit(cause.message)
        if "character" in said or "too long" in said:
            most = f"at most {limit} characters" if limit else "only shorter words"
            return (f"TikTok takes blocked words of {most}; shorten the longer ones and "
                    "try again.")
        if "empty" in said or "blank" in said:
            return "A blocked word is empty; write the word first."
    return message_for(cause, noun)


def _store_locked(error: BaseException, noun: str) -> str:
    return f"{error} Comment Desk cannot open its database while another process uses it."


WORDING: tuple[Wording, ...] = (
    Wording(SyncAborted, _aborted),
    Wording(AccountNeedsReconnect, _said(RECONNECT_TIKTOK_ACCOUNT)),
    Wording(AccountNotConnected, _said(
        "This TikTok account is not connected; connect it on the Home page, then retry.")),
    Wording(StoreLocked, _store_locked),
    Wording(BlockedWordsRefused, _blocked_words),
    Wording(DeskError, _own_words),  # written as what happened and what to do
    Wording((api.AccessTokenExpired, api.RefreshTokenError), _said(RECONNECT_TIKTOK_ACCOUNT)),
    Wording(api.OutcomeUnknown, _said(
        "TikTok did not confirm whether the change was made (its answer was lost); Retry "
        "checks TikTok first, so nothing is ever done twice.")),
    Wording(api.PermissionDenied, _permission),
    Wording(api.InvalidRequest, _invalid),
    Wording(api.RateLimited, _said(
        "TikTok is limiting how fast this app may send requests; wait a minute and retry.")),
    Wording(api.TokenError, _token),
    Wording(api.AuthCodeError, _said(
        "TikTok did not accept the authorization (the code expired, was already used, or "
        "the app's ID and secret do not match); click Connect to start again on the Home "
        "page.")),
    Wording(api.AppUnavailable, lambda error, noun: (
        "TikTok reports this app (the TIKTOK_CLIENT_KEY app) as blocked or non-existent; check "
        "the app ID and its secret in the settings and the app's status in the TikTok developer "
        "portal. Nothing can be connected or synced until it is fixed."
        f"{_reference(error)}")),
    Wording(api.TransportError, lambda error, noun: (
        "Comment Desk could not reach TikTok (the network or TikTok is down); the "
        "comments already stored stay readable. Try again when the connection is back."
        f"{_reference(error)}"), when=_unreachable),
    Wording((api.ServerError, api.TransportError, api.MalformedResponse), lambda error, noun: (
        f"TikTok had trouble answering; try again in a few minutes.{_reference(error)}")),
    Wording(api.PartialSuccess, lambda error, noun: (
        "TikTok carried out only part of the request; sync to see which comments changed, "
        f"then retry the rest.{_reference(error)}")),
    Wording(api.TikTokError, _tiktok),
)
"""Every error kind a person can meet, first match wins, with its words."""
