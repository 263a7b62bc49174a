"""What every resource route checks and answers the same way: token, scope, signature, body, page.

Each resource route starts with :func:`authorize`, which runs, in order, the Bearer check, the scope
check and, on the money-moving POSTs, the signature check.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi.responses import JSONResponse

from airflow_provider_bitcapital.sandbox.bearer import authenticate_bearer, require_scope
from airflow_provider_bitcapital.sandbox.errors import SandboxError, bad_request
from airflow_provider_bitcapital.sandbox.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    requires_signature,
    verify_signature,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from fastapi import Request

    from airflow_provider_bitcapital.sandbox.state import SandboxState
    from airflow_provider_bitcapital.sandbox.tokens import Token

DEFAULT_PAGE_SIZE = 25

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """Which slice of a list to answer: ``skip`` items, then at most ``limit``."""

    skip: int
    limit: int


async def authorize(state: SandboxState, request: Request, scope: str | None) -> Token:
    """Check a resource request's token, scope and, where required, signature.

    :param state: the sandbox state.
    :param request: the request.
    :param scope: the scope the endpoint needs from a scope-limited token, or ``None``.
    :return: the request's access token.
    :raises UnauthenticatedError: without an ``Authorization`` header.
    :raises OAuthError: for a malformed header or an unusable token.
    :raises SandboxError: 403 for a missing scope, 400 for a bad signature or body.
    """
    token = authenticate_bearer(state, request.headers.get("authorization"))
    require_scope(token, scope, request.method, request.url.path)
    if requires_signature(request.method, request.url.path):
        with state.lock:
            secret = state.clients.get(token.client_id, "")
        try:
            verify_signature(
                secret=secret,
                method=request.method,
                path=path_as_received(request),
                timestamp=request.headers.get(TIMESTAMP_HEADER),
                signature=request.headers.get(SIGNATURE_HEADER),
                body=await json_body(request),
                now_ms=int(time.time() * 1000),
            )
        except SignatureError as error:
            raise SandboxError(400, f"Invalid request signature: {error}", {"reason": str(error)}) from None
    return token


def path_as_received(request: Request) -> str:
    """Return the request path exactly as sent (percent-encoding kept), with ``?query`` when there is one."""
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


async def json_body(request: Request) -> Any:
    """Parse the request body as JSON; an empty body is ``{}``.

    :raises SandboxError: 400 when the body is not JSON.
    """
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request("The request body is not valid JSON") from None


async def json_object(request: Request) -> dict[str, Any]:
    """Parse the request body as a JSON object.

    :raises SandboxError: 400 when the body is not a JSON object.
    """
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body


def page_of(request: Request) -> Page:
    """Read ``skip`` (default 0) and ``limit`` (default 25) from the query string.

    :raises SandboxError: 400 when either is not a non-negative decimal integer.
    """
    values = []
    for name, default in (("skip", 0), ("limit", DEFAULT_PAGE_SIZE)):
        text = request.query_params.get(name)
        if text is None:
            values.append(default)
        elif text.isascii() and text.isdigit():
            values.append(int(text))
        else:
            raise bad_request(
                f"Invalid pagination: {name} must be a non-negative integer, got {text!r}",
                parameter=name,
                value=text,
            )
    return Page(skip=values[0], limit=values[1])


def paged_response(items: Sequence[T], page: Page, render: Callable[[T], Any]) -> JSONResponse:
    """Answer one page of a list as a bare JSON array, totals in ``X-Data-*`` headers.

    :param items: the whole list.
    :param page: the slice to answer.
    :param render: turns one item of the slice into JSON.
    """
    headers = {
        "X-Data-Length": str(len(items)),
        "X-Data-Skip": str(page.skip),
        "X-Data-Limit": str(page.limit),
    }
    return JSONResponse([render(item) for item in items[page.skip : page.skip + page.limit]], headers=headers)


def required_text(body: dict[str, Any], name: str) -> str:
    """Return a required non-empty string field of a request body.

    :raises SandboxError: 400 when it is missing or not a non-empty string.
    """
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise bad_request(f"The request body needs {name!r} as a non-empty string", field=name)
    return value
