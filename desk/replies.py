"""Saved replies as people use them: the template grammar, filling a template for one comment,
refusing one that would be too long, the `/shortcut` typed in a reply box, and the writes a
responder may make (desk.store.saved_replies keeps them).

A template is plain text with up to three placeholders, written exactly as `{user_name}`,
`{ad_name}` and `{video_caption}`. Any other brace is refused when the template is saved, with
a one-line reason. Filling replaces exactly those three tokens, in one pass: it is never
`str.format`, so `{user_name.__class__}` is text to refuse, not an attribute to look up, and a
commenter whose name is "{ad_name}" is greeted by that name. A value that is missing fills as
nothing.

Lengths are Python's `len`, the count of characters the writers check before sending
(desk.sources: `Writer.check_text`), so an emoji is one character and a letter with a
combining accent two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from desk import people
from desk import store as db
from desk.people import Person
from desk.store.saved_replies import SHORTCUT, SavedReply
from desk.text import text

PLACEHOLDERS: tuple[str, ...] = ("user_name", "ad_name", "video_caption")
"""The values a template may use, each written `{name}`."""
MANAGING = "add, change or delete saved replies"
"""What a responder may do and a viewer may not, as refusals say it."""

_TOKEN = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_BRACES = re.compile(r"\{[^{}]*\}|[{}]")
_TYPED_SHORTCUT = re.compile(r"\s*/(" + SHORTCUT.pattern + r")\s*")


def check_template(body: str) -> str | None:
    """None when the template may be saved, else why not (one line): only the three
    placeholders may stand in braces, and no brace may stand alone."""
    if not str(body or "").strip():
        return "A saved reply needs some text."
    for match in _BRACES.finditer(body):
        if _TOKEN.fullmatch(match[0]):
            continue
        if len(match[0]) == 1:
            return (f"A brace stands alone; braces only go around a placeholder ({_listed()}), "
                    "and a template cannot contain other braces.")
        shown = " ".join(match[0].splitlines())  # one line, its spaces as typed
        shown = shown if len(shown) <= 42 else shown[:40] + "…}"
        return f"{shown} is not a placeholder: use {_listed()}."
    return None


def placeholders_in(body: str) -> list[str]:
    """The placeholders a template uses, each once, in order."""
    return list(dict.fromkeys(_TOKEN.findall(str(body or ""))))


def fill(template_body: str, row: Mapping[str, Any]) -> str:
    """The template with each placeholder replaced by the comment's value (row keys
    user_name, ad_name, video_caption; missing ones become ""). Nothing else changes."""
    return _TOKEN.sub(lambda match: text(row.get(match[1])), str(template_body))


def fixed_length(template_body: str) -> int:
    """The template's length with every placeholder empty: no filling makes it shorter."""
    return len(_TOKEN.sub("", str(template_body)))


def refusal(filled: str, limit: int, *, name: str | None = None) -> str | None:
    """None when the filled template may be sent under `limit` characters, else why not:
    which template, how long it came out, the limit; nothing was sent."""
    what = f"The saved reply “{name}”" if name else "The saved reply"
    if not filled.strip():
        return (f"{what} is empty once filled in for this comment; write the reply instead. "
                "Nothing was sent.")
    if len(filled) > limit:
        return (f"{what} is {len(filled):,} characters long once filled in for this comment; "
                f"TikTok takes at most {limit:,}. Choose another or shorten it on the Saved "
                "replies page. Nothing was sent.")
    return None


def shortcut_typed(typed: str) -> str | None:
    """The shortcut when the whole reply is `/<shortcut>` (spaces around allowed), else
    None."""
    match = _TYPED_SHORTCUT.fullmatch(str(typed or ""))
    return match[1] if match else None


def expand_shortcut(typed: str, saved: Iterable[SavedReply]) -> SavedReply | None:
    """The saved reply a reply of exactly `/<shortcut>` names (any case), or None: the text
    is not a shortcut, or no saved reply of the account has it."""
    word = shortcut_typed(typed)
    if word is None:
        return None
    return next((s for s in saved if s.shortcut and s.shortcut.lower() == word.lower()), None)


def save_reply(cur: db.Cursor, person: Person, account_kind: db.CommentSource,
               account_id: str, *, name: str, body: str, shortcut: str | None = None,
               reply_id: int | None = None, limit: int | None = None) -> int:
    """Add a saved reply (or change `reply_id`) as `person`, a responder or above; return its
    reply_id. ValueError with the reason for a template that cannot be saved, including
    one longer than `limit` (the account's reply limit) even with its placeholders empty."""
    people.require(person, "responder", MANAGING)
    reason = check_template(body)
    if reason is None and limit is not None and fixed_length(body.strip()) > limit:
        reason = (f"The template is {fixed_length(body.strip()):,} characters long even with "
                  f"its placeholders empty; TikTok takes at most {limit:,} in a reply.")
    if reason is not None:
        raise ValueError(reason.rstrip("."))
    if reply_id is None:
        return db.create_saved_reply(cur, account_kind, account_id, name=name, body=body,
                                     shortcut=shortcut, by=person.email)
    current = db.get_saved_reply(cur, reply_id)
    if current is None or (current.account_kind, current.account_id) != (account_kind,
                                                                        str(account_id)):
        raise ValueError("this saved reply is not one of this account's (deleted meanwhile?)")
    db.update_saved_reply(cur, reply_id, name=name, body=body, shortcut=shortcut,
                          by=person.email)
    return int(reply_id)


def delete_reply(cur: db.Cursor, person: Person, reply_id: int) -> bool:
    """Delete a saved reply as `person`, a responder or above; False when it was gone."""
    people.require(person, "responder", MANAGING)
    return db.delete_saved_reply(cur, reply_id, by=person.email)


def _listed() -> str:
    names = [f"{{{name}}}" for name in PLACEHOLDERS]
    return ", ".join(names[:-1]) + f" or {names[-1]}"
