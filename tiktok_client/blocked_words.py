"""An ad account's blocked-word list (Marketing API v1.3 ``blockedword/*``).

A comment that contains a blocked word is hidden from everyone but its author; comment/list
marks it ``hit_blockedword``, and it cannot be hidden or unhidden by hand. Reach the calls as
``client.blocked_words`` (a :class:`BlockedWords` bound to the client)::

    words = client.blocked_words
    words.add(advertiser_id, ["free money", "scam"])
    [w.word for w in words.list(advertiser_id)]
    words.check(advertiser_id, ["scam", "nice"])        # {"scam": True, "nice": False}
    words.rename(advertiser_id, "scam", "scammer")
    words.remove(advertiser_id, ["free money"])
    task_id = words.create_export(advertiser_id)
    words.export_status(advertiser_id, task_id)         # "RUNNING", then "SUCCEED"
    csv_bytes = words.download_export(advertiser_id, task_id)

Every call goes through the client's one request path: the rate limit, retries, typed errors,
and no token in any message. Changes (add, remove, rename) are never sent twice blindly: when
a change was sent and its answer was lost, :class:`~tiktok_client.errors.OutcomeUnknown` is
raised; :meth:`BlockedWords.check` tells what took effect. Creating an export task changes
nothing a person sees and a second task is harmless, so it is retried like a read.

Words are trimmed before sending, an empty one is refused with
:class:`~tiktok_client.errors.InvalidRequest` before anything is sent, and a word given twice
(in any case) is sent once.

Limits no source settles are learned at run time and kept in ``client.learned``:

- blockedword/list/'s ``page_size`` starts at 500 (TikTok's OpenAPI: 1-500) and, when TikTok
  refuses it, steps down to the limit its message states or 200, 100, 50, 20, 10 (key
  :data:`LIST_PAGE_SIZE`); paging restarts without repeating a word.
- How many words one create, delete or check call takes: no source gives it. At most
  :data:`WORDS_PER_CALL` (100, the size of TikTok's other lists) go in one call, so a caller
  may pass any number; when TikTok refuses a call's count stating a smaller limit, that limit
  is learned (key ``blockedword/<create|delete|check>.words_per_call``) and the rest is sent
  in calls of that size. A refused call changed nothing, so nothing is sent twice; when a
  later call fails, the earlier calls' words stay added (or removed).
- The longest word: no source. A word TikTok refuses as too long raises InvalidRequest with
  TikTok's message, which states the limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from .checks import check_choice, check_page
from .errors import InvalidRequest, MalformedResponse, TikTokError
from .learned import rejects, stated_limit
from .models import BlockedWord, Page, PageInfo
from .paging import iter_stepping_pages
from .parsing import as_bool, as_id, as_text, entries, first

if TYPE_CHECKING:
    from .client import TikTokClient

__all__ = [
    "EXPORT_LANGS",
    "LIST_PAGE_SIZE",
    "LIST_PAGE_SIZES",
    "MAX_LIST_PAGE_SIZE",
    "WORDS_PER_CALL",
    "BlockedWords",
    "ExportLang",
    "words_per_call_key",
]

log = logging.getLogger(__name__)

LIST_PAGE_SIZE = "blockedword/list.page_size"
"""The largest ``page_size`` blockedword/list/ accepted (start: 500)."""
MAX_LIST_PAGE_SIZE = 500
"""blockedword/list/'s largest page in TikTok's OpenAPI description (1-500, default 10)."""
LIST_PAGE_SIZES = (500, 200, 100, 50, 20, 10)
"""Page sizes tried after a refusal that states no limit, largest first."""
WORDS_PER_CALL = 100
"""The most words sent in one create, delete or check call until TikTok states a limit."""
ExportLang = Literal["EN", "JA", "ZH"]
"""The language of an export's file (TikTok's default: EN)."""
EXPORT_LANGS: tuple[ExportLang, ...] = ("EN", "JA", "ZH")


def words_per_call_key(endpoint: str) -> str:
    """The learned key of how many words one call of ``endpoint`` ("blockedword/create")
    takes."""
    return f"{endpoint}.words_per_call"


class BlockedWords:
    """The blocked-word calls of one :class:`~tiktok_client.client.TikTokClient`: its token,
    rate limiter, learned limits and statistics."""

    def __init__(self, client: TikTokClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"BlockedWords({self._client!r})"

    # -- reading -------------------------------------------------------------------------

    def page_size(self) -> int:
        """The page size blockedword/list/ is asked for: the one learned, else 500."""
        return self._client.learned.get_limit(LIST_PAGE_SIZE, MAX_LIST_PAGE_SIZE)

    def page(self, advertiser_id: str, page: int = 1, page_size: int | None = None
             ) -> Page[BlockedWord]:
        """One page of the advertiser's blocked words (``page_size`` None:
        :meth:`page_size`)."""
        size = self.page_size() if page_size is None else page_size
        check_page(page, size)
        params = {"advertiser_id": str(advertiser_id),
                  "page_info": {"page": page, "page_size": size}}
        return _word_page(self._client._request("GET", "blockedword/list/", params=params))

    def iter_words(self, advertiser_id: str, page_size: int | None = None
                   ) -> Iterator[BlockedWord]:
        """Every blocked word of the advertiser, page after page, each once (ignoring case).

        Pages are as large as TikTok allows: ``page_size`` (None: 500), never above a size
        learned from TikTok; a refused size steps down as the module docstring says."""
        if page_size is not None:
            check_page(1, page_size)
        wanted = MAX_LIST_PAGE_SIZE if page_size is None else page_size
        return iter_stepping_pages(
            lambda page, size: self.page(advertiser_id, page, size),
            min(wanted, self.page_size()),
            LIST_PAGE_SIZES,
            learn=partial(self._client.learned.learn, LIST_PAGE_SIZE),
            key=lambda item: item.word.casefold(),
        )

    def check(self, advertiser_id: str, words: Sequence[str]) -> dict[str, bool]:
        """Whether each of ``words`` is on the advertiser's list (TikTok compares whole
        words, not phrases in a comment): ``{word: blocked}``, keyed by the words as given
        (trimmed). A word TikTok's answer leaves out is left out."""
        asked = _clean(words)
        found: dict[str, bool] = {}

        def send(chunk: list[str]) -> None:
            params = {"advertiser_id": str(advertiser_id), "blocked_words": chunk}
            data = self._client._request("GET", "blockedword/check/", params=params)
            for entry in entries(data.get("results")):
                word, blocked = as_text(entry.get("word")), as_bool(entry.get("blocked"))
                if word is not None and blocked is not None:
                    found[word.strip().casefold()] = blocked

        self._in_calls("blockedword/check", asked, send)
        return {word: found[word.casefold()] for word in asked if word.casefold() in found}

    # -- changing ------------------------------------------------------------------------

    def add(self, advertiser_id: str, words: Sequence[str]) -> None:
        """Add ``words`` (any number) to the advertiser's list. Comments that contain one are
        hidden from then on."""
        self._in_calls("blockedword/create", _clean(words),
                       partial(self._change, "blockedword/create/", advertiser_id))

    def remove(self, advertiser_id: str, words: Sequence[str]) -> None:
        """Take ``words`` (any number) off the advertiser's list."""
        self._in_calls("blockedword/delete", _clean(words),
                       partial(self._change, "blockedword/delete/", advertiser_id))

    def rename(self, advertiser_id: str, old: str, new: str) -> None:
        """Replace the blocked word ``old`` with ``new`` (blockedword/update/)."""
        old_word, new_word = _clean([old]), _clean([new])
        body = {"advertiser_id": str(advertiser_id), "old_word": old_word[0],
                "new_word": new_word[0]}
        self._client._request("POST", "blockedword/update/", json=body, write=True)

    # -- exporting -----------------------------------------------------------------------

    def create_export(self, advertiser_id: str, words: Sequence[str] | None = None,
                      lang: ExportLang | None = None) -> str:
        """Start exporting the advertiser's list (only ``words`` of it, when given) to a file
        in ``lang`` (None: TikTok's default, EN); returns the task's ID."""
        body: dict[str, Any] = {"advertiser_id": str(advertiser_id)}
        if words is not None:
            body["blocked_words"] = _clean(words)
        if lang is not None:
            check_choice("lang", lang, EXPORT_LANGS)
            body["lang"] = lang
        data = self._client._request("POST", "blockedword/task/create/", json=body)
        task_id = as_id(data.get("task_id"))
        if not task_id:
            raise MalformedResponse("blockedword/task/create/ answered without a task_id")
        return task_id

    def export_status(self, advertiser_id: str, task_id: str) -> str:
        """The export task's status as TikTok says it: RUNNING, SUCCEED or FAILED."""
        params = {"advertiser_id": str(advertiser_id), "task_id": str(task_id)}
        data = self._client._request("GET", "blockedword/task/check/", params=params)
        status = as_text(data.get("status"))
        if not status:
            raise MalformedResponse("blockedword/task/check/ answered without a status")
        return status

    def download_export(self, advertiser_id: str, task_id: str) -> bytes:
        """The finished export's file (CSV), as TikTok sends it. Before the task has
        succeeded TikTok refuses it (40201, task not ready: a
        :class:`~tiktok_client.errors.TikTokError`)."""
        params = {"advertiser_id": str(advertiser_id), "task_id": str(task_id)}
        data = self._client._request("GET", "blockedword/task/download/", params=params,
                                     file=True)
        content = data.get("file")
        if isinstance(content, bytes):
            return content
        raise MalformedResponse("blockedword/task/download/ answered with data "
                                f"({', '.join(sorted(data)) or 'none'}) instead of a file")

    # -- request shapes ------------------------------------------------------------------

    def _change(self, path: str, advertiser_id: str, chunk: list[str]) -> None:
        body = {"advertiser_id": str(advertiser_id), "blocked_words": chunk}
        self._client._request("POST", path, json=body, write=True)

    def _in_calls(self, endpoint: str, words: list[str],
                  send: Callable[[list[str]], None]) -> None:
        """``send`` the words in calls of at most the number ``endpoint`` takes; when TikTok
        refuses a call's count stating a smaller limit, learn it and go on at that size."""
        key = words_per_call_key(endpoint)
        learned = self._client.learned
        size = learned.get_limit(key, WORDS_PER_CALL)
        done = 0
        while done < len(words):
            chunk = words[done:done + size]
            try:
                send(chunk)
            except TikTokError as err:
                limit = _count_refused(err, len(chunk))
                if limit is None:
                    raise
                log.info("%s refused %d words (code %s); sending %d at a time", endpoint,
                         len(chunk), err.code, limit)
                learned.lower(key, limit)
                size = limit
                continue
            done += len(chunk)

    def list(self, advertiser_id: str) -> list[BlockedWord]:  # last: it shadows list below
        """Every blocked word of the advertiser (:meth:`iter_words`)."""
        return [*self.iter_words(advertiser_id)]


