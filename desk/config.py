"""Settings from environment variables and .streamlit/secrets.toml.

The environment wins over the secrets file. An empty value counts as unset. Without all three
TikTok app settings (client key, client secret, redirect URI) Comment Desk runs in demo mode
against its built-in sandbox.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""The directory holding Home.py; relative paths in settings are resolved against it."""

_SECRET_FIELDS = frozenset({"client_secret", "secret_key", "password", "smtp_password"})


@dataclass(frozen=True)
class Settings:
    """Everything Comment Desk reads from its environment."""

    client_key: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None
    db_path: Path = PROJECT_ROOT / "data" / "desk.duckdb"
    credentials_path: Path = PROJECT_ROOT / "data" / "credentials.json"
    secret_key: str | None = None
    # Where the key that encrypts stored tokens is kept when DESK_SECRET_KEY is not set: made
    # on first start, mode 0600, apart from the credentials and the database.
    secret_key_file: Path = PROJECT_ROOT / ".desk" / "secret.key"
    password: str | None = None
    # Sign-in with the company's identity provider: `.streamlit/secrets.toml` has an [auth]
    # section (Streamlit's OIDC sign-in). Roles by e-mail address or "@domain".
    identity_provider: bool = False
    admins: tuple[str, ...] = ()
    responders: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ()
    rate_limit_qps: float = 10.0
    rate_limit_qpm: float = 600.0
    api_base_url: str = "https://business-api.tiktok.com"
    auth_url: str = "https://business-api.tiktok.com/portal/auth"  # TikTok's consent page
    # The "TikTok account holder authorization URL" and redirect URL from the app's page on
    # TikTok's developer portal: connecting TikTok business accounts (organic videos). Without
    # the URL, business accounts cannot be connected in real mode; the redirect URL defaults to
    # the advertiser one.
    account_auth_url: str | None = None
    account_redirect_uri: str | None = None
    lookback_days: int = 90
    # The most memory the database may use for its cache and queries (DuckDB's memory_limit,
    # e.g. "512MB"); None: DuckDB's own default (80% of the machine's), or for a command-line
    # sync desk.cli.sync.SYNC_DB_MEMORY.
    db_memory: str | None = None
    # A sync lists the last `refresh_days` days again (likes, replies, hidden status and
    # deletions of stored comments) when the last such refresh is `refresh_minutes` old.
    refresh_days: int = 7
    refresh_minutes: int = 60
    notebook_timeout: float = 10.0  # seconds a notebook cell may run
    notebook_download_rows: int = 1_000_000  # rows a notebook result download holds
    # Alerts (desk.alerts): the address people open Comment Desk at, for the links into the
    # inbox; and the SMTP server e-mail alerts go through (no host: e-mail alerts cannot be
    # sent). The password is only ever read from here: never stored, logged or shown.
    public_url: str = "http://localhost:8501"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True

    @property
    def sign_in(self) -> str:
        """How people sign in: "identity provider", "password" (DESK_PASSWORD, one user) or
        "none" (one user, who can reach the app on this machine)."""
        if self.identity_provider:
            return "identity provider"
        return "password" if self.password else "none"

    @property
    def demo_mode(self) -> bool:
        """True unless all three TikTok app settings are present."""
        return not (self.client_key and self.client_secret and self.redirect_uri)

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS and value is not None:
                parts.append(f"{f.name}='***'")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"


