"""The operator inside real DAG runs (``dag.test()`` on SQLite) against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_bitcapital.exceptions import BitcapitalConfigError
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


def test_deferrable_get_runs_in_the_trigger(
    bitcapital_sandbox: Any, run_dag: DagRunner, caplog: pytest.LogCaptureFixture
) -> None:
    dag_run = run_dag("bitcapital_operator_deferred")
    assert task_states(dag_run) == {"me": "success"}
    assert xcom_values(dag_run)["me"]["id"]
    assert "running trigger in line" in caplog.text
    assert bitcapital_sandbox.count("GET", "/users/me") == 1


def test_xcom_guard_stops_paging_unless_a_filter_reduces(bitcapital_sandbox: Any, run_dag: DagRunner) -> None:
    dag_run = run_dag("bitcapital_operator_xcom_guard")
    assert task_states(dag_run) == {"too_many": "failed", "filtered": "success"}
    assert set(xcom_values(dag_run)["filtered"]) <= {"ready", "pending", "failed", "registered"}
    too_many_pages = [
        e for e in bitcapital_sandbox.request_log if e.path == "/wallets" and "limit=20" in e.query
    ]
    assert len(too_many_pages) == 3  # stopped at the 51st item instead of reading all 300


@pytest.mark.parametrize("arguments", [{"method": "POST"}, {"method": "delete"}, {"paginate": True}])
def test_deferrable_refuses_what_is_not_a_single_get(arguments: dict[str, Any]) -> None:
    with pytest.raises(BitcapitalConfigError, match="deferrable"):
        BitcapitalOperator(task_id="t", endpoint="/payments", deferrable=True, **arguments)


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
