"""The Bearer check in front of every resource, scopes, and ``POST /oauth/revoke``.

Answers, as on the reference server:

- no ``Authorization`` header: 401 with an empty body and ``WWW-Authenticate: Bearer realm="Service"``;
- a header that is not ``Bearer <token>`` (the word is case-sensitive, so ``bearer`` fails):
  400 ``{"error": "invalid_request", ...}``;
- an unknown, revoked or expired token: 401 ``{"error": "invalid_token", ...}`` (the OAuth shape;
  a real instance may use the framework shape instead);
- a token limited to scopes that do not include the one an endpoint needs: 403 in the framework
  shape, with ``details.error == "insufficient_scope"``. Tokens without scopes, and every client
  credentials token, may call everything.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from airflow_provider_bitcapital.sandbox.errors import OAuthError, SandboxError, UnauthenticatedError
from airflow_provider_bitcapital.sandbox.tokens import ACCESS, Token

if TYPE_CHECKING:
    from airflow_provider_bitcapital.sandbox.state import SandboxState

_BEARER_HEADER = re.compile(r"\ABearer\s(\S+)\Z")


def access_token_value(authorization: str | None) -> str:
    """Extract the token from a Bearer ``Authorization`` header.

    :raises UnauthenticatedError: when there is no header.
    :raises OAuthError: 400 ``invalid_request`` when the header is malformed.
    """
    if not authorization:
        raise UnauthenticatedError()
    match = _BEARER_HEADER.match(authorization.strip())
    if not match:
        raise OAuthError(400, "invalid_request", "Invalid request: malformed authorization header")
    return match.group(1)


def authenticate_bearer(state: SandboxState, authorization: str | None) -> Token:
    """Find the usable access token a request carries.

    :raises UnauthenticatedError: when there is no header.
    :raises OAuthError: 400 for a malformed header, 401 ``invalid_token`` for an unknown, revoked
        or expired token.
    """
    value = access_token_value(authorization)
    with state.lock:
        token = state.tokens.find(value)
        if token is None or token.kind != ACCESS or token.revoked:
            raise OAuthError(401, "invalid_token", "Invalid token: access token is invalid")
        if token.is_expired():
            raise OAuthError(401, "invalid_token", "Invalid token: access token has expired")
        return token


def require_scope(token: Token, scope: str | None, method: str, path: str) -> None:
    """Refuse a token limited to scopes that do not include ``scope``.

    :raises SandboxError: 403 ``insufficient_scope`` in the framework shape.
    """
    if scope is None or not token.scopes or scope in token.scopes:
        return
    raise SandboxError(
        403,
        f"Insufficient scope: {method} {path} requires the {scope} scope",
        {"error": "insufficient_scope", "required": [scope], "granted": list(token.scopes)},
    )


def revoke(state: SandboxState, token: Token, target: str | None, method: str, path: str) -> int:
    """Revoke one token of the caller's user, or all of that user's tokens.

    :param token: the access token that authenticated the revoke request.
    :param target: the ``accessToken`` parameter, if sent.
    :return: how many tokens were revoked, at least 1.
    :raises SandboxError: 404 when there is nothing to revoke.
    """
    with state.lock:
        if target:
            count = state.tokens.revoke_token(target, token.user_id)
        else:
            count = state.tokens.revoke_user_tokens(token.user_id)
    if count == 0:
        raise SandboxError(404, f"The resource was not found: {method} {path} (no such token to revoke)")
    return count
