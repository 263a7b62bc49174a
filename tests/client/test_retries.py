"""Retries, idempotency, signing and transport safety, with faults injected into the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_bitcapital.exceptions import BitcapitalApiError, BitcapitalAuthError
from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
from tests.conftest import ConnectionFactory


def payment_between(server: Any, hook: BitcapitalHook) -> dict[str, Any]:
    wallets = [w for w in server.wallets_snapshot() if w["status"] == "ready" and w["assets"]]
    source = wallets[0]
    asset = source["assets"][0]["code"]
    destination = next(w for w in wallets[1:] if any(a["code"] == asset for a in w["assets"]))
    return {
        "source": source["id"],
        "recipients": [{"destination": destination["id"], "amount": "0.10", "asset": asset}],
    }


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_get_is_retried_on_each_retryable_status(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, status: int
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/users/me", method="GET", status=status, retry_after=0)
    assert hook.get("/users/me")["id"]
    assert bitcapital_sandbox.count("GET", "/users/me") == 2


def test_retries_stop_at_max_retries(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection(max_retries=2))
    bitcapital_sandbox.inject("/wallets", status=503, retry_after="0", times=10)
    with pytest.raises(BitcapitalApiError) as caught:
        hook.get("/wallets")
    assert caught.value.status_code == 503
    assert caught.value.stack_id
    assert bitcapital_sandbox.count("GET", "/wallets") == 3


def test_429_without_retry_after_backs_off_and_succeeds(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/wallets", status=429)
    assert len(hook.get("/wallets", params={"limit": 2})) == 2
    assert bitcapital_sandbox.count("GET", "/wallets") == 2


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_other_client_errors_are_not_retried(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, status: int
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/wallets", status=status)
    with pytest.raises(BitcapitalApiError) as caught:
        hook.get("/wallets")
    assert caught.value.status_code == status
    assert bitcapital_sandbox.count("GET", "/wallets") == 1


def test_dropped_connection_on_get_is_retried(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/users/me", drop=True)
    assert hook.get("/users/me")["id"]
    assert bitcapital_sandbox.count("GET", "/users/me") == 2


def test_signed_payment_is_accepted(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection())
    payment = hook.post("/payments", json=payment_between(bitcapital_sandbox, hook))
    assert payment["id"]
    sent = [r for r in bitcapital_sandbox.request_log if r.path == "/payments"][-1]
    assert sent.headers["x-request-signature"]
    assert sent.headers["x-request-timestamp"].isdigit()
    assert len(sent.headers["x-request-timestamp"]) == 13
    assert b", " not in sent.body


def test_unsigned_payment_is_refused_with_advice(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection(sign_requests="never"))
    with pytest.raises(BitcapitalApiError) as caught:
        hook.post("/payments", json=payment_between(bitcapital_sandbox, hook))
    assert caught.value.status_code == 400
    assert "clock" in str(caught.value.hint)
    assert bitcapital_sandbox.stats()["payments_created"] == 0


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"status": 500, "when": "after"}, "HTTP 500"),
        ({"drop": True, "when": "after"}, "connection failed"),
        ({"delay": 3.0, "when": "after"}, "connection failed"),
        ({"status": 503, "when": "before"}, "HTTP 503"),
    ],
)
def test_a_payment_is_never_sent_twice(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, fault: dict[str, Any], words: str
) -> None:
    hook = BitcapitalHook(sandbox_connection(timeout=1, max_retries=5))
    body = payment_between(bitcapital_sandbox, hook)
    bitcapital_sandbox.inject("/payments", method="POST", **fault)
    with pytest.raises(BitcapitalApiError) as caught:
        hook.post("/payments", json=body)
    assert bitcapital_sandbox.count("POST", "/payments") == 1
    assert caught.value.outcome_unknown
    assert words in str(caught.value)
    assert "GET /wallets/{source}/payments" in str(caught.value)


def test_post_is_retried_when_it_never_reached_the_server(sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection(host="http://127.0.0.1:9", max_retries=1))
    with pytest.raises(BitcapitalAuthError, match="Could not reach the Bitcapital token endpoint"):
        hook.post("/payments", json={})


def test_token_endpoint_503_is_retried(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/oauth/token", status=503, retry_after=0)
    assert hook.get_access_token()
    assert bitcapital_sandbox.token_requests == 2


def test_token_endpoint_redirect_is_not_followed(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/oauth/token", status=302, headers={"Location": "http://localhost:9/steal"})
    with pytest.raises(BitcapitalAuthError, match="never followed"):
        hook.get_token()
    assert bitcapital_sandbox.token_requests == 1


def test_redirect_to_another_host_drops_the_bearer_token(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    other_host = bitcapital_sandbox.url.replace("127.0.0.1", "localhost")
    bitcapital_sandbox.inject("/status", status=302, headers={"Location": f"{other_host}/users/me"})
    # The redirected request arrives without a token (401); the replay then reaches /status itself.
    assert hook.get("/status")["name"]
    followed = [r for r in bitcapital_sandbox.request_log if r.path == "/users/me"]
    assert len(followed) == 1
    assert "authorization" not in followed[0].headers
    assert followed[0].headers["host"].startswith("localhost")


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [(b"{not json", "application/json", "not JSON"), (b"<html>oops</html>", "text/html", "not JSON: oops")],
)
def test_malformed_success_body(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, body: bytes, content_type: str, words: str
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/users/me", status=200, body=body, content_type=content_type)
    with pytest.raises(BitcapitalApiError, match=words):
        hook.get("/users/me")


def test_oversized_answer_is_refused(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection())
    hook.client.max_response_bytes = 1000
    with pytest.raises(BitcapitalApiError, match="larger than 1000 bytes"):
        hook.get("/wallets", params={"limit": 100})
