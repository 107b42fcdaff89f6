"""Reading TikTok payloads tolerantly: the toolkit of :mod:`tiktok_client.models` and
:mod:`tiktok_client.accounts_models`.

The coercions (``as_id``, ``as_text``, ``as_int``, ...) never fail on content: a value of the
wrong type is converted where the meaning is obvious ("3" -> 3, 123 -> "123" for an ID) and
becomes None where it is not.

A model is a :class:`Record` made with :func:`record`. Its ``from_api`` reads each field from
the payload key of the field's name; where TikTok has used other names for it too, ``record``'s
``also`` lists them, and the first name with a value wins (the field's own name first). The
value is then coerced by the field's type:

=============================  ================
field type                     read with
=============================  ================
``Id`` (``str | None``)        :func:`as_id`
``str``                        :func:`as_text`
``int``                        :func:`as_int`
``bool``                       :func:`as_bool`
``float``                      :func:`as_float`
``datetime``                   :func:`parse_time`
``date``                       :func:`as_date`
=============================  ================

Fields of other types (tuples, lists, nested records) keep their default unless the model's
own ``from_api`` passes them, as it does for values that need more than one key or a rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from types import MappingProxyType, NoneType, UnionType
from typing import (
    Annotated,
    Any,
    ClassVar,
    Self,
    TypeVar,
    Union,
    dataclass_transform,
    get_args,
    get_origin,
    get_type_hints,
)

__all__ = [
    "Id",
    "Record",
    "as_bool",
    "as_date",
    "as_float",
    "as_id",
    "as_int",
    "as_mapping",
    "as_text",
    "as_utc",
    "entries",
    "first",
    "id_list",
    "int_list",
    "parent_id",
    "parse_time",
    "record",
    "record_of",
    "utc_now",
]

R = TypeVar("R", bound="Record")

_EPOCH_MS_THRESHOLD = 1e12
_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")
_TRAILING_ZONE_NAME = re.compile(r"\s+(UTC|GMT|Z)$", re.IGNORECASE)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S.%f %z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
)
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f", ""})


# -- times -------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """A UTC datetime from any time format TikTok uses; None when empty or unreadable.

    Accepts "2021-01-14 07:04:16 +0000 UTC", "2021-01-14 07:04:16" (taken as UTC), ISO 8601
    ("2021-01-14T07:04:16Z", with or without offset), epoch seconds as int, float or string,
    epoch milliseconds (values above 1e12) and datetime objects (naive ones taken as UTC).
    """
    try:
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, datetime):
            return as_utc(value)
        if isinstance(value, int | float):
            return _from_epoch(float(value))
        if isinstance(value, str):
            return _parse_time_text(value)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _parse_time_text(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text):
        return _from_epoch(float(text))
    if len(text) == 19 and text[10] == " ":  # "YYYY-MM-DD HH:MM:SS", by far the most common
        try:
            return as_utc(datetime.fromisoformat(text))
        except ValueError:
            pass
    elif len(text) == 29 and text.endswith(" +0000 UTC"):  # comment/list's documented form
        try:
            return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)
        except ValueError:
            pass
    text = _TRAILING_ZONE_NAME.sub("", text) if " " in text else text
    for fmt in _TIME_FORMATS:
        try:
            return as_utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def _from_epoch(seconds: float) -> datetime | None:
    if not math.isfinite(seconds):
        return None
    if abs(seconds) > _EPOCH_MS_THRESHOLD:
        seconds /= 1000.0
    return datetime.fromtimestamp(seconds, tz=UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_now(now: datetime | None = None) -> datetime:
    """``now`` in UTC, or the current time when it is None."""
    return datetime.now(UTC) if now is None else as_utc(now)


def as_date(value: Any) -> date | None:
    """A calendar day from "2024-05-01", a datetime, or any time :func:`parse_time` reads."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = as_text(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        moment = parse_time(value)
        return moment.date() if moment else None


# -- scalars -----------------------------------------------------------------------------


