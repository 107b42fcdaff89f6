"""Changes to an ad account's blocked-word list, through the outbox: exactly once, audited,
settled by asking TikTok.

Each word is one outbox row, of kind ``block_word`` (add it to the list) or ``unblock_word``
(take it off), naming the word and the ad account and no comment. Its request key is
``f"{request_key}:{kind}:{word}"`` with the word trimmed and case-folded (TikTok compares
words ignoring case), so asking again with the same request key finds the rows and sends
nothing. New rows go to TikTok in calls of as many words as one call takes (learned by the
client, `tiktok_client.blocked_words`), and each call's rows move on together:

- TikTok carried the call out: sent.
- TikTok refused it: failed, with the reason (a refused call changes nothing). A refusal
  that speaks of characters teaches the longest word TikTok takes (`WORD_LENGTH`, kept with
  the app's learned limits): the longer words fail and the others of the call go again at
  once. Words longer than a limit already learned are refused before anything is sent. Any
  other refusal (permission, token, throttling) would meet every call, so the words not sent
  yet fail with it, unsent.
- No usable answer came back, or the client split the call after learning a smaller count
  and a later part failed (so part of it may have been carried out): unknown, then settled.

Settling asks TikTok (blockedword/check, one call for many rows) whether each word is on the
list: a ``block_word`` row is sent when it is, an ``unblock_word`` row when it is not, and
failed otherwise. If TikTok cannot be asked, the rows stay as they are. `desk.outbox.writes`
hands these rows here from `reconcile` and `retry`, so a failed or unknown change is checked
with TikTok first and sent again only when the list still lacks it (or still has it).

The connection's `write_access` is not recorded: the list needs its own TikTok permission,
so TikTok's answer says nothing about replying or hiding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from desk import store as db
from desk.errors import ActionRefused, BlockedWordsRefused, message_for
from desk.outbox import ledger
from desk.outbox.ledger import ActionResult
from desk.sources.base import Writer
from tiktok_client.blocked_words import WORDS_PER_CALL, words_per_call_key
from tiktok_client.client import TikTokClient
from tiktok_client.errors import OutcomeUnknown, PartialSuccess, TikTokError
from tiktok_client.learned import rejects, stated_limit

WordKind = Literal["block_word", "unblock_word"]
WORD_KINDS: tuple[WordKind, ...] = ("block_word", "unblock_word")
WORD_LENGTH = "blockedword.word_length"
"""The learned key of the longest blocked word TikTok takes (no source gives it; learned
from the limit its refusal states)."""
_ENDPOINTS = {"block_word": "blockedword/create", "unblock_word": "blockedword/delete"}
_VERBS = {"block_word": "add blocked word", "unblock_word": "remove blocked word"}


@dataclass(frozen=True)
class WordChanges:
    """How one request to add or remove words went: one result per word sent (or found
    already requested), and the words TikTok does not take for their length."""

    kind: WordKind
    results: tuple[ActionResult, ...] = ()
    too_long: tuple[str, ...] = ()
    limit: int | None = None  # the longest word TikTok takes, once learned

    @property
    def done(self) -> list[str]:
        """The words now on (or, removing, off) the list on TikTok."""
        return [r.word or "" for r in self.results if r.status == "sent"]

    @property
    def problems(self) -> list[ActionResult]:
        """The words not done, but those TikTok does not take for their length."""
        return [r for r in self.results if r.status != "sent" and r.word not in self.too_long]

    def summary(self) -> str:
        """One line on what happened and, for what did not, what to do."""
        count = len(self.done)
        noun = "word" if count == 1 else "words"
        if self.kind == "block_word":
            line = f"{count} {noun} on the blocked-word list on TikTok."
        else:
            line = f"{count} {noun} taken off the blocked-word list on TikTok."
        if self.results and all(r.duplicate for r in self.results):
            line += " This was already requested, so nothing was sent again."
        if self.problems:
            line += f" {len(self.problems)} not done: {self.problems[0].message}"
        if self.too_long:
            shown = ", ".join(f'"{w[:40]}"' for w in self.too_long[:3])
            more = f" and {len(self.too_long) - 3} more" if len(self.too_long) > 3 else ""
            most = f"more than {self.limit} characters" if self.limit else "words this long"
            line += (f" TikTok does not take {most} in a blocked word: {shown}{more}; shorten "
                     "them and try again.")
        return line


def word_client(writer: Writer) -> TikTokClient:
    """The client that reaches the writer's blocked-word list; ActionRefused when its kind of
    account has none."""
    client = writer.blocked_words_client()
    if client is None:
        raise ActionRefused(f"A {writer.noun} has no blocked-word list on TikTok; only ad "
                            "accounts have one.")
    return client


def clean_words(words: Sequence[str]) -> list[str]:
    """The words trimmed, without empty ones, each once (ignoring case), in order."""
    if isinstance(words, str):
        raise TypeError("words must be a list of words, not a single string")
    kept: dict[str, str] = {}
    for word in words:
        text = str(word).strip()
        if text:
            kept.setdefault(text.casefold(), text)
    return list(kept.values())


def longest_word(client: TikTokClient) -> int | None:
    """The longest blocked word TikTok takes, once a refusal has stated it."""
    limit = client.learned.get_limit(WORD_LENGTH, 0)
    return limit or None


def change_words(cur: db.Cursor, writer: Writer, *, words: Sequence[str], blocked: bool,
                 actor: str, request_key: str, why: str | None = None) -> WordChanges:
    """Add (blocked=True) or remove words on the writer's ad account's blocked-word list,
    exactly once per request_key (see the module doc). `why` is added to the audit log
    ("from rule ..."). Raises ActionRefused when the account has no list."""
    client = word_client(writer)
    kind: WordKind = "block_word" if blocked else "unblock_word"
    wanted = clean_words(words)
    limit = longest_word(client)
    too_long = [w for w in wanted if limit is not None and len(w) > limit]
    if too_long:
        ledger.audit(cur, None, actor, writer.advertiser_id, "refused",
                     f"{_VERBS[kind]} {_quoted(too_long)}: longer than the {limit} "
                     "characters TikTok takes")
    results: dict[str, ActionResult] = {}
    to_send: list[dict[str, Any]] = []
    for word in wanted:
        if word in too_long:
            continue
        detail = f'{_VERBS[kind]} "{word}"' + (f" ({why})" if why else "")
        action, new = ledger.claim(
            cur, request_key=f"{request_key}:{kind}:{word.casefold()}", kind=kind,
            comment_id=None, actor=actor, detail=detail,
            audit_advertiser_id=writer.advertiser_id, source=writer.kind,
            **{writer.account_column: writer.account_id}, word=word)
        if new:
            to_send.append(action)
        else:
            results[word] = ledger.result(action, duplicate=True)
    sent, refused = _send(cur, writer, client, to_send, actor)
    results.update(sent)
    return WordChanges(kind, tuple(results[w] for w in wanted if w in results),
                       tuple(too_long + refused), longest_word(client))


def resend(cur: db.Cursor, writer: Writer, action: Mapping[str, Any],
           actor: str) -> ActionResult:
    """Send a claimed (pending) row again: `desk.outbox.retry`'s last step."""
    client = word_client(writer)
    limit = longest_word(client)
    if limit is not None and len(action["word"]) > limit:
        moved = ledger.transition(
            cur, action, status="failed", event="refused", actor=actor,
            detail=f"longer than the {limit} characters TikTok takes: not sent",
            error=_too_long_words(action["word"], limit))
        return ledger.result(moved or ledger.require(cur, action["action_id"]))
    sent, _ = _send(cur, writer, client, [dict(action)], actor)
    return sent[action["word"]]


