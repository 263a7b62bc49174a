"""The Bitcapital hook: a validated connection, cached tokens and authenticated calls."""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_bitcapital.config import BitcapitalConfig
from airflow_provider_bitcapital.connection_form import FORM_FIELDS, HIDDEN_FIELDS, RELABELING, placeholders
from airflow_provider_bitcapital.exceptions import BitcapitalConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import requests
    from airflow.sdk import Connection

    from airflow_provider_bitcapital.auth.cache import FileTokenCache
    from airflow_provider_bitcapital.auth.provider import TokenProvider
    from airflow_provider_bitcapital.auth.token import Token
    from airflow_provider_bitcapital.client.http import BitcapitalClient

TOKEN_CACHE_FOLDER = "bitcapital-tokens"


class BitcapitalHook(BaseHook):
    """Call a Bitcapital Core instance with OAuth 2.0 tokens that are fetched once and shared.

    The connection is read when first needed, not at construction, and every field is checked
    then, before any request. Tokens are shared by all hooks of the process with the same
    credentials and, with ``token_cache=file`` (the default), by the processes of the host.

    .. code-block:: python

        hook = BitcapitalHook()
        for wallet in hook.paginate("/wallets"):
            ...

    :param bitcapital_conn_id: the id of a connection of type ``bitcapital``.
    """

    conn_name_attr = "bitcapital_conn_id"
    default_conn_name = "bitcapital_default"
    conn_type = "bitcapital"
    hook_name = "Bitcapital"

    def __init__(self, bitcapital_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bitcapital_conn_id = bitcapital_conn_id
        self._pid = os.getpid()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bitcapital_conn_id={self.bitcapital_conn_id!r})"

    @classmethod
    def for_connection(cls, connection: Connection) -> BitcapitalHook:
        """Return a hook for a connection already fetched, as a trigger does with ``aget_connection``.

        :raises BitcapitalConfigError: naming every wrong field and what it accepts.
        """
        hook = cls(bitcapital_conn_id=connection.conn_id)
        hook.__dict__["config"] = hook._config_of(connection)
        return hook

    @cached_property
    def config(self) -> BitcapitalConfig:
        """The connection's validated settings; the secrets are masked in logs from here on.

        :raises BitcapitalConfigError: naming every wrong field and what it accepts.
        """
        return self._config_of(self.get_connection(self.bitcapital_conn_id))

    def _config_of(self, connection: Connection) -> BitcapitalConfig:
        if connection.conn_type and connection.conn_type != self.conn_type:
            self.log.warning(
                "Connection %s has type %r; it is read as a %r connection",
                self.bitcapital_conn_id,
                connection.conn_type,
                self.conn_type,
            )
        config = BitcapitalConfig.from_fields(
            host=connection.host,
            login=connection.login,
            password=connection.password,
            port=connection.port,
            extra=_extra_of(connection.extra),
        )
        _mask(config.client_secret)
        if config.user_password:
            _mask(config.user_password)
        return config

    @property
    def client(self) -> BitcapitalClient:
        """The HTTP client; rebuilt in a forked child, whose parent's sockets it must not share."""
        if self._pid != os.getpid():
            self.__dict__.pop("_client", None)
            self._pid = os.getpid()
        return self._client

    @cached_property
    def _client(self) -> BitcapitalClient:
        from airflow_provider_bitcapital.auth.provider import TokenProvider
        from airflow_provider_bitcapital.client.http import BitcapitalClient, new_session

        config = self.config
        session = new_session(config)
        tokens = TokenProvider(config, session, file_cache=self._file_cache(config), on_new_token=_mask)
        return BitcapitalClient(config, tokens, session)

    @property
    def tokens(self) -> TokenProvider:
        """The token provider of this hook's connection."""
        return self.client.tokens

    def run(
        self,
        endpoint: str,
        method: str = "GET",
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        sign: bool | None = None,
    ) -> requests.Response:
        """Send one authenticated request and return the ``requests.Response``.

        :param endpoint: the path below the instance URL, such as ``/wallets``.
        :param method: the HTTP method.
        :param params: query parameters.
        :param json: a JSON-serializable body, serialized compactly with keys in order.
        :param headers: extra headers.
        :param sign: force signing on (``True``) or off (``False``) for this call.
        :raises BitcapitalApiError: for a non-2xx answer; carries status, stackId, method, path.
        """
        return self.client.request(method, endpoint, params=params, json=json, headers=headers, sign=sign)

    def get(self, endpoint: str, **kwargs: Any) -> Any:
        """``GET`` ``endpoint`` and return the decoded JSON; takes :meth:`run`'s keywords."""
        return self.client.get_json(endpoint, method="GET", **kwargs)

    def post(self, endpoint: str, json: Any = None, **kwargs: Any) -> Any:
        """``POST`` ``json`` to ``endpoint`` and return the decoded JSON; takes :meth:`run`'s keywords.

        A POST is never retried once it may have reached the server: Bitcapital has no idempotency
        keys, so a repeated ``POST /payments`` would be a second payment.
        """
        return self.client.get_json(endpoint, method="POST", json=json, **kwargs)

    def delete(self, endpoint: str, **kwargs: Any) -> Any:
        """``DELETE`` ``endpoint`` and return the decoded JSON; takes :meth:`run`'s keywords."""
        return self.client.get_json(endpoint, method="DELETE", **kwargs)

    def paginate(
        self,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        page_size: int = 100,
        max_items: int | None = None,
        concurrency: int = 1,
    ) -> Iterator[Any]:
        """Iterate lazily over every item of a ``skip``/``limit`` list, in order.

        :param endpoint: the list's path, such as ``/wallets``.
        :param params: other query parameters.
        :param page_size: items per page, 1 to 1000.
        :param max_items: stop after this many items.
        :param concurrency: with more than 1, the pages after the first are fetched that many at a
            time; memory stays bounded by that many pages.
        :raises BitcapitalConfigError: for a wrong argument, before any request.
        """
        return self.client.paginate(
            endpoint, params=params, page_size=page_size, max_items=max_items, concurrency=concurrency
        )

    def get_token(self) -> Token:
        """Return the current :class:`~airflow_provider_bitcapital.auth.token.Token`, fetched if needed."""
        return self.tokens.get_token()

    def get_access_token(self) -> str:
        """Return the current access token string."""
        return self.get_token().access_token

    def revoke_token(self) -> bool:
        """Revoke the current token at the server and drop it from every cache.

        :return: ``True`` if the server revoked a token, ``False`` if there was nothing to revoke.
        """
        return self.tokens.revoke()

    def get_conn(self) -> requests.Session:
        """Return a ``requests.Session`` whose ``auth`` attaches valid tokens and renews them on 401.

        It is this hook's keep-alive session; prefer :meth:`run`, which also retries and signs.
        """
        from airflow_provider_bitcapital.client.http import TokenAuth

        session = self.client.session
        if not isinstance(session.auth, TokenAuth):
            session.auth = TokenAuth(self.tokens)
        return session

    def test_connection(self) -> tuple[bool, str]:
        """Get a token and make one cheap authenticated read; never raises.

        The message is one paragraph, as the UI shows it: wrong fields are named by their form
        labels, and the provider's own errors, written for people, drop their class name.

        :return: ``(True, what was found)`` or ``(False, why it failed)``.
        """
        from airflow_provider_bitcapital.connection_form import describe_problems
        from airflow_provider_bitcapital.exceptions import BitcapitalApiError, BitcapitalError

        try:
            token = self.get_token()
            status = self.client.get_json("/status") or {}
            try:
                me = self.get("/users/me") or {}
                who = f"user {me.get('name') or me.get('email') or token.user_id}"
            except BitcapitalApiError as error:
                if not (token.virtual and error.status_code == 404):
                    raise
                wallets = self.run("/wallets", params={"limit": 1})
                who = f"wallets visible: {wallets.headers.get('X-Data-Length', 'unknown')}"
            kind = "virtual (client credentials) user" if token.virtual else "user"
            return True, (
                f"Connected to {self.config.base_url} ({status.get('name', 'Bitcapital')} "
                f"{status.get('version', '')}".rstrip()
                + f"): token valid {token.lifetime:.0f} s for a {kind}; {who}"
            )
        except BitcapitalConfigError as error:
            return False, describe_problems(error.problems)
        except BitcapitalError as error:
            return False, str(error)
        except Exception as error:
            return False, f"{type(error).__name__}: {error}"

    def _file_cache(self, config: BitcapitalConfig) -> FileTokenCache | None:
        if config.token_cache != "file":
            return None
        from airflow_provider_bitcapital.auth.cache import FileTokenCache

        try:
            return FileTokenCache(token_cache_directory(), fernet_key=_fernet_key())
        except ValueError:
            self.log.warning(
                "Airflow's [core] fernet_key is not a valid Fernet key, so tokens are not written to "
                "disk unencrypted: the token cache stays in this process's memory"
            )
            return None

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Return the custom form fields for Airflow 3.1 (3.2+ reads them from the provider info).

        Built from the same declarations as the provider info, with the field classes Airflow 3.1
        accepts: ``StringField``, ``IntegerField`` and ``PasswordField``.
        """
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import IntegerField, PasswordField, StringField
        from wtforms.validators import Optional, any_of

        widgets: dict[str, Any] = {}
        for form_field in FORM_FIELDS:
            validators: list[Any] = [Optional()]
            if form_field.choices:
                validators.append(any_of(list(form_field.choices)))
            if form_field.kind == "password":
                field_class, widget = PasswordField, BS3PasswordFieldWidget()
            elif form_field.kind == "integer":
                field_class, widget = IntegerField, BS3TextFieldWidget()
            else:
                field_class, widget = StringField, BS3TextFieldWidget()
            default = form_field.default
            if form_field.kind == "number" and default is not None:
                default = str(default)
            widgets[form_field.name] = field_class(
                lazy_gettext(form_field.label),
                validators=validators,
                description=form_field.description,
                default=default,
                widget=widget,
            )
        return widgets

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Return relabelled, hidden and placeholder fields for Airflow 3.1 (snake-case keys)."""
        return {
            "hidden_fields": list(HIDDEN_FIELDS),
            "relabeling": dict(RELABELING),
            "placeholders": placeholders(),
        }


def token_cache_directory() -> Path:
    """Return the folder of the shared token cache files, under the Airflow home."""
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return Path(home) / TOKEN_CACHE_FOLDER


def _extra_of(extra: str | None) -> Mapping[str, Any]:
    if not extra:
        return {}
    try:
        value = json.loads(extra)
    except ValueError:
        raise BitcapitalConfigError(
            [("extra", "not valid JSON; expected a JSON object of extra fields")]
        ) from None
    if not isinstance(value, dict):
        raise BitcapitalConfigError([("extra", f"expected a JSON object, got {type(value).__name__}")])
    return value


def _fernet_key() -> str | None:
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow 3.1 reads its configuration from the core package
        from airflow.configuration import conf
    try:
        return conf.get("core", "fernet_key", fallback="") or None
    except Exception:
        return None


def _mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)
