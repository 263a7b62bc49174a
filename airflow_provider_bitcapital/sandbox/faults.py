"""Injected faults: what to do instead of, or on top of, the real answer to matching requests.

A fault matches a request by method and path (exact, or an :mod:`fnmatch` glob such as
``/wallets/*``). Faults are tried in the order they were injected, the first match wins, and each
use consumes one of its ``times``. This module only describes faults; :mod:`.middleware` carries
them out on the wire.
"""

from __future__ import annotations

import fnmatch
import http
import json as json_module
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_bitcapital.sandbox.errors import framework_error_body

if TYPE_CHECKING:
    from collections.abc import Mapping

WHEN_CHOICES = ("before", "after")
_FAULT_FIELDS = frozenset(
    {"path", "method", "status", "json", "body", "content_type", "headers", "retry_after", "delay", "drop"}
    | {"when", "times"}
)


@dataclass
class Fault:
    """One injected fault; see :meth:`.SandboxServer.inject` for the meaning of each field."""

    path: str
    method: str | None = None
    status: int | None = None
    json: object | None = None
    body: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: str | None = None
    delay: float = 0.0
    drop: bool = False
    when: str = "before"
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        """Tell whether this fault applies to a request."""
        if self.method is not None and self.method != method.upper():
            return False
        return path == self.path or fnmatch.fnmatchcase(path, self.path)

    @property
    def replaces_response(self) -> bool:
        """Tell whether the fault answers with its own status and body instead of the real ones."""
        return self.status is not None or self.json is not None or self.body is not None

    def extra_headers(self) -> list[tuple[str, str]]:
        """Return the headers to add to the answer, ``Retry-After`` included."""
        headers = list(self.headers.items())
        if self.retry_after is not None:
            headers.append(("Retry-After", self.retry_after))
        return headers

    def response(self, method: str, path: str) -> tuple[int, bytes, str]:
        """Return the status, body and content type of the fault's own answer.

        Without ``json`` or ``body`` the body is the framework's error shape for the status.
        """
        status = self.status if self.status is not None else 200
        if self.body is not None:
            return status, self.body, self.content_type or "text/plain; charset=utf-8"
        content_type = self.content_type or "application/json"
        if self.json is not None:
            return status, json_module.dumps(self.json).encode("utf-8"), content_type
        return status, json_module.dumps(_error_for(status, method, path)).encode("utf-8"), content_type


def new_fault(
    path: str,
    *,
    method: str | None = None,
    status: int | None = None,
    json: object | None = None,
    body: str | bytes | None = None,
    content_type: str | None = None,
    headers: Mapping[str, str] | None = None,
    retry_after: str | int | None = None,
    delay: float = 0.0,
    drop: bool = False,
    when: str = "before",
    times: int = 1,
) -> Fault:
    """Validate the arguments of a fault and build it.

    :raises ValueError: when an argument is out of range or the combination makes no sense.
    """
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"fault path must start with '/', got {path!r}")
    if when not in WHEN_CHOICES:
        raise ValueError(f"fault 'when' must be one of {', '.join(WHEN_CHOICES)}, got {when!r}")
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ValueError(f"fault 'times' must be a positive integer, got {times!r}")
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
        raise ValueError(f"fault 'delay' must be a non-negative number of seconds, got {delay!r}")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
    ):
        raise ValueError(f"fault 'status' must be an HTTP status between 100 and 599, got {status!r}")
    if json is not None and body is not None:
        raise ValueError("give a fault either 'json' or 'body', not both")
    if drop and (status is not None or json is not None or body is not None):
        raise ValueError(
            "a fault that drops the connection sends no answer: 'drop' excludes 'status', 'json' and 'body'"
        )
    fault = Fault(
        path=path,
        method=method.upper() if method else None,
        status=status,
        json=json,
        body=body.encode("utf-8") if isinstance(body, str) else body,
        content_type=content_type,
        headers={str(name): str(value) for name, value in (headers or {}).items()},
        retry_after=str(retry_after) if retry_after is not None else None,
        delay=float(delay),
        drop=bool(drop),
        when=when,
        times=times,
    )
    if not (fault.replaces_response or fault.extra_headers() or fault.delay or fault.drop):
        raise ValueError(
            "a fault needs at least one of status, json, body, headers, retry_after, delay, drop"
        )
    return fault


def fault_from_json(document: object) -> Fault:
    """Build a fault from the JSON body of ``POST /_sandbox/faults`` (the keywords of ``inject``).

    :raises ValueError: for a body that is not an object, an unknown key, or an invalid value.
    """
    if not isinstance(document, dict):
        raise ValueError("the fault must be a JSON object with a 'path' key")
    unknown = sorted(set(document) - _FAULT_FIELDS)
    if unknown:
        raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
    if "path" not in document:
        raise ValueError("the fault needs a 'path'")
    arguments: dict[str, Any] = dict(document)
    return new_fault(arguments.pop("path"), **arguments)


class FaultList:
    """Injected faults waiting to be used, in injection order. Not thread-safe: callers hold a lock."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def __len__(self) -> int:
        return len(self._faults)

    def add(self, fault: Fault) -> None:
        """Append a fault."""
        self._faults.append(fault)

    def clear(self) -> None:
        """Forget every fault."""
        self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching a request.

        :return: the fault, or ``None`` when none matches.
        """
        for fault in self._faults:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None


def _error_for(status: int, method: str, path: str) -> dict[str, Any]:
    if status == 404:
        return framework_error_body(status, f"The resource was not found: {method} {path}")
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return framework_error_body(status, f"{phrase}: {method} {path}")
