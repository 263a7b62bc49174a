"""Request signatures: the documented test vectors, and the server's checks over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from airflow_provider_bitcapital.sandbox.signing import (
    canonical_json,
    compute_signature,
    requires_signature,
    signature_message,
)
from tests.signing_vectors import PAYMENT_BODY, VECTORS

PAYMENT_VECTOR_BODY = PAYMENT_BODY


@pytest.mark.parametrize(("key", "message", "expected"), VECTORS)
def test_documented_vectors(key, message, expected):
    assert compute_signature(key, message) == expected


def test_message_of_the_vectors_is_rebuilt_from_parts():
    body = {"source": "w1", "recipients": [{"asset": "BRLD", "amount": "1.00", "destination": "w2"}]}

    assert signature_message("post", "/payments", "1573264495581", canonical_json(body)) == (
        "POST,/payments,1573264495581," + PAYMENT_VECTOR_BODY
    )
    assert signature_message("GET", "/wallets", "1573264495581", None) == "GET,/wallets,1573264495581"
    assert canonical_json({"name": "Joï"}) == '{"name":"Joï"}'


@pytest.mark.parametrize(
    ("method", "path", "signed"),
    [
        ("POST", "/payments", True),
        ("POST", "/payments/withdraw/bank-1", True),
        ("POST", "/assets/BRLD/emit", True),
        ("POST", "/assets/BRLD/destroy", True),
        ("POST", "/boletos/pay", True),
        ("POST", "/boletos/emit", True),
        ("GET", "/payments", False),
        ("POST", "/wallets", False),
        ("POST", "/payments/x", False),
    ],
)
def test_money_moving_posts_require_a_signature(method, path, signed):
    assert requires_signature(method, path) is signed


def sign(secret, message):
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class TestOverHttp:
    def test_signed_payment_is_accepted(self, sandbox, api, ready_wallets):
        response = api.pay(ready_wallets[0]["id"], ready_wallets[1]["id"], "1.00")

        assert response.status_code == 200, response.text

    def test_unsigned_payment_is_refused(self, sandbox, api, ready_wallets):
        body = {"source": ready_wallets[0]["id"], "recipients": []}

        response = api.post("/payments", body)

        assert response.status_code == 400
        assert response.json()["message"].startswith("[400] Invalid request signature: missing")
        assert sandbox.stats()["payments_created"] == 0

    def test_stale_timestamp_is_refused(self, sandbox, api, ready_wallets):
        stale = int(time.time() * 1000) - 31_000
        body = {
            "source": ready_wallets[0]["id"],
            "recipients": [{"destination": ready_wallets[1]["id"], "amount": "1"}],
        }

        response = api.signed_post("/payments", body, timestamp=stale)

        assert response.status_code == 400
        assert "Invalid request signature: expired timestamp" in response.json()["message"]

    def test_future_timestamp_is_accepted(self, sandbox, api, ready_wallets):
        future = int(time.time() * 1000) + 3_600_000
        body = {
            "source": ready_wallets[0]["id"],
            "recipients": [{"destination": ready_wallets[1]["id"], "amount": "1"}],
        }

        assert api.signed_post("/payments", body, timestamp=future).status_code == 200

    def test_wrong_signature_is_refused(self, sandbox, api, ready_wallets):
        body = {
            "source": ready_wallets[0]["id"],
            "recipients": [{"destination": ready_wallets[1]["id"], "amount": "1"}],
        }
        stamp = str(int(time.time() * 1000))
        headers = {
            "X-Request-Timestamp": stamp,
            "X-Request-Signature": sign("wrong-secret", "POST,/payments," + stamp),
        }

        response = api.post("/payments", body, headers=headers)

        assert response.status_code == 400
        assert response.json()["message"].startswith("[400] Invalid request signature: signature mismatch")

    def test_query_string_is_part_of_the_signed_path(self, sandbox, api, ready_wallets):
        body = {
            "source": ready_wallets[0]["id"],
            "recipients": [{"destination": ready_wallets[1]["id"], "amount": "1"}],
        }
        stamp = str(int(time.time() * 1000))
        without_query = sign("sandbox-secret", f"POST,/payments,{stamp},{canonical_json(body)}")

        signed_with_query = api.signed_post("/payments", body, query="note=a%20b")
        signed_without_query = api.post(
            "/payments?note=a%20b",
            body,
            headers={"X-Request-Timestamp": stamp, "X-Request-Signature": without_query},
        )

        assert signed_with_query.status_code == 200
        assert signed_without_query.status_code == 400

    def test_body_is_signed_as_reserialized_compact_json(self, sandbox, api, ready_wallets):
        body = {
            "source": ready_wallets[0]["id"],
            "recipients": [{"destination": ready_wallets[1]["id"], "amount": "2.50", "asset": "BRLD"}],
        }
        stamp = str(int(time.time() * 1000))
        compact = canonical_json(body)
        headers = {
            "Content-Type": "application/json",
            "X-Request-Timestamp": stamp,
            "X-Request-Signature": sign("sandbox-secret", f"POST,/payments,{stamp},{compact}"),
        }
        spaced = compact.replace(",", ", ").replace(":", ": ")

        response = api.request("POST", "/payments", data=spaced.encode(), headers=headers)

        assert response.status_code == 200, response.text

    def test_empty_body_is_signed_as_empty_object(self, sandbox, make_api, get_token):
        api = make_api(get_token()["access_token"])
        stamp = str(int(time.time() * 1000))
        headers = {
            "X-Request-Timestamp": stamp,
            "X-Request-Signature": sign("sandbox-secret", f"POST,/payments,{stamp},{{}}"),
        }

        response = api.request("POST", "/payments", headers=headers)

        assert response.status_code == 400
        assert "Invalid request signature" not in response.json()["message"]

    def test_key_is_the_secret_of_the_tokens_client(self, sandbox, get_token, make_api, ready_wallets):
        sandbox.add_client("other-client", "other-secret")
        token = get_token(client_id="other-client", client_secret="other-secret")["access_token"]

        with_default_secret = make_api(token).pay(ready_wallets[0]["id"], ready_wallets[1]["id"], "1.00")
        with_own_secret = make_api(token, "other-secret").pay(
            ready_wallets[0]["id"], ready_wallets[1]["id"], "1.00"
        )

        assert with_default_secret.status_code == 400
        assert with_own_secret.status_code == 200
