"""A comment's terms for "top terms": its words, folded, per language, stop words out.

`tokenise(texts, languages)` gives each comment's distinct terms in the order they first
appear. Terms are stored per comment (`comments.terms`, with TERMS_VERSION in `terms_with`)
when the classifier has read the comment, because the language it found picks the segmenter
and the stop words; `desk.store.top_terms` counts them.

Folding keeps a term findable by the Comments page's search (a case-insensitive substring
match on the stored text): NFKC (full-width letters become plain ones) and lower case, with
accents kept. It is not the classifier's fold, which strips accents for matching keywords.

Words:
- Scripts written with spaces (Latin, Cyrillic, Arabic, Hangul, Devanagari…): runs of
  letters, marks and digits, with an inner apostrophe or hyphen ("don't", "t-shirt").
  French and Italian elisions lose their article ("l'article" is "article"); English drops a
  possessive "'s"; Korean drops a particle from the end of a word when two syllables or more
  are left ("배송이" is "배송"), a heuristic in place of a morphological analyser.
- Chinese: `rjieba`, jieba's dictionary and HMM in a Rust build (MIT; the dictionary is in the
  wheel, about 100,000 comments a second here). Its part-of-speech tags drop punctuation,
  numerals, measure words, particles, pronouns, prepositions, conjunctions, adverbs,
  interjections and locality words.
- Japanese: `sudachipy` with `sudachidict-core` (Apache-2.0; both wheels, the dictionary
  about 200 MB installed, about 40,000 comments a second here), split mode B (middle-sized
  units: "送料無料" is 送料 and 無料). Nouns (not numerals), verbs and adjectives (not the
  auxiliary ones: する, いる, ない…) and na-adjectives are kept, as written: the surface
  form, not the dictionary form, so that a term is found in the comment's text.
- Thai: `pythainlp`'s newmm (Apache-2.0, its dictionary in the wheel; about 10,000 comments
  a second), with its Thai stop words. It is used read-only: it never downloads.
- Han, kana and Thai inside a comment in another language go to the segmenter of their
  script (kana: Japanese; Han alone: Chinese).
The speeds are the segmenter's alone, measured against the alternatives on the
classifier's evaluation comments (docs/moderation.md): jieba (pure Python, last released in
2020, 6x slower), janome (pure Python, 30x slower than Sudachi), fugashi with unidic-lite
(fast, but unidic-lite is a source package last released in 2021). Character bigrams, as
Lucene's CJKAnalyzer makes, were the fallback had no segmenter fit; none was needed.

Dropped: URLs, e-mail addresses, @handles and #hashtags (markup, not words), tokens without
a letter (numbers, punctuation, emoji), one-character tokens outside Han (in Chinese and
Japanese one character is often a word: 钱, 服), laughter ("haha", "jajaja", "wkwk", "kkkk",
"ㅋㅋ", "哈哈", "www"), chat filler ("lol", "omg", "pls"), and the stop words of the
comment's language from `stopwordsiso` (MIT, 57 languages in the wheel), together with the
English ones (TikTok comments mix English into every language); "und" comments take the
stop words of every language the classifier answers.
"""

from __future__ import annotations

import functools
import os
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import regex

if TYPE_CHECKING:
    from sudachipy import Tokenizer

TERMS_VERSION = "words-1"
"""The tokeniser's version, stored with each comment's terms: a new one has them read again."""

MAX_TERM = 40
"""Longer tokens are noise (a run of letters held down, a pasted code), not terms."""

_NOISE = regex.compile(
    r"https?://\S+|www\.\S+|\S+@\S+\.\S+|[@#][\p{L}\p{M}\p{N}_.]+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|ly|io|co|me|xyz|shop|store|link|app|site|info|biz"
    r"|gg|to|tv)\b\S*",
    regex.IGNORECASE,
)
_SEGMENTED = r"\p{Han}\p{Hiragana}\p{Katakana}ー々〆ヶ"
_PIECES = regex.compile(
    rf"(?P<cjk>[{_SEGMENTED}]+)|(?P<thai>\p{{Thai}}+)"
    rf"|(?P<word>[\p{{L}}\p{{M}}\p{{N}}--[{_SEGMENTED}\p{{Thai}}]]+"
    rf"(?:['\-][\p{{L}}\p{{M}}\p{{N}}--[{_SEGMENTED}\p{{Thai}}]]+)*)",
    regex.V1,
)
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}ー]")
_LETTER = regex.compile(r"\p{L}")
_HAN = regex.compile(r"\p{Han}")
_LAUGHTER = regex.compile(
    r"(?:ha|he|hi|ho|ja|je|ji|wk|kw|rs|hu|ah|eh|ke){2,}h?|(.)\1{2,}|[哈呵嘻w]{2,}|x+d+"
    r"|[\u1100-\u11ff\u3130-\u318f]+",  # Hangul letters alone (ㅋㅋ, ㅠㅠ), not syllables
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})

