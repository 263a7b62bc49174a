"""Validated settings of one Bitcapital connection.

:class:`BitcapitalConfig` is built from the fields of an Airflow connection (or any mapping of the
same names) by :meth:`BitcapitalConfig.from_fields`, which checks every field at once and raises a
single :class:`~airflow_provider_bitcapital.exceptions.BitcapitalConfigError` naming each wrong
field and the values it accepts. Nothing here knows Airflow, and nothing here touches the network.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_bitcapital.exceptions import BitcapitalConfigError

GrantType = Literal["client_credentials", "password"]
ClientAuth = Literal["basic", "body"]
SignRequests = Literal["auto", "always", "never"]
TokenCacheKind = Literal["file", "memory", "none"]

GRANT_TYPES: tuple[str, ...] = ("client_credentials", "password")
CLIENT_AUTH_METHODS: tuple[str, ...] = ("basic", "body")
SIGN_REQUESTS_MODES: tuple[str, ...] = ("auto", "always", "never")
TOKEN_CACHE_KINDS: tuple[str, ...] = ("file", "memory", "none")

DEFAULT_TOKEN_PATH = "/oauth/token"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 5
MAX_RETRIES_LIMIT = 20

EXTRA_FIELDS: tuple[str, ...] = (
    "grant_type",
    "username",
    "user_password",
    "scope",
    "token_url",
    "client_auth",
    "timeout",
    "verify",
    "max_retries",
    "sign_requests",
    "token_cache",
)

_TRUE_WORDS = {"true", "yes", "on", "1"}
_FALSE_WORDS = {"false", "no", "off", "0"}
_LEGACY_EXTRA_PREFIX = "extra__bitcapital__"


@dataclass(frozen=True)
class BitcapitalConfig:
    """Everything the client needs to reach one Bitcapital instance.

    Build it with :meth:`from_fields`; the constructor does no validation of its own.
    Secrets are left out of ``repr()``.
    """

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    grant_type: GrantType = "client_credentials"
    username: str | None = None
    user_password: str | None = field(default=None, repr=False)
    scope: tuple[str, ...] = ()
    token_url: str = ""
    client_auth: ClientAuth = "basic"
    timeout: float = DEFAULT_TIMEOUT
    verify: bool | str = True
    max_retries: int = DEFAULT_MAX_RETRIES
    sign_requests: SignRequests = "auto"
    token_cache: TokenCacheKind = "file"

    @property
    def instance_host(self) -> str:
        """The ``host[:port]`` of the instance, the only host a token is ever sent to."""
        return urlsplit(self.base_url).netloc

    @classmethod
    def from_fields(
        cls,
        *,
        host: str | None,
        login: str | None,
        password: str | None,
        port: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> BitcapitalConfig:
        """Validate connection fields and build the configuration.

        Extras may hold strings (as they arrive from a connection URI) or JSON values; an empty
        string or ``None`` means "not set".

        :param host: the instance base URL; a scheme-less host means ``https``.
        :param login: the OAuth client id.
        :param password: the OAuth client secret.
        :param port: the connection's port, appended to the host when the host has none.
        :param extra: the connection's extra fields.
        :raises BitcapitalConfigError: naming every wrong field and the values it accepts.
        """
        problems: list[tuple[str, str]] = []
        extras = _normalise_extras(extra or {}, problems)

        def check(name: str, parse: Callable[[Any], Any], value: Any, default: Any = None) -> Any:
            if _is_unset(value):
                return default
            try:
                return parse(value)
            except ValueError as error:
                problems.append((name, str(error)))
                return default

        base_url = _parse_base_url(host, port, problems)
        client_id = _required_text("login", login, "the OAuth client id", problems)
        if client_id and ":" in client_id:
            problems.append(("login", "the OAuth client id cannot contain ':'"))
        client_secret = _required_text("password", password, "the OAuth client secret", problems)

        grant_type = check("grant_type", _choice(GRANT_TYPES), extras.get("grant_type"), "client_credentials")
        username = check("username", _text, extras.get("username"))
        user_password = check("user_password", _text, extras.get("user_password"))
        scope = check("scope", _parse_scope, extras.get("scope"), ())
        if grant_type == "password":
            if not username:
                problems.append(("username", "required when grant_type is 'password'"))
            if not user_password:
                problems.append(("user_password", "required when grant_type is 'password'"))
        elif scope:
            problems.append(("scope", "scopes apply only to grant_type 'password'; leave scope empty"))

        token_url = check("token_url", _parse_token_url, extras.get("token_url"), DEFAULT_TOKEN_PATH)
        if base_url and token_url.startswith("/"):
            token_url = base_url + token_url

        settings = dict(
            base_url=base_url or "",
            client_id=client_id or "",
            client_secret=client_secret or "",
            grant_type=grant_type,
            username=username if grant_type == "password" else None,
            user_password=user_password if grant_type == "password" else None,
            scope=scope,
            token_url=token_url,
            client_auth=check(
                "client_auth", _choice(CLIENT_AUTH_METHODS), extras.get("client_auth"), "basic"
            ),
            timeout=check("timeout", _parse_timeout, extras.get("timeout"), DEFAULT_TIMEOUT),
            verify=check("verify", _parse_verify, extras.get("verify"), True),
            max_retries=check(
                "max_retries", _parse_max_retries, extras.get("max_retries"), DEFAULT_MAX_RETRIES
            ),
            sign_requests=check(
                "sign_requests", _choice(SIGN_REQUESTS_MODES), extras.get("sign_requests"), "auto"
            ),
            token_cache=check("token_cache", _choice(TOKEN_CACHE_KINDS), extras.get("token_cache"), "file"),
        )
        if problems:
            raise BitcapitalConfigError(problems)
        return cls(**settings)


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _normalise_extras(extra: Mapping[str, Any], problems: list[tuple[str, str]]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for key, value in extra.items():
        name = key[len(_LEGACY_EXTRA_PREFIX) :] if key.startswith(_LEGACY_EXTRA_PREFIX) else key
        if name not in EXTRA_FIELDS:
            problems.append((f"extra {key!r}", "unknown field; accepted: " + ", ".join(EXTRA_FIELDS)))
            continue
        extras[name] = value
    return extras


def _required_text(name: str, value: str | None, what: str, problems: list[tuple[str, str]]) -> str | None:
    if _is_unset(value):
        problems.append((name, f"required: {what}"))
        return None
    return str(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return value.strip()


def _choice(accepted: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower() if isinstance(value, str) else None
        if text not in accepted:
            raise ValueError(f"got {value!r}; accepted: " + ", ".join(accepted))
        return text

    return parse


def _parse_base_url(host: str | None, port: int | None, problems: list[tuple[str, str]]) -> str | None:
    if _is_unset(host):
        problems.append(("host", "required: the instance URL, for example https://acme.btcore.app"))
        return None
    text = str(host).strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(("host", f"got {host!r}; expected an http(s) URL such as https://acme.btcore.app"))
        return None
    if parts.query or parts.fragment:
        problems.append(("host", f"got {host!r}; the instance URL takes no query string or fragment"))
        return None
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{int(port)}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _parse_scope(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        items = [str(item).strip() for item in value]
    elif isinstance(value, str):
        items = re.split(r"[\s,]+", value)
    else:
        raise ValueError(f"got {value!r}; expected scopes separated by spaces or commas")
    return tuple(item for item in items if item)


def _parse_token_url(value: Any) -> str:
    text = _text(value)
    if text.startswith("/"):
        return text
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.hostname:
        return text
    raise ValueError(f"got {value!r}; expected an absolute http(s) URL or a path starting with '/'")


def _parse_number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"got {value!r}; expected a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"got {value!r}; expected a number") from None
    if not math.isfinite(number):
        raise ValueError(f"got {value!r}; expected a finite number")
    return number


def _parse_timeout(value: Any) -> float:
    number = _parse_number(value)
    if number <= 0:
        raise ValueError(f"got {value!r}; expected a number of seconds greater than 0")
    return number


def _parse_max_retries(value: Any) -> int:
    number = _parse_number(value)
    if number != int(number) or not 0 <= number <= MAX_RETRIES_LIMIT:
        raise ValueError(f"got {value!r}; expected a whole number from 0 to {MAX_RETRIES_LIMIT}")
    return int(number)


def _parse_verify(value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in _TRUE_WORDS:
        return True
    if text.lower() in _FALSE_WORDS:
        return False
    if os.path.exists(text):
        return text
    raise ValueError(f"got {value!r}; accepted: true, false, or the path of an existing CA bundle")
