"""An ad account's blocked-word list on TikTok, as Comment Desk manages it.

TikTok hides a comment that contains a word on the ad account's list from everyone but its
author, even while Comment Desk is not running, and comment/list marks it `hit_blockedword`
(stored with every sync). TikTok business accounts (organic videos) have no such list.

- Reading: a page of the list, the whole list, and whether words are on it. Anyone who may
  read Comment Desk may read these.
- Changing: adding and removing words, and pushing a keyword rule's keywords to the list.
  Only an admin may; the role is checked here, on the server, before anything is sent. Every
  change goes through the outbox (desk.outbox.words): one row per word, exactly once per
  request key, audited with the person's e-mail, settled with TikTok when an answer is lost.
- The stored comments TikTok hid with a blocked word, and the last changes with their status.

A rule can be pushed when TikTok's list does what the rule does: its only condition is
keywords, it hides, and it applies to every ad comment of the account. TikTok matches each
word as a phrase, ignoring case (TikTok Ads Manager help, "About blocked words"); a rule's
keywords also ignore accents and full-width forms, so TikTok may hide a little less than the
rule would. TikTok screens the comments that arrive after a word is added: a sync shows which
ones it hid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from desk import people
from desk import store as db
from desk.errors import ActionRefused, BlockedWordsRefused
from desk.moderation.rules import Rule, parse_rules
from desk.outbox import ledger, words
from desk.outbox.words import WORD_KINDS, WordChanges, clean_words, word_client
from desk.outbox.writes import retry
from desk.people import Person
from desk.sources.base import Writer
from desk.store.rules import StoredRule
from tiktok_client.errors import TikTokError

CHANGING = "change the blocked-word list"
"""What only an admin may do, as refusals say it."""
NO_LIST = ("TikTok business accounts (organic videos) have no blocked-word list; only ad "
           "accounts have one.")
PAGE_SIZE = 100
HIDDEN_ROWS = 500
"""The most comments hidden by a blocked word that are listed at once (newest first)."""


@dataclass(frozen=True)
class WordsPage:
    """One page of the list as TikTok holds it."""

    words: pd.DataFrame  # one column, word
    page: int
    page_size: int
    total: int  # words on the whole list
    pages: int


# ---------------------------------------------------------------------------------------------
# Reading the list


def words_page(writer: Writer, page: int = 1, page_size: int = PAGE_SIZE) -> WordsPage:
    """One page of the ad account's blocked words (TikTok's order)."""
    calls = word_client(writer).blocked_words
    size = min(page_size, calls.page_size())
    try:
        answer = calls.page(writer.account_id, page, size)
    except TikTokError as err:
        raise BlockedWordsRefused(err) from err
    info = answer.page_info
    total = info.total_number if info.total_number is not None else len(answer.items)
    pages = info.total_page if info.total_page is not None else max(1, math.ceil(total / size))
    frame = pd.DataFrame({"word": pd.Series([w.word for w in answer.items], dtype="string")})
    return WordsPage(frame, page, size, int(total), max(1, int(pages)))


def all_words(writer: Writer) -> list[str]:
    """Every word on the ad account's list, page after page."""
    try:
        return [w.word for w in word_client(writer).blocked_words.iter_words(writer.account_id)]
    except TikTokError as err:
        raise BlockedWordsRefused(err) from err


def check_words(writer: Writer, candidates: Sequence[str]) -> pd.DataFrame:
    """Whether each word is on the list (columns word, blocked): TikTok compares whole words,
    ignoring case, not phrases inside a comment."""
    wanted = clean_words(candidates)
    if not wanted:
        raise ActionRefused("Write a word to check first.")
    try:
        answer = word_client(writer).blocked_words.check(writer.account_id, wanted)
    except TikTokError as err:
        raise BlockedWordsRefused(err) from err
    return pd.DataFrame({"word": pd.Series(list(answer), dtype="string"),
                         "blocked": pd.Series(list(answer.values()), dtype="boolean")})


def words_from_text(text: str) -> list[str]:
    """The words of a text box, one a line: trimmed, without empty lines, each once."""
    return clean_words(text.splitlines())


# ---------------------------------------------------------------------------------------------
# Changing the list (admins only)


def add_words(cur: db.Cursor, writer: Writer, candidates: Sequence[str], *, person: Person,
              request_key: str) -> WordChanges:
    """Add words to the list through the outbox, exactly once per request_key."""
    people.require(person, "admin", CHANGING)
    return _change(cur, writer, candidates, True, person, request_key)


def remove_words(cur: db.Cursor, writer: Writer, candidates: Sequence[str], *, person: Person,
                 request_key: str) -> WordChanges:
    """Take words off the list through the outbox, exactly once per request_key. Comments
    TikTok already hid stay hidden."""
    people.require(person, "admin", CHANGING)
    return _change(cur, writer, candidates, False, person, request_key)


