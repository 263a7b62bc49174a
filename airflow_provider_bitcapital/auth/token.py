"""Access tokens: what the token endpoint answers, and when a token is due for renewal."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_bitcapital._sanitize import json_object, snippet
from airflow_provider_bitcapital.exceptions import BitcapitalAuthError

#: The lifetime assumed when the token endpoint gives no ``expires_in``: short, never forever.
DEFAULT_LIFETIME = 300.0

_HINTS = {
    400: "check grant_type, username, user_password and scope",
    401: "check the client id (login) and client secret (password); Basic auth sends them raw, "
    "not URL-encoded; try client_auth=body if the instance expects them in the form",
    403: "the client is not allowed this grant or scope",
}


@dataclass(frozen=True)
class Token:
    """An access token and what the token endpoint said about it.

    ``repr()`` never shows the access or refresh token.

    :param access_token: the bearer token.
    :param expires_at: when the token stops working, counted from when it was requested.
    :param lifetime: seconds the token was issued for (``DEFAULT_LIFETIME`` when not said).
    :param user_id: the user the token acts as.
    :param virtual: ``True`` for the synthetic user that stands for the client itself.
    :param scope: the token's scopes, when the server named them.
    :param refresh_token: the refresh token (password grant only).
    :param token_type: the token type as the server spelled it.
    :param deadline: the expiry on this process's monotonic clock.
    """

    access_token: str = field(repr=False)
    expires_at: datetime
    lifetime: float
    user_id: str | None = None
    virtual: bool | None = None
    scope: tuple[str, ...] = ()
    refresh_token: str | None = field(default=None, repr=False)
    token_type: str = "Bearer"
    deadline: float = field(default=0.0, repr=False, compare=False)

    def remaining(self, now: float | None = None) -> float:
        """Return the seconds left before expiry, on the monotonic clock."""
        return self.deadline - (time.monotonic() if now is None else now)

    def is_usable(self, now: float | None = None) -> bool:
        """Tell whether the token may still be sent: it is not within the hard margin of expiry."""
        return self.remaining(now) > hard_margin(self.lifetime)

    def wants_refresh(self, now: float | None = None, *, jitter: float = 1.0) -> bool:
        """Tell whether the token has entered its early-refresh window.

        :param jitter: a factor in (0, 1] that shrinks the window, so that processes that started
            together do not all refresh at the same moment.
        """
        return self.remaining(now) <= soft_margin(self.lifetime) * jitter

    def to_record(self) -> dict[str, Any]:
        """Return a JSON-ready dict for a cache file (wall-clock expiry, no monotonic time)."""
        return {
            "access_token": self.access_token,
            "expires_at": self.expires_at.timestamp(),
            "lifetime": self.lifetime,
            "user_id": self.user_id,
            "virtual": self.virtual,
            "scope": list(self.scope),
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Token:
        """Rebuild a token from :meth:`to_record`'s dict; raises ``ValueError`` if malformed."""
        try:
            expires = float(record["expires_at"])
            token = cls(
                access_token=str(record["access_token"]),
                expires_at=datetime.fromtimestamp(expires, timezone.utc),
                lifetime=float(record["lifetime"]),
                user_id=record.get("user_id"),
                virtual=record.get("virtual"),
                scope=tuple(record.get("scope") or ()),
                refresh_token=record.get("refresh_token"),
                token_type=str(record.get("token_type") or "Bearer"),
                deadline=time.monotonic() + (expires - time.time()),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"malformed token record: {type(error).__name__}") from None
        if not token.access_token:
            raise ValueError("malformed token record: empty access_token")
        return token


def hard_margin(lifetime: float) -> float:
    """Seconds before expiry after which a token is never sent: a tenth of its life, 1 to 60 s."""
    return min(max(lifetime * 0.1, 1.0), 60.0)


