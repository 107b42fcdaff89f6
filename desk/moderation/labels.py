"""The classifier's vocabulary: its labels, sentiment bands and languages, with the words
pages show for them."""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal, get_args

Label = Literal["question", "complaint", "praise", "purchase_intent", "spam", "toxic"]
LABELS: tuple[Label, ...] = get_args(Label)

LABEL_NAMES = MappingProxyType({
    "question": "Question",
    "complaint": "Complaint",
    "praise": "Praise",
    "purchase_intent": "Wants to buy",
    "spam": "Spam",
    "toxic": "Toxic",
})

LANGUAGE_NAMES = MappingProxyType({
    "und": "Undetermined", "en": "English", "es": "Spanish", "pt": "Portuguese",
    "de": "German", "fr": "French", "it": "Italian", "id": "Indonesian", "tr": "Turkish",
    "ar": "Arabic", "ja": "Japanese", "ko": "Korean", "vi": "Vietnamese", "th": "Thai",
    "zh": "Chinese", "ru": "Russian", "hi": "Hindi", "nl": "Dutch", "pl": "Polish",
    "ms": "Malay", "tl": "Tagalog",
})


def language_name(code: str | None) -> str:
    """'Spanish (es)'; the code alone when it has no name here."""
    if not code:
        return "Not classified yet"
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code