def as_id(value: Any) -> str | None:
    """An ID as a string, whatever JSON type TikTok sent it as; None when absent or empty."""
    if type(value) is str:  # the usual case first: a sync reads millions
        text = value.strip()
        return (text if text.isascii() else _unicode(text)) or None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if isinstance(value, int | str):
        text = _unicode(value.strip() if isinstance(value, str) else str(value))
        return text or None
    return None


def parent_id(value: Any) -> str | None:
    """The ID of the comment a reply answers; None for a top-level comment (TikTok sends
    nothing, "" or "0")."""
    parent = as_id(value)
    return None if parent == "0" else parent


def as_text(value: Any) -> str | None:
    """A string field; numbers are turned into text, containers are dropped."""
    if type(value) is str:
        return _unicode(value)
    if value is None or isinstance(value, dict | list | tuple):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _unicode(str(value))


def _unicode(text: str) -> str:
    """Text that can be encoded: JSON may escape lone UTF-16 surrogates ("\\ud83d", half an
    emoji), which no UTF-8 writer accepts; each becomes U+FFFD."""
    return text if text.isascii() else _LONE_SURROGATE.sub("\ufffd", text)


def as_int(value: Any) -> int | None:
    """A whole number from an int, a whole float or their text; None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        value = value.strip()
        try:
            return int(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def as_float(value: Any) -> float | None:
    """A finite number from a number or its text; None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def as_bool(value: Any) -> bool | None:
    """True or False from a bool, 0 or 1, or words such as "true", "yes" and "0"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


# -- containers --------------------------------------------------------------------------


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is an object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def first(payload: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key present with a non-None value (current name first)."""
    for key in keys:
        value = payload.get(key)
        if value is not None:
            return value
    return None