_CHAT = frozenset((
    "lol", "lool", "lmao", "lmfao", "rofl", "omg", "omfg", "wtf", "pls", "plz", "ok", "okay",
    "oke", "okey", "okk", "yeah", "yea", "yep", "yup", "nope", "hi", "hey", "hello", "hii",
    "xd", "xdd", "wow", "woow", "waw", "uwu", "owo", "ty", "thx", "tq", "fyp", "fy", "foryou",
    "foryoupage", "viral", "bro", "sis", "kak", "kakak",
))
"""Chat filler every language uses, which would top every chart and say nothing."""

_NOT_STOP = frozenset(("buy", "order", "ordered", "orders", "work", "works"))
"""What people come to an ad's comments to say ("where can I buy", "my order"), which the
English list counts as stop words."""

_ELISIONS = {
    "fr": frozenset(("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu",
                     "quoiqu")),
    "it": frozenset(("l", "d", "c", "s", "m", "t", "v", "un", "dell", "dall", "nell", "sull",
                     "all", "coll", "quest", "quell", "anch", "com")),
}
"""The elided words before an apostrophe that a French or Italian word loses."""

_KOREAN_PARTICLES = (
    "에서는", "에서도", "에게서", "으로는", "이라도", "까지", "부터", "처럼", "보다",
    "에서", "에게", "한테", "으로", "이랑", "하고", "은", "는", "이", "가", "을", "를",
    "의", "에", "도", "로", "와", "과", "랑", "만",
)
"""Particles Korean writes onto the word before them (longest first)."""

_CHINESE_DROPPED = ("x", "m", "q", "u", "p", "c", "r", "y", "e", "o", "d", "f", "w")
"""jieba part-of-speech tags (first letter) of words that are not terms: punctuation,
numerals, measure words, particles, prepositions, conjunctions, pronouns, modal particles,
interjections, onomatopoeia, adverbs, locality words."""


def tokenise(texts: Sequence[str | None], languages: Sequence[str | None]) -> list[list[str]]:
    """Each text's distinct terms, in order of first appearance, read as the language given
    with it (an ISO 639-1 code from the classifier; "und" or None when unknown)."""
    if len(texts) != len(languages):
        raise ValueError("give one language (or None) per text")
    segmenters = _Segmenters()
    return [_terms(text, language or "und", segmenters) if isinstance(text, str) and text
            else [] for text, language in zip(texts, languages, strict=True)]


def fold_term(text: str) -> str:
    """`text` as terms are kept: NFKC, lower case, one apostrophe; accents stay."""
    if text.isascii():
        return text.lower().replace("`", "'")
    folded = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES)
    return folded.replace("i\u0307", "i")  # "İ".lower() keeps a combining dot


class _Segmenters:
    """The segmenters one `tokenise` call uses, made when first needed (Sudachi's tokenizer
    is not shared between threads; the dictionaries behind them are loaded once)."""

    def __init__(self) -> None:
        self._japanese: Callable[[str], list[str]] | None = None

    def japanese(self, text: str) -> list[str]:
        if self._japanese is None:
            self._japanese = _japanese_words(_sudachi())
        return self._japanese(text)

    @staticmethod
    def chinese(text: str) -> list[str]:
        return [word for word, tag in _jieba_tag()(text)
                if not tag.startswith(_CHINESE_DROPPED)]

    @staticmethod
    def thai(text: str) -> list[str]:
        return _thai_segment()(text)


