"""The Bearer check, scopes and /users/me, over HTTP."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests


def test_no_credentials_is_401_with_empty_body(sandbox):
    response = requests.get(sandbox.url + "/wallets", timeout=10)

    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Service"'


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Token", "Basic"])
def test_malformed_header_is_400_invalid_request(sandbox, get_token, scheme):
    token = get_token()["access_token"]

    response = requests.get(
        sandbox.url + "/wallets", headers={"Authorization": f"{scheme} {token}"}, timeout=10
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b"])
def test_bearer_without_a_single_token_is_400(sandbox, header):
    response = requests.get(sandbox.url + "/wallets", headers={"Authorization": header}, timeout=10)

    assert response.status_code == 400


def test_unknown_token_is_401_invalid_token(sandbox, make_api):
    response = make_api("f" * 40).get("/wallets")

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "Invalid token: access token is invalid",
    }


def test_server_side_revocation_invalidates_every_token(sandbox, get_token, make_api):
    api = make_api(get_token()["access_token"])
    assert api.get("/wallets/root").status_code == 200

    sandbox.revoke_all_tokens()

    response = api.get("/wallets/root")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_token_expires_after_its_lifetime(sandbox, get_token, make_api):
    sandbox.token_lifetime = 0.3
    api = make_api(get_token()["access_token"])
    assert api.get("/wallets/root").status_code == 200

    time.sleep(0.35)

    response = api.get("/wallets/root")
    assert response.status_code == 401
    assert response.json()["error_description"] == "Invalid token: access token has expired"


def test_expire_all_tokens_needs_no_sleep(sandbox, api):
    sandbox.expire_all_tokens()

    assert api.get("/wallets/root").status_code == 401


def test_refresh_token_is_not_an_access_token(sandbox, get_token, make_api):
    tokens = get_token("password", username="alice@example.com", password="alice-password")

    assert make_api(tokens["refresh_token"]).get("/users/me").status_code == 401


class TestScopes:
    def test_scope_limited_token_gets_403_outside_its_scopes(self, sandbox, get_token, make_api):
        token = get_token(
            "password", username="alice@example.com", password="alice-password", scope="wallets:read"
        )
        api = make_api(token["access_token"])

        allowed = api.get("/wallets")
        refused = api.get("/assets")

        assert allowed.status_code == 200
        assert refused.status_code == 403
        body = refused.json()
        assert body["status"] == 403
        assert body["details"]["error"] == "insufficient_scope"
        assert body["details"]["required"] == ["assets:read"]
        assert body["message"].startswith("[403] Insufficient scope")

    def test_comma_separated_scopes(self, sandbox, get_token, make_api):
        token = get_token(
            "password",
            username="alice@example.com",
            password="alice-password",
            scope="wallets:read,assets:read",
        )
        api = make_api(token["access_token"])

        assert api.get("/assets").status_code == 200
        assert api.get("/domains").status_code == 403

    def test_token_without_scope_may_do_everything(self, sandbox, get_token, make_api):
        token = get_token("password", username="alice@example.com", password="alice-password")
        api = make_api(token["access_token"])

        assert [api.get(path).status_code for path in ("/wallets", "/assets", "/domains")] == [200, 200, 200]


class TestUsersMe:
    def test_password_user_with_bearer_headers(self, sandbox, get_token, make_api):
        before = time.time()
        token = get_token(
            "password", username="alice@example.com", password="alice-password", scope="wallets:read"
        )

        response = make_api(token["access_token"]).get("/users/me")

        assert response.status_code == 200
        body = response.json()
        assert body["email"] == "alice@example.com"
        assert body["virtual"] is False
        assert len(body["wallets"]) == 2
        assert response.headers["x-oauth-bearer-scope"] == "wallets:read"
        expiration = email.utils.parsedate_to_datetime(response.headers["x-oauth-bearer-expiration"])
        assert before + 3590 < expiration.timestamp() < time.time() + 3601

    def test_virtual_user_owns_the_root_wallet(self, sandbox, api):
        me = api.get("/users/me").json()
        root = api.get("/wallets/root").json()

        assert me["virtual"] is True
        assert root["user"]["id"] == me["id"]
        assert [wallet["id"] for wallet in me["wallets"]] == [root["id"]]

    def test_user_and_user_wallets(self, sandbox, api):
        alice_id = sandbox.wallets_snapshot()[1]["user"]["id"]

        user = api.get(f"/users/{alice_id}")
        wallets = api.get(f"/users/{alice_id}/wallets")

        assert user.json()["email"] == "alice@example.com"
        assert [wallet["id"] for wallet in wallets.json()] == [
            wallet["id"] for wallet in user.json()["wallets"]
        ]
        assert wallets.headers["X-Data-Length"] == "2"
        assert api.get("/users/00000000-0000-4000-8000-000000000000").status_code == 404
