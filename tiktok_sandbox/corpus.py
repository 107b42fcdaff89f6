"""Words and sentences the sandbox builds its accounts and comments from.

Everything here is immutable data; the comment lines themselves are in ``comments.json``.
``{product}`` in an English line is replaced by the advertiser's product noun.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

# name, company, timezone, currency, country, product noun
ADVERTISER_PRESETS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("Northwind Sneakers", "Northwind Retail Inc.", "America/New_York", "USD", "US", "sneakers"),
    ("Kaffeehaus Berlin", "Kaffeehaus Berlin GmbH", "Europe/Berlin", "EUR", "DE", "coffee"),
    ("Sakura Skin Lab", "Sakura Cosmetics K.K.", "Asia/Tokyo", "JPY", "JP", "serum"),
    ("Maison Lumière", "Lumière SAS", "Europe/Paris", "EUR", "FR", "candles"),
    ("Praia Swimwear", "Praia Moda Ltda.", "America/Sao_Paulo", "BRL", "BR", "swimsuits"),
    ("Hanbit Audio", "Hanbit Electronics Co.", "Asia/Seoul", "KRW", "KR", "earbuds"),
    ("Oasis Home", "Oasis Home Trading LLC", "Asia/Dubai", "AED", "AE", "rugs"),
    ("Thames & Co", "Thames and Company Ltd", "Europe/London", "GBP", "GB", "jackets"),
)

CAMPAIGN_NAMES: tuple[str, ...] = (
    "Spring Sale", "Always-on Prospecting", "Black Friday", "Retargeting", "Launch Week",
    "Summer Drop", "Back to School", "Holiday Gifting", "Brand Awareness", "App Installs",
)
CAMPAIGN_OBJECTIVES: tuple[str, ...] = (
    "TRAFFIC", "CONVERSIONS", "REACH", "VIDEO_VIEWS", "APP_PROMOTION", "ENGAGEMENT",
)
ADGROUP_AUDIENCES: tuple[str, ...] = (
    "Broad 18-34", "Broad 25-44", "Interests: Fashion", "Interests: Food & Drink",
    "Lookalike 1%", "Lookalike 5%", "Website visitors 30d", "Video viewers 15s",
    "Women 18-24", "Men 25-34", "Students", "Parents",
)
AD_FORMATS: tuple[str, ...] = (
    "UGC video", "Creator review", "Unboxing", "Tutorial", "Behind the scenes",
    "Before/after", "Green screen", "Duet", "Product demo", "Testimonial",
)
AD_TEXTS: tuple[str, ...] = (
    "New season, new {product}. Tap to shop.",
    "Our best-selling {product} is back in stock!",
    "Free shipping on {product} this week only.",
    "You asked, we listened: {product} in new colours.",
    "30-day returns on all {product}. Try them today.",
    "Made to last: {product} you will actually love.",
)
CALLS_TO_ACTION: tuple[str, ...] = ("SHOP_NOW", "LEARN_MORE", "ORDER_NOW", "SIGN_UP", "GET_QUOTE")

IDENTITY_SUFFIXES: tuple[str, ...] = (".official", "_shop", ".hq", "_team", ".studio")


def _comment_table() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    table = json.loads(resources.files(__package__).joinpath("comments.json").read_text("utf-8"))
    return MappingProxyType({
        lang: MappingProxyType({kind: tuple(lines) for kind, lines in kinds.items()})
        for lang, kinds in table.items()
    })


# Comment text by language and kind (from ``comments.json``). Kinds: praise, price, shipping,
# size, complaint, neutral, spam. English lines may contain {product}.
COMMENTS: Mapping[str, Mapping[str, tuple[str, ...]]] = _comment_table()

# Share of comments per language (percent).
LANGUAGE_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("en", 40), ("es", 12), ("de", 9), ("fr", 8), ("pt", 8), ("ja", 6), ("ko", 5), ("ar", 5),
    ("it", 4), ("id", 3),
)
# Share of comments per kind (percent).
KIND_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("praise", 30), ("price", 12), ("shipping", 10), ("size", 8), ("complaint", 12),
    ("neutral", 22), ("spam", 6),
)

# Replies written by other viewers under a comment.
USER_REPLIES: tuple[str, ...] = (
    "Same!", "fr", "Agreed 💯", "Check their website", "It's on their site",
    "They answered me in DMs", "Mine came in 5 days", "lol", "Exactly what I thought",
    "¡Yo también!", "Ich auch", "Moi aussi", "Eu também", "私も！", "저도요", "وأنا أيضاً",
)
# Replies written by the brand under a comment.
BRAND_REPLIES: tuple[str, ...] = (
    "Thank you so much! 💛", "Hi! Please send us a DM with your order number and we'll help.",
    "Yes, we ship worldwide 🌍", "Use code HELLO10 for 10% off!",
    "They run true to size. Our size chart is on the product page.",
    "So sorry to hear that. Our team will reach out to you today.",
    "Glad you love them!", "Free shipping on orders over 50 🚚",
)

EMOJI: tuple[str, ...] = (
    "😍", "🔥", "😂", "👍", "❤️", "🙏", "😡", "🤔", "💯", "👀", "🥰", "😭", "✨",
    "👏🏽", "🇺🇸", "👨‍👩‍👧",
)

# Comment texts that must reach the app verbatim and stay harmless there: HTML, markdown,
# spreadsheet formulas, control characters, shell-like strings.
HOSTILE_COMMENTS: tuple[str, ...] = (
    "<img src=x onerror=alert(1)>",
    "![t](http://example.invalid/p.png)",
    "[click](javascript:alert(1))",
    '=HYPERLINK("http://example.invalid","x")',
    "+1 SUM(A1)",
    "-2+3",
    "@cmd",
    "\tleading tab",
    "\rleading carriage return",
    "**bold** _it_ # heading",
    "'; DROP TABLE comments; --",
    "<script>alert('x')</script> nice ad",
    "Line one\nLine two\n\nLine four",
)

NAME_PARTS: tuple[str, ...] = (
    "maria", "alex", "sam", "lena", "yuki", "minjun", "omar", "lucas", "chloe", "ana",
    "jonas", "sofia", "kenji", "leila", "mateo", "emma", "noah", "mia", "luca", "zoe",
    "sneaker", "coffee", "beauty", "daily", "vibes", "real", "its", "the", "not", "just",
)
NAME_SUFFIXES: tuple[str, ...] = ("", "_", ".", "__", "x", "official", "tv", "fan", "lover")

# TikTok business accounts (the Accounts API). English lines may contain {product}.
VIDEO_CAPTIONS: tuple[str, ...] = (
    "POV: your {product} finally arrived 📦 #unboxing",
    "3 ways to style our {product} ✨ #ootd #fyp",
    "Behind the scenes at the studio today 🎬",
    "You asked for it: the new {product} colours are here 🌈",
    "Packing orders with us 📦 #smallbusiness",
    "Which one would you pick? 1, 2 or 3? 👇",
    "Day in the life of our team ☕️",
    "Restock alert 🚨 {product} are back",
    "How it's made: our {product} from start to finish",
    "Replying to your comments 💬 #qna",
    "Our founder answers your questions 🎤",
    "Customer review time ⭐️⭐️⭐️⭐️⭐️",
)
ACCOUNT_BIOS: tuple[str, ...] = (
    "Official account 💛 Shop the {product} below 👇",
    "{product} made to last. Questions? DM us.",
    "Free shipping over 50 🚚 | Tag us to get featured",
    "Small team, big dreams ✨ New drops every Friday",
)
# Top-level comments the account writes under its own videos.
ACCOUNT_COMMENTS: tuple[str, ...] = (
    "Which colour should we drop next? 👇",
    "Giveaway! Comment your favourite {product} to win 🎁",
    "Thank you for 10k followers 💛",
    "Link to the {product} is in our bio 🔗",
    "Drop your questions below, we read every comment 💬",
)
