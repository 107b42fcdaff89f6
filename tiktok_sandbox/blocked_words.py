"""Ad accounts' blocked-word lists: the words, how a comment hits one, and export tasks.

A comment that contains a blocked word is hidden from everyone but its author: comment/list
shows it with ``hit_blockedword`` true and ``comment_status`` HIDDEN. How a word matches
follows TikTok Ads Manager's help ("About blocked words", February 2025):

- A blocked word matches as a phrase, case-insensitively: its words must appear in the
  comment as whole words, one after the other. Punctuation between words is ignored
  ("I love" hides "I, love you"), but a word inside a longer one does not match ("free"
  does not hide "carefree", "567" does not hide "1234567" or "love567").
- A word in a language written without spaces (Chinese, Japanese, Thai, ...) matches
  anywhere in the comment, punctuation included ("コーラ" hides "コーラ大好き").

TikTok's help also shows traditional and simplified Chinese matching each other; the
sandbox does not. A word of punctuation or emoji only matches anywhere, as written.

The list keeps each word as it was first added (trimmed); words are compared ignoring case,
so "Free" and "free" are one word. blockedword/list lists the newest words first, the words
of one call in the order given: no source gives TikTok's order (the sandbox's choice).

Which comments are screened (``state.py``): every viewer comment created after a word was
added (by the live generator, ``add_comments`` or ``add_comment``), not the brand's own
replies; comments already there only with ``SandboxConfig.blocked_words_hide_existing``
(no source says which TikTok does). Removing a word leaves the comments it hid hidden. The
lists start empty, though the generated history has a few comments that hit a word (one
added before the sandbox's records begin).

State lives in :class:`BlockedWordLists`, which shares the lock of ``state.SandboxState``:
adding a word and screening a new comment never interleave.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from types import MappingProxyType

from .errors import TASK_NOT_READY, ApiError, param_error

RUNNING, SUCCEED = "RUNNING", "SUCCEED"
FIRST_TASK_ID = 7_380_000_000_000_000_001
EXPORT_LANGS = ("EN", "JA", "ZH")
# The export's header row in each language (no source gives the file's layout).
EXPORT_HEADERS = MappingProxyType({"EN": "Blocked word", "JA": "ブロックワード", "ZH": "屏蔽词"})

_WORD = re.compile(r"\w+")
# Scripts written without spaces between words: Thai and Lao, Myanmar, Khmer, kana, CJK
# ideographs (with the extension planes), halfwidth katakana.
_SPACELESS_RANGES = (
    (0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF), (0x31F0, 0x31FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF66, 0xFF9F), (0x20000, 0x3134F),
)


def _spaceless(text: str) -> bool:
    return any(low <= ord(ch) <= high for ch in text for low, high in _SPACELESS_RANGES)


def fold(word: str) -> str:
    """The form two spellings of one blocked word share: trimmed, case folded."""
    return word.strip().casefold()


def _token_line(text: str) -> str:
    """The words of ``text``, case folded, between single spaces (with one at each end)."""
    return f" {' '.join(_WORD.findall(text.casefold()))} "


@dataclasses.dataclass(frozen=True)
class Phrase:
    """How one blocked word is looked for in a comment."""

    word: str
    folded: str
    tokens: str | None
    """The word's words as :func:`_token_line` writes them, or None when the word is
    looked for anywhere (a spaceless script, or no letters or digits at all)."""

    @classmethod
    def of(cls, word: str) -> Phrase:
        folded = fold(word)
        line = _token_line(folded)
        return cls(word, folded, None if _spaceless(folded) or not line.strip() else line)

    def found_in(self, folded_text: str, token_line: str) -> bool:
        if self.tokens is None:
            return self.folded in folded_text
        return self.tokens in token_line


def first_hit(phrases: Iterable[Phrase], text: str) -> Phrase | None:
    """The first of ``phrases`` that ``text`` contains, or None."""
    folded = text.casefold()
    line = _token_line(text)
    return next((p for p in phrases if p.found_in(folded, line)), None)


@dataclasses.dataclass
class ExportTask:
    """A blockedword/task/create export: the words it holds, frozen when it was created."""

    task_id: str
    advertiser_id: str
    words: tuple[str, ...]
    lang: str
    checks: int = 0


@dataclasses.dataclass
class _Entry:
    phrase: Phrase
    order: tuple[int, int]
    """(minus the number of the call that added it, its place in that call): newest first."""


class BlockedWordLists:
    """Every advertiser's blocked words and export tasks. Guarded by ``lock``, which
    ``state.SandboxState`` shares, so a word added and a comment created never interleave.

    ``on_added(advertiser_id, phrases)`` is called (under the lock) with the words each
    create or update adds; ``running_checks`` is how many task/check calls answer RUNNING
    before a task has SUCCEEDed.
    """

    def __init__(self, lock: threading.RLock, *, running_checks: int = 1,
                 on_added: Callable[[str, list[Phrase]], None] | None = None) -> None:
        self._lock = lock
        self._running_checks = running_checks
        self._on_added = on_added
        self._lists: dict[str, dict[str, _Entry]] = {}
        self._calls = 0
        self._tasks: dict[str, ExportTask] = {}

    # The list

    def add(self, advertiser_id: str, words: Sequence[str]) -> list[str]:
        """Add ``words`` (trimmed, non-empty); a word already there (in any case) is kept as
        it was. Returns the words that were new."""
        with self._lock:
            entries = self._lists.setdefault(advertiser_id, {})
            self._calls += 1
            added: list[Phrase] = []
            for word in words:
                phrase = Phrase.of(word)
                if phrase.folded not in entries:
                    entries[phrase.folded] = _Entry(phrase, (-self._calls, len(added)))
                    added.append(phrase)
            if added and self._on_added is not None:
                self._on_added(advertiser_id, added)
            return [p.word for p in added]

    def remove(self, advertiser_id: str, words: Iterable[str]) -> list[str]:
        """Take ``words`` off the list; words not on it are passed over. Returns the words
        removed, as the list had them. Comments they hid stay hidden."""
        with self._lock:
            entries = self._lists.get(advertiser_id, {})
            gone = [entries.pop(fold(w)) for w in words if fold(w) in entries]
            return [entry.phrase.word for entry in gone]

    def rename(self, advertiser_id: str, old: str, new: str) -> None:
        """blockedword/update: ``old`` (which must be on the list: 40002 naming
        ``old_word``) gives way to ``new``, which becomes the newest word unless it is on
        the list already."""
        with self._lock:
            entries = self._lists.get(advertiser_id, {})
            if fold(old) not in entries:
                raise param_error("old_word", f"{old!r} is not on the blocked word list.")
            del entries[fold(old)]
            self.add(advertiser_id, [new])

    def contains(self, advertiser_id: str, word: str) -> bool:
        with self._lock:
            return fold(word) in self._lists.get(advertiser_id, {})

    def words(self, advertiser_id: str) -> list[str]:
        """The advertiser's words, in list order (newest first)."""
        with self._lock:
            entries = sorted(self._lists.get(advertiser_id, {}).values(), key=lambda e: e.order)
            return [entry.phrase.word for entry in entries]

    def hit(self, advertiser_id: str, text: str) -> Phrase | None:
        """The advertiser's blocked word ``text`` contains, or None."""
        with self._lock:
            entries = self._lists.get(advertiser_id)
            if not entries:
                return None
            return first_hit((entry.phrase for entry in entries.values()), text)

    # Export tasks

    def create_export(self, advertiser_id: str, only: Sequence[str] | None,
                      lang: str) -> str:
        """The ID of a new task exporting the list as it is now (only the words of ``only``
        that are on it, when given)."""
        with self._lock:
            words = self.words(advertiser_id)
            if only is not None:
                wanted = {fold(w) for w in only}
                words = [w for w in words if fold(w) in wanted]
            task_id = str(FIRST_TASK_ID + len(self._tasks))
            self._tasks[task_id] = ExportTask(task_id, advertiser_id, tuple(words), lang)
            return task_id

    def check_export(self, advertiser_id: str, task_id: str) -> str:
        """The task's status: RUNNING for the first ``running_checks`` checks, then
        SUCCEED."""
        with self._lock:
            task = self._task(advertiser_id, task_id)
            task.checks += 1
            return RUNNING if task.checks <= self._running_checks else SUCCEED

    def export_file(self, advertiser_id: str, task_id: str) -> bytes:
        """The finished export as CSV (UTF-8): a header row, then one word a row. 40201
        while the task has not been seen to SUCCEED."""
        with self._lock:
            task = self._task(advertiser_id, task_id)
            if task.checks <= self._running_checks:
                raise ApiError(TASK_NOT_READY, f"Task {task_id} is not ready yet; check its "
                                               "status again later.")
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow([EXPORT_HEADERS[task.lang]])
            writer.writerows([word] for word in task.words)
            return out.getvalue().encode("utf-8")

    def _task(self, advertiser_id: str, task_id: str) -> ExportTask:
        task = self._tasks.get(task_id)
        if task is None or task.advertiser_id != advertiser_id:
            raise param_error("task_id", f"Task {task_id} does not exist.")
        return task
