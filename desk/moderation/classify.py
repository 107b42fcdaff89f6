"""The comment classifier: language, sentiment (-1…1) and labels for any comment, in the
languages TikTok audiences write in.

It is a lexicon classifier, by choice: it needs no model download (the language models ship
inside the lingua wheel, the lexicon inside this package), it runs at thousands of comments a
second, and a team can read why a comment got a label. How it judges:

- The comment is folded (case, width, accents: `words.fold`), split into clauses at . , ! ? and
  their kin, and every lexicon keyword (`keywords.Lexicon`) is found in one pass. Where two
  sentiment phrases share a word, the one read first keeps it ("ga nyesel beli").
- The language comes from `language.detect_languages`: the script, lingua, and votes of the
  comment's words, the lexicon hits among them. A keyword written for one language only counts
  in comments detected as that language.
- A negator ("not", "no", "gak", "không", Turkish "değil" after the word) just before a
  sentiment keyword in its clause flips it: "not good" is a negative complaint, "not bad"
  positive praise; but not a phrase that says no itself ("no tiene nada que ver").
- **question**: a clause ending in "?" (or opening with "¿"), a question phrase anywhere, a
  question word opening a clause (after a greeting or a name: "guys does it…") or a question
  particle closing one; but not a clause that only exclaims ("what a color!", "que feo", "how
  cute"), asks nothing ("are you kidding?") or only protests with its "?" ("no refund??").
- **purchase_intent**: wanting or asking to buy; buying words such as "price" or "link"
  count when they ask, plead or stand almost alone ("price?", "link pls"). An order someone
  complains about ("ordered a month ago, still nothing") is no wish to buy.
- **complaint** and **praise**: their phrases, not negated (negated praise complains: "not
  worth it"); praise inside a question does not count ("is it good?"), nor weak praise
  ("great") next to a complaint ("great, broke in a day"). A word that insults a person
  ("ugly" at "you") is no complaint about the product.
- **spam**: spam phrases (link in bio, giveaways, crypto, betting…), a link, a phone number,
  an @handle with a call to follow or write to it, one emoji or letter flooded, or a commenter
  whose name imitates the brand's (`impersonation.BrandNames`). The emoji of a pitch are bait:
  they neither praise nor count for sentiment.
- **toxic**: abuse and slurs; insults only when aimed at a person ("you", "she", "this girl",
  not "your product"); swearing only when aimed at a person with nothing good said ("this is
  fucking amazing" is praise; swearing at nobody only sounds negative).
- **sentiment**: the weighted sum of what was found, squashed into -1…1; abuse is negative
  whatever laughter came with it.
- The brand's own comments ("Thanks for the love 💕" by the brand) are neither praise nor
  complaint, pitch nor wish to buy.
- Each distinct text of a batch is judged once, so a text gets the same verdict wherever it
  stands; only its commenter's name (imitating the brand, or the brand's own) differs.

Quality is measured on a labelled set of comments the lexicon was not written from:
`python -m bench classifier` prints precision and recall per label and language accuracy.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import regex

from desk.moderation.impersonation import BrandNames
from desk.moderation.keywords import CLAUSE, Hit, lexicon, normalize
from desk.moderation.labels import LABELS, Label
from desk.moderation.language import detect_languages
from desk.moderation.words import NO_SPACE_SCRIPTS, fold, has_handle, has_link, has_phone

CLASSIFIER_VERSION = "lexicon-3"
"""Stored with each verdict; a new version has the backlog classified again."""

NEGATION_REACH = 3
"""Words a negator may stand before the word it flips ("not really that good")."""

EXCLAMATION_REACH = 2
"""Words an exclaiming "que", "how" may stand before the word that judges ("que menina
chata")."""

_WEIGHTS = {
    "praise": 1.0, "praise_weak": 0.6, "positive": 0.5,
    "negative": -0.6, "complaint": -0.9, "toxic": -1.0, "insult": -0.8,
}
"""What each kind of keyword adds to the sentiment (negated: the opposite, times 0.7)."""

_NEGATED = 0.7
_STEEPNESS = 1.2
_SWEARING = -0.4
"""What swearing at nobody adds to a comment that says nothing good ("damn, missed the sale")."""
_ABUSE = -0.5
"""What abuse adds to a comment's sentiment, whatever laughter or emoji came with it."""
_NOT_OWN = frozenset({"praise", "spam", "purchase_intent", "complaint"})
"""Labels that do not apply to the brand's own comments ("Thanks for the love 💕")."""
_CONCORD = frozenset([
    "nada", "nunca", "ninguno", "ninguna", "nadie", "ni", "jamas", "niente", "nulla", "mai",
    "nessuno", "nessuna", "rien", "jamais", "personne", "aucun", "aucune", "nothing", "never",
    "nobody", "nem", "ninguem", "nenhum", "nenhuma", "hic", "asla", "hicbir",
])
"""Negative words that agree with a negator before them instead of flipping it."""
_GRIEVING = frozenset({"complaint", "negative", "toxic", "insult"})
_BAIT = 0.2
"""What is left of the sentiment of a pitch (its emoji and cheer are bait)."""
_SENTIMENT_TAGS = frozenset({"praise", "praise_weak", "positive", "negative", "complaint"})
_PRAISING = frozenset({"praise", "praise_weak", "positive"})
_JUDGING = frozenset({"praise", "praise_weak", "positive", "negative", "complaint", "insult",
                      "toxic", "profanity"})
"""Tags of words that make an opening "que", "how", "wie" exclaim ("que feo", "how cute")."""
_QUESTION_MARKS = frozenset("?؟")
_SHORT = 3
"""Words in a comment short enough for a bare buying word ("price", "link") to ask."""
_FLOOD = regex.compile(r"(\X)\1{19,}")
"""One character or emoji twenty times in a row."""
_DOTTED = regex.compile(r"[\w-]\.[a-z]{2,}|://|www\.", regex.IGNORECASE)
"""A dot inside a word or a scheme: every real link has one (`has_link` alone also takes
"time" or "meme" for the short hosts t.me and m.me)."""
_HANDLE_AT = regex.compile(r"(?<= )@\w")
_UNSPACED = regex.compile(f"[{NO_SPACE_SCRIPTS}]+")
_CLAIMING = frozenset({"praise", "praise_weak", "positive", "negative", "complaint", "neutral"})
"""Tags of phrases that claim their words from a later phrase overlapping them."""


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

    def first_word_at(self, text: str, skipped: frozenset[str] = frozenset()) -> int:
        """Where the clause's first word begins, past words in `skipped` (a greeting or a
        name before the question: "guys does it…", "kak berapa…")."""
        position = self.start + (1 if text[self.start] == "|" else 0)
        while True:
            while position < self.end and text[position] == " ":
                position += 1
            after = text.find(" ", position, self.end)
            if after == -1 or text[position:after] not in skipped:
                return position
            position = after

    def last_word_end(self, text: str) -> int:
        position = self.end
        while position > self.start and text[position - 1] == " ":
            position -= 1
        return position


class _Read(NamedTuple):
    """A comment as the lexicon reads it."""

    text: str
    folded: str
    normalized: str
    hits: list[Hit]


class Classifier:
    """Classifies comments for one brand (whose names commenters may imitate)."""

    def __init__(self, brands: Iterable[str] = ()) -> None:
        self._lexicon = lexicon()
        self._brands = BrandNames(brands)

    def classify(self, text: str | None, user_name: str | None = None) -> Classification:
        """One comment's language, sentiment and labels."""
        [verdict] = self._classify([text or ""], [user_name])
        return verdict

    def classify_many(self, texts: Sequence[str | None],
                      user_names: Sequence[str | None] | None = None) -> pd.DataFrame:
        """A frame with `language`, `sentiment` (float32) and `labels` (a list of labels) for
        each text, in order. The languages of the batch are detected on every core."""
        names = user_names if user_names is not None else [None] * len(texts)
        if len(names) != len(texts):
            raise ValueError("give one user name (or None) per text")
        verdicts = self._classify([text or "" for text in texts], names)
        return pd.DataFrame({
            "language": [v.language for v in verdicts],
            "sentiment": np.fromiter((v.sentiment for v in verdicts), np.float32, len(verdicts)),
            "labels": [list(v.labels) for v in verdicts],
        })

    def _classify(self, texts: list[str], names: Sequence[str | None]) -> list[Classification]:
        """Each text judged once (a text says the same wherever it is posted); then each
        commenter's name is weighed for brand imitation."""
        distinct = list(dict.fromkeys(texts))
        reads = [self._read(text) for text in distinct]
        languages = detect_languages(distinct, [_language_hint(read.hits) for read in reads])
        judged = {read.text: self._judge(read, language)
                  for read, language in zip(reads, languages, strict=True)}
        verdicts = []
        for text, name in zip(texts, names, strict=True):
            verdict = judged[text]
            if name and self._brands.owns(name):  # the brand's own reply: no praise, no pitch
                labels = tuple(label for label in verdict.labels if label not in _NOT_OWN)
                verdict = Classification(verdict.language, verdict.sentiment, labels)
            elif name and "spam" not in verdict.labels and self._brands.imitates(name):
                labels = tuple(label for label in LABELS
                               if label in verdict.labels or label == "spam")
                verdict = Classification(verdict.language, verdict.sentiment, labels)
            verdicts.append(verdict)
        return verdicts

    def _read(self, text: str | None) -> _Read:
        folded = fold(text or "")
        normalized = normalize(folded)
        return _Read(text or "", folded, normalized, self._lexicon.find(normalized))

    def _judge(self, read: _Read, language: str) -> Classification:
        """A comment's verdict, its commenter aside."""
        normalized = read.normalized
        hits = _first_claims([hit for hit in read.hits
                              if hit.only_language is None or hit.only_language == language])
        clauses = _clauses(read.folded, normalized, hits)
        words = _word_count(normalized)
        spoken = {hit.tag for hit in hits}
        found: set[str] = set()
        score = bait = 0.0
        for clause in clauses:
            asks = self._asks(clause, normalized)
            if asks:
                found.add("question")
            aimed = _aimed(clause)
            insults = ([(hit.start, hit.end) for hit in clause.hits
                        if hit.tag in ("insult", "toxic")] if aimed else [])
            for hit in clause.hits:
                tag = hit.tag
                if (tag in ("complaint", "negative") and insults
                        and any(start < hit.end and hit.start < end for start, end in insults)):
                    continue  # "ugly" said of a person insults; it does not complain
                negated = tag in _SENTIMENT_TAGS and _negated(hit, clause, normalized)
                if tag in _PRAISING and asks and not negated:
                    continue  # "is it good?" asks; it does not praise
                weight = _WEIGHTS.get(tag, 0.0)
                if tag == "insult" and not aimed:
                    weight = 0.0
                if negated:
                    score -= _NEGATED * weight
                    if tag in ("praise", "praise_weak") and not asks:
                        found.add("complaint")
                    elif tag in ("negative", "complaint") and weight:
                        found.add("praise_weak")
                    continue
                score += weight
                if tag in _PRAISING and not normalized[hit.start].isalnum():
                    bait += weight  # an emoji
                asking = asks or "please" in spoken or words <= _SHORT
                if tag == "purchase_question":
                    found.update(("question", "purchase_intent", "asks_to_buy"))
                elif tag == "purchase_intent" or (tag == "purchase_ask" and asking):
                    found.add("purchase_intent")
                elif tag in ("complaint", "praise", "praise_weak", "spam", "toxic"):
                    found.add(tag)
                elif tag == "insult" and weight:
                    found.add("toxic")
                elif tag == "profanity":
                    found.add("profanity_aimed" if aimed else "profanity")
        labels = {label for label in LABELS if label in found}
        if "praise_weak" in found and not found & {"complaint", "toxic"} and score > 0:
            labels.add("praise")
        if score <= 0 and "praise" not in labels:
            if "profanity_aimed" in found:
                labels.add("toxic")
                score -= 0.5
            elif "profanity" in found:
                score += _SWEARING
        if "toxic" in labels:
            labels.discard("praise")
            score = min(score, 0.0) + _ABUSE  # laughing at someone is no cheer
        if "complaint" in labels and "asks_to_buy" not in found:
            labels.discard("purchase_intent")  # "ordered a month ago and still nothing"
        spam = _spam(read, hits, spoken)
        if spam:
            labels.add("spam")
        if spam == "pitch":
            labels.discard("praise")
            labels.discard("purchase_intent")  # it sells; it does not want to buy
            if "spam" in spoken:  # its words pitch: any trouble it names is the bait
                labels.discard("complaint")
            score = (score - bait) * _BAIT
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
        first = clause.first_word_at(text, self._lexicon.vocatives)
        if not clause.asks and "exclamation_start" in tags and _exclaims(clause, first, text):
            return False
        if any(hit.tag == "question_start" and hit.start == first for hit in clause.hits):
            return True
        last = clause.last_word_end(text)
        for hit in clause.hits:
            if hit.tag != "question_end":
                continue
            rest = text[hit.end:last].split()
            if all(word in self._lexicon.vocatives for word in rest):
                return True
        # Only its "?" asks: an outraged "40 dollars for this??" or "still no refund??" does not
        return clause.asks and not tags & _GRIEVING

def _spam(read: _Read, hits: list[Hit], tags: set[str]) -> str | None:
    """Why a comment is spam by what it says: "pitch" (it sells or lures) or "flood"; None
    when it is not (its commenter's name is weighed apart)."""
    text = read.text
    if "spam" in tags or (_DOTTED.search(text) and has_link(text)) or has_phone(text):
        return "pitch"
    if ("solicit" in tags or "solicit_before" in tags) and has_handle(text):
        if "solicit" in tags:
            return "pitch"
        handles = [m.start() for m in _HANDLE_AT.finditer(read.normalized)]
        if any(hit.tag == "solicit_before" and any(at > hit.start for at in handles)
               for hit in hits):
            return "pitch"
    if _FLOOD.search(text):
        return "flood"
    return None


def _language_hint(hits: list[Hit]) -> dict[str, float]:
    """Votes for the comment's language from its keywords: a keyword listed by n language
    files gives each 1/n (once per place in the text)."""
    votes: dict[str, float] = {}
    seen: set[tuple[int, int]] = set()
    for hit in hits:
        if not hit.sources or (hit.start, hit.end) in seen:
            continue
        seen.add((hit.start, hit.end))
        share = 1 / len(hit.sources)
        for language in hit.sources:
            votes[language] = votes.get(language, 0.0) + share
    return votes


def _exclaims(clause: _Clause, first: int, text: str) -> bool:
    """Whether the clause opens with an exclaiming word ("que", "how") a word or two before
    one that judges ("que feo", "how cute", "que menina chata")."""
    for hit in clause.hits:
        if hit.tag == "exclamation_start" and hit.start == first:
            return any(other.tag in _JUDGING and other.start > hit.start
                       and len(text[hit.end:other.start].split()) < EXCLAMATION_REACH
                       for other in clause.hits)
    return False


def _first_claims(hits: list[Hit]) -> list[Hit]:
    """`hits` without a sentiment phrase that begins inside an earlier one and runs past it:
    the words read first decide ("ga nyesel beli": "ga nyesel", not "nyesel beli")."""
    claimed = group_claimed = group = -1
    kept = []
    for hit in hits:  # in order of their start
        if hit.tag in _CLAIMING:
            if hit.start != group:
                claimed, group = max(claimed, group_claimed), hit.start
            if hit.start < claimed < hit.end:
                continue
            group_claimed = max(group_claimed, hit.end)
        kept.append(hit)
    return kept


def _word_count(normalized: str) -> int:
    """Words in a comment; in scripts without spaces, about one per three characters."""
    count = len(normalized.split()) - normalized.count("|")
    if not normalized.isascii():
        count += sum(len(run) // 3 for run in _UNSPACED.findall(normalized))
    return count


def _clauses(folded: str, normalized: str, hits: list[Hit]) -> list[_Clause]:
    """The clauses of the normalized text, each with whether it asks by its punctuation and
    the hits inside it. The normalized text has one "|" per run of clause punctuation in the
    folded text, in order, so the two line up."""
    if "|" not in normalized:
        return [_Clause(0, len(normalized), False, hits)]
    marks = [m.group() for m in CLAUSE.finditer(folded)]
    bars = []
    at = normalized.find("|")
    while at != -1:
        bars.append(at)
        at = normalized.find("|", at + 1)
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
    """Whether a negator of the same clause flips `hit` (one sharing a word with it counts:
    "não me" before "me decepcionou"). A phrase that opens with a negative word of its own
    stays as it is: "no tiene nada que ver", "non funziona mai" say no twice to mean no."""
    space = text.find(" ", hit.start, hit.end)
    if text[hit.start:hit.end if space == -1 else space] in _CONCORD:
        return False
    for other in clause.hits:
        if other.tag == "negator" and other.start < hit.start and other.end < hit.end:
            if len(text[other.end:hit.start].split()) < NEGATION_REACH:
                return True
        elif (other.tag == "negator_after" and other.start >= hit.end
              and not text[hit.end:other.start].split()):
            return True
    return False


def _aimed(clause: _Clause) -> bool:
    """Whether abuse is aimed at someone: a person word in its clause."""
    return any(hit.tag == "person" for hit in clause.hits)

