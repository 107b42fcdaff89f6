"""Which language a comment is written in: an ISO 639-1 code, or "und" when unsure.

The script decides first, as it is certain and cheap: Hangul is Korean, kana Japanese, Thai
Thai, Arabic script Arabic, Han without kana Chinese, Cyrillic Russian, Devanagari Hindi, and
Vietnamese has letters (ơ ư ă đ ạ ế …) no other language here uses. Latin script goes to lingua,
restricted to the Latin-script languages below, which releases the GIL and runs on every core
for a batch.

Lingua needs a few words to be sure, and comments are short. So the words themselves also
vote: function words and chat spellings that belong to few languages ("is it" English, "quanto
costa" Italian, "berapa kak" Indonesian, "c'est" French), letters only some languages use
(ñ, ã, ß, ı ş ğ), and the classifier's lexicon hits (`hints`: a keyword of the Spanish lexicon
votes Spanish). A text too short for lingua, or one lingua cannot separate from its runner-up,
takes the language its words clearly vote for; lingua's answer stands unless the words vote
clearly and strongly for another language. Words that vote overwhelmingly for one language
settle it without lingua (most comments: lingua is the slowest step). Chat words every
language uses ("ok", "lol", "wow"), laughter, emoji and links vote for nothing, so they stay
"und".

Indonesian and Malay are close; Indonesian is far more common on TikTok, so Malay needs
Malay words ("nak", "tak", "awak", "kat mana"…) to win.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import regex
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from desk.moderation.words import fold

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
_MAYBE_NOISE = regex.compile(r"[@#]|\w[./]\w")
_NON_LATIN = regex.compile(r"[\p{L}--\p{Latin}]", regex.V1)
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
    "bro", "sis", "yes", "hi", "hey", "hello", "ty", "thx", "tq", "nice", "cool", "love",
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

_MARKER_WORDS = {
    "en": """in no the an is are was were it its s this that these those you your u ur my me i
        im we they he she his her of to and with for from on at be been have has had do does did
        dont doesnt didnt isnt cant wont not what where when why how which who if so but just
        really very too can could would should will get got want need anyone someone thing much
        many more than then there here now also only even ever about after because cause come
        man die gonna wanna gotta tbh ngl idk lowkey literally actually honestly wait yall bruh
        thank thanks buy bought order ordered price shipping size color colour work works
        waterproof broke still never always good bad great pretty cute ugly""",
    "es": """no el la los las un una es son de en y dia esta estan este esto eso esa que q por
        para pero muy mas con sin del al lo le les se me mi mis tu tus su sus yo ya si donde
        cuanto cuesta cuestan como cuando porque porq xq tengo tiene tienen hay puedo puede
        quiero necesito gracias hermoso hermosa bonito bonita lindo linda precio envio envios
        talla nada bien mal ni tambien tb jaja jajaja pues bueno buena genial verdad todo todos
        hace vez eres estoy asi aqui ahora despues nunca siempre algo alguien llego llega pedi
        compre mucho poco porfa favor hola mucha muchas muchos otra otro dinero producto cosa""",
    "pt": """se vai o os uma nao n vc vcs voce voces isso esse essa este esta muito mt mto tem
        tudo pra para com sem mais mas meu minha seu sua eu ele ela onde quanto custa quero
        obrigado obrigada lindo linda amei gostei tbm tb kkk dms demais ja aqui entao cade pq
        tambem ainda chegou comprei produto dinheiro coisa nunca sempre foi fica ficou vou gente
        bem mal porque qual quais agora depois hoje ate oq ne nada do da dos das no na nos nas
        pelo pela ao de que dia""",
    "de": """in der die das den dem des ein eine einen einem ist sind und nicht kein keine ich
        du wir ihr sie mit auf fur von zu im bei auch noch schon sehr wie was wo wann warum gibt
        gibts kann man mein meine dein deine haben hat habe hab bitte danke gut schlecht teuer
        kaufen bestellt geil echt einfach nur aber oder mir mich dir dich sich jetzt immer nie
        hier viel wieder doch mal leider endlich richtig total""",
    "fr": """se le la les un une des du de est c cest j je tu il elle nous vous ils elles et pas
        ne n qui que quoi pour avec sans sur dans trop tres mais ca moi toi mon ma mes ton ta
        tes son sa ses combien acheter merci svp stp mdr ptdr bien beau belle joli jolie
        vraiment aussi deja jamais toujours rien tout tous cette ce cet ces au aux y ont suis es
        etait fait peux veux faut qu l d on en""",
    "it": """in no se il lo la gli le un uno una non che di da per con ma sono sei siamo questo
        questa quello quella molto troppo anche ancora sempre perche come dove quanto costa
        costano grazie bello bella bellissimo bellissima prezzo voglio mi ti ci ho hai abbiamo
        hanno sto cosa tutto tutti niente nn cmq xke pero piu gia qui adesso davvero proprio del
        della dei delle nel nella al alla""",
    "id": """ya yang ini itu dan di ke dari ada tidak gak ga nggak gk enggak bisa aku kamu saya
        dia mau sudah udah udh belum blm banget bgt aja saja juga kak kakak min sis dong deh sih
        nih kok apa berapa harga harganya dimana beli barang bagus jelek murah terima kasih
        makasih buat untuk sama kalo kalau tapi gimana bikin pake pakai lu gue gw emang beneran
        kayak kaya gitu gini lagi masih baru cuma doang yg dgn utk tdk""",
    "tr": """bir bu ve cok ne mi mu var yok degil icin ama gibi daha ben sen biz siz onlar nasil
        neden nerede nereden kadar fiyat fiyati guzel tesekkurler lutfen harika urun aldim geldi
        gelmedi abla abi hocam canim bunu sana seni bana beni hic hala simdi hemen olmus oldu
        olur mudur misin musun istiyorum""",
    "vi": """khong ko duoc dc roi nha nhe qua minh lam dep xinh cua nhung nguoi hang giao
        tien bao nhieu chua thi vay luon cai nay gi may voi cho ban""",
    "nl": """in het een niet wat van dit ik je mijn heel mooi wel geen zijn voor maar ook naar
        waar hoeveel kost jij jullie deze""",
    "pl": """nie jest jak ile kosztuje bardzo dziekuje gdzie sie czy ladne piekne mam jestem tak
        ten ta""",
    "ms": """nak tak awak kat je sikit camne cmne korang takde tiada dah lawa comel berbaloi""",
    "tl": """po ang ng mga naman lang talaga yung kasi sobrang ganda pangit magkano saan paano
        ako ikaw ito hindi wala meron ba sana""",
}
"""Words that vote for the languages listing them (shared by several, they split the vote)."""

_MARKERS: dict[str, tuple[tuple[str, float], ...]] = {}
for _word in {word for words in _MARKER_WORDS.values() for word in words.split()}:
    _listing = [language for language, words in _MARKER_WORDS.items() if _word in words.split()]
    _MARKERS[_word] = tuple((language, 1 / len(_listing)) for language in _listing)

_LETTERS = {"ñ": ("es",), "ã": ("pt",), "õ": ("pt",), "ß": ("de",), "ı": ("tr",), "ş": ("tr",),
            "ğ": ("tr",), "œ": ("fr",), "ç": ("fr", "pt", "tr"), "ê": ("fr", "pt"),
            "è": ("fr", "it"), "ò": ("it",), "ù": ("fr", "it"), "ä": ("de",), "ö": ("de", "tr"),
            "ü": ("de", "tr"), "ł": ("pl",), "ą": ("pl",), "ę": ("pl",)}
"""Letters only some of the Latin-script languages use: a vote once per text."""

_STRETCHED = regex.compile(r"(\w)\1{2,}")
LATIN_CODES = frozenset(_LATIN.values())
"""The languages whose votes count (the Latin-script ones)."""

CLEAR = 1.0
"""Votes the leading language needs, and its lead over the next, to be the answer."""

OVERRULE = 2.0
"""Votes that overrule lingua's answer when lingua's language has at most half as many."""

DECISIVE = 2.0
"""Votes that settle the language without asking lingua, three times the runner-up's."""

