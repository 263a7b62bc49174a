"""Fault injection, counters and the /_sandbox control endpoints, over HTTP."""

from __future__ import annotations

import time

import pytest
import requests


def get(sandbox, path, **kwargs):
    kwargs.setdefault("timeout", 10)
    return requests.get(sandbox.url + path, **kwargs)


class TestFaultAnswers:
    def test_status_with_json(self, sandbox):
        sandbox.inject("/status", status=418, json={"custom": True})

        response = get(sandbox, "/status")

        assert response.status_code == 418
        assert response.json() == {"custom": True}
        assert get(sandbox, "/status").status_code == 200

    def test_status_alone_answers_the_framework_shape(self, sandbox, api):
        sandbox.inject("/wallets", status=503)

        response = api.get("/wallets")

        assert response.status_code == 503
        body = response.json()
        assert body["status"] == 503
        assert body["message"].startswith("[503] Service Unavailable: GET /wallets (stackId: ")

    def test_html_gateway_page_with_retry_after(self, sandbox):
        sandbox.inject(
            "/status",
            status=502,
            body="<html><h1>502 Bad Gateway</h1></html>",
            content_type="text/html",
            retry_after=7,
        )

        response = get(sandbox, "/status")

        assert response.status_code == 502
        assert response.headers["Content-Type"] == "text/html"
        assert response.headers["Retry-After"] == "7"
        assert response.text.startswith("<html>")

    def test_malformed_json_on_200(self, sandbox):
        sandbox.inject("/status", body='{"name": "bitcap', content_type="application/json")

        response = get(sandbox, "/status")

        assert response.status_code == 200
        with pytest.raises(requests.exceptions.JSONDecodeError):
            response.json()

    def test_headers_alone_decorate_the_real_answer(self, sandbox):
        sandbox.inject("/status", headers={"X-Trace": "abc"}, retry_after="Wed, 21 Oct 2026 07:28:00 GMT")

        response = get(sandbox, "/status")

        assert response.json()["name"] == "bitcapital-sandbox"
        assert response.headers["X-Trace"] == "abc"
        assert response.headers["Retry-After"] == "Wed, 21 Oct 2026 07:28:00 GMT"

    def test_redirect_is_not_followed_by_the_sandbox(self, sandbox):
        sandbox.inject("/status", status=302, headers={"Location": "http://other-host.invalid/status"})

        response = get(sandbox, "/status", allow_redirects=False)

        assert response.status_code == 302
        assert response.headers["Location"] == "http://other-host.invalid/status"

    def test_delay_then_real_answer(self, sandbox):
        sandbox.inject("/status", delay=0.3)
        started = time.monotonic()

        response = get(sandbox, "/status")

        assert response.status_code == 200
        assert time.monotonic() - started >= 0.3

    def test_delay_causes_a_read_timeout(self, sandbox):
        sandbox.inject("/status", delay=0.5)

        with pytest.raises(requests.exceptions.ReadTimeout):
            get(sandbox, "/status", timeout=0.1)


class TestDroppedConnection:
    def test_drop_is_a_connection_error_not_an_http_answer(self, sandbox):
        sandbox.inject("/status", drop=True)

        with pytest.raises(requests.exceptions.ConnectionError) as caught:
            get(sandbox, "/status")

        assert not isinstance(caught.value, requests.exceptions.Timeout)
        assert "without response" in str(caught.value) or "aborted" in str(caught.value)
        assert sandbox.count("GET", "/status") == 1

    def test_drop_on_a_kept_alive_connection(self, sandbox):
        session = requests.Session()
        assert session.get(sandbox.url + "/status", timeout=10).status_code == 200
        sandbox.inject("/status", drop=True)

        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(sandbox.url + "/status", timeout=10)
        assert session.get(sandbox.url + "/status", timeout=10).status_code == 200

    def test_drop_after_the_payment_is_made(self, sandbox, api, ready_wallets):
        sandbox.inject("/payments", method="POST", drop=True, when="after")

        with pytest.raises(requests.exceptions.ConnectionError):
            api.pay(ready_wallets[0]["id"], ready_wallets[1]["id"], "1.00")

        assert sandbox.stats()["payments_created"] == 1


class TestMatching:
    def test_after_runs_the_handler_then_answers_the_fault(self, sandbox, api, ready_wallets):
        sandbox.inject("/payments", method="POST", status=500, when="after")

        response = api.pay(ready_wallets[0]["id"], ready_wallets[1]["id"], "1.00")

        assert response.status_code == 500
        assert response.json()["status"] == 500
        assert sandbox.stats()["payments_created"] == 1

    def test_before_does_not_run_the_handler(self, sandbox, api, ready_wallets):
        sandbox.inject("/payments", method="POST", status=504)

        assert api.pay(ready_wallets[0]["id"], ready_wallets[1]["id"], "1.00").status_code == 504
        assert sandbox.stats()["payments_created"] == 0

    def test_times_and_order(self, sandbox):
        sandbox.inject("/status", status=503, times=2)
        sandbox.inject("/status", status=429)

        statuses = [get(sandbox, "/status").status_code for _ in range(4)]

        assert statuses == [503, 503, 429, 200]

    def test_glob_and_method(self, sandbox, api):
        wallet_id = sandbox.wallets_snapshot()[5]["id"]
        sandbox.inject("/wallets/*", method="POST", status=500)
        sandbox.inject("/wallets/*", method="GET", status=404, times=2)

        assert api.get(f"/wallets/{wallet_id}").status_code == 404
        assert api.get(f"/wallets/{wallet_id}/transactions").status_code == 404
        assert api.get(f"/wallets/{wallet_id}").status_code == 200
        assert api.get("/wallets").status_code == 200

    def test_token_endpoint_fault(self, sandbox, basic):
        sandbox.inject("/oauth/token", status=503, retry_after=1)

        response = requests.post(
            sandbox.url + "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic("sandbox-client", "sandbox-secret")},
            timeout=10,
        )

        assert response.status_code == 503
        assert sandbox.token_requests == 1
        assert sandbox.issued_tokens == [] or response.text not in sandbox.issued_tokens

    def test_clear_faults(self, sandbox):
        sandbox.inject("/status", status=500, times=5)
        sandbox.clear_faults()

        assert get(sandbox, "/status").status_code == 200

    @pytest.mark.parametrize(
        "arguments",
        [
            {"status": 700},
            {"when": "during", "status": 500},
            {"times": 0, "status": 500},
            {"drop": True, "status": 500},
            {"json": {}, "body": "x"},
            {"delay": -1},
            {},
        ],
    )
    def test_invalid_faults_are_refused(self, sandbox, arguments):
        with pytest.raises(ValueError, match="fault"):
            sandbox.inject("/status", **arguments)