def soft_margin(lifetime: float) -> float:
    """Seconds before expiry at which one caller starts renewing: a quarter of its life, at most 5 min."""
    return max(min(lifetime * 0.25, 300.0), hard_margin(lifetime))


def parse_token_response(
    status_code: int,
    content_type: str,
    body: bytes,
    *,
    sent_wall: float,
    sent_monotonic: float,
) -> Token:
    """Turn the token endpoint's answer into a :class:`Token`.

    Lenient where servers differ (``expires_in`` as a number, a numeric string or missing;
    ``token_type`` in any case; ``scope`` as text or list), strict where it matters (a 200 without
    an ``access_token``, or a body that is not a JSON object, is an error).

    :param status_code: the HTTP status.
    :param content_type: the ``Content-Type`` header.
    :param body: the raw body.
    :param sent_wall: the Unix time at which the request was sent.
    :param sent_monotonic: the monotonic time at which the request was sent.
    :raises BitcapitalAuthError: on any refusal or unusable answer; never includes a token.
    """
    payload = json_object(body)
    if status_code != 200:
        raise token_refusal(status_code, content_type, body, payload)
    if payload is None:
        kind = content_type.split(";")[0].strip() or "no content type"
        raise BitcapitalAuthError(
            f"Bitcapital token endpoint answered HTTP 200 with a body that is not a JSON object ({kind})",
            status_code=status_code,
        )
    access_token = payload.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise BitcapitalAuthError(
            "Bitcapital token endpoint answered HTTP 200 without an access_token "
            f"(fields present: {', '.join(sorted(payload)) or 'none'})",
            status_code=status_code,
        )
    token_type = str(payload.get("token_type") or "Bearer")
    if token_type.lower() != "bearer":
        raise BitcapitalAuthError(
            f"Bitcapital token endpoint issued a token of type {token_type!r}; only Bearer is supported",
            status_code=status_code,
        )
    lifetime = _parse_lifetime(payload.get("expires_in"))
    refresh = payload.get("refresh_token")
    return Token(
        access_token=access_token,
        expires_at=datetime.fromtimestamp(sent_wall + lifetime, timezone.utc),
        lifetime=lifetime,
        user_id=str(payload["user_id"]) if payload.get("user_id") is not None else None,
        virtual=bool(payload["virtual"]) if "virtual" in payload else None,
        scope=_parse_scope(payload.get("scope")),
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        token_type="Bearer",
        deadline=sent_monotonic + lifetime,
    )


def _parse_lifetime(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return DEFAULT_LIFETIME
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return DEFAULT_LIFETIME
    return seconds if 0 < seconds < 10**9 else DEFAULT_LIFETIME


def _parse_scope(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    if isinstance(value, list):
        return tuple(str(part) for part in value)
    return ()


def token_refusal(
    status_code: int, content_type: str, body: bytes, payload: dict[str, Any] | None = None
) -> BitcapitalAuthError:
    """Build the error for a token endpoint answer other than 200, from either error shape."""
    if payload is None:
        payload = json_object(body)
    error = description = stack_id = None
    if payload is not None:
        error = _text_or_none(payload.get("error"))
        description = _text_or_none(payload.get("error_description")) or _text_or_none(payload.get("message"))
        stack_id = _text_or_none(payload.get("stackId"))
    if description:
        detail = f"{error}: {description}" if error else description
    elif error:
        detail = error
    elif body:
        kind = content_type.split(";")[0].strip() or "unknown content type"
        detail = f"{kind} body: {snippet(body)}"
    else:
        detail = "empty body"
    message = f"Bitcapital token endpoint refused the request with HTTP {status_code} ({detail})"
    if stack_id:
        message += f" (stackId: {stack_id})"
    hint = _HINTS.get(401 if error == "invalid_client" else status_code)
    if hint:
        message += f"; {hint}"
    return BitcapitalAuthError(
        message, status_code=status_code, error=error, error_description=description, stack_id=stack_id
    )


def _text_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
