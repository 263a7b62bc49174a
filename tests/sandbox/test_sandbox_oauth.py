"""The token endpoint and revocation, over HTTP."""

from __future__ import annotations

import base64

import pytest
import requests

CLIENT = ("sandbox-client", "sandbox-secret")


def post_token(server, data, headers=None, **kwargs):
    return requests.post(server.url + "/oauth/token", data=data, headers=headers or {}, timeout=10, **kwargs)


class TestClientCredentials:
    def test_basic_auth_grants_a_virtual_user_token(self, sandbox, basic):
        response = post_token(
            sandbox, {"grant_type": "client_credentials"}, {"Authorization": basic(*CLIENT)}
        )

        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "user_id", "virtual"}
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert body["virtual"] is True
        assert len(body["access_token"]) == 40
        assert body["access_token"] in sandbox.issued_tokens
        assert sandbox.token_requests == 1

    def test_body_credentials_are_accepted(self, sandbox):
        data = {"grant_type": "client_credentials", "client_id": CLIENT[0], "client_secret": CLIENT[1]}
        response = post_token(sandbox, data)

        assert response.status_code == 200
        assert response.json()["virtual"] is True

    def test_each_client_has_its_own_virtual_user(self, sandbox, get_token):
        sandbox.add_client("other-client", "other-secret")

        first = get_token()
        other = get_token(client_id="other-client", client_secret="other-secret")

        assert first["user_id"] != other["user_id"]
        assert other["virtual"] is True

    def test_extra_fields_are_refused(self, sandbox, basic):
        data = {"grant_type": "client_credentials", "scope": "wallets:read"}
        response = post_token(sandbox, data, {"Authorization": basic(*CLIENT)})

        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert "scope" in response.json()["error_description"]

    def test_lifetime_below_one_second_leaves_expires_in_out(self, sandbox, get_token):
        sandbox.token_lifetime = 0.5

        assert "expires_in" not in get_token()

    def test_lifetime_setting_applies_to_new_tokens(self, sandbox, get_token):
        sandbox.token_lifetime = 30

        assert get_token()["expires_in"] == 30