def _clean(words: Sequence[str]) -> list[str]:
    """The words trimmed, each once (ignoring case); an empty one is refused."""
    if isinstance(words, str):
        raise TypeError("words must be a list of words, not a single string")
    cleaned: dict[str, str] = {}
    for word in words:
        if not isinstance(word, str):
            raise TypeError(f"a blocked word must be a string, got {type(word).__name__}")
        text = word.strip()
        if not text:
            raise InvalidRequest("A blocked word is empty; write the word first.")
        cleaned.setdefault(text.casefold(), text)
    return list(cleaned.values())


def _count_refused(error: TikTokError, sent: int) -> int | None:
    """The number of words one call takes when ``error`` is TikTok refusing how many were
    ``sent`` (40000/40002 naming ``blocked_words`` and stating a smaller limit, not speaking
    of characters); else None."""
    message = error.message or ""
    if not rejects(error, "blocked_words") or "character" in message.lower():
        return None
    limit = stated_limit(message)
    return limit if limit is not None and limit < sent else None


def _word_page(data: Mapping[str, Any]) -> Page[BlockedWord]:
    """A blockedword/list/ answer: items under ``list`` (or ``blocked_word_list``,
    ``blocked_words``), as objects or plain strings."""
    raw = first(data, "list", "blocked_word_list", "blocked_words")
    items = [word for word in map(BlockedWord.from_api, raw if isinstance(raw, list) else [])
             if word is not None]
    return Page(items=items, page_info=PageInfo.from_api(data.get("page_info")))
