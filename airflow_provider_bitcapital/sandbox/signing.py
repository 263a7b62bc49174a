"""Request signatures, checked the way a Bitcapital instance checks them.

A signed request carries ``X-Request-Timestamp`` (Unix time in milliseconds) and
``X-Request-Signature``, the lowercase hex HMAC-SHA256 of ``METHOD,PATH,TIMESTAMP[,BODY]`` keyed with
the client secret. ``PATH`` is the path as received, with ``?query`` when there is one; ``BODY``
(POST and PUT only) is the parsed JSON body written back compactly, ``{}`` for an empty body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

MAX_TIMESTAMP_AGE_MS = 30_000
"""How old a signature timestamp may be; there is no bound on the future."""

TIMESTAMP_HEADER = "x-request-timestamp"
SIGNATURE_HEADER = "x-request-signature"

_SIGNED_ROUTES = (
    re.compile(r"\A/payments\Z"),
    re.compile(r"\A/payments/withdraw/[^/]+\Z"),
    re.compile(r"\A/assets/[^/]+/emit\Z"),
    re.compile(r"\A/assets/[^/]+/destroy\Z"),
    re.compile(r"\A/boletos/pay\Z"),
    re.compile(r"\A/boletos/emit\Z"),
)


class SignatureError(Exception):
    """A signature check failed; the message says why, for the client's error message."""


def requires_signature(method: str, path: str) -> bool:
    """Tell whether the instance checks the signature of this request (the money-moving POSTs).

    :param method: the request method.
    :param path: the request path, without the query string.
    """
    return method.upper() == "POST" and any(route.match(path) for route in _SIGNED_ROUTES)


def canonical_json(value: object) -> str:
    """Write a parsed JSON body back the way the instance does before signing it.

    :param value: the parsed body.
    :return: compact JSON, keys in their order, non-ASCII characters unescaped.
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def signature_message(method: str, path: str, timestamp: str, body: str | None) -> str:
    """Build the message that is signed.

    :param method: the request method.
    :param path: the path below the base URL, with ``?query`` when there is one.
    :param timestamp: the ``X-Request-Timestamp`` value.
    :param body: the canonical body, or ``None`` for methods other than POST and PUT.
    :return: ``METHOD,PATH,TIMESTAMP[,BODY]``.
    """
    parts = [method.upper(), path, timestamp]
    if body is not None:
        parts.append(body)
    return ",".join(parts)


def compute_signature(secret: str, message: str) -> str:
    """Return the lowercase hex HMAC-SHA256 of a message keyed with a client secret.

    :param secret: the client secret; encoded as UTF-8.
    :param message: the message from :func:`signature_message`.
    """
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_signature(
    *,
    secret: str,
    method: str,
    path: str,
    timestamp: str | None,
    signature: str | None,
    body: object,
    now_ms: int,
) -> None:
    """Check a request's signature.

    :param secret: the client secret of the token that authenticated the request.
    :param method: the request method.
    :param path: the path as received, with ``?query`` when there is one.
    :param timestamp: the ``X-Request-Timestamp`` header, if sent.
    :param signature: the ``X-Request-Signature`` header, if sent.
    :param body: the parsed JSON body (``{}`` when empty); ignored for methods other than POST and PUT.
    :param now_ms: the current Unix time in milliseconds.
    :raises SignatureError: when a header is missing, the timestamp is not a number or is more than
        30 s old, or the signature does not match.
    """
    if not timestamp or not signature:
        raise SignatureError("missing X-Request-Timestamp or X-Request-Signature header")
    if not timestamp.isdigit():
        raise SignatureError(f"timestamp must be Unix time in milliseconds, got {timestamp!r}")
    age_ms = now_ms - int(timestamp)
    if age_ms > MAX_TIMESTAMP_AGE_MS:
        raise SignatureError(f"expired timestamp, {age_ms} ms old (at most {MAX_TIMESTAMP_AGE_MS} ms)")
    signed_body = canonical_json(body) if method.upper() in ("POST", "PUT") else None
    expected = compute_signature(secret, signature_message(method, path, timestamp, signed_body))
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        raise SignatureError("signature mismatch")
