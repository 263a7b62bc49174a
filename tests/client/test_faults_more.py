"""More faults: timeouts, token endpoint answers, stale signatures, tokens revoked mid-run."""

from __future__ import annotations

import itertools
import logging
import re
from typing import Any

import pytest

from airflow_provider_bitcapital.exceptions import BitcapitalApiError, BitcapitalAuthError
from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
from tests.client.test_retries import payment_between
from tests.conftest import ConnectionFactory


def test_read_timeout_on_get_is_retried(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection(timeout=0.5))
    bitcapital_sandbox.inject("/users/me", delay=1.5)
    assert hook.get("/users/me")["id"]
    assert bitcapital_sandbox.count("GET", "/users/me") == 2


def test_each_retry_is_logged_with_method_path_status_attempt_and_wait(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/wallets", status=502, retry_after="0", times=2)
    hook.get("/wallets", params={"limit": 1})
    retries = [record.getMessage() for record in caplog.records if "retrying" in record.getMessage()]
    assert retries == [
        "Bitcapital GET /wallets failed with HTTP 502 on attempt 1; retrying in 0.00 s",
        "Bitcapital GET /wallets failed with HTTP 502 on attempt 2; retrying in 0.00 s",
    ]


def test_retry_after_as_an_http_date_is_honoured(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/wallets", status=429, retry_after="Thu, 01 Jan 1970 00:00:00 GMT")
    assert len(hook.get("/wallets", params={"limit": 1})) == 1
    assert bitcapital_sandbox.count("GET", "/wallets") == 2


def test_every_retry_is_signed_again_with_a_fresh_timestamp(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection(sign_requests="always"))
    bitcapital_sandbox.inject("/wallets", status=503, retry_after="0.05")
    hook.get("/wallets", params={"limit": 1})
    sent = [entry for entry in bitcapital_sandbox.request_log if entry.path == "/wallets"]
    timestamps = [entry.headers["x-request-timestamp"] for entry in sent]
    signatures = [entry.headers["x-request-signature"] for entry in sent]
    assert len(sent) == 2
    assert int(timestamps[1]) > int(timestamps[0])
    assert signatures[0] != signatures[1]


def test_signature_outside_the_30_second_window_is_refused_with_advice(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import airflow_provider_bitcapital.auth.signing as signing

    hook = BitcapitalHook(sandbox_connection())
    body = payment_between(bitcapital_sandbox, hook)
    hook.get_token()
    real_now = signing.now_ms
    # Only a worker clock that runs 45 s late makes a signature stale; nothing else reaches this case.
    monkeypatch.setattr(signing, "now_ms", lambda: real_now() - 45_000)
    with pytest.raises(BitcapitalApiError) as caught:
        hook.post("/payments", json=body)
    assert caught.value.status_code == 400
    assert "clock" in str(caught.value)
    assert bitcapital_sandbox.count("POST", "/payments") == 1
    assert bitcapital_sandbox.stats()["payments_created"] == 0


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"status": 200, "json": {"token_type": "Bearer", "expires_in": 3600}}, "without an access_token"),
        (
            {"status": 200, "body": "<html>login</html>", "content_type": "text/html"},
            "not a JSON object (text/html)",
        ),
        ({"status": 200, "body": "{", "content_type": "application/json"}, "not a JSON object"),
        ({"status": 400, "json": {"error": "unsupported_grant_type"}}, "unsupported_grant_type"),
    ],
)
def test_unusable_token_answers_are_not_retried(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, fault: dict[str, Any], words: str
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/oauth/token", **fault)
    with pytest.raises(BitcapitalAuthError, match=re.escape(words)):
        hook.get("/wallets")
    assert bitcapital_sandbox.token_requests == 1
    assert bitcapital_sandbox.count("GET", "/wallets") == 0


def test_token_endpoint_dropped_connection_is_retried(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/oauth/token", drop=True)
    assert hook.get_access_token()
    assert bitcapital_sandbox.token_requests == 2


def test_token_revoked_in_the_middle_of_paging(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    items = hook.paginate("/wallets", page_size=100)
    first = list(itertools.islice(items, 100))
    bitcapital_sandbox.revoke_all_tokens()
    rest = list(items)
    assert len(first) + len(rest) == len(bitcapital_sandbox.wallets_snapshot())
    assert bitcapital_sandbox.token_requests == 2
    assert bitcapital_sandbox.count("GET", "/wallets") == 4  # 3 pages and one replay after the 401


def test_403_is_never_retried_nor_replayed(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(
        sandbox_connection(
            grant_type="password",
            username="alice@example.com",
            user_password="alice-password",
            scope="users:read",
        )
    )
    with pytest.raises(BitcapitalApiError) as caught:
        hook.get("/wallets")
    assert caught.value.status_code == 403
    assert "scope" in str(caught.value)
    assert bitcapital_sandbox.count("GET", "/wallets") == 1
    assert bitcapital_sandbox.token_requests == 1
