"""The hook against the real sandbox server, over HTTP."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest
import requests

from airflow_provider_bitcapital.exceptions import (
    BitcapitalApiError,
    BitcapitalAuthError,
    BitcapitalConfigError,
)
from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
from tests.conftest import ConnectionFactory


def basic_credentials(server: Any) -> tuple[str, str]:
    header = server.request_log[-1].headers["authorization"] if server.request_log else ""
    _scheme, _, encoded = header.partition(" ")
    decoded = base64.b64decode(encoded).decode("utf-8")
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def test_connection_is_read_lazily(bitcapital_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = BitcapitalHook(bitcapital_conn_id="defined_later")
    monkeypatch.setenv("AIRFLOW_CONN_DEFINED_LATER", bitcapital_sandbox.connection_json(token_cache="memory"))
    assert hook.get("/status")["name"]
    assert bitcapital_sandbox.token_requests == 1


@pytest.mark.parametrize("secret", ["plain-secret", "c0l:on/slash+plus=eq%pct", "ação-segredo-ü"])
def test_basic_auth_sends_the_raw_secret(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, secret: str
) -> None:
    bitcapital_sandbox.add_client("tricky-client", secret)
    hook = BitcapitalHook(sandbox_connection(login="tricky-client", password=secret))
    token = hook.get_token()
    token_request = [r for r in bitcapital_sandbox.request_log if r.path == "/oauth/token"][-1]
    scheme, _, encoded = token_request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded) == f"tricky-client:{secret}".encode()
    assert token_request.body == b"grant_type=client_credentials"
    assert token.virtual is True
    assert token.lifetime > 3000


def test_client_auth_body_sends_form_fields(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection(client_auth="body"))
    hook.get_token()
    token_request = [r for r in bitcapital_sandbox.request_log if r.path == "/oauth/token"][-1]
    assert "authorization" not in token_request.headers
    assert (
        token_request.body
        == b"grant_type=client_credentials&client_id=sandbox-client&client_secret=sandbox-secret"
    )


def test_wrong_secret_is_an_auth_error_with_advice(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection(password="not-the-secret"))
    with pytest.raises(BitcapitalAuthError) as caught:
        hook.get("/wallets")
    error = caught.value
    assert (error.status_code, error.error) == (401, "invalid_client")
    assert "client secret" in str(error)
    assert "not-the-secret" not in str(error)
    assert bitcapital_sandbox.token_requests == 1
    assert bitcapital_sandbox.count("GET", "/wallets") == 0


def test_bad_connection_fails_before_any_request(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection(timeout="fast", sign_requests="maybe"))
    with pytest.raises(BitcapitalConfigError) as caught:
        hook.get("/wallets")
    assert set(caught.value.fields) == {"timeout", "sign_requests"}
    assert bitcapital_sandbox.count() == 0


def test_fifty_sequential_calls_use_one_token(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    conn_id = sandbox_connection()
    for _ in range(50):
        BitcapitalHook(conn_id).get("/users/me")
    assert bitcapital_sandbox.count("GET", "/users/me") == 50
    assert bitcapital_sandbox.token_requests == 1


def test_sixteen_threads_starting_together_share_one_token(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    conn_id = sandbox_connection()
    barrier = threading.Barrier(16)
    failures: list[BaseException] = []

    def call() -> None:
        try:
            hook = BitcapitalHook(conn_id)
            barrier.wait()
            hook.get("/wallets", params={"limit": 1})
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert bitcapital_sandbox.count("GET", "/wallets") == 16
    assert bitcapital_sandbox.token_requests == 1


def test_a_different_secret_gets_its_own_token(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    bitcapital_sandbox.add_client("second-client", "second-secret")
    BitcapitalHook(sandbox_connection("first")).get_token()
    BitcapitalHook(sandbox_connection("second", login="second-client", password="second-secret")).get_token()
    BitcapitalHook(sandbox_connection("first_again")).get_token()
    assert bitcapital_sandbox.token_requests == 2


def test_token_cache_none_keeps_tokens_per_hook(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    conn_id = sandbox_connection(token_cache="none")
    first, second = BitcapitalHook(conn_id), BitcapitalHook(conn_id)
    for _ in range(3):
        first.get("/users/me")
        second.get("/users/me")
    assert bitcapital_sandbox.token_requests == 2


def test_revoked_token_is_replaced_and_the_request_replayed_once(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    first = hook.get_access_token()
    bitcapital_sandbox.revoke_all_tokens()
    bitcapital_sandbox.reset_counters()
    me = hook.get("/users/me")
    assert me["id"]
    assert bitcapital_sandbox.count("GET", "/users/me") == 2
    assert bitcapital_sandbox.token_requests == 1
    assert hook.get_access_token() != first


def test_persistent_401_is_an_api_error_after_one_replay(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/users/me", status=401, json={"error": "invalid_token"}, times=5)
    with pytest.raises(BitcapitalApiError) as caught:
        hook.get("/users/me")
    assert caught.value.status_code == 401
    assert "client id" in str(caught.value)
    assert bitcapital_sandbox.count("GET", "/users/me") == 2
    assert bitcapital_sandbox.token_requests == 2


def test_framework_error_shape(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection())
    with pytest.raises(BitcapitalApiError) as caught:
        hook.get("/wallets/00000000-0000-4000-8000-000000000000")
    error = caught.value
    assert (error.status_code, error.method, error.path) == (
        404,
        "GET",
        "/wallets/00000000-0000-4000-8000-000000000000",
    )
    assert error.stack_id
    assert error.stack_id in str(error)
    assert "GET /wallets/00000000-0000-4000-8000-000000000000" in str(error)
    assert "HTTP 404" in str(error)


def test_oauth_error_shape_on_the_api(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject(
        "/wallets",
        status=403,
        json={"error": "insufficient_scope", "error_description": "needs wallets:read"},
    )
    with pytest.raises(BitcapitalApiError) as caught:
        hook.get("/wallets")
    assert (caught.value.status_code, caught.value.error) == (403, "insufficient_scope")
    assert "needs wallets:read" in str(caught.value)
    assert "scope" in str(caught.value.hint)
    assert bitcapital_sandbox.count("GET", "/wallets") == 1


def test_html_error_page_gives_a_short_snippet(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection(max_retries=0))
    page = (
        "<html><head><style>body{}</style></head><body><h1>502 Bad Gateway</h1>"
        + "x " * 500
        + "</body></html>"
    )
    bitcapital_sandbox.inject("/wallets", status=502, body=page, content_type="text/html")
    with pytest.raises(BitcapitalApiError) as caught:
        hook.get("/wallets")
    assert "text/html body: 502 Bad Gateway" in caught.value.message
    assert len(caught.value.message) < 320
    assert "<h1>" not in str(caught.value)


def test_get_conn_session_attaches_and_renews_tokens(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    session = hook.get_conn()
    assert isinstance(session, requests.Session)
    assert session.get(f"{bitcapital_sandbox.url}/users/me").status_code == 200
    bitcapital_sandbox.revoke_all_tokens()
    assert session.get(f"{bitcapital_sandbox.url}/users/me").status_code == 200
    assert bitcapital_sandbox.token_requests == 2


def test_post_and_delete_decode_json(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection())
    wallet = hook.post("/wallets", json={"additionalData": {"purpose": "test"}})
    assert wallet["id"]
    assert hook.get(f"/wallets/{wallet['id']}")["id"] == wallet["id"]
    hook.delete(f"/wallets/{wallet['id']}")
    with pytest.raises(BitcapitalApiError) as caught:
        hook.get(f"/wallets/{wallet['id']}")
    assert caught.value.status_code == 404


def test_run_returns_the_response(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    response = BitcapitalHook(sandbox_connection()).run("/wallets", params={"limit": 3})
    assert response.status_code == 200
    assert len(response.json()) == 3
    assert response.headers["X-Data-Length"] == str(len(bitcapital_sandbox.wallets_snapshot()))
    sent = bitcapital_sandbox.request_log[-1]
    assert sent.headers["user-agent"].startswith("airflow-provider-bitcapital/")
    assert sent.headers["authorization"].startswith("Bearer ")


def test_test_connection_reports_what_it_found(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    ok, message = BitcapitalHook(sandbox_connection()).test_connection()
    assert ok, message
    assert bitcapital_sandbox.url in message
    assert "virtual" in message
    assert "token valid" in message


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"password": "wrong-secret"}, "invalid_client"),
        ({"timeout": "0"}, "timeout"),
        ({"host": "http://127.0.0.1:9"}, "token endpoint"),
    ],
)
def test_test_connection_reports_failures_without_raising(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, fields: dict[str, Any], words: str
) -> None:
    ok, message = BitcapitalHook(sandbox_connection(max_retries=0, **fields)).test_connection()
    assert not ok
    assert words in message
    assert "wrong-secret" not in message


def test_repr_and_errors_hide_secrets(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection())
    token = hook.get_token()
    for text in (
        repr(hook),
        repr(hook.config),
        repr(hook.client),
        repr(hook.tokens),
        repr(token),
        repr(hook.get_conn().auth),
    ):
        assert "sandbox-secret" not in text
        assert token.access_token not in text
    assert json.dumps(hook.get("/users/me")).find(token.access_token) == -1
