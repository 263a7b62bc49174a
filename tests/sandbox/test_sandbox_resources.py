"""Seeded data, paging, wallets, payments and transactions, over HTTP."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
import requests

from airflow_provider_bitcapital.sandbox import SandboxServer


def balance(wallet, code):
    return next(
        (Decimal(asset["balance"]) for asset in wallet["assets"] if asset["code"] == code), Decimal(0)
    )


class TestStatusAndErrors:
    @pytest.mark.parametrize("path", ["/status", "/"])
    def test_status_needs_no_token(self, sandbox, path):
        body = requests.get(sandbox.url + path, timeout=10).json()

        assert body["name"] == "bitcapital-sandbox"
        assert body["env"] == "sandbox"
        assert set(body) == {"name", "version", "env", "uptime"}

    @pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("PUT", "/wallets"), ("GET", "/docs")])
    def test_unknown_route_is_404_in_the_framework_shape(self, sandbox, api, method, path):
        response = api.request(method, path)

        assert response.status_code == 404
        body = response.json()
        assert set(body) == {"status", "message", "stackId", "details"}
        assert (
            body["message"]
            == f"[404] The resource was not found: {method} {path} (stackId: {body['stackId']})"
        )
        assert len(body["stackId"]) == 12


class TestPaging:
    def test_default_page_and_headers(self, sandbox, api):
        response = api.get("/wallets")

        assert response.status_code == 200
        assert len(response.json()) == 25
        assert (response.headers["X-Data-Length"], response.headers["X-Data-Skip"]) == ("300", "0")
        assert response.headers["X-Data-Limit"] == "25"

    def test_all_pages_equal_the_snapshot(self, sandbox, api):
        items, skip = [], 0
        while True:
            page = api.get("/wallets", params={"skip": skip, "limit": 100}).json()
            items += page
            skip += 100
            if len(page) < 100:
                break

        assert items == sandbox.wallets_snapshot()
        assert len({item["id"] for item in items}) == 300

    def test_skip_past_the_end_is_an_empty_page(self, sandbox, api):
        response = api.get("/assets", params={"skip": 10})

        assert response.json() == []
        assert response.headers["X-Data-Length"] == "3"

    @pytest.mark.parametrize("params", [{"limit": "abc"}, {"skip": "-1"}, {"limit": "2.5"}, {"skip": ""}])
    def test_invalid_paging_is_400(self, sandbox, api, params):
        response = api.get("/wallets", params=params)

        assert response.status_code == 400
        assert response.json()["status"] == 400


class TestSeededData:
    def test_same_seed_same_data(self):
        first, second = SandboxServer(wallet_count=20, seed=3), SandboxServer(wallet_count=20, seed=3)

        assert first.wallets_snapshot() == second.wallets_snapshot()
        assert first.wallets_snapshot() != SandboxServer(wallet_count=20, seed=4).wallets_snapshot()

    def test_wallet_count_below_three_is_refused(self):
        with pytest.raises(ValueError, match="wallet_count"):
            SandboxServer(wallet_count=2)

    def test_wallet_shape_and_totals(self, sandbox):
        wallets = sandbox.wallets_snapshot()
        totals = {code: Decimal(0) for code in ("BRLD", "USDX", "EURX")}
        for wallet in wallets:
            assert set(wallet) >= {"id", "status", "user", "assets", "additionalData", "createdAt"}
            assert wallet["createdAt"].endswith("Z")
            for asset in wallet["assets"]:
                assert set(asset) == {"id", "code", "name", "balance", "consolidatedBalance"}
                assert len(asset["balance"].split(".")[1]) == 2
                totals[asset["code"]] += Decimal(asset["balance"])

        assert sandbox.balance_totals() == {code: f"{total:.2f}" for code, total in totals.items()}
        assert {wallet["status"] for wallet in wallets} == {"ready", "pending", "failed"}
        assert 20 <= len({wallet["user"]["id"] for wallet in wallets}) <= 40

    def test_history_is_spread_over_hours_after_the_base_date(self, sandbox, api):
        wallet = next(
            w for w in sandbox.wallets_snapshot()[3:] if api.get(f"/wallets/{w['id']}/transactions").json()
        )

        transactions = api.get(f"/wallets/{wallet['id']}/transactions", params={"limit": 100}).json()
        created = [datetime.fromisoformat(t["createdAt"].replace("Z", "+00:00")) for t in transactions]

        assert created == sorted(created, reverse=True)
        assert all(datetime(2026, 1, 1, tzinfo=timezone.utc) <= moment for moment in created)
        assert all(t["states"][-1]["status"] in ("executed", "failed") for t in transactions)

    @pytest.mark.parametrize("path", ["/assets", "/domains"])
    def test_catalogs(self, sandbox, api, path):
        items = api.get(path).json()

        assert api.get(f"{path}/{items[0]['id']}").json() == items[0]

    def test_roots_and_asset_by_code(self, sandbox, api):
        assert api.get("/domains/root").json()["role"] == "root"
        assert api.get("/assets/BRLD").json()["name"] == "Brazilian Digital Real"
        assert api.get("/wallets/root").json()["id"] == sandbox.wallets_snapshot()[0]["id"]


class TestWallets:
    def test_create_update_delete(self, sandbox, api):
        created = api.post("/wallets", {"additionalData": {"label": "ops"}})
        wallet_id = created.json()["id"]
        updated = api.post(f"/wallets/{wallet_id}", {"additionalData": {"label": "payroll"}})
        deleted = api.request("DELETE", f"/wallets/{wallet_id}")

        assert created.status_code == 200
        assert created.json()["status"] == "ready"
        assert created.json()["assets"] == []
        assert updated.json()["additionalData"] == {"label": "payroll"}
        assert deleted.status_code == 200
        assert api.get(f"/wallets/{wallet_id}").status_code == 404
        assert api.get("/wallets").headers["X-Data-Length"] == "300"

    def test_wallet_holding_money_cannot_be_deleted(self, sandbox, api):
        response = api.request("DELETE", "/wallets/" + sandbox.wallets_snapshot()[1]["id"])

        assert response.status_code == 400


class TestPayments:
    def test_payment_moves_balances_and_settles_after_reads(self, sandbox, api, ready_wallets):
        source, destination = ready_wallets[0], ready_wallets[1]
        totals_before = sandbox.balance_totals()

        response = api.pay(source["id"], destination["id"], "10.25")

        assert response.status_code == 200, response.text
        payment = response.json()
        assert (payment["type"], payment["amount"], payment["asset"]["code"]) == ("transfer", "10.25", "BRLD")
        assert (payment["source"], payment["destination"]) == (source["id"], destination["id"])
        assert payment["transaction"]["status"] == "pending"
        assert balance(api.get(f"/wallets/{source['id']}").json(), "BRLD") == balance(
            source, "BRLD"
        ) - Decimal("10.25")
        assert balance(api.get(f"/wallets/{destination['id']}").json(), "BRLD") == balance(
            destination, "BRLD"
        ) + Decimal("10.25")
        assert sandbox.balance_totals() == totals_before
        assert sandbox.stats()["payments_created"] == 1

        transaction_id = payment["transaction"]["id"]
        statuses = [api.get(f"/transactions/{transaction_id}").json()["status"] for _ in range(4)]
        assert statuses == ["pending", "pending", "executed", "executed"]
        final = api.get(f"/transactions/{transaction_id}").json()
        assert [state["status"] for state in final["states"]] == ["pending", "executed"]
        assert api.get(f"/payments/{payment['id']}").json()["status"] == "executed"

    def test_settle_after_reads_is_a_setting(self, sandbox, api, ready_wallets):
        requests.post(sandbox.url + "/_sandbox/settings", json={"settle_after_reads": 0}, timeout=10)
        payment = api.pay(ready_wallets[0]["id"], ready_wallets[1]["id"], "1.00").json()

        assert api.get(f"/transactions/{payment['transaction']['id']}").json()["status"] == "executed"

    def test_several_recipients_make_one_transaction(self, sandbox, api, ready_wallets):
        body = {
            "source": ready_wallets[0]["id"],
            "recipients": [
                {"destination": ready_wallets[1]["id"], "amount": "1.00", "asset": "BRLD"},
                {"destination": ready_wallets[2]["id"], "amount": "2.00", "asset": "BRLD"},
            ],
        }

        payment = api.signed_post("/payments", body).json()

        assert payment["destination"] == ready_wallets[1]["id"]
        assert [p["amount"] for p in payment["transaction"]["payments"]] == ["1.00", "2.00"]
        assert sandbox.stats()["payments_created"] == 2
        history = api.get(f"/wallets/{ready_wallets[2]['id']}/payments").json()
        assert history[0]["id"] == payment["transaction"]["payments"][1]["id"]

    @pytest.mark.parametrize(
        ("amount", "status"), [("0", 400), ("-1.00", 400), ("1e3", 400), (10, 400), ("99999999.00", 400)]
    )
    def test_invalid_amount_or_insufficient_balance(self, sandbox, api, ready_wallets, amount, status):
        response = api.pay(ready_wallets[0]["id"], ready_wallets[1]["id"], amount)

        assert response.status_code == status
        assert sandbox.stats()["payments_created"] == 0

    def test_unknown_wallet_is_404(self, sandbox, api, ready_wallets):
        response = api.pay(ready_wallets[0]["id"], "00000000-0000-4000-8000-000000000000", "1.00")

        assert response.status_code == 404
        assert response.json()["message"].startswith("[404] Wallet not found")

    def test_emit_and_withdraw(self, sandbox, api, ready_wallets):
        wallet_id = ready_wallets[0]["id"]
        before = Decimal(sandbox.balance_totals()["BRLD"])

        emitted = api.signed_post("/assets/BRLD/emit", {"amount": "5.00", "destination": wallet_id})
        withdrawn = api.signed_post("/payments/withdraw/bank-1", {"source": wallet_id, "amount": "2.00"})

        assert (emitted.json()["type"], withdrawn.json()["type"]) == ("emit", "withdrawal")
        assert Decimal(sandbox.balance_totals()["BRLD"]) == before + 3
