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
goes into one Aho-Corasick automaton, run over the comment once. A keyword that needs a word
boundary is stored with a space at that edge, and the normalized comment has a space at every
edge of a word, so the automaton reports whole words only. Clause punctuation (. , ! ? and
their kin) becomes " | ", so a phrase never spans two clauses and negation stops at a comma.
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources
from typing import NamedTuple

import ahocorasick
import regex

from desk.moderation.words import NO_SPACE_SCRIPTS, fold

TAGS = (
    "question",  # asks something wherever it stands ("how much", "cuanto")
    "question_start",  # asks only at the start of a clause ("is it", "donde")
    "question_end",  # asks only at the end of a clause (Indonesian "gak", Vietnamese "không")
    "exclamation",  # looks like a question but exclaims ("what a", "que lindo")
    "exclamation_start",  # exclaims right before a word that judges ("que feo", "how cute")
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
    "solicit_before",  # makes an @handle after it a pitch ("check out @…"; "@amy check this")
    "toxic",  # toxic wherever it stands ("kill yourself", "shut up")
    "insult",  # toxic when aimed at a person ("stupid", "ugly")
    "profanity",  # swearing: toxic only aimed at a person with nothing good said
    "person",  # aims an insult: second person, words for people ("you", "this girl")
    "negator",  # flips the next few words ("not", "no", "gak", "không")
    "negator_after",  # flips the word just before (Turkish "değil")
    "vocative",  # may follow a clause-final question word ("shop", "kak")
)

_CONTEXT_TAGS = frozenset({"please", "solicit", "solicit_before", "person", "vocative",
                           "exclamation_start"})
"""Tags that only qualify other hits: never hidden inside a longer hit, never hiding one."""

_NOT_TELLING = _CONTEXT_TAGS | {"negator", "negator_after", "question_end"}
"""Tags of short function words that say little about a comment's language (their lexicon
files are no hint of it)."""

_ASKING_TAGS = frozenset({"question", "question_start", "question_end", "purchase_question"})
"""What an exclamation hides inside it ("que" in "que lindo"); the rest it leaves ("lindo")."""

_CENSORED = regex.compile(r"(?<=\w)\*+")
CLAUSE = regex.compile(r"[.!?;:,…。！？、，؟،¡¿\n\r|]+")
_SEPARATOR = regex.compile(r"[^\w\p{S}*|@]+")
_SPACED_WORD = f"[\\w*--[{NO_SPACE_SCRIPTS}]]"
_PAD = regex.compile(f"\\p{{S}}|[{NO_SPACE_SCRIPTS}]+")
"""Symbols (emoji) and runs of scripts without spaces: set apart by spaces."""
_ASCII_SYMBOL = re.compile(r"[$+<=>^`~]")
_SPACES = re.compile(r"  +")
_ELONGATED_END = re.compile(r"([^\W\d])\1{2,}(?!\w)")
_ELONGATED = re.compile(r"([^\W\d])\1{2,}")
_ARABIC_LETTERS = str.maketrans({"ة": "ه", "ى": "ي", "ـ": None})
_WORD_CHAR = regex.compile(_SPACED_WORD, regex.V1)
_HANGUL = regex.compile(r"\p{Hangul}")
_ELLIPSIS = "..."


def normalize(folded: str) -> str:
    """Folded text as the automaton reads it: censor stars joined, clauses split by " | ",
    other punctuation and spaces as one space, a space around each symbol (emoji) and between
    a word of a spaced script and one of a script without spaces, stretched letters shrunk
    ("loveee" → "love", "goood" → "good"), padded with a space at each end. A word of a
    spaced script then always stands between two spaces."""
    if "*" in folded:
        folded = _CENSORED.sub("*", folded)
    text = _SEPARATOR.sub(" ", CLAUSE.sub(" | ", folded))
    if not text.isascii():
        text = _SPACES.sub(" ", _PAD.sub(r" \g<0> ", text.translate(_ARABIC_LETTERS)))
    elif _ASCII_SYMBOL.search(text):
        text = _SPACES.sub(" ", _PAD.sub(r" \g<0> ", text))
    if _ELONGATED.search(text):
        text = _ELONGATED.sub(r"\1\1", _ELONGATED_END.sub(r"\1", text))
    return f" {text.strip()} "


class Hit(NamedTuple):
    """One keyword found: where (in the normalized text), of which tag, for which language
    only (None: any), and which language files list it for every language (a hint of the
    comment's language; none when common.toml lists it too)."""

    start: int
    end: int
    tag: str
    only_language: str | None
    sources: tuple[str, ...] = ()


class _Entry(NamedTuple):
    back: int  # from the key's last character back to the keyword's first
    ahead: int  # from the key's last character to the keyword's end (0, or 1 past a space)
    tag: str
    only_language: str | None


