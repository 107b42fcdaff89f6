"""Timestamps as the store keeps them: aware, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored timestamp (or None) in UTC."""
    return None if moment is None else moment.astimezone(UTC)


def to_utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; naive ones are taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
