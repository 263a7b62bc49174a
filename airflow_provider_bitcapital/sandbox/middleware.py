"""The outermost ASGI layer: record every request, then carry out the first injected fault that matches.

Recording happens before anything else, so requests answered by a fault, and requests to the token
endpoint, are counted too; the ``/_sandbox`` control endpoints are neither recorded nor faulted.

A dropped connection is a real one: the middleware aborts the TCP transport of the request, so the
client reads no status line at all (``requests`` raises ``ConnectionError``, "Remote end closed
connection without response"). uvicorn hands the application the ``send`` method of its
per-request cycle object, whose ``transport`` attribute is the connection; that is how the
transport is found.

Known limitation: dropping needs uvicorn's asyncio protocols (``h11`` or ``httptools``), which
expose that transport; under another ASGI server a ``drop`` fault raises ``RuntimeError`` and
the server answers 500 instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from airflow_provider_bitcapital.sandbox.routes_control import is_control_path
from airflow_provider_bitcapital.sandbox.state import TOKEN_PATH, RecordedRequest, SandboxState
from airflow_provider_bitcapital.sandbox.token_endpoint import (
    FORM_CONTENT_TYPE,
    authenticate_client,
    client_credentials_from,
    parse_form,
)
from airflow_provider_bitcapital.sandbox.tokens import ACCESS

if TYPE_CHECKING:
    from airflow_provider_bitcapital.sandbox.faults import Fault

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger(__name__)

DISCONNECT_WAIT_SECONDS = 1.0
STOP_POLL_SECONDS = 0.05


class SandboxMiddleware:
    """Wrap the sandbox application with request recording and fault injection.

    :param app: the FastAPI application.
    :param state: the sandbox state holding the request log and the faults.
    """

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state
        self.stopping = threading.Event()
        """Set when the server stops: delayed requests are then dropped at once instead of holding it up."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http" or is_control_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        replay = _replaying_receive(body, receive)
        fault = self.state.record(_recorded_request(self.state, scope, body))
        if fault is None:
            await self.app(scope, replay, send)
        elif fault.when == "before":
            await self._fault_before(fault, scope, replay, receive, send)
        else:
            await self._fault_after(fault, scope, replay, receive, send)

    async def _fault_before(
        self, fault: Fault, scope: Scope, replay: Receive, receive: Receive, send: Send
    ) -> None:
        stopped = await self._wait(fault.delay)
        if fault.drop or stopped:
            await _drop_connection(send, receive)
        elif fault.replaces_response:
            await _send_fault_answer(fault, scope, send)
        else:
            await self.app(scope, replay, _adding_headers(send, fault.extra_headers()))

    async def _fault_after(
        self, fault: Fault, scope: Scope, replay: Receive, receive: Receive, send: Send
    ) -> None:
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        try:
            await self.app(scope, replay, capture)
        except Exception:
            log.exception("Handler failed before an 'after' fault on %s %s", scope["method"], scope["path"])
        stopped = await self._wait(fault.delay)
        if fault.drop or stopped:
            await _drop_connection(send, receive)
        elif fault.replaces_response:
            await _send_fault_answer(fault, scope, send)
        else:
            with_headers = _adding_headers(send, fault.extra_headers())
            for message in captured:
                await with_headers(message)

    async def _wait(self, seconds: float) -> bool:
        """Sleep for a fault's delay, in short steps so a stopping server is not held up.

        :return: whether the server started stopping meanwhile.
        """
        deadline = time.monotonic() + seconds
        while not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await asyncio.sleep(min(remaining, STOP_POLL_SECONDS))
        return True


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying_receive(body: bytes, receive: Receive) -> Receive:
    """Hand the already-read body to the application once, then pass through (for disconnects)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _recorded_request(state: SandboxState, scope: Scope, body: bytes) -> RecordedRequest:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return RecordedRequest(
        method=scope["method"].upper(),
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
        client_id=_authenticated_client_id(state, scope, headers, body),
    )


def _authenticated_client_id(
    state: SandboxState, scope: Scope, headers: dict[str, str], body: bytes
) -> str | None:
    """Name the client a request authenticates as: by a usable Bearer token, or on the token endpoint."""
    authorization = headers.get("authorization", "")
    if authorization.startswith("Bearer "):
        with state.lock:
            token = state.tokens.find_usable(authorization[len("Bearer ") :].strip(), ACCESS)
        return token.client_id if token else None
    if scope["method"].upper() != "POST" or scope["path"] != TOKEN_PATH:
        return None
    is_form = headers.get("content-type", "").split(";")[0].strip().lower() == FORM_CONTENT_TYPE
    credentials = client_credentials_from(authorization or None, parse_form(body) if is_form else {})
    if credentials is not None and authenticate_client(state, credentials):
        return credentials.client_id
    return None


def _adding_headers(send: Send, headers: list[tuple[str, str]]) -> Send:
    """Wrap ``send`` so the response start carries extra headers, replacing same-named ones."""
    if not headers:
        return send

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = _merge_headers(list(message.get("headers", [])), headers)
        await send(message)

    return send_with_headers


def _merge_headers(
    original: list[tuple[bytes, bytes]], extra: list[tuple[str, str]]
) -> list[tuple[bytes, bytes]]:
    replaced = {name.lower().encode("latin-1") for name, _ in extra}
    merged = [(name, value) for name, value in original if name.lower() not in replaced]
    merged += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in extra]
    return merged


async def _send_fault_answer(fault: Fault, scope: Scope, send: Send) -> None:
    status, body, content_type = fault.response(scope["method"], scope["path"])
    base = [(b"content-type", content_type.encode("latin-1")), (b"content-length", str(len(body)).encode())]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": _merge_headers(base, fault.extra_headers()),
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _drop_connection(send: Send, receive: Receive) -> None:
    """Close the request's TCP connection without answering.

    :param send: uvicorn's own ``send`` (not a wrapper), bound to the request-response cycle.
    :param receive: uvicorn's own ``receive``, used to wait until uvicorn has seen the connection go,
        so it does not try to answer 500 on the application's behalf.
    :raises RuntimeError: when the server does not expose the connection's transport.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise RuntimeError("cannot drop the connection: the ASGI server does not expose its transport")
    transport.abort()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(_until_disconnected(receive), DISCONNECT_WAIT_SECONDS)


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
