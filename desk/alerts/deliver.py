"""Sending one alert to one channel: an incoming webhook or e-mail.

A webhook is POSTed JSON with a `text` field, which Slack's and Teams' incoming webhooks
both accept; any 2xx answer is delivery. E-mail goes through the SMTP server of the settings
(DESK_SMTP_*), with STARTTLS unless DESK_SMTP_STARTTLS is false; the password is sent only
over TLS (or to a server on this machine) and never appears in an error.

Every failure is a `DeliveryFailed` whose `str()` is one line fit to store and show: it
names the webhook by its host only (its URL is a secret) and never carries the password.
How long to wait before the next attempt is `retry_delay`.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

import requests

from desk.alerts.store import email_addresses, webhook_url
from desk.config import Settings

WEBHOOK_TIMEOUT = (5.0, 10.0)
"""Seconds to connect to a webhook, and to wait for its answer."""
SMTP_TIMEOUT = 15.0
"""Seconds the SMTP server may take to answer each step."""
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=1)
USER_AGENT = "CommentDesk-alerts/1"
_SNIPPET = 200  # characters of a refusing answer kept with the error


class DeliveryFailed(Exception):
    """The channel did not take the alert; ``str()`` says why, in one line."""


@dataclass(frozen=True)
class Message:
    """An alert in the words it is sent with."""

    title: str
    detail: str
    link: str

    def text(self) -> str:
        """The webhook's text (Slack and Teams turn the address into a link)."""
        return f"{self.title}\n{self.detail}\nOpen the inbox: {self.link}"

    def email(self, sender: str, recipients: Sequence[str], message_id: str) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = f"[Comment Desk] {' '.join(self.title.split())}"
        mail["From"] = sender
        mail["To"] = ", ".join(recipients)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id
        mail.set_content(f"{self.title}\n\n{self.detail}\n\nOpen the inbox: {self.link}\n\n"
                         "-- \nSent by Comment Desk. Alerts are set up on its Settings page.\n")
        return mail


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 1 min, doubling, at most 1 h."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def send(kind: str, target: str, message: Message, settings: Settings, *,
         message_id: str | None = None) -> None:
    """Send the message to the channel; DeliveryFailed when it does not take it."""
    if kind == "webhook":
        post_webhook(target, message.text())
    elif kind == "email":
        send_email(settings, target, message, message_id=message_id)
    else:
        raise DeliveryFailed(f"unknown channel kind {kind!r}")


def post_webhook(url: str, text: str, *, timeout: tuple[float, float] = WEBHOOK_TIMEOUT) -> None:
    """POST {"text": text} to an incoming webhook; any 2xx answer is delivery."""
    try:
        url = webhook_url(url)
    except ValueError as exc:
        raise DeliveryFailed(str(exc)) from None
    host = urlsplit(url).hostname
    try:
        answer = requests.post(url, json={"text": text}, timeout=timeout,
                               allow_redirects=False, headers={"User-Agent": USER_AGENT})
    except requests.Timeout:
        raise DeliveryFailed(f"the webhook at {host} did not answer within "
                             f"{timeout[1]:g} s") from None
    except requests.ConnectionError:
        raise DeliveryFailed(f"could not connect to the webhook at {host}") from None
    except requests.RequestException as exc:
        raise DeliveryFailed(f"the webhook at {host} failed ({type(exc).__name__})") from None
    if not 200 <= answer.status_code < 300:
        said = " ".join(answer.text.split())[:_SNIPPET]
        raise DeliveryFailed(f"the webhook at {host} answered HTTP {answer.status_code}"
                             + (f": {said}" if said else ""))


def send_email(settings: Settings, recipients: str | Sequence[str], message: Message, *,
               message_id: str | None = None, timeout: float = SMTP_TIMEOUT) -> None:
    """Send the message through the SMTP server of the settings."""
    if not settings.smtp_host or not settings.smtp_from:
        raise DeliveryFailed("e-mail is not set up: set DESK_SMTP_HOST and DESK_SMTP_FROM "
                             "(see the README's Alerts section)")
    try:
        to = email_addresses(recipients if isinstance(recipients, str)
                             else ", ".join(recipients))
    except ValueError as exc:
        raise DeliveryFailed(str(exc)) from None
    mail = message.email(settings.smtp_from, to, message_id or make_msgid("alert"))
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
            smtp.ehlo()
            encrypted = _start_tls(smtp, settings, where)
            if settings.smtp_user:
                if not encrypted and not _on_this_machine(settings.smtp_host):
                    raise DeliveryFailed(
                        f"the SMTP password would travel unencrypted to {where}: set "
                        "DESK_SMTP_STARTTLS=true (the server must offer STARTTLS)")
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(mail)
    except DeliveryFailed as exc:
        raise DeliveryFailed(scrub(str(exc), settings)) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed(scrub(f"the SMTP server {where} refused the user and password "
                                    f"(DESK_SMTP_USER, DESK_SMTP_PASSWORD): {_said(exc)}",
                                    settings)) from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(exc.recipients)
        raise DeliveryFailed(f"the SMTP server {where} refused the recipients {refused}") \
            from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(scrub(f"the SMTP server {where} refused the message: "
                                    f"{_said(exc)}", settings)) from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = scrub(" ".join(str(exc).split()), settings) or type(exc).__name__
        raise DeliveryFailed(f"could not send through the SMTP server {where}: {reason}") \
            from None


def _start_tls(smtp: smtplib.SMTP, settings: Settings, where: str) -> bool:
    """STARTTLS when the settings ask for it; whether the connection is encrypted."""
    if not settings.smtp_starttls:
        return False
    if not smtp.has_extn("starttls"):
        raise DeliveryFailed(f"the SMTP server {where} does not offer STARTTLS: set "
                             "DESK_SMTP_STARTTLS=false only for a server you trust without it")
    smtp.starttls(context=ssl.create_default_context())
    smtp.ehlo()
    return True


def _on_this_machine(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _said(exc: smtplib.SMTPResponseException) -> str:
    said = exc.smtp_error
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    return f"{exc.smtp_code} {' '.join(text.split())}"[:_SNIPPET]


def scrub(text: str, settings: Settings) -> str:
    """The text without the SMTP password, should anything ever echo it."""
    secret = settings.smtp_password
    return text.replace(secret, "***") if secret else text