class Lexicon:
    """Every keyword of every lexicon file, in one automaton.

    A keyword that must stand as a whole word is stored with a space on each side that needs
    a boundary (normalized text has a space at every edge of a spaced-script word), so the
    automaton reports whole words only and nothing is checked afterwards."""

    def __init__(self, tables: dict[str, dict]) -> None:
        entries: dict[str, set[_Entry]] = {}
        sources: dict[str, set[str]] = {}
        vocatives: set[str] = set()
        for language, table in tables.items():
            for tag, lists in table.items():
                if tag not in TAGS:
                    raise ValueError(f"lexicon {language}: unknown tag {tag!r}")
                everywhere = lists.get("words", [])
                gated = lists.get("only_in_language", [])
                if gated and language == "common":
                    raise ValueError("lexicon common: only_in_language needs a language")
                both = {_core(w) for w in everywhere} & {_core(w) for w in gated}
                if both:
                    raise ValueError(f"lexicon {language} [{tag}]: {sorted(both)} listed both "
                                     f"in words and in only_in_language")
                for keyword in everywhere:
                    key = self._add(entries, keyword, tag, None)
                    if tag not in _NOT_TELLING:
                        sources.setdefault(key, set()).add(language)
                for keyword in gated:
                    self._add(entries, keyword, tag, language)
                if tag == "vocative":
                    vocatives.update(normalize(fold(w)).strip() for w in everywhere + gated)
        for languages in sources.values():
            if "common" in languages:  # every language's word tells none
                languages.clear()
        automaton = ahocorasick.Automaton()
        for key, found in entries.items():
            told = tuple(sorted(sources.get(key, ())))
            ordered = sorted(found, key=lambda e: (e.tag, e.only_language or ""))
            automaton.add_word(key, tuple((*entry, told) for entry in ordered))
        automaton.make_automaton()
        self._automaton = automaton
        self.vocatives = frozenset(vocatives)

    @staticmethod
    def _add(entries: dict[str, set[_Entry]], keyword: str, tag: str, gate: str | None) -> str:
        open_start = keyword.startswith(_ELLIPSIS)
        open_end = keyword.endswith(_ELLIPSIS) and len(keyword) > len(_ELLIPSIS)
        core = keyword.removeprefix(_ELLIPSIS) if open_start else keyword
        core = core.removesuffix(_ELLIPSIS) if open_end else core
        key = normalize(fold(core)).strip(" |")
        if not key:
            raise ValueError(f"lexicon: keyword {keyword!r} has no word in it")
        first, last = key[0], key[-1]
        before = int(not open_start and _WORD_CHAR.match(first) is not None)
        after = int(
            not open_end and _WORD_CHAR.match(last) is not None and not _HANGUL.match(last)
        )
        padded = " " * before + key + " " * after
        entry = _Entry(len(padded) - 1 - before, 1 - after, tag, gate)
        entries.setdefault(padded, set()).add(entry)
        return padded

    def find(self, text: str) -> list[Hit]:
        """Every keyword in `text` (normalized), whole words only, longest first where one hit
        lies inside another (except context tags, which never hide; an exclamation hides only
        the question words inside it)."""
        new = tuple.__new__  # a Hit without the keyword arguments' cost: this runs per hit
        hits = [
            new(Hit, (end - back, end + ahead, tag, gate, told))
            for end, found in self._automaton.iter(text)
            for back, ahead, tag, gate, told in found
        ]
        if len(hits) > 1:
            hits = _outermost(hits)
        return hits


def _core(keyword: str) -> str:
    return normalize(fold(keyword.strip("."))).strip(" |")


def _outermost(hits: list[Hit]) -> list[Hit]:
    """`hits` without those lying inside a longer hit: "not" inside "not gonna lie", "shut up"
    inside "shut up and take my money"; but only question words inside an exclamation.

    One sweep from the left, outer hits first: a hit lies inside a longer one when a hit that
    starts before it reaches as far, or one that starts with it reaches further."""
    kept = []
    reach = exclaiming = -1  # how far hits starting before the current start reach
    group = -1
    group_reach = group_exclaiming = -1  # how far hits starting at it reach
    for hit in sorted(hits, key=_outer_first):
        start, end, tag = hit.start, hit.end, hit.tag
        if start != group:
            reach = max(reach, group_reach)
            exclaiming = max(exclaiming, group_exclaiming)
            group, group_reach, group_exclaiming = start, -1, -1
        if tag in _CONTEXT_TAGS:
            kept.append(hit)
            continue
        if not (reach >= end or group_reach > end or (tag in _ASKING_TAGS and (
                exclaiming >= end or group_exclaiming > end))):
            kept.append(hit)
        if tag == "exclamation":
            group_exclaiming = max(group_exclaiming, end)
        else:
            group_reach = max(group_reach, end)
    return kept


def _outer_first(hit: Hit) -> tuple[int, int]:
    return hit.start, -hit.end


@functools.cache
def lexicon() -> Lexicon:
    """The lexicon of every file in `lexicon/`, built once per process."""
    folder = resources.files("desk.moderation") / "lexicon"
    tables = {}
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".toml"):
            tables[item.name.removesuffix(".toml")] = tomllib.loads(item.read_text("utf-8"))
    return Lexicon(tables)