def entries(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a list; anything else in it, or a value that is no list, is dropped."""
    if not isinstance(value, list | tuple):
        return []
    return [entry for entry in value if isinstance(entry, Mapping)]


def id_list(value: Any) -> list[str]:
    """IDs from a list or a comma-separated string."""
    if isinstance(value, str | int):
        value = str(value).split(",")
    if not isinstance(value, list | tuple):
        return []
    return [item for item in (as_id(v) for v in value) if item is not None]


def int_list(value: Any) -> list[int]:
    """Whole numbers from a list, a comma-separated string or a single number."""
    if isinstance(value, str):
        value = value.split(",")
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    return [item for item in (as_int(v) for v in value) if item is not None]


def record_of(item: Any) -> Any:
    """``item.to_record()`` for a model, the item itself for anything else."""
    to_record = getattr(item, "to_record", None)
    return to_record() if callable(to_record) else item


# -- models ------------------------------------------------------------------------------

Id = Annotated[str | None, as_id]
"""The type of an ID field: a string, or None; read with :func:`as_id`."""

_COERCIONS: Mapping[Any, Callable[[Any], Any]] = MappingProxyType({
    str: as_text,
    int: as_int,
    bool: as_bool,
    float: as_float,
    datetime: parse_time,
    date: as_date,
})

_TYPES_OF: Mapping[Callable[[Any], Any], type] = MappingProxyType({
    as_id: str, as_text: str, as_int: int, as_bool: bool, as_float: float,
    parse_time: datetime, as_date: date,
})

_FieldReader = tuple[str, tuple[str, ...], Callable[[Any], Any]]


class Record:
    """A model parsed from a TikTok payload; make subclasses with :func:`record`."""

    __slots__ = ()
    _readers: ClassVar[tuple[_FieldReader, ...]] = ()
    _names: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> Self:
        """Parse ``payload``, each field read by its type (see :mod:`tiktok_client.parsing`)."""
        return cls._read(as_mapping(payload))

    @classmethod
    def _read(cls, *payloads: Mapping[str, Any], **given: Any) -> Self:
        """The model of ``payloads``, with the ``given`` fields taken as they are.

        With several payloads (a nested object and the one around it), each field is taken
        from the first payload that has it."""
        if len(payloads) == 1:
            return cls(**cls._fields(payloads[0], given))
        read = {
            name: coerce(_first_of(payloads, keys))
            for name, keys, coerce in cls._readers
            if name not in given
        }
        return cls(**read, **given)

    @classmethod
    def field_types(cls) -> dict[str, type]:
        """Each field read from a payload, with the Python type its values have when not
        None (str, int, float, bool, datetime, date): what a table of records needs."""
        return {name: _TYPES_OF[coerce] for name, _, coerce in cls._readers}

    @classmethod
    def _fields(cls, payload: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        """Every field read from one payload, the ``given`` ones taken as they are, as the
        dict :meth:`to_record` gives. Kept lean: a sync reads millions."""
        get = payload.get
        read = dict(given)
        for name, keys, coerce in cls._readers:
            if name in given:
                continue
            value = get(keys[0])
            if value is None and len(keys) > 1:
                value = first(payload, *keys[1:])
            read[name] = coerce(value)
        return read

    @classmethod
    def _columns(cls, payloads: Sequence[Mapping[str, Any]],
                 given: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
        """Every field of many payloads as one list per field (the ``given`` ones taken as
        they are): what :meth:`_fields` gives for each, column by column, which is faster
        for a page of hundreds."""
        columns = dict(given)
        for name, keys, coerce in cls._readers:
            if name in given:
                continue
            key = keys[0]
            if len(keys) == 1:
                columns[name] = [coerce(p.get(key)) for p in payloads]
            else:
                columns[name] = [coerce(first(p, *keys)) for p in payloads]
        return columns

    def to_record(self) -> dict[str, Any]:
        """The fields as a plain dict (one row of a DataFrame)."""
        record = {name: getattr(self, name) for name in self._names}
        for name, value in record.items():
            if isinstance(value, list):
                record[name] = list(value)
        return record


@dataclass_transform(frozen_default=True)
def record(
    cls: type[R] | None = None,
    /,
    *,
    also: Mapping[str, str | tuple[str, ...]] | None = None,
    repr: bool = True,
) -> Any:
    """Make a :class:`Record` subclass a frozen dataclass with slots, and work out once how
    ``from_api`` reads each of its fields.

    ``also`` maps a field to the other name, or names, TikTok has sent it under (read in that
    order after the field's own name). ``repr=False`` keeps the class's own ``__repr__`` (for
    models holding tokens).
    """

    def make(cls: type[R]) -> type[R]:
        made = dataclass(frozen=True, slots=True, repr=repr)(cls)
        made._readers = _readers_of(made, also or {})
        made._names = tuple(f.name for f in fields(made))  # type: ignore[arg-type]
        return made

    return make if cls is None else make(cls)


def _readers_of(cls: type[Record], also: Mapping[str, str | tuple[str, ...]]
                ) -> tuple[_FieldReader, ...]:
    """(field name, payload keys, coercion) for every field whose type says how to read it."""
    hints = get_type_hints(cls, localns={cls.__name__: cls}, include_extras=True)
    readers = []
    for f in fields(cls):  # type: ignore[arg-type]
        coerce = _coercion_of(hints[f.name])
        if coerce is not None:
            others = also.get(f.name, ())
            keys = (f.name, *((others,) if isinstance(others, str) else others))
            readers.append((f.name, keys, coerce))
    if unknown := set(also) - {f.name for f in fields(cls)}:  # type: ignore[arg-type]
        raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
    return tuple(readers)


def _first_of(payloads: tuple[Mapping[str, Any], ...], keys: tuple[str, ...]) -> Any:
    for payload in payloads:
        value = first(payload, *keys)
        if value is not None:
            return value
    return None


def _coercion_of(hint: Any) -> Callable[[Any], Any] | None:
    """The coercion an ``Annotated`` hint names, or the one for ``X`` of ``X`` or ``X | None``."""
    if get_origin(hint) is Annotated:
        return hint.__metadata__[0]
    if get_origin(hint) in (Union, UnionType):
        kinds = [kind for kind in get_args(hint) if kind is not NoneType]
        hint = kinds[0] if len(kinds) == 1 else hint
    return _COERCIONS.get(hint)
