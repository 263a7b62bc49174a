"""DAGs that the operator and sensor tests run with ``dag.test()`` against the sandbox."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, task

from airflow_provider_bitcapital.operators.bitcapital import BitcapitalOperator
from airflow_provider_bitcapital.sensors.bitcapital import BitcapitalSensor

START = datetime(2026, 1, 1, tzinfo=timezone.utc)

with DAG("bitcapital_operator_paginate", schedule=None, start_date=START):
    BitcapitalOperator(
        task_id="first_wallets",
        endpoint="/wallets",
        paginate=True,
        page_size=3,
        max_items=7,
        response_filter=lambda wallets: [wallet["id"] for wallet in wallets],
    )

with DAG("bitcapital_operator_templated", schedule=None, start_date=START, params={"wallet_index": 2}):
    first = BitcapitalOperator(task_id="list", endpoint="/wallets", query_params={"limit": 5})
    BitcapitalOperator(
        task_id="one",
        endpoint="/wallets/{{ ti.xcom_pull(task_ids='list')[params.wallet_index]['id'] }}",
        response_check=lambda wallet: wallet["status"] in ("ready", "pending", "failed", "registered"),
        response_filter=lambda wallet: {"id": wallet["id"], "assets": len(wallet["assets"])},
    ).set_upstream(first)

with DAG("bitcapital_operator_check_fails", schedule=None, start_date=START):
    BitcapitalOperator(task_id="status", endpoint="/status", response_check=lambda status: False)

with DAG("bitcapital_operator_deferred", schedule=None, start_date=START):
    BitcapitalOperator(
        task_id="me", endpoint="/users/me", deferrable=True, response_filter=lambda me: {"id": me["id"]}
    )

with DAG("bitcapital_operator_xcom_guard", schedule=None, start_date=START):
    BitcapitalOperator(
        task_id="too_many", endpoint="/wallets", paginate=True, page_size=20, max_xcom_items=50
    )
    BitcapitalOperator(
        task_id="filtered",
        endpoint="/wallets",
        paginate=True,
        max_xcom_items=50,
        response_filter=lambda wallets: sorted({wallet["status"] for wallet in wallets}),
    )

with DAG("bitcapital_operator_api_error", schedule=None, start_date=START):
    BitcapitalOperator(task_id="missing", endpoint="/wallets/not-a-wallet", retries=0)


@task
def pay() -> str:
    """Send a small signed payment between two seeded wallets and return its transaction id."""
    from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

    hook = BitcapitalHook()
    wallets = [w for w in hook.paginate("/wallets", max_items=50) if w["status"] == "ready" and w["assets"]]
    source = wallets[0]
    code = source["assets"][0]["code"]
    destination = next(w for w in wallets[1:] if any(a["code"] == code for a in w["assets"]))
    recipient = {"destination": destination["id"], "amount": "0.01", "asset": code}
    payment = hook.post("/payments", json={"source": source["id"], "recipients": [recipient]})
    return str(payment["transaction"]["id"])


for mode, deferrable in (("poke", False), ("reschedule", False), ("poke", True)):
    name = "deferrable" if deferrable else mode
    with DAG(f"bitcapital_sensor_{name}", schedule=None, start_date=START):
        pay() >> BitcapitalSensor(
            task_id="wait",
            endpoint="/transactions/{{ ti.xcom_pull(task_ids='pay') }}",
            success_field="status",
            success_values=["executed", "notified"],
            failure_values=["failed"],
            mode=mode,
            deferrable=deferrable,
            poke_interval=0.2,
            timeout=60,
        )

with DAG("bitcapital_sensor_failure_value", schedule=None, start_date=START):
    pay() >> BitcapitalSensor(
        task_id="wait",
        endpoint="/transactions/{{ ti.xcom_pull(task_ids='pay') }}",
        success_field="status",
        success_values=["failed"],
        failure_values=["pending"],
        poke_interval=0.2,
        timeout=60,
    )
