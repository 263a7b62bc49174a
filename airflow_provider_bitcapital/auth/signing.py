"""Request signing: ``X-Request-Timestamp`` and ``X-Request-Signature``.

The signature is the lowercase hex HMAC-SHA256, keyed with the client secret, of
``METHOD,PATH,TIMESTAMP`` followed by ``,BODY`` for POST and PUT. PATH carries the query string
when there is one; BODY is the JSON exactly as sent, and ``{}`` when a POST or PUT has none.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

TIMESTAMP_HEADER = "X-Request-Timestamp"
SIGNATURE_HEADER = "X-Request-Signature"

# The endpoints that move money, which the server refuses to serve unsigned.
_MONEY_MOVING = re.compile(
    r"^/(payments|payments/withdraw/[^/]+|assets/[^/]+/(emit|destroy)|boletos/(pay|emit))/?$"
)
_BODY_METHODS = frozenset({"POST", "PUT"})


def now_ms() -> int:
    """Return the current Unix time in milliseconds, the unit Bitcapital's timestamps use."""
    return int(time.time() * 1000)


def canonical_json(value: Any) -> bytes:
    """Serialize ``value`` the way Bitcapital signs it: compact, keys in order, UTF-8 unescaped."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(secret: str, message: str) -> str:
    """Return the lowercase hex HMAC-SHA256 of ``message`` keyed with ``secret``."""
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def is_money_moving(method: str, path: str) -> bool:
    """Tell whether the server requires a signature on this request."""
    return method.upper() == "POST" and bool(_MONEY_MOVING.match(path))


def should_sign(mode: str, method: str, path: str, override: bool | None = None) -> bool:
    """Decide whether to sign a request.

    :param mode: the connection's ``sign_requests``: ``auto``, ``always`` or ``never``.
    :param method: the HTTP method.
    :param path: the path below the base URL, without the query string.
    :param override: a call's own ``sign`` argument; wins when not ``None``.
    """
    if override is not None:
        return override
    if mode == "always":
        return True
    if mode == "never":
        return False
    return is_money_moving(method, path)


def signature_headers(
    secret: str,
    method: str,
    path_and_query: str,
    body: bytes | None,
    *,
    timestamp_ms: int | None = None,
) -> dict[str, str]:
    """Return the two signing headers for one attempt of a request.

    :param secret: the client secret.
    :param method: the HTTP method.
    :param path_and_query: the path below the base URL, with ``?query`` when there is one.
    :param body: the exact bytes sent as the body, if any.
    :param timestamp_ms: the Unix time in milliseconds; defaults to now.
    """
    method = method.upper()
    timestamp = str(now_ms() if timestamp_ms is None else timestamp_ms)
    parts = [method, path_and_query, timestamp]
    if method in _BODY_METHODS:
        parts.append(body.decode("utf-8") if body else "{}")
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, ",".join(parts))}
