"""Turn a failed answer into a :class:`BitcapitalApiError` that a person can act on."""

from __future__ import annotations

from typing import Any

import requests

from airflow_provider_bitcapital._sanitize import json_object, snippet
from airflow_provider_bitcapital.exceptions import BitcapitalApiError

_HINTS = {
    401: "The token was refused even after renewal: check the client id (login) and client secret "
    "(password), and that the client may use this instance",
    403: "The token lacks the scope this call needs: for the password grant add it to the "
    "connection's scope; for client credentials ask Bitcapital to grant it to the client",
    429: "Bitcapital is rate limiting this client: lower the task concurrency or widen the schedule",
}
_SIGNATURE_HINT = (
    "The request signature was refused: check that the worker's clock is right (signatures expire "
    "after 30 s) and that the connection's client secret is the one Bitcapital issued"
)


def api_error(
    response: requests.Response, method: str, path: str, *, outcome_unknown: bool = False
) -> BitcapitalApiError:
    """Build the error for a non-2xx answer, from either of Bitcapital's error shapes.

    :param response: the answer, whose body has been read.
    :param method: the request's method.
    :param path: the request's path, without the query string.
    :param outcome_unknown: the request is not safe to repeat and the status does not tell
        whether the server carried it out; the message then says how to check.
    """
    payload = json_object(response.content)
    stack_id = error_code = None
    if payload is not None:
        stack_id = _text(payload.get("stackId"))
        error_code = _text(payload.get("error"))
        message = (
            _text(payload.get("message"))
            or _text(payload.get("error_description"))
            or error_code
            or response.reason
            or "no message"
        )
    elif response.content:
        kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "unknown content type"
        message = f"{kind} body: {snippet(response.content)}"
    else:
        message = response.reason or "empty body"
    hint = _HINTS.get(response.status_code)
    if response.status_code == 400 and "signature" in message.lower():
        hint = _SIGNATURE_HINT
    if outcome_unknown:
        message += "; the request may or may not have been carried out, so it was not retried"
        hint = _how_to_check(method, path)
    return BitcapitalApiError(
        snippet(message, limit=300),
        method=method,
        path=path,
        status_code=response.status_code,
        stack_id=stack_id,
        error=error_code,
        hint=hint,
        outcome_unknown=outcome_unknown,
    )


def outcome_unknown_error(method: str, path: str, cause: str) -> BitcapitalApiError:
    """Build the error for a request that is not safe to repeat and whose answer was lost.

    :param method: the request's method.
    :param path: the request's path.
    :param cause: what happened (the exception's class name or the status).
    """
    return BitcapitalApiError(
        f"{cause}; the request may or may not have been carried out, so it was not retried",
        method=method,
        path=path,
        hint=_how_to_check(method, path),
        outcome_unknown=True,
    )


def _how_to_check(method: str, path: str) -> str:
    if path.rstrip("/").startswith("/payments"):
        return (
            "To find out, look up the source wallet's payments (GET /wallets/{source}/payments) "
            "before sending it again"
        )
    return f"To find out, read the resource back before sending {method} {path} again"


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