class TestClientAuthentication:
    @pytest.mark.parametrize(
        "secret", ["a:b/c+d=e%f", "s3cr3t==", "100%25 sure", "p@ss word:with:colons"], ids=repr
    )
    def test_raw_secret_with_reserved_characters(self, sandbox, basic, get_token, secret):
        sandbox.add_client("special-client", secret)

        body = get_token(client_id="special-client", client_secret=secret)

        assert body["virtual"] is True

    def test_form_encoded_secret_is_not_decoded(self, sandbox, basic):
        sandbox.add_client("special-client", "a+b%2F")
        header = basic("special-client", "a%2Bb%252F")

        response = post_token(sandbox, {"grant_type": "client_credentials"}, {"Authorization": header})

        assert response.status_code == 401

    def test_non_ascii_secret_is_decoded_as_utf8(self, sandbox, basic, get_token):
        sandbox.add_client("utf8-client", "sécret-ção:ü")

        assert get_token(client_id="utf8-client", client_secret="sécret-ção:ü")["virtual"] is True
        latin1 = "Basic " + base64.b64encode("utf8-client:sécret-ção:ü".encode("latin-1")).decode()
        response = post_token(sandbox, {"grant_type": "client_credentials"}, {"Authorization": latin1})
        assert response.status_code == 400

    def test_non_ascii_secret_refused_like_the_reference_server_on_request(self, sandbox, basic):
        settings = requests.post(
            sandbox.url + "/_sandbox/settings", json={"allow_non_ascii_secrets": False}, timeout=10
        )
        sandbox.add_client("utf8-client", "sécret-ção")

        response = post_token(
            sandbox,
            {"grant_type": "client_credentials"},
            {"Authorization": basic("utf8-client", "sécret-ção")},
        )

        assert settings.json()["allow_non_ascii_secrets"] is False
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_request",
            "error_description": "Invalid parameter: `client_secret`",
        }

    @pytest.mark.parametrize(
        "header",
        [
            "Basic "
            + base64.b64encode(b"sandbox-client:sandbox-secret\n").decode(),  # echo "ID:SECRET" | base64
            "Basic " + base64.b64encode(b"sandbox-client").decode(),  # no colon
            "Basic not/base64!",
            "Basic ",
        ],
        ids=["echo-newline", "no-colon", "bad-base64", "empty"],
    )
    def test_malformed_basic_header_means_no_credentials(self, sandbox, header):
        response = post_token(sandbox, {"grant_type": "client_credentials"}, {"Authorization": header})

        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_request",
            "error_description": "Invalid client: cannot retrieve client credentials",
        }

    def test_wrong_secret_over_basic_is_401_with_challenge(self, sandbox, basic):
        response = post_token(
            sandbox, {"grant_type": "client_credentials"}, {"Authorization": basic(CLIENT[0], "wrong")}
        )

        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="Service"'
        assert response.json()["error"] == "invalid_client"

    def test_unknown_client_in_body_is_400_without_challenge(self, sandbox):
        data = {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"}
        response = post_token(sandbox, data)

        assert response.status_code == 400
        assert "WWW-Authenticate" not in response.headers
        assert response.json()["error"] == "invalid_client"

    def test_json_body_is_refused(self, sandbox, basic):
        response = requests.post(
            sandbox.url + "/oauth/token",
            json={"grant_type": "client_credentials"},
            headers={"Authorization": basic(*CLIENT)},
            timeout=10,
        )

        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"

    @pytest.mark.parametrize(
        ("data", "error"),
        [({}, "invalid_request"), ({"grant_type": "authorization_code"}, "unsupported_grant_type")],
    )
    def test_missing_or_unknown_grant(self, sandbox, basic, data, error):
        response = post_token(sandbox, data, {"Authorization": basic(*CLIENT)})

        assert response.status_code == 400
        assert response.json()["error"] == error

    def test_failed_requests_are_counted(self, sandbox, basic):
        post_token(sandbox, {"grant_type": "client_credentials"}, {"Authorization": basic(CLIENT[0], "x")})
        post_token(sandbox, {"grant_type": "client_credentials"}, {"Authorization": basic(*CLIENT)})

        assert sandbox.token_requests == 2
        assert [entry.client_id for entry in sandbox.request_log] == [None, CLIENT[0]]


class TestPasswordAndRefresh:
    def test_password_grant_with_scope(self, sandbox, get_token):
        body = get_token(
            "password", username="alice@example.com", password="alice-password", scope="wallets:read"
        )

        assert body["virtual"] is False
        assert body["scope"] == "wallets:read"
        assert body["refresh_token"] != body["access_token"]
        assert {body["access_token"], body["refresh_token"]} <= set(sandbox.issued_tokens)

    def test_wrong_password_is_invalid_grant(self, sandbox, basic):
        data = {"grant_type": "password", "username": "alice@example.com", "password": "nope"}
        response = post_token(sandbox, data, {"Authorization": basic(*CLIENT)})

        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"

    def test_empty_scope_fails_with_500(self, sandbox, basic):
        data = {
            "grant_type": "password",
            "username": "alice@example.com",
            "password": "alice-password",
            "scope": "",
        }
        response = post_token(sandbox, data, {"Authorization": basic(*CLIENT)})

        assert response.status_code == 500

    def test_refresh_token_is_single_use(self, sandbox, basic, get_token):
        first = get_token(
            "password", username="alice@example.com", password="alice-password", scope="a:b c:d"
        )

        second = get_token("refresh_token", refresh_token=first["refresh_token"])
        reuse = post_token(
            sandbox,
            {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
            {"Authorization": basic(*CLIENT)},
        )

        assert second["refresh_token"] != first["refresh_token"]
        assert second["scope"] == "a:b c:d"
        assert reuse.status_code == 400
        assert reuse.json()["error"] == "invalid_grant"
        assert get_token("refresh_token", refresh_token=second["refresh_token"])["access_token"]

    def test_refresh_token_of_another_client_is_refused(self, sandbox, basic, get_token):
        sandbox.add_client("other-client", "other-secret")
        tokens = get_token("password", username="alice@example.com", password="alice-password")

        response = post_token(
            sandbox,
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            {"Authorization": basic("other-client", "other-secret")},
        )

        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"


class TestRevoke:
    def test_revoke_all_tokens_of_the_user(self, sandbox, get_token, make_api):
        tokens = [get_token()["access_token"] for _ in range(3)]

        response = make_api(tokens[0]).post("/oauth/revoke")

        assert response.status_code == 200
        assert response.json() == {"revoked": True, "count": 3}
        assert make_api(tokens[1]).get("/wallets/root").status_code == 401

    @pytest.mark.parametrize("where", ["query", "form", "json"])
    def test_revoke_one_token(self, sandbox, get_token, make_api, where):
        keep, drop = get_token()["access_token"], get_token()["access_token"]
        api = make_api(keep)
        if where == "query":
            response = api.request("POST", "/oauth/revoke", params={"accessToken": drop})
        elif where == "form":
            response = api.request("POST", "/oauth/revoke", data={"accessToken": drop})
        else:
            response = api.post("/oauth/revoke", {"accessToken": drop})

        assert response.json() == {"revoked": True, "count": 1}
        assert make_api(drop).get("/wallets/root").status_code == 401
        assert api.get("/wallets/root").status_code == 200

    def test_nothing_to_revoke_is_404(self, sandbox, api):
        response = api.post("/oauth/revoke", {"accessToken": "0" * 40})

        assert response.status_code == 404
        assert response.json()["status"] == 404