def load_settings(
    environ: Mapping[str, str] | None = None,
    secrets: Mapping[str, Any] | None = None,
    secrets_path: Path | None = Path(".streamlit/secrets.toml"),
) -> Settings:
    """Read settings: `environ` (default os.environ) first, then `secrets`.

    When `secrets` is None it is read from `secrets_path` (relative to the project root); a
    missing file is fine, a malformed one raises ValueError naming the file.
    """
    env = os.environ if environ is None else environ
    if secrets is None:
        secrets = _read_secrets(_resolve(secrets_path)) if secrets_path is not None else {}

    def raw(name: str) -> Any:
        for source in (env, secrets):
            value = source.get(name)
            if value is not None and not (isinstance(value, str) and value.strip() == ""):
                return value
        return None

    def text(name: str) -> str | None:
        value = raw(name)
        return None if value is None else str(value).strip()

    def number(name: str, default: float, parse: Callable[[str, Any], Any]) -> Any:
        value = raw(name)
        return default if value is None else parse(name, value)

    defaults = Settings()
    db = text("DESK_DB")
    credentials = text("DESK_CREDENTIALS")
    return Settings(
        client_key=text("TIKTOK_CLIENT_KEY"),
        client_secret=text("TIKTOK_CLIENT_SECRET"),
        redirect_uri=text("TIKTOK_REDIRECT_URI"),
        db_path=_database_path(db) if db else defaults.db_path,
        credentials_path=_resolve(Path(credentials)) if credentials else defaults.credentials_path,
        secret_key=text("DESK_SECRET_KEY"),
        secret_key_file=_resolve(Path(key_file)) if (key_file := text("DESK_SECRET_KEY_FILE"))
        else defaults.secret_key_file,
        password=text("DESK_PASSWORD"),
        identity_provider=_has_identity_provider(secrets.get("auth")),
        admins=number("DESK_ADMINS", (), _patterns),
        responders=number("DESK_RESPONDERS", (), _patterns),
        viewers=number("DESK_VIEWERS", (), _patterns),
        rate_limit_qps=number("TIKTOK_RATE_LIMIT_QPS", defaults.rate_limit_qps, _positive_float),
        rate_limit_qpm=number("TIKTOK_RATE_LIMIT_QPM", defaults.rate_limit_qpm, _positive_float),
        api_base_url=(text("TIKTOK_API_BASE_URL") or defaults.api_base_url).rstrip("/"),
        auth_url=text("TIKTOK_AUTH_URL") or defaults.auth_url,
        account_auth_url=text("TIKTOK_ACCOUNT_AUTH_URL"),
        account_redirect_uri=text("TIKTOK_ACCOUNT_REDIRECT_URI") or text("TIKTOK_REDIRECT_URI"),
        lookback_days=number("DESK_LOOKBACK_DAYS", defaults.lookback_days, _positive_int),
        db_memory=number("DESK_DB_MEMORY", None, _memory_size),
        refresh_days=number("DESK_REFRESH_DAYS", defaults.refresh_days, _positive_int),
        refresh_minutes=number("DESK_REFRESH_MINUTES", defaults.refresh_minutes, _positive_int),
        notebook_timeout=number("DESK_NOTEBOOK_TIMEOUT", defaults.notebook_timeout,
                                _positive_float),
        notebook_download_rows=number("DESK_NOTEBOOK_DOWNLOAD_ROWS",
                                      defaults.notebook_download_rows, _positive_int),
        public_url=number("DESK_PUBLIC_URL", defaults.public_url, _web_address),
        smtp_host=text("DESK_SMTP_HOST"),
        smtp_port=number("DESK_SMTP_PORT", defaults.smtp_port, _port),
        smtp_user=text("DESK_SMTP_USER"),
        smtp_password=text("DESK_SMTP_PASSWORD"),
        smtp_from=text("DESK_SMTP_FROM"),
        smtp_starttls=number("DESK_SMTP_STARTTLS", defaults.smtp_starttls, _flag),
    )


def _read_secrets(path: Path) -> Mapping[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML: {exc}") from exc


def _resolve(path: Path) -> Path:
    return path if path.is_absolute() else PROJECT_ROOT / path


def _database_path(value: str) -> Path:
    # "md:<name>" names a MotherDuck database, not a file: keep it as written.
    return Path(value) if value.startswith("md:") else _resolve(Path(value))


def _positive_float(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return number


_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


_PATTERN = re.compile(r"([^@\s,]+)?@[^@\s,]+\.[^@\s,]+")


def _patterns(name: str, value: Any) -> tuple[str, ...]:
    """E-mail addresses and "@domain"s, comma-separated."""
    found = tuple(part.strip().lower() for part in str(value).split(",") if part.strip())
    wrong = [part for part in found if not _PATTERN.fullmatch(part)]
    if wrong:
        raise ValueError(f"{name} takes e-mail addresses and domains such as @example.com, "
                         f"separated by commas; {wrong[0]!r} is neither")
    return found


def _has_identity_provider(auth: Any) -> bool:
    """Whether secrets.toml's [auth] section configures Streamlit's OIDC sign-in (its
    cookie_secret and redirect_uri, and a provider's client_id, client_secret and
    server_metadata_url, in [auth] or a named [auth.<provider>])."""
    if not isinstance(auth, Mapping) or not auth.get("cookie_secret"):
        return False
    providers = [auth, *(v for v in auth.values() if isinstance(v, Mapping))]
    return any(all(p.get(k) for k in ("client_id", "client_secret", "server_metadata_url"))
               for p in providers)


def _memory_size(name: str, value: Any) -> str:
    text = str(value).strip()
    if not _MEMORY_SIZE.fullmatch(text):
        raise ValueError(f"{name} must be an amount of memory such as 256MB or 2GB, "
                         f"got {value!r}")
    return text


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool | float):
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    return number


def _port(name: str, value: Any) -> int:
    number = _positive_int(name, value)
    if number > 65535:
        raise ValueError(f"{name} must be a port number from 1 to 65535, got {value!r}")
    return number


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise ValueError(f"{name} must be true or false, got {value!r}")


def _web_address(name: str, value: Any) -> str:
    address = str(value).strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", address):
        raise ValueError(f"{name} must be an http:// or https:// address such as "
                         f"https://desk.example.com, got {value!r}")
    return address


DEMO_DIR = PROJECT_ROOT / "data" / "demo"


def for_demo(settings: Settings) -> Settings:
    """Demo mode keeps its database and connections apart, under data/demo/.

    The built-in sandbox makes a new world (new IDs, new tokens) each time the app starts, so
    its data must not mix with a real account's or with an earlier demo's. Paths set
    explicitly (DESK_DB, DESK_CREDENTIALS) are kept as they are.
    """
    defaults = Settings()
    changes = {}
    if settings.db_path == defaults.db_path:
        changes["db_path"] = DEMO_DIR / "desk.duckdb"
    if settings.credentials_path == defaults.credentials_path:
        changes["credentials_path"] = DEMO_DIR / "credentials.json"
    return replace(settings, **changes)
