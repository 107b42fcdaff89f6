"""TikTok's response codes as the sandbox answers them, and the error that carries one."""

from __future__ import annotations

OK = 0
NO_PERMISSION = 40001
PARAM_ERROR = 40002
NO_SCHEMA = 40006
RATE_LIMITED = 40100
INVALID_AUTH_PARAMS = 40101
TOKEN_EXPIRED = 40102
REFRESH_TOKEN_EXPIRED = 40103
TOKEN_EMPTY = 40104
TOKEN_INVALID = 40105
INVALID_CORE_USER = 40106
REFRESH_TOKEN_INVALID = 40107
INVALID_GRANT_TYPE = 40108
INVALID_AUTH_CODE = 40110
TT_USER_AUTH_FAILED = 40131
TASK_NOT_READY = 40201
INTERNAL_TIMEOUT = 51010
INTERNAL_TIMEOUT_MESSAGE = "internal timeout"


class ApiError(Exception):
    """An answer with a non-zero ``code``; HTTP status stays 200, as with TikTok."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def param_error(name: str, reason: str) -> ApiError:
    """40002 with the parameter named first, the way TikTok words it."""
    return ApiError(PARAM_ERROR, f"{name}: {reason}")


def token_invalid() -> ApiError:
    """40105: an access token that is unknown or whose authorization has been revoked."""
    return ApiError(TOKEN_INVALID, "Access token is incorrect or has been revoked.")