def settle(cur: db.Cursor, writer: Writer, actions: Sequence[Mapping[str, Any]],
           actor: str) -> list[ActionResult]:
    """Settle unknown (or re-check failed) rows by asking TikTok whether each word is on the
    list, in one call; if TikTok cannot be asked, nothing changes."""
    client = word_client(writer)
    limit = longest_word(client)
    askable = [a for a in actions if limit is None or len(a["word"]) <= limit]
    asked = {a["action_id"] for a in askable}
    try:
        answer = client.blocked_words.check(writer.account_id, [a["word"] for a in askable])
    except TikTokError as err:
        return [_unsettled(cur, writer, a, actor, err) for a in actions]
    listed = {word.casefold(): on for word, on in answer.items()}
    results = []
    for action in actions:
        # A word longer than TikTok takes cannot be on the list.
        on = listed.get(action["word"].casefold()) if action["action_id"] in asked else False
        results.append(_settle_one(cur, action, actor, on))
    return results


# ---------------------------------------------------------------------------------------------
# Sending


def _send(cur: db.Cursor, writer: Writer, client: TikTokClient,
          actions: list[dict[str, Any]], actor: str) -> tuple[dict[str, ActionResult], list[str]]:
    """Send claimed rows in calls of as many words as one call takes; returns each word's
    result and the words TikTok refused for their length."""
    results: dict[str, ActionResult] = {}
    refused: list[str] = []
    queue = list(actions)
    while queue:
        kind = queue[0]["kind"]
        key = words_per_call_key(_ENDPOINTS[kind])
        size = client.learned.get_limit(key, WORDS_PER_CALL)
        chunk, queue = queue[:size], queue[size:]
        words = [a["word"] for a in chunk]
        calls = client.blocked_words
        try:
            if kind == "block_word":
                calls.add(writer.account_id, words)
            else:
                calls.remove(writer.account_id, words)
        except (OutcomeUnknown, PartialSuccess) as err:
            results.update(_unknown_then_settle(cur, writer, chunk, actor, err))
        except TikTokError as err:
            # The client split the call after learning a smaller count: a part may be done.
            split = client.learned.get_limit(key, WORDS_PER_CALL) < len(chunk)
            length = _length_limit(err)
            long_ones = [a for a in chunk if length is not None and len(a["word"]) > length]
            if long_ones:
                assert length is not None
                client.learned.lower(WORD_LENGTH, length)
                for action in long_ones:
                    results[action["word"]] = _fail(
                        cur, action, actor, err, error=_too_long_words(action["word"], length))
                    refused.append(action["word"])
                rest = [a for a in chunk if a not in long_ones]
                if split:
                    results.update(_unknown_then_settle(cur, writer, rest, actor, err))
                else:  # the refused call changed nothing: the others go again at once
                    queue = rest + queue
                continue
            if split:
                results.update(_unknown_then_settle(cur, writer, chunk, actor, err))
                continue
            for action in chunk:
                results[action["word"]] = _fail(cur, action, actor, err)
            for action in queue:  # every other call would meet the same refusal
                results[action["word"]] = _fail(cur, action, actor, err, sent=False)
            queue = []
        except Exception as err:  # the request may have gone out: treat it as unanswered
            results.update(_unknown_then_settle(cur, writer, chunk, actor, err))
        else:
            verb = "added to" if kind == "block_word" else "taken off"
            for action in chunk:
                moved = ledger.transition(
                    cur, action, status="sent", event="sent", actor=actor,
                    detail=f'"{action["word"]}" {verb} the blocked-word list', error=None)
                results[action["word"]] = ledger.result(
                    moved or ledger.require(cur, action["action_id"]))
    return results, refused


