from __future__ import annotations

import json
import time
from typing import Any

import pytest

from airflow_provider_bitcapital.auth.token import DEFAULT_LIFETIME, Token, hard_margin, parse_token_response
from airflow_provider_bitcapital.exceptions import BitcapitalAuthError

SECRET_TOKEN = "4f0c9d2e7a1b4c3d8e9f0a1b2c3d4e5f"


def parse(body: Any, status: int = 200, content_type: str = "application/json") -> Token:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_token_response(status, content_type, raw, sent_wall=1_000_000.0, sent_monotonic=500.0)


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [
        (3600, 3600.0),
        ("3600", 3600.0),
        ("3600.0", 3600.0),
        (None, DEFAULT_LIFETIME),
        ("soon", DEFAULT_LIFETIME),
    ],
)
def test_expires_in_is_read_leniently(expires_in: Any, lifetime: float) -> None:
    body = {"access_token": SECRET_TOKEN, "token_type": "bearer"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    token = parse(body)
    assert token.lifetime == lifetime
    assert token.deadline == 500.0 + lifetime
    assert token.expires_at.timestamp() == 1_000_000.0 + lifetime


def test_all_fields_are_kept() -> None:
    token = parse(
        {
            "access_token": SECRET_TOKEN,
            "token_type": "Bearer",
            "expires_in": 60,
            "user_id": "u1",
            "virtual": True,
            "scope": "wallets:read,payments:write",
            "refresh_token": "r" * 30,
        }
    )
    assert (token.user_id, token.virtual, token.scope) == ("u1", True, ("wallets:read", "payments:write"))
    assert token.refresh_token == "r" * 30
    assert SECRET_TOKEN not in repr(token)
    assert "r" * 30 not in repr(token)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "words"),
    [
        (
            200,
            {"token_type": "Bearer"},
            "application/json",
            "without an access_token (fields present: token_type)",
        ),
        (200, b"<html><body>Gateway</body></html>", "text/html", "not a JSON object (text/html)"),
        (200, b"[1, 2]", "application/json", "not a JSON object"),
        (200, {"access_token": SECRET_TOKEN, "token_type": "mac"}, "application/json", "only Bearer"),
        (
            401,
            {"error": "invalid_client", "error_description": "Invalid client"},
            "application/json",
            "client id",
        ),
        (
            400,
            {"error": "invalid_grant", "error_description": "bad user"},
            "application/json",
            "invalid_grant: bad user",
        ),
        (502, b"<html><h1>502 Bad Gateway</h1></html>", "text/html", "text/html body: 502 Bad Gateway"),
        (500, b"", "", "empty body"),
    ],
)
def test_unusable_answers_are_auth_errors(status: int, body: Any, content_type: str, words: str) -> None:
    with pytest.raises(BitcapitalAuthError) as caught:
        parse(body, status, content_type)
    assert words in str(caught.value)
    assert caught.value.status_code == status
    assert SECRET_TOKEN not in str(caught.value)


def test_token_like_text_in_an_error_page_is_redacted() -> None:
    with pytest.raises(BitcapitalAuthError) as caught:
        parse(f"<p>upstream sent access_token={SECRET_TOKEN}</p>".encode(), 503, "text/html")
    assert SECRET_TOKEN not in str(caught.value)
    assert "[redacted]" in str(caught.value)


def test_margins_scale_with_lifetime() -> None:
    assert hard_margin(30) == 3.0
    assert hard_margin(3600) == 60.0
    assert hard_margin(5) == 1.0
    now = time.monotonic()
    short = Token(
        access_token="x" * 10,
        expires_at=parse({"access_token": "y"}).expires_at,
        lifetime=30,
        deadline=now + 30,
    )
    assert short.is_usable(now)
    assert short.is_usable(now + 26.9)
    assert not short.is_usable(now + 27.1)
    assert not short.wants_refresh(now)
    assert short.wants_refresh(now + 23)


def test_record_round_trip() -> None:
    token = parse({"access_token": SECRET_TOKEN, "expires_in": 100, "user_id": "u", "virtual": False})
    again = Token.from_record(json.loads(json.dumps(token.to_record())))
    assert again == token
    with pytest.raises(ValueError, match="malformed"):
        Token.from_record({"access_token": SECRET_TOKEN})