class TestControlEndpoints:
    def test_faults_over_http(self, sandbox):
        created = requests.post(
            sandbox.url + "/_sandbox/faults", json={"path": "/status", "status": 503, "times": 2}, timeout=10
        )

        assert created.json() == {"ok": True, "faults": 1}
        assert get(sandbox, "/status").status_code == 503
        assert requests.delete(sandbox.url + "/_sandbox/faults", timeout=10).status_code == 200
        assert get(sandbox, "/status").status_code == 200

    @pytest.mark.parametrize("fault", [{"status": 503}, {"path": "/x", "unknown": 1}, {"path": "/x"}, [1]])
    def test_invalid_fault_over_http_is_400(self, sandbox, fault):
        response = requests.post(sandbox.url + "/_sandbox/faults", json=fault, timeout=10)

        assert response.status_code == 400
        assert response.json()["message"].startswith("[400] Invalid fault")

    def test_glob_star_does_not_touch_control_endpoints(self, sandbox):
        sandbox.inject("/*", status=500, times=10)

        stats = requests.get(sandbox.url + "/_sandbox/stats", timeout=10)

        assert stats.status_code == 200
        assert stats.json() == {"token_requests": 0, "requests": {}, "payments_created": 0}

    def test_settings_reset_and_revoke_over_http(self, sandbox, api):
        settings = requests.post(sandbox.url + "/_sandbox/settings", json={"token_lifetime": 30}, timeout=10)
        revoked = requests.post(sandbox.url + "/_sandbox/revoke-all", timeout=10)

        assert settings.json()["token_lifetime"] == 30
        assert sandbox.token_lifetime == 30
        assert revoked.json() == {"ok": True, "revoked": 1}
        assert api.get("/wallets/root").status_code == 401

        requests.post(sandbox.url + "/_sandbox/reset", timeout=10)
        assert sandbox.token_lifetime == 3600
        assert sandbox.stats()["requests"] == {}

    def test_invalid_settings_are_400(self, sandbox):
        response = requests.post(
            sandbox.url + "/_sandbox/settings", json={"token_lifetime": "soon"}, timeout=10
        )

        assert response.status_code == 400
        assert sandbox.token_lifetime == 3600


class TestCounters:
    def test_count_stats_and_log(self, sandbox, api):
        api.get("/wallets", params={"limit": 5})
        api.get("/wallets")
        get(sandbox, "/status")
        requests.get(sandbox.url + "/_sandbox/stats", timeout=10)

        assert sandbox.count("GET", "/wallets") == 2
        assert sandbox.count(path="/wallets") == 2
        assert sandbox.count("POST") == 1
        assert sandbox.count() == 4
        assert sandbox.stats() == {
            "token_requests": 1,
            "requests": {"POST /oauth/token": 1, "GET /wallets": 2, "GET /status": 1},
            "payments_created": 0,
        }
        first_list = sandbox.request_log[1]
        assert (first_list.method, first_list.path, first_list.query) == ("GET", "/wallets", "limit=5")
        assert first_list.headers["authorization"].startswith("Bearer ")
        assert first_list.client_id == "sandbox-client"
        assert sandbox.request_log[3].client_id is None

    def test_faulted_requests_count(self, sandbox):
        sandbox.inject("/status", status=500)
        get(sandbox, "/status")

        assert sandbox.count("GET", "/status") == 1

    def test_reset_counters_keeps_data_and_tokens(self, sandbox, api, ready_wallets):
        api.pay(ready_wallets[0]["id"], ready_wallets[1]["id"], "1.00")
        totals = sandbox.balance_totals()
        snapshot = sandbox.wallets_snapshot()

        sandbox.reset_counters()

        assert sandbox.stats() == {"token_requests": 0, "requests": {}, "payments_created": 0}
        assert sandbox.request_log == []
        assert sandbox.wallets_snapshot() == snapshot
        assert sandbox.balance_totals() == totals
        assert api.get("/wallets/root").status_code == 200

    def test_reset_restores_data_and_forgets_tokens(self, sandbox, api, ready_wallets):
        fresh = sandbox.wallets_snapshot()
        sandbox.add_client("temporary", "client")
        api.pay(ready_wallets[0]["id"], ready_wallets[1]["id"], "1.00")
        issued = sandbox.issued_tokens

        sandbox.reset()

        assert sandbox.wallets_snapshot() == fresh
        assert api.get("/wallets/root").status_code == 401
        assert sandbox.issued_tokens == issued
        response = requests.post(
            sandbox.url + "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "temporary", "client_secret": "client"},
            timeout=10,
        )
        assert response.status_code == 400
