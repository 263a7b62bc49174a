"""The sensor and its trigger, in real DAG runs against the sandbox."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_bitcapital.exceptions import BitcapitalConfigError
from airflow_provider_bitcapital.sensors.bitcapital import BitcapitalSensor
from airflow_provider_bitcapital.triggers.bitcapital import BitcapitalTrigger, field_value
from tests.conftest import DagRunner, task_states, xcom_values

SETTLE_READS = 2  # the sandbox reports a new transaction as pending for its first two reads


def transaction_reads(server: Any, transaction_id: str) -> int:
    return server.count("GET", f"/transactions/{transaction_id}")


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_sensor_waits_until_the_transaction_is_executed(
    bitcapital_sandbox: Any, run_dag: DagRunner, mode: str
) -> None:
    dag_run = run_dag(f"bitcapital_sensor_{mode}")
    assert task_states(dag_run) == {"pay": "success", "wait": "success"}
    values = xcom_values(dag_run)
    assert values["wait"]["id"] == values["pay"]
    assert values["wait"]["status"] == "executed"
    assert transaction_reads(bitcapital_sandbox, values["pay"]) == SETTLE_READS + 1


def test_deferrable_sensor_defers_and_resumes_on_the_event(
    bitcapital_sandbox: Any,
    run_dag: DagRunner,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    dag_run = run_dag("bitcapital_sensor_deferrable")
    output = capsys.readouterr().out + caplog.text
    assert task_states(dag_run) == {"pay": "success", "wait": "success"}
    values = xcom_values(dag_run)
    assert values["wait"]["status"] == "executed"
    assert "running trigger in line" in output
    assert "succeeded after 2 polls in the triggerer" in output
    # One read on the worker before deferring, two from the trigger.
    assert transaction_reads(bitcapital_sandbox, values["pay"]) == SETTLE_READS + 1


def test_failure_value_fails_the_sensor_at_once(bitcapital_sandbox: Any, run_dag: DagRunner) -> None:
    dag_run = run_dag("bitcapital_sensor_failure_value")
    assert task_states(dag_run) == {"pay": "success", "wait": "failed"}
    assert transaction_reads(bitcapital_sandbox, xcom_values(dag_run)["pay"]) == 1


def test_trigger_serializes_round_trip() -> None:
    trigger = BitcapitalTrigger(
        endpoint="/transactions/t1",
        bitcapital_conn_id="other",
        query_params={"a": 1},
        success_field="status",
        success_values=["executed"],
        failure_values=["failed"],
        poll_interval=5,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_bitcapital.triggers.bitcapital.BitcapitalTrigger"
    again = BitcapitalTrigger(**kwargs)
    assert again.serialize() == (classpath, kwargs)


def test_trigger_yields_an_error_event_for_an_api_error(bitcapital_sandbox: Any) -> None:
    trigger = BitcapitalTrigger(endpoint="/transactions/nope", success_field="status", poll_interval=0.1)

    async def first_event() -> Any:
        async for event in trigger.run():
            return event.payload
        return None

    payload = asyncio.run(first_event())
    assert payload["status"] == "error"
    assert "HTTP 404" in payload["message"]


@pytest.mark.parametrize(
    ("document", "path", "value"),
    [
        ({"status": "ok"}, "status", "ok"),
        ({"transaction": {"status": "executed"}}, "transaction.status", "executed"),
        ({"states": [{"status": "pending"}]}, "states.0.status", "pending"),
        ({"states": []}, "states.0.status", None),
        ({"a": 1}, None, {"a": 1}),
    ],
)
def test_field_value(document: Any, path: str | None, value: Any) -> None:
    assert field_value(document, path) == value


def test_deferrable_refuses_a_callable_check() -> None:
    with pytest.raises(BitcapitalConfigError, match="cannot run in the triggerer"):
        BitcapitalSensor(task_id="s", endpoint="/x", deferrable=True, response_check=lambda document: True)


def test_trigger_yields_a_timeout_event(bitcapital_sandbox: Any, sandbox_connection: Any) -> None:
    from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
    from tests.client.test_retries import payment_between

    bitcapital_sandbox.settle_after_reads = 1000
    hook = BitcapitalHook()
    transaction = hook.post("/payments", json=payment_between(bitcapital_sandbox, hook))["transaction"]["id"]
    trigger = BitcapitalTrigger(
        endpoint=f"/transactions/{transaction}",
        success_field="status",
        success_values=["executed"],
        poll_interval=0.05,
        timeout=0.3,
    )

    async def first_event() -> Any:
        async for event in trigger.run():
            return event.payload
        return None

    payload = asyncio.run(first_event())
    assert payload["status"] == "timeout"
    assert payload["value"]["status"] == "pending"
    assert payload["polls"] == bitcapital_sandbox.count("GET", f"/transactions/{transaction}")
    assert payload["polls"] >= 2


def test_pokes_share_one_hook_and_its_connection(bitcapital_sandbox: Any) -> None:
    sensor = BitcapitalSensor(task_id="wait", endpoint="/status", success_field="name", poke_interval=1)
    first = sensor.poke({})  # type: ignore[arg-type]
    session = sensor.hook.client.session
    second = sensor.poke({})  # type: ignore[arg-type]
    assert bool(first)
    assert bool(second)
    assert sensor.hook.client.session is session
    assert bitcapital_sandbox.count("GET", "/status") == 2
    assert bitcapital_sandbox.token_requests == 1
