"""The token provider against the sandbox: grants, renewal, back-off, revocation, fork, masking."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import pytest

from airflow_provider_bitcapital.auth.backoff import REFUSAL_MEMORY
from airflow_provider_bitcapital.exceptions import BitcapitalAuthError
from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
from tests.conftest import ConnectionFactory

PASSWORD_GRANT = {
    "grant_type": "password",
    "username": "alice@example.com",
    "user_password": "alice-password",
}


def token_bodies(server: Any) -> list[str]:
    return [entry.body.decode() for entry in server.request_log if entry.path == "/oauth/token"]


def test_password_grant_sends_user_and_comma_joined_scope(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection(scope="wallets:read users:read", **PASSWORD_GRANT))
    token = hook.get_token()
    assert token.virtual is False
    assert token.refresh_token
    assert token_bodies(bitcapital_sandbox) == [
        "grant_type=password&username=alice%40example.com&password=alice-password&scope=wallets%3Aread%2Cusers%3Aread"
    ]
    assert hook.get("/users/me")["email"] == "alice@example.com"


def test_password_grant_without_scope_sends_no_scope_field(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    BitcapitalHook(sandbox_connection(**PASSWORD_GRANT)).get_token()
    assert "scope" not in token_bodies(bitcapital_sandbox)[0]


def test_aged_token_is_renewed_with_the_refresh_token(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    bitcapital_sandbox.token_lifetime = 2
    hook = BitcapitalHook(sandbox_connection(**PASSWORD_GRANT))
    first = hook.get_token()
    time.sleep(1.9)  # past the hard margin of a 2 s token (1 s), so the next call must renew
    second = hook.get_token()
    assert second.access_token != first.access_token
    bodies = token_bodies(bitcapital_sandbox)
    assert bodies[1] == f"grant_type=refresh_token&refresh_token={first.refresh_token}"


def test_refused_refresh_token_falls_back_to_the_password_grant(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    bitcapital_sandbox.token_lifetime = 2
    hook = BitcapitalHook(sandbox_connection(**PASSWORD_GRANT))
    hook.get_token()
    bitcapital_sandbox.inject("/oauth/token", status=400, json={"error": "invalid_grant"})
    time.sleep(1.9)
    assert hook.get_token().access_token
    bodies = token_bodies(bitcapital_sandbox)
    assert [body.split("&")[0] for body in bodies] == [
        "grant_type=password",
        "grant_type=refresh_token",
        "grant_type=password",
    ]


def test_token_endpoint_503_makes_later_callers_wait_instead_of_asking(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection(max_retries=0))
    bitcapital_sandbox.inject("/oauth/token", status=503, retry_after="1")
    with pytest.raises(BitcapitalAuthError) as caught:
        hook.get_token()
    assert (caught.value.status_code, caught.value.retry_after) == (503, 1.0)
    started = time.monotonic()
    assert BitcapitalHook(hook.bitcapital_conn_id).get_access_token()
    assert time.monotonic() - started >= 0.5  # it waited for the Retry-After instead of asking at once
    assert bitcapital_sandbox.token_requests == 2


def test_wrong_secret_is_remembered_without_asking_again(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    conn_id = sandbox_connection(password="wrong-secret", token_cache="file")
    for _ in range(3):
        with pytest.raises(BitcapitalAuthError) as caught:
            BitcapitalHook(conn_id).get_token()
        assert caught.value.error == "invalid_client"
    assert "remembered" in str(caught.value)
    assert REFUSAL_MEMORY >= 10
    assert bitcapital_sandbox.token_requests == 1


def test_revoke_token_revokes_and_forgets(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection(token_cache="file"))
    first = hook.get_access_token()
    assert hook.revoke_token() is True
    revoke = [entry for entry in bitcapital_sandbox.request_log if entry.path == "/oauth/revoke"]
    assert len(revoke) == 1
    assert revoke[0].headers["authorization"] == f"Bearer {first}"
    second = hook.get_access_token()
    assert second != first
    assert bitcapital_sandbox.token_requests == 2
    assert hook.get("/users/me")["id"]


def test_revoke_with_nothing_to_revoke_is_not_an_error(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    assert hook.revoke_token() is False
    assert bitcapital_sandbox.count() == 0
    hook.get_token()
    bitcapital_sandbox.inject("/oauth/revoke", status=404)
    assert hook.revoke_token() is False


def test_forked_child_reuses_the_parents_token(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    hook.get("/users/me")
    session_before = hook.client.session
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            ok = hook.get("/users/me")["id"] and hook.client.session is not session_before
            os.write(write, b"ok" if ok else b"no")
        except BaseException as error:
            os.write(write, type(error).__name__.encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    assert os.read(read, 100) == b"ok"
    assert bitcapital_sandbox.count("GET", "/users/me") == 2
    assert bitcapital_sandbox.token_requests == 1


def test_no_secret_or_token_in_any_log_line(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bitcapital_sandbox.token_lifetime = 2
    hook = BitcapitalHook(sandbox_connection(max_retries=1, **PASSWORD_GRANT))
    bitcapital_sandbox.inject("/users/me", status=503, retry_after="0")
    hook.get("/users/me")
    bitcapital_sandbox.revoke_all_tokens()
    hook.get("/users/me")
    time.sleep(1.9)
    hook.get("/users/me")
    hook.revoke_token()
    with pytest.raises(BitcapitalAuthError):
        BitcapitalHook(sandbox_connection("bad", password="bad-secret-value")).get_token()
    secrets = ["sandbox-secret", "alice-password", "bad-secret-value", *bitcapital_sandbox.issued_tokens]
    assert len(bitcapital_sandbox.issued_tokens) >= 6
    assert "retrying" in caplog.text
    assert [secret for secret in secrets if secret in caplog.text] == []


def test_secrets_and_tokens_are_registered_for_masking(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    from airflow.sdk._shared.secrets_masker import redact
    from airflow.sdk.log import mask_secret  # noqa: F401 - the masker the hook feeds

    hook = BitcapitalHook(sandbox_connection(**PASSWORD_GRANT))
    token = hook.get_token()
    text = f"sandbox-secret alice-password {token.access_token} {token.refresh_token}"
    redacted = str(redact(text))
    for secret in ("sandbox-secret", "alice-password", token.access_token, str(token.refresh_token)):
        assert secret not in redacted
