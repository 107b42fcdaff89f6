"""What every endpoint under ``/open_api/v1.3/`` shares, in the Marketing API (``api.py``)
and the Accounts API (``accounts_api.py``) alike: the request a handler is given, its entry
in the endpoint table, and the checks both APIs word the same way."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from .config import SandboxConfig
from .errors import INVALID_AUTH_PARAMS, TOKEN_EMPTY, ApiError, param_error
from .params import Params
from .state import SandboxState

MAX_TEXT_LENGTH = 150


@dataclasses.dataclass(frozen=True)
class ApiRequest:
    """What a handler is given: the request's parameters and token, and the sandbox."""

    params: Params
    access_token: str | None
    state: SandboxState
    config: SandboxConfig

    def required_token(self) -> str:
        """The Access-Token header, or 40104 when it is missing."""
        if not self.access_token:
            raise ApiError(TOKEN_EMPTY,
                           "Access token is null: the Access-Token header is required.")
        return self.access_token


@dataclasses.dataclass(frozen=True)
class FileAnswer:
    """What a handler returns for a file (an export's download) instead of the ``data`` of
    an envelope: sent as it is, with HTTP 200."""

    body: bytes
    content_type: str
    filename: str


Handler = Callable[[ApiRequest], dict[str, Any] | FileAnswer]


@dataclasses.dataclass(frozen=True)
class Endpoint:
    method: str
    handler: Handler
    fault_kinds: tuple[str, ...]


def app_params(request: ApiRequest, id_name: str, secret_name: str, *names: str) -> list[str]:
    """The values of ``names``, once the app's credentials and they are all present (40002
    for the first one missing); then the credentials are checked (40101)."""
    params = request.params
    app_id = params.required(id_name)
    secret = params.required(secret_name)
    values = [params.required(name) for name in names]
    if app_id != request.config.app_id or secret != request.config.secret:
        raise ApiError(INVALID_AUTH_PARAMS,
                       f"Invalid auth params: {id_name} or {secret_name} is wrong.")
    return values


def selected_fields(params: Params, allowed: tuple[str, ...]) -> list[str] | None:
    """The ``fields`` asked for, each one of ``allowed``; None when there are none."""
    fields = params.string_list("fields")
    for field in fields or ():
        if field not in allowed:
            raise param_error("fields", f"Unknown field {field!r}.")
    return fields


def project(rows: list[dict[str, Any]], fields: list[str] | None) -> list[dict[str, Any]]:
    """Only the ``fields`` of each row, in that order; whole rows without ``fields``."""
    if not fields:
        return rows
    return [{field: row[field] for field in fields} for row in rows]


def comment_text(params: Params, *, max_length: int | None = MAX_TEXT_LENGTH) -> str:
    """The ``text`` of a comment or reply: not blank, and at most ``max_length`` characters
    (150 unless told; None: no maximum)."""
    text = params.required("text")
    if max_length is not None and len(text) > max_length:
        raise param_error("text", f"Length must be between 1 and {max_length}.")
    if not text.strip():
        raise param_error("text", "Must not be blank.")
    return text