def why_not_pushable(rule: Rule) -> str | None:
    """Why the rule's keywords cannot stand for it on TikTok's list, or None when they can."""
    name = f'The rule "{rule.name}"'
    if rule.action != "hide":
        verb = "labels" if rule.action == "label" else "flags"
        return (f"{name} {verb} comments, and TikTok's blocked words hide them; only a rule "
                "that hides can be pushed.")
    if not rule.keywords:
        return (f"{name} has no keywords; TikTok's list holds words only, so only a keyword "
                "rule can be pushed.")
    others = [what for what, present in (
        ("a regex", rule.regex is not None), ("has_link", rule.has_link is not None),
        ("labels", bool(rule.labels)), ("min_likes", bool(rule.min_likes))) if present]
    if others:
        return (f"{name} also needs {' and '.join(others)}; TikTok's list matches words only, "
                "so it would hide comments the rule leaves alone. Only a rule whose one "
                "condition is keywords can be pushed.")
    if rule.scope.ad_ids or rule.scope.video_ids:
        return (f"{name} applies to some ads or videos only; TikTok's list applies to every "
                "ad of the account, so it cannot be pushed.")
    if rule.scope.source == "organic":
        return (f"{name} is for TikTok account comments; an ad account's blocked words hide "
                "ad comments only.")
    return None


def stored_rule(stored: StoredRule) -> Rule:
    """The rule a stored version holds."""
    [rule] = parse_rules(stored.definition)
    return rule


def push_rule(cur: db.Cursor, writer: Writer, stored: StoredRule, *, person: Person,
              request_key: str) -> WordChanges:
    """Add a keyword rule's keywords to the list (through the outbox, exactly once per
    request_key), so that TikTok hides what the rule would even when Comment Desk is not
    running; ActionRefused, with the reason, for a rule TikTok's list cannot stand for."""
    people.require(person, "admin", CHANGING)
    rule = stored_rule(stored)
    reason = why_not_pushable(rule)
    if reason is not None:
        ledger.audit(cur, None, person.email, writer.advertiser_id, "refused",
                     f'push rule "{stored.name}" v{stored.version}: {reason}')
        raise ActionRefused(reason)
    return words.change_words(cur, writer, words=rule.keywords, blocked=True,
                              actor=person.email, request_key=request_key,
                              why=f'from rule "{stored.name}" v{stored.version}')


def retry_unfinished(cur: db.Cursor, writer: Writer, *,
                     person: Person) -> list[ledger.ActionResult]:
    """Settle every change of the list not known to be done (but words longer than TikTok
    takes): each is checked with TikTok first and sent again only when the list still lacks
    it (or still has it)."""
    people.require(person, "admin", CHANGING)
    longest = words.longest_word(word_client(writer))
    rows = db.query_records(
        cur,
        "SELECT action_id FROM outbox WHERE advertiser_id = ? AND coalesce(source, 'ad') = 'ad' "
        "AND list_contains(?::VARCHAR[], kind) AND status <> 'sent' "
        "AND (? IS NULL OR length(word) <= ?) ORDER BY action_id",
        [writer.account_id, list(WORD_KINDS), longest, longest],
    )
    return [retry(cur, writer, int(row["action_id"]), actor=person.email) for row in rows]


def _change(cur: db.Cursor, writer: Writer, candidates: Sequence[str], blocked: bool,
            person: Person, request_key: str) -> WordChanges:
    if not clean_words(candidates):
        raise ActionRefused("Write at least one word first." if blocked else
                            "Choose at least one word to remove first.")
    return words.change_words(cur, writer, words=candidates, blocked=blocked,
                              actor=person.email, request_key=request_key)


# ---------------------------------------------------------------------------------------------
# What the store knows


def recent_changes(cur: db.Cursor, advertiser_id: str, app_id: str | None = None,
                   limit: int = 20) -> pd.DataFrame:
    """The ad account's last changes to the list, newest first: created_at, actor, change
    (add or remove), word, status, attempts, a human message, and `unfinished`: not known to
    be done, and not a word longer than the app has learned TikTok takes (`app_id`'s)."""
    frame = ledger.recent_actions(cur, advertiser_id, limit, kinds=WORD_KINDS)
    frame["change"] = frame["kind"].map({"block_word": "add", "unblock_word": "remove"})
    longest = db.learned_values(cur, app_id).get(words.WORD_LENGTH) if app_id else None
    too_long = (frame["word"].str.len() > longest) if isinstance(longest, int) else False
    frame["unfinished"] = (frame["status"] != "sent") & ~too_long
    return frame[["created_at", "actor", "change", "word", "status", "attempts", "message",
                  "unfinished", "action_id"]]


def hidden_comments(cur: db.Cursor, advertiser_id: str, limit: int = HIDDEN_ROWS
                    ) -> pd.DataFrame:
    """The ad account's stored comments TikTok hid with a blocked word, newest first (as of
    the last sync)."""
    return db.query_frame(
        cur,
        "SELECT create_time, content, user_name, ad_name, ad_id, comment_type, likes, "
        "comment_id FROM comments WHERE advertiser_id = ? AND coalesce(source, 'ad') = 'ad' "
        "AND hit_blockedword ORDER BY create_time DESC, comment_id DESC LIMIT ?",
        [advertiser_id, int(limit)],
    )


def hidden_count(cur: db.Cursor, advertiser_id: str) -> int:
    """How many stored comments of the ad account TikTok hid with a blocked word."""
    [row] = db.query_records(
        cur,
        "SELECT count(*) AS hidden FROM comments WHERE advertiser_id = ? "
        "AND coalesce(source, 'ad') = 'ad' AND hit_blockedword",
        [advertiser_id],
    )
    return int(row["hidden"])
