"""Which language a comment is written in: an ISO 639-1 code, or "und" when unsure.

The script decides first, as it is certain and cheap: Hangul is Korean, kana Japanese, Thai
Thai, Arabic script Arabic, Han without kana Chinese, Cyrillic Russian, Devanagari Hindi, and
Vietnamese has letters (ơ ư ă đ ạ ế …) no other language here uses. Latin script goes to lingua,
restricted to the Latin-script languages below, which releases the GIL and runs on every core
for a batch. Text too short to tell ("ok", "lol", "😂😂", a link) is "und", and so is a text
lingua cannot separate from its runner-up (the minimum relative distance).

Indonesian and Malay are close; Indonesian is far more common on TikTok, so Malay needs
Malay words ("nak", "tak", "awak", "kat mana"…) to win.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import regex
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

UNDETERMINED = "und"

_LATIN = {
    Language.ENGLISH: "en",
    Language.SPANISH: "es",
    Language.PORTUGUESE: "pt",
    Language.GERMAN: "de",
    Language.FRENCH: "fr",
    Language.ITALIAN: "it",
    Language.INDONESIAN: "id",
    Language.TURKISH: "tr",
    Language.VIETNAMESE: "vi",
    Language.DUTCH: "nl",
    Language.POLISH: "pl",
    Language.MALAY: "ms",
    Language.TAGALOG: "tl",
}
_BY_SCRIPT = ("ko", "ja", "th", "ar", "zh", "ru", "hi")

SUPPORTED: tuple[str, ...] = tuple(_LATIN.values()) + _BY_SCRIPT
"""Every code the detector answers besides "und"."""

MINIMUM_RELATIVE_DISTANCE = 0.1
"""How far lingua's best language must be ahead of the next for an answer (0 to 0.99)."""

_NOISE = regex.compile(
    r"https?://\S+|www\.\S+|\S+@\S+\.\S+|[@#][\w.]+"
    r"|\b[\w-]+\.(?:com|net|org|ly|io|co|me|xyz|shop|store|link|app|site|info|biz|gg|to|tv)\b\S*",
    regex.IGNORECASE,
)
_LATIN_WORD = regex.compile(r"[\p{Latin}\p{M}]+")
_VIETNAMESE = regex.compile(
    r"[ơưăđƠƯĂĐạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ]"
)
_SCRIPTS = (
    ("ko", regex.compile(r"\p{Hangul}")),
    ("kana", regex.compile(r"[\p{Hiragana}\p{Katakana}]")),
    ("han", regex.compile(r"\p{Han}")),
    ("th", regex.compile(r"\p{Thai}")),
    ("ar", regex.compile(r"\p{Arabic}")),
    ("ru", regex.compile(r"\p{Cyrillic}")),
    ("hi", regex.compile(r"\p{Devanagari}")),
    ("other", regex.compile(r"[\p{L}--[\p{Latin}\p{Common}\p{Inherited}]]", regex.V1)),
)
_SYLLABIC = frozenset({"ko", "kana", "han", "th"})
"""Scripts where one character is about a syllable, worth two Latin letters."""

_UNIVERSAL = frozenset([
    "ok", "okay", "oke", "okey", "k", "kk", "lol", "lool", "lmao", "lmfao", "rofl", "xd",
    "xdd", "omg", "omfg", "wow", "woow", "waw", "wtf", "pls", "plz", "please", "link", "info",
    "bro", "sis", "yes", "no", "hi", "hey", "hello", "ty", "thx", "tq", "nice", "cool", "love",
    "wkwk", "wkwkwk", "haha", "hahaha", "hahahaha", "jaja", "jajaja", "jajajaja", "kkk",
    "kkkk", "kkkkk", "kkkkkk", "rsrs", "hehe", "huhu", "uwu", "ig", "fyp", "yay", "yass",
    "yasss", "mdr", "ptdr", "gg", "ez", "xoxo"
])
"""Chat words every language uses: they say nothing about which language a text is in."""

