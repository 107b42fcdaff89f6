"""The comment classifier: language, sentiment (-1…1) and labels for any comment, in the
languages TikTok audiences write in.

It is a lexicon classifier, by choice: it needs no model download (the language models ship
inside the lingua wheel, the lexicon inside this package), it runs at tens of thousands of
comments a second, and a team can read why a comment got a label. How it judges:

- The language comes from `language.detect_languages` (script first, then lingua).
- The comment is folded (case, width, accents: `words.fold`), split into clauses at . , ! ? and
  their kin, and every lexicon keyword (`keywords.Lexicon`) is found in one pass. A keyword
  written for one language only counts in comments detected as that language.
- A negator ("not", "no", "gak", "không", Turkish "değil" after the word) just before a
  sentiment keyword in its clause flips it: "not good" is negative, "not bad" positive.
- **question**: a clause ending in "?" (or opening with "¿"), a question phrase anywhere, a
  question word opening a clause or a question particle closing one; but not a clause that
  only exclaims ("what a color!") or asks nothing ("are you kidding?").
- **purchase_intent**: wanting or asking to buy; buying words such as "price" or "link"
  count when they ask, plead or stand almost alone ("price?", "link pls").
- **complaint** and **praise**: their phrases, not negated; praise inside a question does not
  count ("is it good?"), nor weak praise ("great") next to a complaint ("great, broke in a
  day").
- **spam**: spam phrases (link in bio, giveaways, crypto, betting…), a link, a phone number,
  an @handle with a call to follow or write to it, or a commenter whose name imitates the
  brand's (`impersonation.BrandNames`).
- **toxic**: abuse and slurs; insults only when aimed at a person ("you", "she", "this girl");
  swearing only when aimed at a person with nothing good said ("this is fucking amazing" is
  praise).
- **sentiment**: the weighted sum of what was found, squashed into -1…1.

Quality is measured on a labelled set of comments the lexicon was not written from:
`python -m bench classifier` prints precision and recall per label and language accuracy.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from desk.moderation.impersonation import BrandNames
from desk.moderation.keywords import CLAUSE, Hit, lexicon, normalize
from desk.moderation.labels import LABELS, Label
from desk.moderation.language import detect_languages
from desk.moderation.words import fold, has_handle, has_link, has_phone

CLASSIFIER_VERSION = "lexicon-1"
"""Stored with each verdict; a new version has the backlog classified again."""

NEGATION_REACH = 3
"""Words a negator may stand before the word it flips ("not really that good")."""

_WEIGHTS = {
    "praise": 1.0, "praise_weak": 0.6, "positive": 0.5,
    "negative": -0.6, "complaint": -0.9, "toxic": -1.0, "insult": -0.8,
}
"""What each kind of keyword adds to the sentiment (negated: the opposite, times 0.7)."""

_NEGATED = 0.7
_STEEPNESS = 1.2
_SENTIMENT_TAGS = frozenset({"praise", "praise_weak", "positive", "negative", "complaint"})
_QUESTION_MARKS = frozenset("?؟")
_SHORT = 3
"""Words in a comment short enough for a bare buying word ("price", "link") to ask."""


@dataclass(frozen=True, slots=True)
class Classification:
    """One comment's verdict."""

    language: str
    sentiment: float
    labels: tuple[Label, ...]


@dataclass(slots=True)
class _Clause:
    start: int  # where it begins in the normalized text (the "|" before it, or 0)
    end: int  # where the "|" after it stands (or the text's end)
    asks: bool  # ends in "?" or opens with "¿"
    hits: list[Hit]

    def first_word_at(self, text: str) -> int:
        """Where the clause's first word begins."""
        position = self.start + (1 if text[self.start] == "|" else 0)
        while position < self.end and text[position] == " ":
            position += 1
        return position

    def last_word_end(self, text: str) -> int:
        position = self.end
        while position > self.start and text[position - 1] == " ":
            position -= 1
        return position


