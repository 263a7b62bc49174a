"""Wrong connection values and call arguments: a clear error naming the field, and no request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_bitcapital.exceptions import BitcapitalConfigError
from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
from tests.conftest import ConnectionFactory

BAD_CONNECTIONS: list[tuple[dict[str, Any], str]] = [
    ({"host": ""}, "host"),
    ({"host": "ftp://files.example"}, "host"),
    ({"login": ""}, "login"),
    ({"login": "id:with-colon"}, "login"),
    ({"password": ""}, "password"),
    ({"grant_type": "authorization_code"}, "grant_type"),
    ({"grant_type": "password"}, "username"),
    ({"scope": "wallets:read"}, "scope"),
    ({"token_url": "token"}, "token_url"),
    ({"client_auth": "jwt"}, "client_auth"),
    ({"timeout": "-3"}, "timeout"),
    ({"verify": "/missing/ca.pem"}, "verify"),
    ({"max_retries": "many"}, "max_retries"),
    ({"sign_requests": "yes"}, "sign_requests"),
    ({"token_cache": "redis"}, "token_cache"),
    ({"retries": "3"}, "extra 'retries'"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_CONNECTIONS)
def test_bad_connection_value(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, fields: dict[str, Any], field: str
) -> None:
    hook = BitcapitalHook(sandbox_connection(**fields))
    with pytest.raises(BitcapitalConfigError) as caught:
        hook.get("/wallets")
    assert field in caught.value.fields
    assert field in str(caught.value)
    assert bitcapital_sandbox.count() == 0


@pytest.mark.parametrize(
    ("extra", "words"), [("{nope", "not valid JSON"), ("[1, 2]", "expected a JSON object")]
)
def test_extra_that_is_not_a_json_object(bitcapital_sandbox: Any, extra: str, words: str) -> None:
    from airflow.sdk import Connection

    connection = Connection(
        conn_id="broken_extra", conn_type="bitcapital", host="http://x", login="a", password="b", extra=extra
    )
    with pytest.raises(BitcapitalConfigError, match=words) as caught:
        BitcapitalHook.for_connection(connection)
    assert caught.value.fields == ("extra",)
    assert bitcapital_sandbox.count() == 0


BAD_CALLS: list[tuple[Callable[[BitcapitalHook], Any], str]] = [
    (lambda hook: hook.run("/wallets", method="FETCH"), "method"),
    (lambda hook: hook.run(""), "endpoint"),
    (lambda hook: hook.run("/wallets?limit=5"), "endpoint"),
    (lambda hook: hook.run("https://evil.example/wallets"), "endpoint"),
    (lambda hook: hook.paginate("/wallets", page_size=0), "page_size"),
    (lambda hook: hook.paginate("/wallets", max_items=-5), "max_items"),
    (lambda hook: hook.paginate("/wallets", concurrency=0), "concurrency"),
    (lambda hook: hook.paginate("/wallets", params={"limit": 10}), "params"),
]


@pytest.mark.parametrize(("call", "field"), BAD_CALLS)
def test_bad_call_argument(
    bitcapital_sandbox: Any,
    sandbox_connection: ConnectionFactory,
    call: Callable[[BitcapitalHook], Any],
    field: str,
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    with pytest.raises(BitcapitalConfigError) as caught:
        call(hook)
    assert caught.value.fields == (field,)
    assert bitcapital_sandbox.count() == 0
