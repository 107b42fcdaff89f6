"""How Comment Desk's requests and TikTok's answers look on the wire: query values encoded as
TikTok expects, answers parsed, the HTTP session every request shares, and the leniency the
client reads loose values with."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter

from .parsing import as_utc

__all__ = ["code_of", "date_text", "encode_query", "loads", "new_session", "string_list",
           "text_or_none"]

_POOL_SIZE = 64  # connections kept to the API host: a sync's workers, and writes beside them

def loads(content: bytes) -> Any:
    """An answer's JSON: orjson, several times faster than json on a page of comments; json
    where orjson refuses what json reads (lone UTF-16 surrogates in a string, which the
    models then replace)."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def new_session(base_url: str) -> requests.Session:
    session = requests.Session()
    # The environment's proxy settings are read once here, not on every request (requests
    # reads them, and ~/.netrc, per request: a millisecond each, a tenth of a sync's time).
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=_POOL_SIZE, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def encode_query(params: Mapping[str, Any]) -> dict[str, str]:
    """Query values as TikTok expects: lists and objects JSON-encoded, None left out."""
    query = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | dict):
            query[key] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        elif isinstance(value, bool):
            query[key] = "true" if value else "false"
        elif isinstance(value, date):
            query[key] = date_text(value)
        else:
            query[key] = str(value)
    return query


def date_text(value: date | str) -> str:
    """A date as "YYYY-MM-DD"; datetimes are converted to UTC first."""
    if isinstance(value, datetime):
        value = as_utc(value).date()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def string_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def code_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        try:  # "²" and "--5" pass isdigit(); 5,000 digits exceed int()'s limit
            return int(value)
        except ValueError:
            return None
    return None


def text_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)
