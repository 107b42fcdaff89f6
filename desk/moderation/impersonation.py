"""Commenters whose name imitates the brand: "glowskin_support", "gl0wskin.official",
"glowskln", "hadiah.glowskin" next to the brand "glowskin".

A name imitates a brand when, once folded, with look-alike digits, symbols and letters of other
scripts read as Latin letters (0 → o, 1 → l or i, 3 → e, $ → s, Cyrillic о → o…), separators
dropped and the words impostors add removed ("official", "support", "cs", "giveaway", "loja"…),
it is the brand's name or one letter off it (two for long names). A brand's name is read the
same way ("northwind.official" is the brand "northwind"). The brand's own names, exactly as
given (case and a leading @ aside; a display name may also drop its spaces), are never
imitations.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex
from rapidfuzz.distance import Levenshtein

from desk.moderation.words import fold

DECORATIONS = frozenset([
    "official", "offical", "oficial", "officiel", "ufficiale", "offizielle", "resmi", "real",
    "the", "verified", "genuine", "original", "support", "help", "helpdesk", "care",
    "customercare", "customerservice", "service", "services", "cs", "cskh", "team", "admin",
    "staff", "rep", "agent", "desk", "center", "centre", "contact", "info", "hq", "global",
    "intl", "international", "store", "shop", "shopping", "loja", "tienda", "toko", "magasin",
    "negozio", "tokoh", "olshop", "mall", "outlet", "giveaway", "giveaways", "promo", "promos",
    "promotion", "winner", "winners", "prize", "prizes", "hadiah", "premio", "premios",
    "reward", "rewards", "gift", "gifts", "bonus", "claim", "lucky", "us", "usa", "uk", "id",
    "br", "mx", "vn", "tr", "de", "fr", "it", "es", "jp", "kr", "ph", "my", "sg", "th", "in",
    "co", "app", "page", "account", "acc"
])
"""Words an impostor adds to a brand's name to look like one of its accounts."""

_SCRIPTS = {"а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
            "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
            "ԁ": "d", "ɡ": "g", "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v",
            "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x"}
"""Cyrillic and Greek letters that look Latin (folded, so lower case)."""

_LOOKALIKES = (
    str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                   "$": "s", "@": "a", "|": "l", "!": "i", "€": "e", **_SCRIPTS}),
    str.maketrans({"1": "i", **_SCRIPTS}),
)
_PARTS = regex.compile(r"[^\p{L}\p{N}$@|!€]+")


def _compact(name: str) -> str:
    return "".join(_PARTS.split(fold(name)))


class BrandNames:
    """The brand's own names, ready to judge commenters' names against."""

    MEMORY = 100_000
    """Names whose verdict is kept; past that, the memory starts again."""

    def __init__(self, brands: Iterable[str]) -> None:
        own: set[str] = set()
        cores: set[str] = set()
        for brand in brands:
            folded = fold(brand).strip().lstrip("@")
            if not folded:
                continue
            own.add(folded)
            own.add(folded.replace(" ", ""))
            for core in (_PARTS.sub("", folded), *_cores_of(folded)):
                if len(core) >= 3:
                    cores.add(core)
        self._own = frozenset(own)
        self._cores = tuple(sorted(cores))
        self._judged: dict[str, bool] = {}  # commenters' names repeat: each is judged once

    def owns(self, user_name: str | None) -> bool:
        """Whether `user_name` is one of the brand's own names."""
        return bool(user_name) and fold(user_name).strip().lstrip("@") in self._own

    def imitates(self, user_name: str | None) -> bool:
        """Whether `user_name` imitates one of the brand's names without being one."""
        if not user_name or not self._cores:
            return False
        verdict = self._judged.get(user_name)
        if verdict is None:
            if len(self._judged) >= self.MEMORY:
                self._judged.clear()
            verdict = self._judged[user_name] = self._judge(user_name)
        return verdict

    def _judge(self, user_name: str) -> bool:
        folded = fold(user_name).strip().lstrip("@")
        if not folded or folded in self._own:
            return False
        return any(self._matches(core) for core in _cores_of(folded))

    def _matches(self, core: str) -> bool:
        for brand in self._cores:
            if core == brand:
                return True
            allowed = 0 if len(brand) < 5 else 1 if len(brand) < 12 else 2
            if allowed and Levenshtein.distance(core, brand, score_cutoff=allowed) <= allowed:
                return True
        return False


def _cores_of(folded: str) -> set[str]:
    """What is left of a name once look-alikes are read as letters and decorations dropped,
    under each reading of the look-alike characters."""
    cores = set()
    for table in _LOOKALIKES:
        parts = [p for p in _PARTS.split(folded.translate(table)) if p]
        kept = [_strip_decorations(p) for p in parts if p not in DECORATIONS]
        core = "".join(p for p in kept if p)
        if core:
            cores.add(core)
    return cores


_LEADING = regex.compile("^(?:" + "|".join(sorted(DECORATIONS, key=len, reverse=True)) + ")")
_TRAILING = regex.compile("(?:" + "|".join(sorted(DECORATIONS, key=len, reverse=True)) + ")$")


def _strip_decorations(part: str) -> str:
    """`part` without decorations glued to its start or end ("lojabellacasa" → "bellacasa"),
    keeping at least three letters."""
    changed = True
    while changed:
        changed = False
        for pattern in (_LEADING, _TRAILING):
            found = pattern.search(part)
            if found is not None and len(part) - len(found.group()) >= 3:
                part = part[:found.start()] + part[found.end():]
                changed = True
    return part
