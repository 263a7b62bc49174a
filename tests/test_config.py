from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_bitcapital.config import BitcapitalConfig
from airflow_provider_bitcapital.exceptions import BitcapitalConfigError

GOOD = {"host": "https://acme.btcore.app", "login": "client", "password": "secret"}


def build(**changes: Any) -> BitcapitalConfig:
    fields = {**GOOD, **{k: v for k, v in changes.items() if k in ("host", "login", "password", "port")}}
    extra = {k: v for k, v in changes.items() if k not in fields}
    return BitcapitalConfig.from_fields(extra=extra, **fields)


def test_defaults() -> None:
    config = build()
    assert config.base_url == "https://acme.btcore.app"
    assert config.token_url == "https://acme.btcore.app/oauth/token"
    assert (config.grant_type, config.client_auth, config.sign_requests, config.token_cache) == (
        "client_credentials",
        "basic",
        "auto",
        "file",
    )
    assert (config.timeout, config.verify, config.max_retries, config.scope) == (30.0, True, 5, ())


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("acme.btcore.app", None, "https://acme.btcore.app"),
        ("https://acme.btcore.app/", None, "https://acme.btcore.app"),
        ("http://127.0.0.1", 8080, "http://127.0.0.1:8080"),
        ("http://127.0.0.1:9000", 8080, "http://127.0.0.1:9000"),
        ("https://gateway.example/bitcapital/", None, "https://gateway.example/bitcapital"),
    ],
)
def test_base_url(host: str, port: int | None, expected: str) -> None:
    assert build(host=host, port=port).base_url == expected


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"timeout": "12.5"}, {"timeout": 12.5}),
        ({"timeout": 7}, {"timeout": 7.0}),
        ({"max_retries": "0"}, {"max_retries": 0}),
        ({"max_retries": 3.0}, {"max_retries": 3}),
        ({"verify": "False"}, {"verify": False}),
        ({"verify": "yes"}, {"verify": True}),
        ({"verify": False}, {"verify": False}),
        ({"client_auth": "BODY"}, {"client_auth": "body"}),
        ({"sign_requests": "always"}, {"sign_requests": "always"}),
        ({"token_cache": "none"}, {"token_cache": "none"}),
        ({"token_url": "https://sso.example/token"}, {"token_url": "https://sso.example/token"}),
        ({"token_url": "/auth/token"}, {"token_url": "https://acme.btcore.app/auth/token"}),
        ({"timeout": ""}, {"timeout": 30.0}),
        ({"extra__bitcapital__timeout": "3"}, {"timeout": 3.0}),
        (
            {"grant_type": "password", "username": "ana", "user_password": "pw", "scope": "a:read, b:write"},
            {"grant_type": "password", "username": "ana", "scope": ("a:read", "b:write")},
        ),
        (
            {"grant_type": "password", "username": "ana", "user_password": "pw", "scope": ["x:y"]},
            {"scope": ("x:y",)},
        ),
    ],
)
def test_good_extras(extra: dict[str, Any], expected: dict[str, Any]) -> None:
    config = build(**extra)
    assert {name: getattr(config, name) for name in expected} == expected


def test_verify_accepts_an_existing_ca_bundle(tmp_path: Any) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert build(verify=str(bundle)).verify == str(bundle)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"host": ""}, "host", "required"),
        ({"host": "ftp://acme"}, "host", "http(s) URL"),
        ({"host": "https://acme.btcore.app?x=1"}, "host", "no query"),
        ({"login": None}, "login", "client id"),
        ({"login": "a:b"}, "login", "cannot contain ':'"),
        ({"password": ""}, "password", "client secret"),
        ({"grant_type": "implicit"}, "grant_type", "client_credentials, password"),
        ({"grant_type": "password"}, "username", "required when grant_type"),
        ({"grant_type": "password", "username": "ana"}, "user_password", "required when grant_type"),
        ({"scope": "wallets:read"}, "scope", "only to grant_type 'password'"),
        ({"token_url": "oauth/token"}, "token_url", "starting with '/'"),
        ({"client_auth": "digest"}, "client_auth", "basic, body"),
        ({"timeout": "soon"}, "timeout", "expected a number"),
        ({"timeout": "-1"}, "timeout", "greater than 0"),
        ({"timeout": "inf"}, "timeout", "finite"),
        ({"verify": "/no/such/bundle.pem"}, "verify", "true, false"),
        ({"max_retries": "2.5"}, "max_retries", "whole number from 0 to 20"),
        ({"max_retries": 99}, "max_retries", "whole number from 0 to 20"),
        ({"max_retries": True}, "max_retries", "expected a number"),
        ({"sign_requests": "sometimes"}, "sign_requests", "auto, always, never"),
        ({"token_cache": "redis"}, "token_cache", "file, memory, none"),
        ({"timout": "3"}, "extra 'timout'", "unknown field; accepted: grant_type"),
        ({"username": 42, "grant_type": "password", "user_password": "x"}, "username", "expected text"),
    ],
)
def test_bad_field_is_named_with_what_is_accepted(changes: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(BitcapitalConfigError) as caught:
        build(**changes)
    assert field in caught.value.fields
    assert words in str(caught.value)
    assert field in str(caught.value)


def test_every_wrong_field_is_reported_at_once() -> None:
    with pytest.raises(BitcapitalConfigError) as caught:
        BitcapitalConfig.from_fields(
            host=None, login=None, password=None, extra={"timeout": "x", "token_cache": "disk"}
        )
    assert set(caught.value.fields) == {"host", "login", "password", "timeout", "token_cache"}


def test_repr_hides_secrets() -> None:
    config = build(
        grant_type="password", username="ana", user_password="hunter2-password", password="s3cr3t-value"
    )
    assert "s3cr3t-value" not in repr(config)
    assert "hunter2-password" not in repr(config)
