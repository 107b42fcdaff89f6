"""Client for TikTok's Business API v1.3 (Marketing API ad comments)."""

from .client import DEFAULT_BASE_URL, MAX_REPLY_LENGTH, ClientStats, TikTokClient
from .errors import (
    AuthCodeError,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    PartialSuccess,
    PermissionDenied,
    RateLimited,
    ServerError,
    TikTokError,
    TokenError,
    TransportError,
    error_for,
)
from .models import Ad, Advertiser, Comment, Page, PageInfo, ReplyResult, TokenGrant, parse_time
from .oauth import (
    AUTH_URL,
    authorization_url,
    exchange_auth_code,
    list_authorized_advertisers,
    revoke_token,
)
from .ratelimit import TIERS, RateLimiter

__all__ = [
    "AUTH_URL",
    "DEFAULT_BASE_URL",
    "MAX_REPLY_LENGTH",
    "TIERS",
    "Ad",
    "Advertiser",
    "AuthCodeError",
    "ClientStats",
    "Comment",
    "InvalidRequest",
    "MalformedResponse",
    "OutcomeUnknown",
    "Page",
    "PageInfo",
    "PartialSuccess",
    "PermissionDenied",
    "RateLimited",
    "RateLimiter",
    "ReplyResult",
    "ServerError",
    "TikTokClient",
    "TikTokError",
    "TokenError",
    "TokenGrant",
    "TransportError",
    "authorization_url",
    "error_for",
    "exchange_auth_code",
    "list_authorized_advertisers",
    "parse_time",
    "revoke_token",
]