def _fail(cur: db.Cursor, action: Mapping[str, Any], actor: str, err: TikTokError, *,
          error: str | None = None, sent: bool = True) -> ActionResult:
    """Mark a row failed with TikTok's refusal (`sent` False: of an earlier call of the same
    request, so this word was never sent)."""
    detail = ledger.error_detail(err)
    if not sent:
        detail = f"not sent: an earlier call of the same request was refused ({detail})"
    moved = ledger.transition(cur, action, status="failed", event="failed", actor=actor,
                              detail=detail[:1000],
                              error=error or message_for(BlockedWordsRefused(err)))
    return ledger.result(moved or ledger.require(cur, action["action_id"]))


def _unknown_then_settle(cur: db.Cursor, writer: Writer, actions: Sequence[Mapping[str, Any]],
                         actor: str, err: Exception) -> dict[str, ActionResult]:
    """Record that the answer was lost (or may cover only part of the call), then try once
    to settle the rows with TikTok."""
    results: dict[str, ActionResult] = {}
    moved_rows = []
    for action in actions:
        moved = ledger.transition(cur, action, status="unknown", event="unknown", actor=actor,
                                  detail=ledger.error_detail(err),
                                  error=message_for(OutcomeUnknown()))
        if moved is None:
            results[action["word"]] = ledger.result(ledger.require(cur, action["action_id"]))
        else:
            moved_rows.append(moved)
    if moved_rows:
        for result in settle(cur, writer, moved_rows, actor):
            results[result.word or ""] = result
    return results


