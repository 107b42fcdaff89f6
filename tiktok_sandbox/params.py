"""Request parameters, read from a query string or a JSON body and validated as TikTok does.

GET list and object parameters arrive JSON-encoded (``comment_type=["ALL"]``,
``filtering={"ad_ids":["1"]}``) or, for lists, as repeated parameters
(``comment_type=ALL&comment_type=REPLY``); both are accepted. Invalid values are answered
with 40002 and a message that starts with the parameter's name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs

from .errors import ApiError, param_error

# Parameters that differ between two otherwise identical requests (secrets, one-time codes).
VOLATILE_PARAMS = frozenset({"access_token", "secret", "auth_code", "timestamp", "nonce",
                             "client_secret", "refresh_token", "code"})

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_NOT_A_DATE = "Not a valid date, expected format YYYY-MM-DD."
_NOT_A_TIME = "Not a valid time, expected format YYYY-MM-DD HH:MM:SS."
MISSING = "Missing data for required field."
T = TypeVar("T")
_TRUE_WORDS = frozenset({"true", "1"})
_FALSE_WORDS = frozenset({"false", "0"})


class Params:
    """Named request values; every accessor raises 40002 naming the parameter."""

    def __init__(self, values: Mapping[str, list[Any]], *, from_query: bool) -> None:
        self._values = values
        self._from_query = from_query

    @classmethod
    def from_query(cls, query: str) -> Params:
        return cls(parse_qs(query, keep_blank_values=True), from_query=True)

    @classmethod
    def from_body(cls, body: bytes, content_type: str = "application/json") -> Params:
        if "application/x-www-form-urlencoded" in content_type:
            return cls(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True),
                       from_query=True)
        if not body.strip():
            return cls({}, from_query=False)
        try:
            decoded = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(40002, "Request body must be a JSON object.") from None
        if not isinstance(decoded, dict):
            raise ApiError(40002, "Request body must be a JSON object.")
        return cls({key: [value] for key, value in decoded.items()}, from_query=False)

    def canonical(self) -> str:
        """A stable text of the parameters, without the volatile ones."""
        kept = sorted((k, v) for k, v in self._values.items() if k not in VOLATILE_PARAMS)
        return json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str)

    # Raw access

    def _raw(self, name: str) -> list[Any]:
        values = self._values.get(name) or []
        return [v for v in values if v is not None and v != ""]

    def _scalar(self, name: str) -> Any:
        values = self._raw(name)
        return values[0] if values else None

    def present(self, name: str) -> bool:
        return bool(self._raw(name))

    # Typed accessors

    def string(self, name: str, *, required: bool = False, default: str | None = None
               ) -> str | None:
        value = self._scalar(name)
        if value is None:
            if required:
                raise param_error(name, MISSING)
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise param_error(name, "Not a valid string.")
        return str(value)

    def required(self, name: str) -> str:
        value = self.string(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str, *, default: int, minimum: int, maximum: int | None = None
                ) -> int:
        value = self._scalar(name)
        if value is None:
            return default
        if isinstance(value, bool):
            raise param_error(name, "Not a valid integer.")
        try:
            number = int(value.strip()) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            raise param_error(name, "Not a valid integer.") from None
        if isinstance(value, float) and not value.is_integer():
            raise param_error(name, "Not a valid integer.")
        if number < minimum or (maximum is not None and number > maximum):
            if maximum is None:
                raise param_error(name, f"Must be greater than or equal to {minimum}.")
            raise param_error(
                name,
                f"Must be greater than or equal to {minimum} and less than or equal to {maximum}.",
            )
        return number

    def boolean(self, name: str, *, default: bool | None = None) -> bool | None:
        """``true``/``false`` in any case (Python's ``True`` too), ``1``/``0``, or JSON
        booleans."""
        value = self._scalar(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS:
            return True
        if isinstance(value, str) and value.strip().lower() in _FALSE_WORDS:
            return False
        raise param_error(name, "Not a valid boolean.")

    def enum(self, name: str, allowed: Iterable[str], *, required: bool = False,
             default: str | None = None) -> str | None:
        value = self.string(name, required=required, default=default)
        choices = tuple(allowed)
        if value is not None and value not in choices:
            raise param_error(name, f"Must be one of: {', '.join(choices)}.")
        return value

    def string_list(self, name: str, *, required: bool = False, max_items: int | None = None
                    ) -> list[str] | None:
        values = self._raw(name)
        if not values:
            if required:
                raise param_error(name, MISSING)
            return None
        items: list[Any] = []
        for value in values:
            if isinstance(value, list):
                items.extend(value)
            elif isinstance(value, str) and value.lstrip().startswith("["):
                items.extend(_decoded(name, value, list, "Not a valid JSON list."))
            elif self._from_query and isinstance(value, str):
                items.append(value)
            else:
                raise param_error(name, "Not a valid list.")
        if required and not items:
            raise param_error(name, MISSING)
        return _strings(name, items, max_items)

    def enum_list(self, name: str, allowed: Iterable[str], *, default: list[str]) -> list[str]:
        values = self.string_list(name)
        if not values:
            return list(default)
        choices = tuple(allowed)
        for value in values:
            if value not in choices:
                raise param_error(name, f"Must be one of: {', '.join(choices)}.")
        return values

    def json_object(self, name: str) -> dict[str, Any] | None:
        value = self._scalar(name)
        if value is None:
            return None
        return _decoded(name, value, dict, "Not a valid JSON object.")

    def date(self, name: str) -> dt.date:
        return _parsed(name, self.required(name), _DATE, dt.date.fromisoformat, _NOT_A_DATE)


def _parsed(name: str, value: Any, pattern: re.Pattern[str], parse: Callable[[str], T],
            problem: str) -> T:
    """``value`` parsed, when it is a string ``pattern`` matches in full and ``parse``
    accepts; else 40002 with ``problem``."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise param_error(name, problem)
    try:
        return parse(value)
    except ValueError:
        raise param_error(name, problem) from None


def _strings(name: str, items: list[Any], max_items: int | None) -> list[str]:
    """``items`` as strings, when each is a string or a number and there are at most
    ``max_items``; else 40002."""
    if any(isinstance(i, bool) or not isinstance(i, str | int) for i in items):
        raise param_error(name, "Not a valid list of strings.")
    if max_items is not None and len(items) > max_items:
        raise param_error(name, f"Length must be between 1 and {max_items}.")
    return [str(i) for i in items]


def _decoded(name: str, value: Any, kind: type[T], problem: str) -> T:
    """``value``, decoded first when it is JSON text, when it is a ``kind``; else 40002 with
    ``problem``."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise param_error(name, problem) from None
    if not isinstance(value, kind):
        raise param_error(name, problem)
    return value


def parse_datetime(name: str, value: Any) -> int:
    """``YYYY-MM-DD HH:MM:SS`` (UTC) to epoch seconds, or 40002."""
    moment = _parsed(name, value, _DATETIME,
                     lambda text: dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S"), _NOT_A_TIME)
    return int(moment.replace(tzinfo=dt.UTC).timestamp())


def id_list(name: str, value: Any, *, max_items: int = 100) -> list[str]:
    """A list of IDs inside a JSON object parameter (``filtering.ad_ids``), or 40002."""
    if not isinstance(value, list):
        raise param_error(name, "Not a valid list of strings.")
    return _strings(name, value, max_items)
