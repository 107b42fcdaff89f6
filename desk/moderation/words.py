"""Text as the rules and the classifier read it: folded, matched by keyword, searched for links,
phone numbers and handles.

Folding makes matching case-, width- and accent-insensitive: NFKC (full-width letters, ligatures
and circled letters become plain ones), case folding, and the accents of Latin, Greek, Cyrillic,
Arabic and Hebrew letters dropped (users type "cafe" for "café", Vietnamese without its
diacritics, Arabic without harakat). Marks that change a letter in other scripts (Japanese
dakuten, Thai vowels, Devanagari signs) are kept. Emoji lose their skin tone and presentation
selector, so a keyword emoji matches every variant of it.

A keyword matches a whole word or phrase of the folded text: its words in order, with any run of
spaces and punctuation between them. At the edge of a word in a script written without spaces
(Chinese, Japanese, Thai, Lao, Khmer, Burmese) there is no word boundary to find, so a keyword
there matches anywhere; Korean attaches its particles to the word before them, so a Korean
keyword needs a boundary before it only. Punctuation inside a keyword is a separator; emoji and
other symbols are matched as they are.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import regex

NO_SPACE_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
"""Scripts written without spaces between words."""

_MARKS = regex.compile(
    r"(?<=[\p{Latin}\p{Greek}\p{Cyrillic}\p{Arabic}\p{Hebrew}]\p{Mn}*)\p{Mn}+"
    r"|[\uFE0E\uFE0F\U0001F3FB-\U0001F3FF]"
)
_LETTERS = str.maketrans({"ı": "i", "đ": "d", "ł": "l", "ø": "o", "ħ": "h", "ŧ": "t"})
"""Letters that carry their accent inside (no decomposition), as people type them without it."""

_TOKENS = regex.compile(r"\w+|\p{S}", regex.V1)
_SEPARATORS = r"[\p{Z}\s\p{P}]"
_NO_SPACE_CHAR = regex.compile(f"[{NO_SPACE_SCRIPTS}]")
_HANGUL = regex.compile(r"\p{Hangul}")
_WORD_BEFORE = f"(?<![\\w--[{NO_SPACE_SCRIPTS}]])"
_WORD_AFTER = f"(?![\\w--[{NO_SPACE_SCRIPTS}]])"


def fold(text: str) -> str:
    """`text` as matching sees it: NFKC, case-folded, without accents or emoji variants."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    stripped = _MARKS.sub("", unicodedata.normalize("NFD", folded))
    return unicodedata.normalize("NFC", stripped)


def keyword_tokens(keyword: str) -> list[str]:
    """The words and symbols of a keyword, folded; punctuation and spaces separate them."""
    return _TOKENS.findall(fold(keyword))


def keyword_source(keyword: str) -> str | None:
    """The regular expression (for the `regex` module, V1) that finds `keyword` in folded text,
    or None when the keyword has no word or symbol in it."""
    tokens = keyword_tokens(keyword)
    if not tokens:
        return None
    parts = []
    for index, token in enumerate(tokens):
        if index:
            previous = tokens[index - 1]
            joined = not (_is_spaced_word(previous[-1]) and _is_spaced_word(token[0]))
            parts.append(f"{_SEPARATORS}{'*' if joined else '+'}")
        parts.append(regex.escape(token))
    first, last = tokens[0][0], tokens[-1][-1]
    before = _WORD_BEFORE if _is_spaced_word(first) else ""
    after = _WORD_AFTER if _is_spaced_word(last) and not _HANGUL.match(last) else ""
    return f"{before}{''.join(parts)}{after}"


def keyword_pattern(keywords: Iterable[str]) -> regex.Pattern[str] | None:
    """One pattern finding any of `keywords` in folded text; None when there are none."""
    sources = [s for s in map(keyword_source, keywords) if s]
    if not sources:
        return None
    return regex.compile("|".join(f"(?:{s})" for s in dict.fromkeys(sources)), regex.V1)


def _is_spaced_word(char: str) -> bool:
    return bool(regex.match(r"\w", char)) and not _NO_SPACE_CHAR.match(char)


# ---------------------------------------------------------------------------------------------
# Links, phone numbers and handles

_TLDS = (
    "com|net|org|info|biz|io|co|me|ly|app|dev|shop|store|online|site|xyz|top|club|vip|live|link"
    "|click|ai|gg|tv|cc|ws|to|ru|cn|de|fr|uk|us|id|br|mx|es|pt|tr|vn|jp|kr|th|ph|my|sg|au|ca"
    "|nl|pl|eu|asia|win|bet|casino|money|cash|finance|fun|space|website|tech|life|world|today"
    "|pro|ee|gl|gd|su|icu|buzz|sbs|cfd|example|test"
)
"""Endings that make a bare `name.ending` a link: common and abused top-level domains, and the
reserved example ones (RFC 2606). A short list on purpose: "it.so good" typed without a space
is not a link."""

_SHORT_HOSTS = "|".join(regex.escape(host) for host in (
    "t.me", "wa.me", "m.me", "g.co", "t.co", "fb.me", "ig.me", "x.co"))
"""Messaging and shortener hosts whose first part is a single letter (dots literal: "time"
and "taco" are words)."""

_LINK = regex.compile(
    r"(?:https?://|www\.)[^\s]+"
    rf"|(?<![\w@.-])(?:{_SHORT_HOSTS})(?![\w-])"
    r"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}/[^\s]*[\w/]"
    rf"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)*[a-z0-9][a-z0-9-]{{1,62}}"
    rf"\.(?:{_TLDS})(?![\w-])",
    regex.IGNORECASE,
)
_PHONE = regex.compile(r"(?<![\w+#])(?:\+|00)?\d(?:[ .\-()]{0,2}\d){8,14}(?![\w:])")
_ORDER_NUMBER = regex.compile(
    r"(?:order|pedido|encomenda|commande|bestell\w*|ordine|pesanan|sipari[sş]|resi|tracking"
    r"|rastreio|seguimiento|suivi|sendungs\w*|n[ºo°]\.|nr\.?|#)(?:\W+\w{1,8}){0,2}\W{0,3}$",
    regex.IGNORECASE)
"""What stands just before an order or tracking number, which is not a phone number."""
_HANDLE = regex.compile(r"(?<![\w@.])@[\w.]{2,30}\w")


def has_link(text: str) -> bool:
    """A URL (with a scheme or www.) or a bare domain, e.g. bit.ly/x, shop.example, t.me/name."""
    return _LINK.search(text) is not None


def has_phone(text: str) -> bool:
    """A phone number: 9 to 15 digits, maybe with +, spaces, dots, dashes or brackets; not
    an order or tracking number ("order #4512378901", "pedido 4512378901")."""
    return any(_ORDER_NUMBER.search(text, 0, found.start()) is None
               for found in _PHONE.finditer(text))


def has_handle(text: str) -> bool:
    """An @handle (a mention of an account)."""
    return _HANDLE.search(text) is not None
