"""The classifier's lexicon, found in a comment in one pass.

The lexicon lives in `lexicon/*.toml`, one file per language plus `common.toml` for emoji and
the slang every language shares. Each file has one table per *tag* (what a keyword is evidence
of); each table has a `words` list, matched in any comment, and may have an `only_in_language`
list, matched only in a comment detected as that file's language (Turkish "mi" asks a
question; Spanish "mi" means "my").

A keyword matches a whole word or phrase of the folded comment (`words.fold`), as with
`words.keyword_pattern`: case, width and accents do not matter, any run of spaces and
punctuation between words matches any other, and in scripts written without spaces a keyword
matches anywhere (Korean: a boundary before it only). Two more forms:
"arriv..." matches words that begin with "arriv", "...nız" words that end with "nız".

One regular expression per keyword is far too slow for thousands of keywords, so every keyword
goes into one Aho-Corasick automaton, run over the comment once; boundaries are checked on the
few hits. Clause punctuation (. , ! ? and their kin) becomes " | ", so a phrase never spans two
clauses and negation stops at a comma.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

import ahocorasick
import regex

from desk.moderation.words import NO_SPACE_SCRIPTS, fold

TAGS = (
    "question",  # asks something wherever it stands ("how much", "cuanto")
    "question_start",  # asks only at the start of a clause ("is it", "donde")
    "question_end",  # asks only at the end of a clause (Indonesian "gak", Vietnamese "không")
    "exclamation",  # looks like a question word but exclaims ("what a", "que lindo")
    "rhetorical",  # a question that asks nothing ("are you kidding", "who cares")
    "purchase_question",  # asks to buy: both a question and purchase intent ("how much")
    "purchase_intent",  # wants to buy ("need this", "add to cart", "restock")
    "purchase_ask",  # buying words that ask only in a question or a short request ("price")
    "please",  # makes a short request of a purchase_ask word ("pls", "por favor")
    "complaint",
    "praise",
    "praise_weak",  # generic praise that sarcasm turns ("great, broke after a day")
    "positive",  # sentiment only
    "negative",  # sentiment only; negated, it praises ("not bad")
    "neutral",  # phrases whose words mean nothing here ("not gonna lie", "i'm broke")
    "spam",
    "solicit",  # makes an @handle a pitch ("follow", "dm")
    "toxic",  # toxic wherever it stands ("kill yourself", "shut up")
    "insult",  # toxic when aimed at a person ("stupid", "ugly")
    "profanity",  # swearing: toxic only aimed at a person with nothing good said
    "person",  # aims an insult: second person, words for people ("you", "this girl")
    "negator",  # flips the next few words ("not", "no", "gak", "không")
    "negator_after",  # flips the word just before (Turkish "değil")
    "vocative",  # may follow a clause-final question word ("shop", "kak")
)

_CONTEXT_TAGS = frozenset({"please", "solicit", "person", "vocative"})
"""Tags that only qualify other hits: never hidden inside a longer hit."""

_CENSORED = regex.compile(r"(?<=\w)\*+")
CLAUSE = regex.compile(r"[.!?;:,…。！？、，؟،¡¿\n\r|]+")
_SEPARATOR = regex.compile(r"[^\w\p{S}*|@]+")
_ELONGATED_END = re.compile(r"([^\W\d])\1{2,}(?!\w)")
_ELONGATED = re.compile(r"([^\W\d])\1{2,}")
_ARABIC_LETTERS = str.maketrans({"ة": "ه", "ى": "ي", "ـ": None})
_WORD_CHAR = regex.compile(f"[\\w*--[{NO_SPACE_SCRIPTS}]]", regex.V1)
_HANGUL = regex.compile(r"\p{Hangul}")
_ELLIPSIS = "..."


def normalize(folded: str) -> str:
    """Folded text as the automaton reads it: censor stars joined, clauses split by " | ",
    other punctuation and spaces as one space, stretched letters shrunk ("loveee" → "love",
    "goood" → "good"), padded with a space at each end."""
    if "*" in folded:
        folded = _CENSORED.sub("*", folded)
    if not folded.isascii():
        folded = folded.translate(_ARABIC_LETTERS)
    text = _SEPARATOR.sub(" ", CLAUSE.sub(" | ", folded))
    if _ELONGATED.search(text):
        text = _ELONGATED.sub(r"\1\1", _ELONGATED_END.sub(r"\1", text))
    return f" {text.strip()} "


class Hit(NamedTuple):
    """One keyword found: where (in the normalized text), of which tag, and for which
    language only (None: any)."""

    start: int
    end: int
    tag: str
    only_language: str | None


@dataclass(frozen=True, slots=True)
class _Entry:
    length: int
    tag: str
    only_language: str | None
    boundary_before: bool
    boundary_after: bool


class Lexicon:
    """Every keyword of every lexicon file, in one automaton."""

    def __init__(self, tables: dict[str, dict]) -> None:
        entries: dict[str, set[_Entry]] = {}
        vocatives: set[str] = set()
        for language, table in tables.items():
            for tag, lists in table.items():
                if tag not in TAGS:
                    raise ValueError(f"lexicon {language}: unknown tag {tag!r}")
                gated = language if language != "common" else None
                for keyword in lists.get("words", []):
                    self._add(entries, keyword, tag, None)
                for keyword in lists.get("only_in_language", []):
                    self._add(entries, keyword, tag, gated)
                if tag == "vocative":
                    vocatives.update(normalize(fold(w)).strip() for w in lists.get("words", []))
        automaton = ahocorasick.Automaton()
        for key, found in entries.items():
            ordered = sorted(found, key=lambda e: (e.tag, e.only_language or ""))
            automaton.add_word(key, tuple(ordered))
        automaton.make_automaton()
        self._automaton = automaton
        self.vocatives = frozenset(vocatives)

    @staticmethod
    def _add(entries: dict[str, set[_Entry]], keyword: str, tag: str, gate: str | None) -> None:
        open_start = keyword.startswith(_ELLIPSIS)
        open_end = keyword.endswith(_ELLIPSIS) and len(keyword) > len(_ELLIPSIS)
        core = keyword.removeprefix(_ELLIPSIS) if open_start else keyword
        core = core.removesuffix(_ELLIPSIS) if open_end else core
        key = normalize(fold(core)).strip(" |")
        if not key:
            raise ValueError(f"lexicon: keyword {keyword!r} has no word in it")
        first, last = key[0], key[-1]
        before = not open_start and _WORD_CHAR.match(first) is not None
        after = (
            not open_end and _WORD_CHAR.match(last) is not None and not _HANGUL.match(last)
        )
        entries.setdefault(key, set()).add(_Entry(len(key), tag, gate, before, after))

    def find(self, text: str) -> list[Hit]:
        """Every keyword in `text` (normalized), whole words only, longest first where one hit
        lies inside another (except context tags, which never hide)."""
        hits = []
        word_char = _WORD_CHAR.match
        for end, found in self._automaton.iter(text):
            for entry in found:
                start = end - entry.length + 1
                if entry.boundary_before and word_char(text, start - 1):
                    continue
                if entry.boundary_after and word_char(text, end + 1):
                    continue
                hits.append(Hit(start, end + 1, entry.tag, entry.only_language))
        if len(hits) > 1:
            hits = _outermost(hits)
        return hits


def _outermost(hits: list[Hit]) -> list[Hit]:
    """`hits` without those lying inside a longer hit: "not" inside "not gonna lie", "shut up"
    inside "shut up and take my money"."""
    kept = []
    for hit in hits:
        if hit.tag in _CONTEXT_TAGS:
            kept.append(hit)
            continue
        size = hit.end - hit.start
        hidden = any(
            other.start <= hit.start
            and hit.end <= other.end
            and other.end - other.start > size
            and other.tag not in _CONTEXT_TAGS
            for other in hits
        )
        if not hidden:
            kept.append(hit)
    return kept


@functools.cache
def lexicon() -> Lexicon:
    """The lexicon of every file in `lexicon/`, built once per process."""
    folder = resources.files("desk.moderation") / "lexicon"
    tables = {}
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".toml"):
            tables[item.name.removesuffix(".toml")] = tomllib.loads(item.read_text("utf-8"))
    return Lexicon(tables)
