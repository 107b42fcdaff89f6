"""Commenters whose name imitates the brand: "glowskin_support", "gl0wskin.official",
"glowskln", "hadiah.glowskin" next to the brand "glowskin".

A name imitates a brand when, once folded, with look-alike digits and symbols read as letters
(0 → o, 1 → l or i, 3 → e, $ → s…), separators dropped and the words impostors add removed
("official", "support", "cs", "giveaway", "loja"…), it is the brand's name or one letter off
it (two for long names). The brand's own names, exactly as given (case and a leading @ aside;
a display name may also drop its spaces), are never imitations.
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

_LOOKALIKES = (
    str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                   "$": "s", "@": "a", "|": "l", "!": "i", "€": "e"}),
    str.maketrans({"1": "i"}),
)
_PARTS = regex.compile(r"[^\p{L}\p{N}$@|!€]+")


def _compact(name: str) -> str:
    return "".join(_PARTS.split(fold(name)))


class BrandNames:
    """The brand's own names, ready to judge commenters' names against."""

    def __init__(self, brands: Iterable[str]) -> None:
        own: set[str] = set()
        cores: set[str] = set()
        for brand in brands:
            folded = fold(brand).strip().lstrip("@")
            if not folded:
                continue
            own.add(folded)
            own.add(folded.replace(" ", ""))
            core = _PARTS.sub("", folded)
            if len(core) >= 3:
                cores.add(core)
        self._own = frozenset(own)
        self._cores = tuple(sorted(cores))

    def imitates(self, user_name: str | None) -> bool:
        """Whether `user_name` imitates one of the brand's names without being one."""
        if not user_name or not self._cores:
            return False
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


def _strip_decorations(part: str) -> str:
    """`part` without decorations glued to its start or end ("lojabellacasa" → "bellacasa"),
    keeping at least three letters."""
    changed = True
    while changed:
        changed = False
        for word in DECORATIONS:
            if len(part) - len(word) < 3:
                continue
            if part.startswith(word):
                part, changed = part[len(word) :], True
            elif part.endswith(word):
                part, changed = part[: -len(word)], True
    return part
