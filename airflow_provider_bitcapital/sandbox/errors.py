"""Error answers in the two shapes a Bitcapital instance uses.

Resource endpoints answer errors in the server framework's shape::

    {"status": 404, "message": "[404] The resource was not found: GET /x (stackId: 9c4e…)",
     "stackId": "9c4e…", "details": {}}

The token endpoint answers in the OAuth shape, ``{"error": "invalid_client", "error_description": …}``,
and so does the Bearer check in front of the resources (``invalid_request``, ``invalid_token``).
"""

from __future__ import annotations

import secrets
from typing import Any


def new_stack_id() -> str:
    """Return a fresh ``stackId``: the id Bitcapital support asks for, 12 hex characters."""
    return secrets.token_hex(6)


def framework_error_body(status: int, text: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build an error body in the server framework's shape.

    :param status: the HTTP status, repeated in the body.
    :param text: what went wrong, without the status prefix or the stack id.
    :param details: extra machine-readable facts.
    :return: the JSON-ready body.
    """
    stack_id = new_stack_id()
    return {
        "status": status,
        "message": f"[{status}] {text} (stackId: {stack_id})",
        "stackId": stack_id,
        "details": dict(details or {}),
    }


class SandboxError(Exception):
    """An error answered in the framework's shape.

    :param status: the HTTP status.
    :param text: what went wrong, for the ``message`` field.
    :param details: extra machine-readable facts for the ``details`` field.
    """

    def __init__(self, status: int, text: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.details = dict(details or {})

    def body(self) -> dict[str, Any]:
        """Return the JSON body, with a fresh stack id."""
        return framework_error_body(self.status, self.text, self.details)


class OAuthError(Exception):
    """An error answered in the OAuth shape.

    :param status: the HTTP status.
    :param error: the OAuth error code, such as ``invalid_grant``.
    :param description: the ``error_description``.
    :param headers: extra response headers, such as a ``WWW-Authenticate`` challenge.
    """

    def __init__(
        self, status: int, error: str, description: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.headers = dict(headers or {})

    def body(self) -> dict[str, str]:
        """Return the JSON body."""
        return {"error": self.error, "error_description": self.description}


class UnauthenticatedError(Exception):
    """A resource request that carried no credentials at all: 401 with an empty body."""


def not_found(method: str, path: str) -> SandboxError:
    """Build the framework's answer for an unknown route.

    :param method: the request method.
    :param path: the request path.
    """
    return SandboxError(404, f"The resource was not found: {method} {path}")


def bad_request(text: str, **details: Any) -> SandboxError:
    """Build the framework's answer for an invalid request.

    :param text: what is wrong and how to fix it.
    :param details: facts for the ``details`` field.
    """
    return SandboxError(400, text, details)
