from __future__ import annotations

import pytest

from airflow_provider_bitcapital.auth.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    canonical_json,
    should_sign,
    signature,
    signature_headers,
)
from tests.signing_vectors import PAYMENT_BODY, VECTORS

BODY = PAYMENT_BODY


@pytest.mark.parametrize(("key", "message", "expected"), VECTORS)
def test_published_vectors(key: str, message: str, expected: str) -> None:
    assert signature(key, message) == expected


def test_headers_build_the_message_from_the_request() -> None:
    body = canonical_json(
        {"source": "w1", "recipients": [{"asset": "BRLD", "amount": "1.00", "destination": "w2"}]}
    )
    assert body.decode() == BODY
    headers = signature_headers("secret", "post", "/payments", body, timestamp_ms=1573264495581)
    assert headers == {
        TIMESTAMP_HEADER: "1573264495581",
        SIGNATURE_HEADER: "702d8640e27b496f134488d57eff4849f9c5803bd57b3ee46fdd4eee1cd3390a",
    }
    assert signature_headers("root", "POST", "/payments", None, timestamp_ms=1573264495581)[
        SIGNATURE_HEADER
    ] == ("3e3e70e7904f7c99f999e519d950bf4a3d6807a70bdfe3be36e58f4966e14bb3")
    assert signature_headers("test", "GET", "/wallets", None, timestamp_ms=1573264495581)[
        SIGNATURE_HEADER
    ] == ("f4604e6f22eca5c61e683d715e6bc296b2c5f61fb1abb5cc3f9ad12c9ece2a43")


def test_canonical_json_keeps_order_and_unicode() -> None:
    assert canonical_json({"b": "ação", "a": [1, {"z": None}]}) == '{"b":"ação","a":[1,{"z":null}]}'.encode()


@pytest.mark.parametrize(
    ("mode", "method", "path", "override", "expected"),
    [
        ("auto", "POST", "/payments", None, True),
        ("auto", "POST", "/payments/withdraw/abc", None, True),
        ("auto", "POST", "/assets/123/emit", None, True),
        ("auto", "POST", "/assets/123/destroy", None, True),
        ("auto", "POST", "/boletos/pay", None, True),
        ("auto", "POST", "/boletos/emit", None, True),
        ("auto", "GET", "/payments/abc", None, False),
        ("auto", "POST", "/wallets", None, False),
        ("always", "GET", "/wallets", None, True),
        ("never", "POST", "/payments", None, False),
        ("never", "POST", "/payments", True, True),
        ("always", "GET", "/wallets", False, False),
    ],
)
def test_which_requests_are_signed(
    mode: str, method: str, path: str, override: bool | None, expected: bool
) -> None:
    assert should_sign(mode, method, path, override) is expected
