"""Fixtures for the sandbox's own tests: one server for the session, reset before every test.

The helpers here sign and authenticate requests on their own (``hmac``, ``base64``) rather than
through the sandbox's code, so the tests check the server against the protocol, not against itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from airflow_provider_bitcapital.sandbox import SandboxServer

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
USERNAME = "alice@example.com"
USER_PASSWORD = "alice-password"


def basic_header(client_id: str, client_secret: str) -> str:
    """Build a raw (not form-encoded) UTF-8 Basic header, as the SDKs send it."""
    pair = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def compact(body: object) -> str:
    """Serialize a JSON body the way a signing client must: compact, non-ASCII unescaped."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def signature(secret: str, method: str, path: str, timestamp: str, body: str | None) -> str:
    """Compute ``X-Request-Signature`` for ``METHOD,PATH,TIMESTAMP[,BODY]``."""
    message = ",".join([method, path, timestamp] + ([body] if body is not None else []))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class Api:
    """A tiny authenticated client for one sandbox server and one access token."""

    def __init__(self, server: SandboxServer, token: str, secret: str = CLIENT_SECRET) -> None:
        self.server = server
        self.token = token
        self.secret = secret

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, self.server.url + path, headers=headers, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: object = None, **kwargs: Any) -> requests.Response:
        data = compact(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return self.request("POST", path, data=data, headers=headers, **kwargs)

    def signed_post(
        self, path: str, body: object, *, timestamp: int | None = None, query: str = ""
    ) -> requests.Response:
        """POST a JSON body signed with this client's secret; ``query`` is appended and signed."""
        stamp = str(timestamp if timestamp is not None else int(time.time() * 1000))
        full_path = f"{path}?{query}" if query else path
        headers = {
            "X-Request-Timestamp": stamp,
            "X-Request-Signature": signature(self.secret, "POST", full_path, stamp, compact(body)),
        }
        return self.post(full_path, body, headers=headers)

    def pay(self, source: str, destination: str, amount: str, asset: str = "BRLD") -> requests.Response:
        body = {
            "source": source,
            "recipients": [{"destination": destination, "amount": amount, "asset": asset}],
        }
        return self.signed_post("/payments", body)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox for the whole session (reset by ``sandbox`` before each test)."""
    with SandboxServer(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, username=USERNAME, user_password=USER_PASSWORD
    ) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The session's sandbox in its freshly seeded state."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def get_token(sandbox: SandboxServer) -> Callable[..., dict[str, Any]]:
    """Return a function that runs a grant and returns the token response body (asserting 200)."""

    def run_grant(
        grant_type: str = "client_credentials",
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        **fields: str,
    ) -> dict[str, Any]:
        response = requests.post(
            sandbox.url + "/oauth/token",
            data={"grant_type": grant_type, **fields},
            headers={"Authorization": basic_header(client_id, client_secret)},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return run_grant


@pytest.fixture
def make_api(sandbox: SandboxServer) -> Callable[..., Api]:
    """Return a factory of authenticated clients: ``make_api(token, secret=CLIENT_SECRET)``."""

    def build(token: str, secret: str = CLIENT_SECRET) -> Api:
        return Api(sandbox, token, secret)

    return build


@pytest.fixture
def api(make_api: Callable[..., Api], get_token: Callable[..., dict[str, Any]]) -> Api:
    """An authenticated client under the client credentials grant."""
    return make_api(get_token()["access_token"])


@pytest.fixture
def basic() -> Callable[[str, str], str]:
    """Return the function that builds a raw UTF-8 Basic header."""
    return basic_header


@pytest.fixture
def ready_wallets(sandbox: SandboxServer) -> list[dict[str, Any]]:
    """Ready consumer wallets holding at least 100 BRLD (the root wallet excluded)."""
    wallets = sandbox.wallets_snapshot()[1:]
    return [
        wallet
        for wallet in wallets
        if wallet["status"] == "ready"
        and any(asset["code"] == "BRLD" and float(asset["balance"]) >= 100 for asset in wallet["assets"])
    ]