FEW_WORDS = 3
"""Words so few that lingua's answer is a guess: clear votes overrule it."""


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


def detect_languages(texts: Sequence[str | None],
                     hints: Sequence[Mapping[str, float]] | None = None) -> list[str]:
    """The language of each text, in order: an ISO 639-1 code from SUPPORTED, or "und".
    `hints`, one per text, are more votes for languages (the classifier's lexicon hits)."""
    if hints is not None and len(hints) != len(texts):
        raise ValueError("give one hint (or an empty one) per text")
    results: list[str] = []
    pending: list[tuple[int, str, dict[str, float]]] = []
    for index, text in enumerate(texts):
        verdict, latin, words = _by_script(text or "")
        results.append(verdict)
        if verdict != UNDETERMINED or not words:
            continue
        votes = _votes(text or "", words, hints[index] if hints is not None else None)
        if latin is None or _decisive(votes):
            results[index] = _choose(None, votes, words)
        else:
            pending.append((index, latin, votes, words))
    if pending:
        found = _detector().detect_languages_in_parallel_of([item[1] for item in pending])
        for (index, _, votes, words), language in zip(pending, found, strict=True):
            results[index] = _choose(language, votes, words)
    return results


def _by_script(text: str) -> tuple[str, str | None, list[str]]:
    """The language the script shows; or "und" with the Latin text lingua should judge (None:
    too short for lingua) and its words that may tell a language (not chat words, laughter)."""
    clean = _NOISE.sub(" ", text) if _MAYBE_NOISE.search(text) else text
    if not clean.isascii() and _NON_LATIN.search(clean):
        counts = {name: len(pattern.findall(clean)) for name, pattern in _SCRIPTS}
        latin_letters = sum(map(len, _LATIN_WORD.findall(clean)))
        script = _dominant_script(counts, latin_letters)
        if script is not None:
            return script, None, []
    if not clean.isascii() and len(_VIETNAMESE.findall(clean)) >= 2:
        return "vi", None, []
    words = [word for word in _LATIN_WORD.findall(clean) if not _says_nothing(word)]
    letters = sum(map(len, words))
    if letters >= 8 or (len(words) >= 2 and letters >= 5):
        return UNDETERMINED, clean, words
    return UNDETERMINED, None, words


