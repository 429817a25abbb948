"""Text messages through a provider with Twilio's Messages API, and Twilio's webhook signature."""

import base64
import hashlib
import hmac
import string
from dataclasses import dataclass
from typing import Literal, Mapping, Optional, Sequence, Union
from urllib.parse import urlsplit, urlunsplit

import requests

from notify.delivery import DeliveryError

# A form field may repeat (Twilio sends repeated keys for some webhooks).
FormParams = Mapping[str, Union[str, Sequence[str]]]

# Statuses in which the provider has already given up on a message it accepted.
_FAILED_STATUSES = {"failed", "undelivered", "canceled"}

_KEYWORDS = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), "stop"),
    **dict.fromkeys(("START", "YES", "UNSTOP"), "start"),
    **dict.fromkeys(("HELP", "INFO"), "help"),
}

_DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class SmsSettings:
    api_url: str  # e.g. https://api.twilio.com
    account_sid: str
    auth_token: str  # the account's auth token; it also signs the provider's webhooks
    from_number: str
    status_callback_url: Optional[str] = None
    timeout: float = 10.0


def send_sms(settings: SmsSettings, to: str, body: str) -> str:
    """Hand one text to the provider and return its message id (Twilio's `sid`)."""
    url = f"{settings.api_url.rstrip('/')}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"
    form = {"To": to, "From": settings.from_number, "Body": body}
    if settings.status_callback_url:
        form["StatusCallback"] = settings.status_callback_url
    try:
        response = requests.post(
            url, data=form, auth=(settings.account_sid, settings.auth_token), timeout=settings.timeout
        )
    except requests.RequestException as error:
        raise DeliveryError(True, f"SMS provider unreachable: {type(error).__name__}") from error
    # Throttling and provider outages pass; so does a rejected login, which is our configuration
    # and not this message: once the credentials are fixed it can go.
    if response.status_code in (401, 429) or response.status_code >= 500:
        raise DeliveryError(True, f"SMS provider answered {response.status_code}{_error_code(response)}")
    if response.status_code >= 400:
        raise DeliveryError(False, f"SMS provider refused the message: {response.status_code}{_error_code(response)}")
    try:
        answer = response.json()
        sid, status = answer["sid"], answer.get("status")
    except (ValueError, KeyError, TypeError) as error:
        # The provider took the request; sending it again could text the person twice.
        raise DeliveryError(False, "SMS provider accepted the message but its answer is unreadable") from error
    if status in _FAILED_STATUSES:
        raise DeliveryError(False, f"SMS provider reported the message {status}")
    return sid


def _error_code(response: requests.Response) -> str:
    """Twilio's numeric error code (e.g. 21211 invalid number), which says more than the status."""
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return ""
    return f" (provider error {code})" if code else ""


def twilio_signature(auth_token: str, url: str, params: FormParams) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 over the full URL, then each POST field name
    followed by its value, fields sorted by name (each distinct value of a repeated field once, sorted)."""
    payload = url
    for name in sorted(params):
        values = params[name]
        for value in sorted({values} if isinstance(values, str) else set(values)):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_twilio_signature(auth_token: str, url: str, params: FormParams, signature: Optional[str]) -> bool:
    """Whether `signature` is Twilio's for this request.

    Twilio signs the URL as it called it; a proxy in front of us may add or drop the default port,
    so the URL is also tried with and without it, as Twilio's own validator does.
    """
    if not signature:
        return False
    return any(
        hmac.compare_digest(twilio_signature(auth_token, candidate, params).encode(), signature.encode())
        for candidate in _with_and_without_default_port(url)
    )


def _with_and_without_default_port(url: str) -> list:
    parts = urlsplit(url)
    default_port = _DEFAULT_PORTS.get(parts.scheme)
    if default_port is None or parts.port not in (None, default_port):
        return [url]
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    without_port = urlunsplit(parts._replace(netloc=f"{prefix}{host}"))
    with_port = urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default_port}"))
    return [url, without_port, with_port]


def parse_inbound_keyword(body: str) -> Optional[Literal["stop", "start", "help"]]:
    """The opt-out/opt-in/help keyword a text consists of, the way Twilio's default keywords work:
    the whole message is the keyword, in any case. Surrounding spaces and punctuation ("Stop.")
    are ignored too, so a person who clearly asked to stop is never texted again."""
    return _KEYWORDS.get(body.strip(string.whitespace + string.punctuation).upper())
