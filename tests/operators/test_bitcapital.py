"""The operator inside real DAG runs (``dag.test()`` on SQLite) against the sandbox."""

from __future__ import annotations

from typing import Any

from airflow_provider_bitcapital.operators.bitcapital import BitcapitalOperator
from tests.conftest import DagRunner, task_states, xcom_values


def list_queries(server: Any) -> list[str]:
    return [entry.query for entry in server.request_log if entry.path == "/wallets"]


def test_paginate_with_max_items_and_filter(bitcapital_sandbox: Any, run_dag: DagRunner) -> None:
    dag_run = run_dag("bitcapital_operator_paginate")
    assert task_states(dag_run) == {"first_wallets": "success"}
    expected = [wallet["id"] for wallet in bitcapital_sandbox.wallets_snapshot()[:7]]
    assert xcom_values(dag_run)["first_wallets"] == expected
    assert list_queries(bitcapital_sandbox) == ["skip=0&limit=3", "skip=3&limit=3", "skip=6&limit=1"]


def test_templated_endpoint_check_and_filter(bitcapital_sandbox: Any, run_dag: DagRunner) -> None:
    dag_run = run_dag("bitcapital_operator_templated")
    assert task_states(dag_run) == {"list": "success", "one": "success"}
    values = xcom_values(dag_run)
    wallet = bitcapital_sandbox.wallets_snapshot()[2]
    assert len(values["list"]) == 5
    assert values["one"] == {"id": wallet["id"], "assets": len(wallet["assets"])}
    assert bitcapital_sandbox.token_requests == 1


def test_false_response_check_fails_the_task(bitcapital_sandbox: Any, run_dag: DagRunner) -> None:
    assert task_states(run_dag("bitcapital_operator_check_fails")) == {"status": "failed"}


def test_api_error_fails_the_task(bitcapital_sandbox: Any, run_dag: DagRunner) -> None:
    assert task_states(run_dag("bitcapital_operator_api_error")) == {"missing": "failed"}
    assert bitcapital_sandbox.count("GET", "/wallets/not-a-wallet") == 1


def test_construction_does_no_io(bitcapital_sandbox: Any) -> None:
    operators = [
        BitcapitalOperator(
            task_id=f"t{index}", endpoint="/wallets", bitcapital_conn_id="not_defined_anywhere"
        )
        for index in range(200)
    ]
    assert len(operators) == 200
    assert bitcapital_sandbox.count() == 0


def test_template_fields() -> None:
    assert set(BitcapitalOperator.template_fields) == {
        "endpoint",
        "method",
        "query_params",
        "json",
        "headers",
        "bitcapital_conn_id",
    }
