"""``POST /oauth/token``: client authentication and the three grants, as the reference OAuth server does them.

The checks run in the reference server's order: content type, client credentials, client lookup,
``grant_type``, then the grant's own parameters. Client credentials come from HTTP Basic
(``base64(client_id:client_secret)``, raw, decoded as UTF-8 and split on the first ``:``) or,
when there is no usable Basic header, from ``client_id`` and ``client_secret`` body fields.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from airflow_provider_bitcapital.sandbox.errors import OAuthError
from airflow_provider_bitcapital.sandbox.tokens import ACCESS, REFRESH, Token

if TYPE_CHECKING:
    from airflow_provider_bitcapital.sandbox.state import SandboxState

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
GRANTS = ("client_credentials", "password", "refresh_token")
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Service"'}

# The same patterns as the `basic-auth` module behind the reference server: JavaScript's `.` does not
# match line breaks, which is why a base64 value ending in an encoded newline yields no credentials.
_BASIC_HEADER = re.compile(r"\A *[Bb][Aa][Ss][Ii][Cc] +([A-Za-z0-9._~+/-]+=*) *\Z")
_USER_PASS = re.compile(r"\A([^:]*):([^\n\r\u2028\u2029]*)\Z")
_PRINTABLE_ASCII = re.compile(r"\A[\x20-\x7e]+\Z")
_GRANT_NAME = re.compile(r"\A[A-Za-z0-9._~-]+\Z")
_SCOPE_NAME = re.compile(r"\A[A-Za-z0-9_.-]+(:[A-Za-z0-9_.*-]+)*\Z")


@dataclass(frozen=True)
class ClientCredentials:
    """A client id and secret as the client sent them."""

    client_id: str
    client_secret: str


def parse_basic_header(header: str | None) -> ClientCredentials | None:
    """Read client credentials from an HTTP Basic ``Authorization`` header.

    :param header: the header value.
    :return: the credentials, or ``None`` when the header is missing or malformed (not Basic, bad
        base64, not UTF-8, no ``:``, or a line break in the secret).
    """
    match = _BASIC_HEADER.match(header or "")
    if not match:
        return None
    try:
        decoded = base64.b64decode(match.group(1), altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    pair = _USER_PASS.match(decoded)
    if not pair:
        return None
    return ClientCredentials(pair.group(1), pair.group(2))


def parse_form(body: bytes) -> dict[str, str]:
    """Parse a form-urlencoded body, keeping blank values and the first of repeated fields."""
    form: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(name, value)
    return form


def client_credentials_from(authorization: str | None, form: dict[str, str]) -> ClientCredentials | None:
    """Find the client credentials of a token request: a usable Basic header first, then the body."""
    credentials = parse_basic_header(authorization)
    if credentials is not None:
        return credentials
    if form.get("client_id") and form.get("client_secret"):
        return ClientCredentials(form["client_id"], form["client_secret"])
    return None


def authenticate_client(state: SandboxState, credentials: ClientCredentials) -> bool:
    """Tell whether credentials name a registered client with the right secret."""
    with state.lock:
        secret = state.clients.get(credentials.client_id)
    if secret is None:
        return False
    return hmac.compare_digest(secret.encode("utf-8"), credentials.client_secret.encode("utf-8"))


def grant_token(
    state: SandboxState, *, content_type: str, authorization: str | None, form: dict[str, str]
) -> dict[str, Any]:
    """Answer a token request.

    :param state: the sandbox state.
    :param content_type: the request's ``Content-Type``.
    :param authorization: the request's ``Authorization`` header, if any.
    :param form: the parsed form body; blank values kept, repeated fields reduced to the first.
    :return: the token response body.
    :raises OAuthError: for every refusal, with the reference server's status and error code.
    """
    if content_type.split(";")[0].strip().lower() != FORM_CONTENT_TYPE:
        raise OAuthError(400, "invalid_request", f"Invalid request: content must be {FORM_CONTENT_TYPE}")
    client_id = _authenticated_client_id(state, authorization, form)

    grant = form.get("grant_type")
    if not grant:
        raise OAuthError(400, "invalid_request", "Missing parameter: `grant_type`")
    if not _GRANT_NAME.match(grant):
        raise OAuthError(400, "invalid_request", "Invalid parameter: `grant_type`")
    if grant not in GRANTS:
        raise OAuthError(400, "unsupported_grant_type", "Unsupported grant type: `grant_type` is invalid")

    with state.lock:
        if grant == "client_credentials":
            return _client_credentials_grant(state, client_id, form)
        if grant == "password":
            return _password_grant(state, client_id, form)
        return _refresh_token_grant(state, client_id, form)


def _authenticated_client_id(state: SandboxState, authorization: str | None, form: dict[str, str]) -> str:
    credentials = client_credentials_from(authorization, form)
    if credentials is None:
        raise OAuthError(400, "invalid_request", "Invalid client: cannot retrieve client credentials")
    allow_any = state.settings.allow_non_ascii_secrets
    for name, value in (("client_id", credentials.client_id), ("client_secret", credentials.client_secret)):
        if not value:
            raise OAuthError(400, "invalid_request", f"Missing parameter: `{name}`")
        if not allow_any and not _PRINTABLE_ASCII.match(value):
            raise OAuthError(400, "invalid_request", f"Invalid parameter: `{name}`")
    if not authenticate_client(state, credentials):
        # The reference server challenges whenever the client tried the Authorization header.
        if authorization:
            raise OAuthError(401, "invalid_client", "Invalid client: client is invalid", BASIC_CHALLENGE)
        raise OAuthError(400, "invalid_client", "Invalid client: client is invalid")
    return credentials.client_id


def _client_credentials_grant(state: SandboxState, client_id: str, form: dict[str, str]) -> dict[str, Any]:
    unexpected = sorted(set(form) - {"grant_type", "client_id", "client_secret"})
    if unexpected:
        names = "`, `".join(unexpected)
        raise OAuthError(
            400,
            "invalid_request",
            f"Invalid request: the client_credentials grant takes only `grant_type`, got `{names}`",
        )
    user_id = state.bank.virtual_users[client_id]
    access = _issue(state, ACCESS, client_id, user_id, (), None, "client_credentials")
    return _token_response(access, None, virtual=True)


def _password_grant(state: SandboxState, client_id: str, form: dict[str, str]) -> dict[str, Any]:
    for name in ("username", "password"):
        if not form.get(name):
            raise OAuthError(400, "invalid_request", f"Missing parameter: `{name}`")
    scope_text = form.get("scope")
    scopes = _parse_scope(scope_text)
    known = state.bank.password_users.get(form["username"])
    if known is None or not hmac.compare_digest(known[0].encode("utf-8"), form["password"].encode("utf-8")):
        raise OAuthError(400, "invalid_grant", "Invalid grant: user credentials are invalid")
    user_id = known[1]
    access = _issue(state, ACCESS, client_id, user_id, scopes, scope_text, "password")
    refresh = _issue(state, REFRESH, client_id, user_id, scopes, scope_text, "password")
    return _token_response(access, refresh, virtual=False)


def _refresh_token_grant(state: SandboxState, client_id: str, form: dict[str, str]) -> dict[str, Any]:
    value = form.get("refresh_token")
    if not value:
        raise OAuthError(400, "invalid_request", "Missing parameter: `refresh_token`")
    old = state.tokens.find(value)
    if old is None or old.kind != REFRESH or old.revoked or old.client_id != client_id:
        raise OAuthError(400, "invalid_grant", "Invalid grant: refresh token is invalid")
    if old.is_expired():
        raise OAuthError(400, "invalid_grant", "Invalid grant: refresh token has expired")
    old.revoked = True
    access = _issue(state, ACCESS, client_id, old.user_id, old.scopes, old.scope_text, "refresh_token")
    refresh = _issue(state, REFRESH, client_id, old.user_id, old.scopes, old.scope_text, "refresh_token")
    return _token_response(access, refresh, virtual=state.bank.users[old.user_id].virtual)


def _parse_scope(scope_text: str | None) -> tuple[str, ...]:
    if scope_text is None:
        return ()
    if scope_text == "":
        # The reference server crashes on an empty scope instead of refusing it.
        raise OAuthError(
            500, "server_error", "Server error: Cannot read properties of undefined (reading 'split')"
        )
    scopes = tuple(part for part in re.split(r"[\s,]+", scope_text) if part)
    if not scopes or not all(_SCOPE_NAME.match(scope) for scope in scopes):
        raise OAuthError(400, "invalid_scope", "Invalid parameter: `scope`")
    return scopes


def _issue(
    state: SandboxState,
    kind: str,
    client_id: str,
    user_id: str,
    scopes: tuple[str, ...],
    scope_text: str | None,
    grant: str,
) -> Token:
    lifetime = state.settings.token_lifetime if kind == ACCESS else state.settings.refresh_token_lifetime
    token = state.tokens.issue(
        kind=kind,
        client_id=client_id,
        user_id=user_id,
        scopes=scopes,
        scope_text=scope_text,
        grant=grant,
        lifetime=lifetime,
    )
    state.issued_tokens.append(token.value)
    return token


def _token_response(access: Token, refresh: Token | None, *, virtual: bool) -> dict[str, Any]:
    """Build the success body; ``expires_in`` is the lifetime rounded down, left out when that is 0."""
    body: dict[str, Any] = {"access_token": access.value, "token_type": "Bearer"}
    expires_in = math.floor(access.lifetime)
    if expires_in > 0:
        body["expires_in"] = expires_in
    if refresh is not None:
        body["refresh_token"] = refresh.value
    if access.scope_text is not None:
        body["scope"] = access.scope_text
    body["user_id"] = access.user_id
    body["virtual"] = virtual
    return body