def _terms(text: str, language: str, segmenters: _Segmenters) -> list[str]:
    folded = fold_term(text)
    if "@" in folded or "#" in folded or "." in folded or "/" in folded:
        folded = _NOISE.sub(" ", folded)
    stop = stop_words(language)
    found: dict[str, None] = {}
    if language == "ja":
        _keep(segmenters.japanese(folded), stop, found)
    elif language == "zh":
        _keep(segmenters.chinese(folded), stop, found)
    elif language == "th":
        _keep(segmenters.thai(folded), stop, found)
    else:
        for piece in _PIECES.finditer(folded):
            kind = piece.lastgroup
            if kind == "word":
                _keep(_spaced(piece.group(), language, stop), stop, found)
            elif kind == "thai":
                _keep(segmenters.thai(piece.group()), stop_words("th"), found)
            elif _KANA.search(piece.group()):
                _keep(segmenters.japanese(piece.group()), stop_words("ja"), found)
            else:
                _keep(segmenters.chinese(piece.group()), stop_words("zh"), found)
    return list(found)


def _spaced(word: str, language: str, stop: frozenset[str]) -> list[str]:
    """A word of a script written with spaces, without its elision, possessive or particle."""
    if word in stop:
        return []
    if "'" in word:
        head, _, tail = word.rpartition("'")
        if language in _ELISIONS and head in _ELISIONS[language]:
            word = tail
        elif (language in ("en", "und") and tail == "s") or language == "tr":
            word = head  # a possessive; Turkish writes a suffix on a name after one
    elif language == "ko" and len(word) > 2:
        for particle in _KOREAN_PARTICLES:
            if word.endswith(particle) and len(word) - len(particle) >= 2:
                word = word[: -len(particle)]
                break
    return [word]


def _keep(tokens: Iterable[str], stop: frozenset[str], found: dict[str, None]) -> None:
    """Add the tokens that are terms to `found` (an ordered set)."""
    for raw in tokens:
        token = raw.strip().strip("'-")
        if (not token or token in found or token in stop or len(token) > MAX_TERM
                or (len(token) == 1 and not _HAN.match(token))
                or not _LETTER.search(token) or _LAUGHTER.fullmatch(token)):
            continue
        found[token] = None


@functools.cache
def stop_words(language: str) -> frozenset[str]:
    """The words never counted as terms in a comment in `language`: its stop words, the
    English ones and chat filler; for "und", those of every language the classifier answers."""
    import stopwordsiso

    from desk.moderation.language import SUPPORTED

    languages = set(SUPPORTED) if language not in SUPPORTED else {language}
    words = set(_CHAT)
    for code in languages | {"en"}:
        if stopwordsiso.has_lang(code):
            words.update(stopwordsiso.stopwords(code))
    if "th" in languages:
        words.update(_thai_stop_words())
    return frozenset(fold_term(word) for word in words) - _NOT_STOP


@functools.cache
def _sudachi():  # -> sudachipy.Dictionary
    """Sudachi's core dictionary (its own wheel), loaded once per process."""
    from sudachipy import Dictionary

    return Dictionary(dict="core")


def _japanese_words(dictionary) -> Callable[[str], list[str]]:  # noqa: ANN001
    """A function giving the Japanese words worth counting: nouns but numerals, verbs and
    adjectives but the auxiliary ones, na-adjectives (a new Sudachi tokenizer of its own)."""
    from sudachipy import SplitMode

    tokenizer: Tokenizer = dictionary.tokenizer(SplitMode.B)
    wanted = dictionary.pos_matcher(_japanese_pos)

    def words(text: str) -> list[str]:
        return [m.surface() for m in tokenizer.tokenize(text) if wanted(m)]

    return words


def _japanese_pos(pos: tuple[str, ...]) -> bool:
    """Whether words of this Sudachi part of speech are terms."""
    major, minor = pos[0], pos[1]
    if major == "名詞":
        return minor not in ("数詞", "助動詞語幹")
    if major in ("動詞", "形容詞"):
        return minor != "非自立可能"
    return major == "形状詞" and minor != "助動詞語幹"


@functools.cache
def _jieba_tag() -> Callable[[str], list[tuple[str, str]]]:
    """rjieba's tagger over its built-in dictionary (loaded on first use)."""
    import rjieba

    return rjieba.tag


@functools.cache
def _thai_segment() -> Callable[[str], list[str]]:
    """pythainlp's newmm over its bundled dictionary (read-only mode: never a download)."""
    os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
    os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
    from pythainlp.tokenize.newmm import segment

    return segment


@functools.cache
def _thai_stop_words() -> frozenset[str]:
    os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
    os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
    from pythainlp.corpus import thai_stopwords

    return frozenset(thai_stopwords())
