"""Read a server's answer safely: a JSON object if it is one, and a short text for error messages."""

from __future__ import annotations

import html
import json
import re
from typing import Any

_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
# Long unbroken runs of token-like characters could be tokens or secrets echoed by a proxy.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-.~+/=]{24,}")


def snippet(body: bytes | str, *, limit: int = 160) -> str:
    """Return a one-line, tag-free, shortened form of ``body`` with token-like runs redacted.

    :param body: the raw answer.
    :param limit: the most characters to keep.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = html.unescape(_TAG.sub(" ", text))
    text = _TOKEN_LIKE.sub("[redacted]", _SPACE.sub(" ", text)).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def json_object(body: bytes) -> dict[str, Any] | None:
    """Return ``body`` decoded as a JSON object, or ``None`` if it is not one."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None
