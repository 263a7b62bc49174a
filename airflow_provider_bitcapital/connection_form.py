"""The ``bitcapital`` connection form, declared once.

Airflow 3.2 and newer read the form from the provider info (:func:`provider_conn_fields`,
:func:`provider_ui_field_behaviour`); Airflow 3.1 imports the hook and calls its
``get_connection_form_widgets`` and ``get_ui_field_behaviour``, which are built from the same
:data:`FORM_FIELDS` here. Importing this module imports nothing from Airflow or wtforms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_bitcapital.config import (
    CLIENT_AUTH_METHODS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    GRANT_TYPES,
    SIGN_REQUESTS_MODES,
    TOKEN_CACHE_KINDS,
)


@dataclass(frozen=True)
class FormField:
    """One custom field of the connection form, stored in the connection's extra under ``name``."""

    name: str
    label: str
    description: str
    placeholder: str
    kind: str = "text"  # "text", "password", "integer" or "number"
    choices: tuple[str, ...] = ()
    default: Any = None


FORM_FIELDS: tuple[FormField, ...] = (
    FormField(
        "grant_type",
        "Grant type",
        "client_credentials (the client acts as itself) or password (acts as one Bitcapital user).",
        "client_credentials",
        choices=GRANT_TYPES,
        default="client_credentials",
    ),
    FormField(
        "username", "Username", "The Bitcapital user, for the password grant only.", "user@example.com"
    ),
    FormField(
        "user_password",
        "User password",
        "The Bitcapital user's password, for the password grant only.",
        "user password",
        kind="password",
    ),
    FormField(
        "scope",
        "Scope",
        "Scopes for the password grant, separated by spaces or commas.",
        "wallets:read payments:write",
    ),
    FormField(
        "token_url",
        "Token URL",
        "The token endpoint: an absolute URL or a path under the instance URL.",
        "/oauth/token",
        default="/oauth/token",
    ),
    FormField(
        "client_auth",
        "Client authentication",
        "basic sends the client id and secret as HTTP Basic; body sends them as form fields.",
        "basic",
        choices=CLIENT_AUTH_METHODS,
        default="basic",
    ),
    FormField(
        "timeout",
        "Timeout (seconds)",
        "Seconds to wait for each request.",
        "30",
        kind="number",
        default=DEFAULT_TIMEOUT,
    ),
    FormField(
        "verify",
        "Verify TLS",
        "true, false, or the path of a CA bundle to verify the instance's certificate with.",
        "true",
        default="true",
    ),
    FormField(
        "max_retries",
        "Max retries",
        "Attempts after the first for failures that are safe to retry.",
        "5",
        kind="integer",
        default=DEFAULT_MAX_RETRIES,
    ),
    FormField(
        "sign_requests",
        "Sign requests",
        "auto signs the money-moving endpoints, always signs every request, never signs none.",
        "auto",
        choices=SIGN_REQUESTS_MODES,
        default="auto",
    ),
    FormField(
        "token_cache",
        "Token cache",
        "file shares tokens between the processes of a host, memory within one process, "
        "none keeps each hook's token to itself.",
        "file",
        choices=TOKEN_CACHE_KINDS,
        default="file",
    ),
)

HIDDEN_FIELDS: tuple[str, ...] = ("port", "schema", "extra")
RELABELING: dict[str, str] = {"host": "Instance URL", "login": "Client ID", "password": "Client Secret"}
STANDARD_PLACEHOLDERS: dict[str, str] = {
    "host": "https://acme.btcore.app",
    "login": "OAuth client id",
    "password": "OAuth client secret",
}

_SCHEMA_TYPES = {"text": "string", "password": "string", "integer": "integer", "number": "number"}


def provider_conn_fields() -> dict[str, dict[str, Any]]:
    """Return the form's custom fields in the provider-info ``conn-fields`` format."""
    fields: dict[str, dict[str, Any]] = {}
    for form_field in FORM_FIELDS:
        schema: dict[str, Any] = {"type": [_SCHEMA_TYPES[form_field.kind], "null"]}
        if form_field.kind == "password":
            schema["format"] = "password"
        if form_field.choices:
            schema["enum"] = [*form_field.choices, None]
        if form_field.default is not None:
            schema["default"] = form_field.default
        fields[form_field.name] = {
            "label": form_field.label,
            "description": form_field.description,
            "schema": schema,
        }
    return fields


def placeholders() -> dict[str, str]:
    """Return a placeholder for every visible field, standard and custom."""
    return {**STANDARD_PLACEHOLDERS, **{field.name: field.placeholder for field in FORM_FIELDS}}


def provider_ui_field_behaviour() -> dict[str, Any]:
    """Return the ``ui-field-behaviour`` entry of the provider info (kebab-case keys)."""
    return {
        "hidden-fields": list(HIDDEN_FIELDS),
        "relabeling": dict(RELABELING),
        "placeholders": placeholders(),
    }