# ---------------------------------------------------------------------------------------------
# Settling


def _settle_one(cur: db.Cursor, action: Mapping[str, Any], actor: str,
                on: bool | None) -> ActionResult:
    word, adding = action["word"], action["kind"] == "block_word"
    if on is None:
        ledger.audit(cur, action["action_id"], actor, action["advertiser_id"],
                     "reconcile_failed", f'TikTok\'s answer did not mention "{word}"')
        if action["status"] == "failed":
            return ledger.result(action)
        return ledger.result(action, says=(
            f'It is not yet known whether TikTok changed "{word}" on the blocked-word list; '
            "check again later."))
    listed = f'TikTok lists "{word}" as blocked' if on else f'TikTok does not list "{word}"'
    if on == adding:
        moved = ledger.transition(cur, action, status="sent", event="reconciled",
                                  actor=actor, detail=f"{listed}: marked sent", error=None)
        return ledger.result(moved or ledger.require(cur, action["action_id"]))
    if action["status"] == "failed":
        ledger.audit(cur, action["action_id"], actor, action["advertiser_id"], "reconciled",
                     f"{listed}: still failed")
        return ledger.result(action)
    error = (f'"{word}" is not on the blocked-word list on TikTok; it was not added. Retry '
             "to send it again." if adding else
             f'"{word}" is still on the blocked-word list on TikTok; it was not taken off. '
             "Retry to send it again.")
    moved = ledger.transition(cur, action, status="failed", event="reconciled", actor=actor,
                              detail=f"{listed}: marked failed", error=error)
    return ledger.result(moved or ledger.require(cur, action["action_id"]))


def _unsettled(cur: db.Cursor, writer: Writer, action: Mapping[str, Any], actor: str,
               err: TikTokError) -> ActionResult:
    ledger.audit(cur, action["action_id"], actor, action["advertiser_id"],
                 "reconcile_failed", ledger.error_detail(err))
    if action["status"] == "failed":
        return ledger.result(action)
    return ledger.result(action, says=(
        "It is not yet known whether TikTok changed this, and checking failed: "
        f"{message_for(BlockedWordsRefused(err), writer.noun)}"))


# ---------------------------------------------------------------------------------------------
# Small helpers


def _length_limit(err: TikTokError) -> int | None:
    """The longest word TikTok takes, when `err` refuses blocked words for their length."""
    message = err.message or ""
    if not rejects(err, "blocked_words") or "character" not in message.lower():
        return None
    return stated_limit(message)


def _too_long_words(word: str, limit: int) -> str:
    return (f'"{word[:40]}" has {len(word)} characters; TikTok takes at most {limit} in a '
            "blocked word, so shorten it and add it again.")


def _quoted(words: Sequence[str]) -> str:
    return ", ".join(f'"{w}"' for w in words)