def _votes(text: str, words: list[str], hint: Mapping[str, float] | None) -> dict[str, float]:
    """Each Latin-script language's votes: marker words, telling letters, lexicon hints."""
    votes: dict[str, float] = {}
    if words:
        for word in fold(" ".join(words)).split():
            found = _MARKERS.get(word)
            if found is None and _STRETCHED.search(word):
                found = (_MARKERS.get(_STRETCHED.sub(r"\1\1", word))
                         or _MARKERS.get(_STRETCHED.sub(r"\1", word)))
            for language, weight in found or ():
                votes[language] = votes.get(language, 0.0) + weight
    if not text.isascii():
        lowered = text.lower()
        for letter, languages in _LETTERS.items():
            if letter in lowered:
                for language in languages:
                    votes[language] = votes.get(language, 0.0) + 1 / len(languages)
    if hint:
        for language, weight in hint.items():
            if language in LATIN_CODES:
                votes[language] = votes.get(language, 0.0) + weight
    return votes


def _decisive(votes: dict[str, float]) -> bool:
    """Whether the votes settle the language without lingua: the leader has DECISIVE votes and
    three times the runner-up's (Malay counted as Indonesian)."""
    if len(votes) > 1 and "ms" in votes:
        votes = dict(votes)
        votes["id"] = votes.get("id", 0.0) + votes.pop("ms")
    ranked = sorted(votes.values(), reverse=True)
    return bool(ranked) and ranked[0] >= DECISIVE and (len(ranked) == 1
                                                       or ranked[0] >= 3 * ranked[1])


def _choose(language: Language | None, votes: dict[str, float], words: list[str]) -> str:
    """Lingua's answer (None: unsure, or not asked) weighed against the words' votes. Malay
    votes count as Indonesian here; Malay words then tell the two apart."""
    if "ms" in votes:
        votes = dict(votes)
        votes["id"] = votes.get("id", 0.0) + votes.pop("ms")
    ranked = sorted(votes.items(), key=lambda item: item[1], reverse=True)
    leader, most = ranked[0] if ranked else (UNDETERMINED, 0.0)
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    clear = most >= CLEAR and most - runner_up >= CLEAR / 2
    code = _LATIN.get(language) if language is not None else None
    if code is None:
        code = leader if clear else UNDETERMINED
    elif clear and leader != code:
        own = votes.get("id" if code == "ms" else code, 0.0)
        if (most >= OVERRULE and most >= 2 * own) or (own == 0.0 and len(words) <= FEW_WORDS):
            code = leader
    if code in ("ms", "id"):
        markers = len(_MALAY.findall(" ".join(words)))
        return "ms" if markers >= (1 if code == "ms" else 2) else "id"
    return code


@functools.lru_cache(maxsize=65536)
def _says_nothing(word: str) -> bool:
    """Chat words every language uses and laughter."""
    return word.casefold() in _UNIVERSAL or _LAUGHTER.fullmatch(word) is not None


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
