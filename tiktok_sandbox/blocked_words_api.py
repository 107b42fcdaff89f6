"""The blocked-word endpoints of the Marketing API (``blockedword/*``): their parameters,
checks and answers. The lists, and how a comment hits a word, are in ``blocked_words.py``.

Checks run in the order of the other endpoints (``api.py``): the Access-Token header (40104,
40105), the parameters (40002 naming the parameter), access to the advertiser (40106), then
the permission (40001): list, check and the export task need the "Read Blocked Words" scope
(15020100), create, update and delete the "Write Blocked Words" one (15020200), and a user
who may only read the advertiser is refused changes, as with comment writes.

Shapes (SDK CommentsApi and Blockedword*Body; OAS ``x-open-rules``; ``bububa/tiktok-business``
``model/comment/blockedword``; TSGEN):

- create, delete: body ``advertiser_id``, ``blocked_words`` (str[]); ``data`` {}.
- update: body ``advertiser_id``, ``old_word``, ``new_word``; ``data`` {}.
- check: query ``advertiser_id``, ``blocked_words`` (a JSON array, or the parameter
  repeated); ``data.results[]`` ``{word, blocked}``.
- list: query ``advertiser_id``, ``page_info`` (a JSON object ``{page, page_size}``;
  ``page_size`` 1-500, default 10); ``data.list[]`` ``{bw_content}`` and ``page_info``.
- task/create: body ``advertiser_id``, optional ``blocked_words`` and ``lang`` (EN, JA, ZH;
  default EN); ``data.task_id``. task/check: query ``advertiser_id``, ``task_id``;
  ``data`` ``{task_id, status}``. task/download: the same query; the file itself.

Where no source says, the sandbox assumes:

- Words are trimmed. An empty word, a word longer than
  ``SandboxConfig.blocked_word_max_length`` or more words than
  ``blocked_words_per_call`` in one call are refused with 40002 naming ``blocked_words`` and
  the limit. A word given twice in one call counts once.
- Creating a word already on the list (in any case) is no error and changes nothing;
  deleting a word that is not on it neither. Updating an ``old_word`` that is not on the list
  is 40002 naming ``old_word``.
- check answers, for each word asked (trimmed, once, in the order asked), whether that word
  is on the list, ignoring case; not whether a comment saying it would be hidden.
- task/check answers RUNNING for ``blocked_word_export_running_checks`` checks, then
  SUCCEED; task/download before that is 40201 (task not ready), an unknown ``task_id``
  40002. The file is CSV in UTF-8: a header row in the task's ``lang``, then one word a row.
  A download is never cut short by fault injection (a cut CSV cannot be told from a short
  one), but may meet the other faults of a read.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from . import faults
from .api import _AdvertiserCall, _page_info
from .blocked_words import EXPORT_LANGS, BlockedWordLists, fold
from .config import SandboxConfig
from .endpoint import ApiRequest, Endpoint, FileAnswer
from .errors import NO_PERMISSION, ApiError, param_error
from .params import Params
from .state import READ_BLOCKED_WORDS, WRITE_BLOCKED_WORDS

FILE_KINDS = (*faults.UNPROCESSED_KINDS, faults.STALL)
"""The faults a download may meet: those of a read, but never a body cut short."""
SCOPE_NAMES = MappingProxyType({READ_BLOCKED_WORDS: "Read Blocked Words",
                                WRITE_BLOCKED_WORDS: "Write Blocked Words"})
CSV_TYPE = "text/csv; charset=utf-8"


def _lists(call: _AdvertiserCall, scope: int) -> BlockedWordLists:
    """The blocked-word lists, once the token reaches the advertiser (40106) and holds
    ``scope`` (40001), and, for a change, the user may change the advertiser (40001)."""
    state = call.state()
    if scope not in call.grant.scope:
        raise ApiError(NO_PERMISSION, "No permission to operate: the access token lacks the "
                                      f"{SCOPE_NAMES[scope]} permission ({scope}); authorize "
                                      "the app again and grant it.")
    advertiser = state.advertiser(call.advertiser_id)
    if scope == WRITE_BLOCKED_WORDS and (advertiser is None or not advertiser.user_can_write):
        raise ApiError(NO_PERMISSION, "You don't have permission to operate this "
                                      f"advertiser: {call.advertiser_id}.")
    return state.blocked_words


def _word(name: str, value: str, config: SandboxConfig) -> str:
    """``value`` trimmed, when it is not empty and not too long; else 40002 naming ``name``."""
    word = value.strip()
    if not word:
        raise param_error(name, "Blocked words must not be empty.")
    limit = config.blocked_word_max_length
    if len(word) > limit:
        raise param_error(name, f"Each blocked word must be at most {limit} characters long; "
                                f"{word[:limit]!r}... has {len(word)}.")
    return word


def _words(params: Params, config: SandboxConfig, *, required: bool = True) -> list[str] | None:
    """``blocked_words``: at most ``blocked_words_per_call`` words, each checked by
    :func:`_word`, each once (ignoring case), in the order given."""
    given = params.string_list("blocked_words", required=required,
                               max_items=config.blocked_words_per_call)
    if given is None:
        return None
    words: dict[str, str] = {}
    for value in given:
        word = _word("blocked_words", value, config)
        words.setdefault(fold(word), word)
    return list(words.values())


def _paging(params: Params, maximum: int) -> tuple[int, int]:
    """``page_info``'s page and page size (40002 naming ``page_info.page_size`` when it is
    out of 1..``maximum``)."""
    info = params.json_object("page_info") or {}
    inner = Params({key: [value] for key, value in info.items()}, from_query=False)
    try:
        return (inner.integer("page", default=1, minimum=1),
                inner.integer("page_size", default=10, minimum=1, maximum=maximum))
    except ApiError as error:
        raise ApiError(error.code, f"page_info.{error.message}") from None


def blockedword_create(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    words = _words(call.params, request.config)
    assert words is not None
    _lists(call, WRITE_BLOCKED_WORDS).add(call.advertiser_id, words)
    return {}


def blockedword_delete(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    words = _words(call.params, request.config)
    assert words is not None
    _lists(call, WRITE_BLOCKED_WORDS).remove(call.advertiser_id, words)
    return {}


def blockedword_update(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    old = _word("old_word", call.params.required("old_word"), request.config)
    new = _word("new_word", call.params.required("new_word"), request.config)
    _lists(call, WRITE_BLOCKED_WORDS).rename(call.advertiser_id, old, new)
    return {}


def blockedword_check(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    words = _words(call.params, request.config)
    assert words is not None
    lists = _lists(call, READ_BLOCKED_WORDS)
    return {"results": [{"word": word, "blocked": lists.contains(call.advertiser_id, word)}
                        for word in words]}


def blockedword_list(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    page, page_size = _paging(call.params, request.config.blocked_word_page_size_max)
    words = _lists(call, READ_BLOCKED_WORDS).words(call.advertiser_id)
    chosen = words[(page - 1) * page_size: page * page_size]
    return {"list": [{"bw_content": word} for word in chosen],
            "page_info": _page_info(page, page_size, len(words))}


def blockedword_task_create(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    words = _words(call.params, request.config, required=False)
    lang = call.params.enum("lang", EXPORT_LANGS, default="EN") or "EN"
    lists = _lists(call, READ_BLOCKED_WORDS)
    return {"task_id": lists.create_export(call.advertiser_id, words, lang)}


def blockedword_task_check(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    task_id = call.params.required("task_id")
    status = _lists(call, READ_BLOCKED_WORDS).check_export(call.advertiser_id, task_id)
    return {"task_id": task_id, "status": status}


def blockedword_task_download(request: ApiRequest) -> FileAnswer:
    call = _AdvertiserCall.open(request)
    task_id = call.params.required("task_id")
    body = _lists(call, READ_BLOCKED_WORDS).export_file(call.advertiser_id, task_id)
    return FileAnswer(body, CSV_TYPE, f"blocked_words_{task_id}.csv")


ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType({
    "blockedword/create/": Endpoint("POST", blockedword_create, faults.WRITE_KINDS),
    "blockedword/delete/": Endpoint("POST", blockedword_delete, faults.WRITE_KINDS),
    "blockedword/update/": Endpoint("POST", blockedword_update, faults.WRITE_KINDS),
    "blockedword/check/": Endpoint("GET", blockedword_check, faults.READ_KINDS),
    "blockedword/list/": Endpoint("GET", blockedword_list, faults.READ_KINDS),
    "blockedword/task/create/": Endpoint("POST", blockedword_task_create, faults.WRITE_KINDS),
    "blockedword/task/check/": Endpoint("GET", blockedword_task_check, faults.READ_KINDS),
    "blockedword/task/download/": Endpoint("GET", blockedword_task_download, FILE_KINDS),
})