_LAUGHTER = regex.compile(r"(?:(?:ha|he|hi|ja|je|ka|wk|kw|rs|hu){2,}h?|(\w)\1{2,}|x+d+)",
                          regex.IGNORECASE)
"""Laughter and one letter repeated ("kkkk", "aaaa"): not words of any language."""

_MALAY = regex.compile(
    r"\b(?:nak|tak|awak|kat|je|sikit|camne|cmne|kedai|ringgit|korang|takde|tiada|ni|dah|"
    r"pos|lawa|comel|berbaloi|macam mana|boleh tak|ada tak|(?:suka|cantik|best|sedap|mahal|"
    r"murah|lawa) (?:sangat|gila))\b",
    regex.IGNORECASE,
)


@functools.cache
def _detector() -> LanguageDetector:
    """Lingua for the Latin-script languages, models loaded once per process (they ship inside
    the lingua wheel: nothing is downloaded)."""
    return (
        LanguageDetectorBuilder.from_languages(*_LATIN)
        .with_minimum_relative_distance(MINIMUM_RELATIVE_DISTANCE)
        .with_preloaded_language_models()
        .build()
    )


def detect_language(text: str | None) -> str:
    """The language of one text (see `detect_languages`)."""
    return detect_languages([text])[0]


def detect_languages(texts: Sequence[str | None]) -> list[str]:
    """The language of each text, in order: an ISO 639-1 code from SUPPORTED, or "und"."""
    results: list[str] = []
    pending: list[tuple[int, str]] = []
    for index, text in enumerate(texts):
        verdict, latin = _by_script(text or "")
        results.append(verdict)
        if latin is not None:
            pending.append((index, latin))
    if pending:
        found = _detector().detect_languages_in_parallel_of([latin for _, latin in pending])
        for (index, latin), language in zip(pending, found, strict=True):
            results[index] = _latin_code(language, latin)
    return results


def _by_script(text: str) -> tuple[str, str | None]:
    """The language the script shows, or "und" with the Latin text lingua should judge
    (None: nothing to judge)."""
    clean = _NOISE.sub(" ", text)
    if not clean.isascii():
        counts = {name: len(pattern.findall(clean)) for name, pattern in _SCRIPTS}
        latin_letters = sum(map(len, _LATIN_WORD.findall(clean)))
        script = _dominant_script(counts, latin_letters)
        if script is not None:
            return script, None
        if len(_VIETNAMESE.findall(clean)) >= 2:
            return "vi", None
    words = [
        word
        for word in _LATIN_WORD.findall(clean)
        if word.casefold() not in _UNIVERSAL and not _LAUGHTER.fullmatch(word)
    ]
    letters = sum(map(len, words))
    if letters >= 8 or (len(words) >= 2 and letters >= 5):
        return UNDETERMINED, clean
    return UNDETERMINED, None


def _dominant_script(counts: dict[str, int], latin_letters: int) -> str | None:
    """The language of the non-Latin script that outweighs the Latin letters, "und" for a
    script outside SUPPORTED, or None to judge the Latin text."""
    weighted = {name: count * (2 if name in _SYLLABIC else 1) for name, count in counts.items()}
    if counts["kana"]:
        weighted["kana"] += weighted["han"]
        weighted["han"] = 0
    name, weight = max(weighted.items(), key=lambda item: item[1])
    if weight < 4 or weight < latin_letters:
        return None
    if name == "other":
        return UNDETERMINED
    return {"kana": "ja", "han": "zh"}.get(name, name)


def _latin_code(language: Language | None, text: str) -> str:
    code = _LATIN.get(language) if language is not None else None
    if code is None:
        return UNDETERMINED
    if code in ("ms", "id"):
        markers = len(_MALAY.findall(text))
        return "ms" if markers >= (1 if code == "ms" else 2) else "id"
    return code
