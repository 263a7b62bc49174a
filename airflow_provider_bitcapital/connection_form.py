"""The ``bitcapital`` connection form, declared once.

Airflow 3.2 and newer read the form from the provider info (:func:`provider_conn_fields`,
:func:`provider_ui_field_behaviour`); Airflow 3.1 imports the hook and calls its
``get_connection_form_widgets`` and ``get_ui_field_behaviour``, which are built from the same
:data:`FORM_FIELDS` here. Importing this module imports nothing from Airflow or wtforms.

Known limitation: Airflow's web UI shows placeholders only for the standard fields (Instance URL,
Client ID, Client Secret), never for the custom ones, so each custom field's description names
its example value or its default as well.

Known limitation: Airflow hides the value of every extra whose name contains a sensitive word,
and ``token`` is one, so ``token_url`` and ``token_cache`` show as ``***`` when a saved connection
is edited (Airflow keeps the stored value when ``***`` is saved back). For the same reason these
two fields start empty in a new connection rather than with their default: a default would be
shown, and saved, as ``***``. Empty means the default, as for every extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_bitcapital.config import (
    CLIENT_AUTH_METHODS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    GRANT_TYPES,
    MAX_RETRIES_LIMIT,
    SIGN_REQUESTS_MODES,
    TOKEN_CACHE_KINDS,
)

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class FormField:
    """One custom field of the connection form, stored in the connection's extra under ``name``.

    :param name: the key in the connection's extra.
    :param label: the field's label in the form.
    :param description: the help text under the field; it names the example or default, because
        the UI does not show placeholders of custom fields.
    :param placeholder: an example value (or, for a secret, a hint), where the UI shows placeholders.
    :param kind: ``text``, ``password`` (masked), ``integer`` or ``number``.
    :param choices: the accepted values, shown as a dropdown.
    :param default: the value a new connection's form starts with; ``None`` starts it empty.
    """

    name: str
    label: str
    description: str
    placeholder: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    default: Any = None


FORM_FIELDS: tuple[FormField, ...] = (
    FormField(
        "grant_type",
        "Grant Type",
        "client_credentials: the client acts as itself; password: it acts as the Bitcapital user below.",
        "client_credentials",
        choices=GRANT_TYPES,
        default="client_credentials",
    ),
    FormField(
        "username",
        "Username",
        "The Bitcapital user, such as user@example.com; for the password grant only.",
        "user@example.com",
    ),
    FormField(
        "user_password",
        "User Password",
        "That user's password; for the password grant only.",
        "user password",
        kind="password",
    ),
    FormField(
        "scope",
        "Scope",
        "Scopes for the password grant, separated by spaces or commas, such as wallets:read payments:write.",
        "wallets:read payments:write",
    ),
    FormField(
        "token_url",
        "Token URL",
        "The token endpoint: an absolute URL or a path under the instance URL; empty means /oauth/token.",
        "/oauth/token",
    ),
    FormField(
        "client_auth",
        "Client Authentication",
        "basic: the client id and secret go in an HTTP Basic header; body: they go in the form fields.",
        "basic",
        choices=CLIENT_AUTH_METHODS,
        default="basic",
    ),
    FormField(
        "timeout",
        "Timeout (seconds)",
        f"Seconds to wait for each request; empty means {DEFAULT_TIMEOUT:g}.",
        f"{DEFAULT_TIMEOUT:g}",
        kind="number",
        default=DEFAULT_TIMEOUT,
    ),
    FormField(
        "verify",
        "Verify TLS",
        "true, false, or the path of a CA bundle to check the instance's certificate with; empty means true.",
        "true",
        default="true",
    ),
    FormField(
        "max_retries",
        "Max Retries",
        f"Attempts after the first for failures that are safe to retry, 0 to {MAX_RETRIES_LIMIT}; "
        f"empty means {DEFAULT_MAX_RETRIES}.",
        str(DEFAULT_MAX_RETRIES),
        kind="integer",
        default=DEFAULT_MAX_RETRIES,
    ),
    FormField(
        "sign_requests",
        "Sign Requests",
        "auto: sign the money-moving endpoints; always: sign every request; never: sign no request.",
        "auto",
        choices=SIGN_REQUESTS_MODES,
        default="auto",
    ),
    FormField(
        "token_cache",
        "Token Cache",
        "file: share tokens between the processes of a host; memory: within one process; "
        "none: each hook keeps its own. Empty means file.",
        "file",
        choices=TOKEN_CACHE_KINDS,
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
            # The UI lists the empty choice as "null" unless told what it means.
            schema["values_display"] = {"null": f"default ({_default_choice(form_field)})"}
        if form_field.default is not None:
            schema["default"] = form_field.default
        fields[form_field.name] = {
            "label": form_field.label,
            "description": form_field.description,
            "schema": schema,
        }
    return fields


def _default_choice(form_field: FormField) -> str:
    # An empty dropdown means the configuration's default, which the placeholder names.
    return str(form_field.default if form_field.default is not None else form_field.placeholder)


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


def field_label(name: str) -> str:
    """Return the label the form shows for a connection field, or the name itself if it has none."""
    labels = {**RELABELING, **{form_field.name: form_field.label for form_field in FORM_FIELDS}}
    return labels.get(name, name)


def describe_problems(problems: Sequence[tuple[str, str]]) -> str:
    """Describe wrong connection fields in one line, each named as the form labels it.

    The UI shows a test result as one paragraph, so the problems are sentences rather than lines.

    :param problems: ``(field, explanation)`` pairs, as a ``BitcapitalConfigError`` holds them.
    """
    sentences = []
    for name, explanation in problems:
        label = field_label(name)
        field = f"{label} ({name})" if label != name else name
        sentences.append(f"{field}: {explanation.rstrip('.')}.")
    return "Invalid connection settings. " + " ".join(sentences)
