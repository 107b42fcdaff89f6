"""Checks of call arguments, made before anything is sent to TikTok.

Wrong values from code raise ValueError or TypeError; text a person wrote (a reply that is
empty or too long) raises :class:`~tiktok_client.errors.InvalidRequest`, whose message can be
shown as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import InvalidRequest

__all__ = ["check_choice", "check_count", "check_ids", "check_page", "check_text"]


def check_page(page: int, page_size: int, max_page_size: int | None = None) -> None:
    """Refuse a page number below 1 and a page size below 1 or above ``max_page_size``."""
    if page < 1:
        raise ValueError(f"page starts at 1, got {page}")
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    if max_page_size is not None and page_size > max_page_size:
        raise ValueError(f"page_size is at most {max_page_size}, got {page_size}")


def check_count(max_count: int, maximum: int) -> None:
    """Refuse a ``max_count`` (items per cursor page) that is no int or not in 1..maximum."""
    if isinstance(max_count, bool) or not isinstance(max_count, int):
        raise TypeError(f"max_count must be an int, got {type(max_count).__name__}")
    if not 1 <= max_count <= maximum:
        raise ValueError(f"max_count is between 1 and {maximum}, got {max_count}")


def check_choice(name: str, value: object, allowed: Sequence[object]) -> None:
    """Refuse a ``value`` of argument ``name`` that is not one of ``allowed``."""
    if value not in allowed:
        choices = " or ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be {choices}, got {value!r}")


def check_ids(values: Sequence[str], name: str, maximum: int | None = None) -> list[str]:
    """The IDs of argument ``name`` as strings; a lone string, or more than ``maximum`` IDs,
    is refused."""
    if isinstance(values, str):
        raise TypeError(f"{name} must be a list of IDs, not a single string")
    ids = [str(v) for v in values]
    if maximum is not None and len(ids) > maximum:
        raise ValueError(f"{name} takes at most {maximum} IDs, got {len(ids)}")
    return ids


def check_text(text: str, kind: str, limit: int) -> None:
    """Refuse comment text TikTok would not take: empty, blank or over ``limit`` characters.
    ``kind`` names it in the message ("reply" or "comment")."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest(f"The {kind} is empty; write some text first.")
    if len(text) > limit:
        raise InvalidRequest(f"The {kind} is {len(text)} characters long; the limit is {limit}.")
