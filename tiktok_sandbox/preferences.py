"""Hidden ground truth for learning tests: would this brand's team hide a comment, would it
answer it?

A `Team` is drawn from the seed alone, so every test and benchmark with the same seed meets
the same team. Its habits are ones a generic rule-based priority does not know:

- it **answers** size and shipping questions, and only in the languages it writes (English
  and two more, drawn from the seed); price questions, complaints, and questions about the
  song or where to buy, it leaves (its shop's FAQ and its support desk handle them);
- it **hides** spam and the junk texts the sandbox plants (markup, formulas), the
  "first!"-type comments in every language, and two off-topic English lines drawn from the
  seed (comments pointing at other shops, "who else is watching at 3am", ...).

People are not perfectly consistent: a comment the team would act on is acted on at odds
of `CONSISTENCY`, and any other comment at odds of `SLIP` (decided per comment by a hash of
the seed and its ID, so the same comment always gets the same verdict).

`preferences(rows, seed)` takes ground-truth comment rows (`SandboxHandle.ground_truth()`'s
ad comments or `ground_truth_accounts()`'s organic ones) and gives each first-level comment
written by a viewer its `Preference`; replies and the brand's own comments get none.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import corpus

CONSISTENCY = 0.92
SLIP = 0.01
TEAM_LANGUAGES = 2
"""Languages the team writes besides English."""
ANSWERED_KINDS = frozenset({"size", "shipping"})
FIRST_LINES = frozenset({"First", "Primero", "Erste!", "Premier", "Primeiro"})
OFF_TOPIC = ("Who else is watching this at 3am", "Following", "Saw this in Target today",
             "Stop showing me this ad", "Are they cheaper on the website?")


@dataclass(frozen=True)
class Team:
    """What one brand's team answers and hides."""

    answer_languages: frozenset[str]
    hide_lines: frozenset[str]


@dataclass(frozen=True)
class Preference:
    """The team's verdict on one comment."""

    hide: bool
    answer: bool
    kind: str | None  # the corpus kind of its text (praise, size, ...), None when unknown
    language: str | None


def team(seed: int) -> Team:
    """The team the seed gives."""
    rng = random.Random(f"team-preferences:{seed}")
    others = sorted(lang for lang in corpus.COMMENTS if lang != "en")
    languages = frozenset({"en", *rng.sample(others, TEAM_LANGUAGES)})
    return Team(languages, FIRST_LINES | frozenset(rng.sample(OFF_TOPIC, 2)))


def preferences(rows: Iterable[Mapping[str, Any]], seed: int) -> dict[str, Preference]:
    """Each first-level viewer comment's Preference, by comment ID."""
    chosen = team(seed)
    lines = _line_kinds()
    found: dict[str, Preference] = {}
    for row in rows:
        if not _first_level_by_a_viewer(row):
            continue
        comment_id = str(row["comment_id"])
        text = str(row.get("content", row.get("text")) or "")
        line, (language, kind) = _template(text, lines)
        if text in corpus.HOSTILE_COMMENTS:
            kind = "hostile"
        would_hide = kind in ("spam", "hostile") or line in chosen.hide_lines
        would_answer = (not would_hide and kind in ANSWERED_KINDS
                        and language in chosen.answer_languages)
        hide = _acts(seed, comment_id, "hide", would_hide)
        answer = not hide and _acts(seed, comment_id, "answer", would_answer)
        found[comment_id] = Preference(hide, answer, kind, language)
    return found


def _acts(seed: int, comment_id: str, target: str, would: bool) -> bool:
    digest = hashlib.blake2b(f"{seed}:{target}:{comment_id}".encode(), digest_size=8).digest()
    roll = int.from_bytes(digest, "big") / 2**64
    return roll < (CONSISTENCY if would else SLIP)


def _first_level_by_a_viewer(row: Mapping[str, Any]) -> bool:
    return (row.get("comment_type") == "COMMENT" and not row.get("can_delete")
            and not row.get("owner"))


def _line_kinds() -> dict[str, tuple[str, str]]:
    """Every corpus line (English ones with each preset's product) → (language, kind)."""
    products = {preset[5] for preset in corpus.ADVERTISER_PRESETS}
    table: dict[str, tuple[str, str]] = {}
    for language, kinds in corpus.COMMENTS.items():
        for kind, lines in kinds.items():
            for line in lines:
                for product in products if "{product}" in line else ("",):
                    table[line.replace("{product}", product)] = (language, kind)
    return table


def _template(text: str, lines: Mapping[str, tuple[str, str]]
              ) -> tuple[str | None, tuple[str | None, str | None]]:
    """The corpus line a comment was written from (its decorations taken off: a leading
    @mention, trailing emoji, "!!!"), with its language and kind."""
    candidates = [text]
    if text.startswith("@") and " " in text:
        candidates.append(text.split(" ", 1)[1])
    for candidate in list(candidates):
        if candidate.endswith("!!!"):
            candidates.append(candidate[:-3])
        head, _, tail = candidate.rpartition(" ")
        if head and _is_emoji_run(tail):
            candidates.append(head)
    for candidate in candidates:
        if candidate in lines:
            return candidate, lines[candidate]
    return None, (None, None)


def _is_emoji_run(tail: str) -> bool:
    """Whether `tail` is one of the corpus's emoji, repeated."""
    for emoji in corpus.EMOJI:
        if tail and len(tail) % len(emoji) == 0 and tail == emoji * (len(tail) // len(emoji)):
            return True
    return False
