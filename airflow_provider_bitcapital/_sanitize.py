"""Turn a server's answer into a short text that is safe to put in an error message."""

from __future__ import annotations

import html
import re

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
