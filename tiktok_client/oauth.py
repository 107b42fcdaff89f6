"""Connecting an advertiser: authorization URL, code exchange, account listing, revocation.

The Marketing API has no scope parameter: the permissions are set in the app's configuration
and approved by the advertiser. The access token it grants does not expire; it stops working
when the advertiser removes the authorization or the app revokes it.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from .client import TikTokClient
from .errors import AuthCodeError, MalformedResponse
from .models import Advertiser, Page, TokenGrant

__all__ = [
    "AUTH_URL",
    "authorization_url",
    "exchange_auth_code",
    "list_authorized_advertisers",
    "revoke_token",
]

AUTH_URL = "https://business-api.tiktok.com/portal/auth"


def authorization_url(
    app_id: str, state: str, redirect_uri: str, *, auth_base: str = AUTH_URL
) -> str:
    """The page where an advertiser authorizes the app; TikTok then redirects to
    ``redirect_uri`` with ``auth_code`` and ``state``."""
    query = urlencode(
        {"app_id": str(app_id), "state": state, "redirect_uri": redirect_uri}, quote_via=quote
    )
    separator = "&" if "?" in auth_base else "?"
    return f"{auth_base}{separator}{query}"


def exchange_auth_code(
    client: TikTokClient, app_id: str, secret: str, auth_code: str
) -> TokenGrant:
    """Trade a single-use authorization code for the advertiser's access token.

    The code works once, so a lost answer raises OutcomeUnknown and is not retried: start the
    authorization again.
    """
    if not auth_code:
        raise AuthCodeError("No authorization code came back from TikTok.")
    body = {"app_id": str(app_id), "secret": secret, "auth_code": auth_code}
    data = client._post_as_app("oauth2/access_token/", body, secrets=(secret, auth_code))
    grant = TokenGrant.from_api(data)
    if not grant.access_token:
        raise MalformedResponse(
            "TikTok accepted the authorization code but sent no access token; "
            "start the connection again"
        )
    return grant


def list_authorized_advertisers(client: TikTokClient, app_id: str, secret: str) -> list[Advertiser]:
    """The ad accounts the client's token was granted (IDs and names)."""
    data = client._request(
        "GET",
        "oauth2/advertiser/get/",
        params={"app_id": str(app_id), "secret": secret},
        redact=(secret,),
    )
    return Page.from_api(data, Advertiser.from_api, "list").items


def revoke_token(client: TikTokClient, app_id: str, secret: str, access_token: str) -> None:
    """Revoke an access token so it can no longer be used."""
    body = {"app_id": str(app_id), "secret": secret, "access_token": access_token}
    client._post_as_app("oauth2/revoke_token/", body, secrets=(secret, access_token))