class Classifier:
    """Classifies comments for one brand (whose names commenters may imitate)."""

    def __init__(self, brands: Iterable[str] = ()) -> None:
        self._lexicon = lexicon()
        self._brands = BrandNames(brands)

    def classify(self, text: str | None, user_name: str | None = None) -> Classification:
        """One comment's language, sentiment and labels."""
        [language] = detect_languages([text])
        return self._judge(text or "", language, user_name)

    def classify_many(self, texts: Sequence[str | None],
                      user_names: Sequence[str | None] | None = None) -> pd.DataFrame:
        """A frame with `language`, `sentiment` (float32) and `labels` (a list of labels) for
        each text, in order. The languages of the batch are detected on every core."""
        names = user_names if user_names is not None else [None] * len(texts)
        if len(names) != len(texts):
            raise ValueError("give one user name (or None) per text")
        languages = detect_languages(texts)
        verdicts = [self._judge(text or "", language, name)
                    for text, language, name in zip(texts, languages, names, strict=True)]
        return pd.DataFrame({
            "language": languages,
            "sentiment": np.fromiter((v.sentiment for v in verdicts), np.float32, len(verdicts)),
            "labels": [list(v.labels) for v in verdicts],
        })

    def _judge(self, text: str, language: str, user_name: str | None) -> Classification:
        folded = fold(text)
        normalized = normalize(folded)
        hits = [hit for hit in self._lexicon.find(normalized)
                if hit.only_language is None or hit.only_language == language]
        clauses = _clauses(folded, normalized, hits)
        words = len(normalized.replace("|", " ").split())
        found: set[str] = set()
        score = 0.0
        spoken = {hit.tag for hit in hits}
        for clause in clauses:
            asks = self._asks(clause, normalized)
            if asks:
                found.add("question")
            for hit in clause.hits:
                tag = hit.tag
                negated = tag in _SENTIMENT_TAGS and _negated(hit, clause, normalized)
                if tag in ("praise", "praise_weak", "positive") and asks and not negated:
                    continue  # "is it good?" asks; it does not praise
                weight = _WEIGHTS.get(tag, 0.0)
                if tag == "insult" and not _aimed(clause):
                    weight = 0.0
                if negated:
                    score -= _NEGATED * weight
                    if tag == "praise":
                        found.add("complaint")
                    elif tag in ("negative", "complaint") and weight:
                        found.add("praise_weak")
                    continue
                score += weight
                asking = asks or "please" in spoken or words <= _SHORT
                if tag == "purchase_question":
                    found.update(("question", "purchase_intent"))
                elif tag == "purchase_intent" or (tag == "purchase_ask" and asking):
                    found.add("purchase_intent")
                elif tag in ("complaint", "praise", "praise_weak", "spam", "toxic"):
                    found.add(tag)
                elif tag == "insult" and weight:
                    found.add("toxic")
                elif tag == "profanity" and _aimed(clause):
                    found.add("profanity")
        labels: set[str] = set()
        for label in ("question", "purchase_intent", "complaint", "praise", "toxic", "spam"):
            if label in found:
                labels.add(label)
        if "praise_weak" in found and not found & {"complaint", "toxic"} and score > 0:
            labels.add("praise")
        if "profanity" in found and score <= 0 and "praise" not in labels:
            labels.add("toxic")
            score -= 0.5
        if "toxic" in labels:
            labels.discard("praise")
        if self._spam(text, hits, user_name):
            labels.add("spam")
        sentiment = round(math.tanh(_STEEPNESS * score), 3)
        return Classification(language, sentiment,
                              tuple(label for label in LABELS if label in labels))

    def _asks(self, clause: _Clause, text: str) -> bool:
        """Whether a clause asks a question."""
        tags = {hit.tag for hit in clause.hits}
        if tags & {"question", "purchase_question"}:
            return True
        if tags & {"rhetorical", "exclamation"}:
            return False
        if clause.asks:
            return True
        first = clause.first_word_at(text)
        if any(hit.tag == "question_start" and hit.start == first for hit in clause.hits):
            return True
        last = clause.last_word_end(text)
        for hit in clause.hits:
            if hit.tag != "question_end":
                continue
            rest = text[hit.end:last].split()
            if all(word in self._lexicon.vocatives for word in rest):
                return True
        return False

    def _spam(self, text: str, hits: list[Hit], user_name: str | None) -> bool:
        tags = {hit.tag for hit in hits}
        if "spam" in tags or has_link(text) or has_phone(text):
            return True
        if "solicit" in tags and has_handle(text):
            return True
        return self._brands.imitates(user_name)


def _clauses(folded: str, normalized: str, hits: list[Hit]) -> list[_Clause]:
    """The clauses of the normalized text, each with whether it asks by its punctuation and
    the hits inside it. The normalized text has one "|" per run of clause punctuation in the
    folded text, in order, so the two line up."""
    marks = [m.group() for m in CLAUSE.finditer(folded)]
    bars = [i for i, char in enumerate(normalized) if char == "|"]
    edges = [0, *bars, len(normalized)]
    clauses = []
    for index in range(len(edges) - 1):
        closing = marks[index] if index < len(marks) else ""
        opening = marks[index - 1] if 0 < index <= len(marks) else ""
        asks = bool(_QUESTION_MARKS & set(closing)) or "¿" in opening
        clauses.append(_Clause(edges[index], edges[index + 1], asks, []))
    for hit in hits:
        clauses[bisect.bisect_right(bars, hit.start)].hits.append(hit)
    return clauses


def _negated(hit: Hit, clause: _Clause, text: str) -> bool:
    """Whether a negator of the same clause flips `hit`."""
    for other in clause.hits:
        if other.tag == "negator" and other.end <= hit.start:
            if len(text[other.end:hit.start].split()) < NEGATION_REACH:
                return True
        elif (other.tag == "negator_after" and other.start >= hit.end
              and not text[hit.end:other.start].split()):
            return True
    return False


def _aimed(clause: _Clause) -> bool:
    """Whether abuse is aimed at someone: a person word in its clause."""
    return any(hit.tag == "person" for hit in clause.hits)

