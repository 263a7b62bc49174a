"""Parallel tasks under a real scheduler share one token through the host-wide file cache.

Airflow runs here as it does in a deployment: the API server, the scheduler with the
LocalExecutor, the DAG processor and the triggerer, each a process of its own, on a temporary
SQLite home. The LocalExecutor runs every task in a fresh process, so the only thing the eight
tasks of the DAG can share a token through is the connection's default ``token_cache=file``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.local_airflow import LocalAirflow

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

DAG_ID = "bitcapital_parallel_tokens"
DAG_FILE = Path(__file__).parent / "dags" / f"{DAG_ID}.py"
TASKS = 8
DAG_TIMEOUT_SECONDS = 180
RUN_TIMEOUT_SECONDS = 240


@pytest.fixture
def airflow_deployment(tmp_path: Path, bitcapital_sandbox: Any) -> Iterator[LocalAirflow]:
    """Start Airflow against the sandbox, with the connection in every component's environment."""
    deployment = LocalAirflow(
        tmp_path / "airflow-home",
        [DAG_FILE],
        # No extras: the connection keeps its default token cache, the file shared by the host.
        {"AIRFLOW_CONN_BITCAPITAL_DEFAULT": bitcapital_sandbox.connection_json()},
        parallelism=TASKS,
    )
    try:
        with deployment.diagnostics_on_failure():
            deployment.start()
        yield deployment
    finally:
        deployment.stop()


def test_parallel_tasks_in_separate_processes_share_one_token(
    airflow_deployment: LocalAirflow,
    bitcapital_sandbox: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    barrier = tmp_path / "barrier"

    with airflow_deployment.diagnostics_on_failure():
        dag = airflow_deployment.wait_for_dag(DAG_ID, timeout=DAG_TIMEOUT_SECONDS)
        assert dag["is_paused"] is False
        run_id = airflow_deployment.trigger(DAG_ID, {"barrier_dir": str(barrier), "parties": TASKS})
        state = airflow_deployment.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT_SECONDS)
        task_states = airflow_deployment.task_states(DAG_ID, run_id)
        calls = [json.loads(path.read_text()) for path in barrier.glob("*.called")]

        assert state == "success", task_states
        assert task_states == {f"call_bitcapital[{index}]": "success" for index in range(TASKS)}
        assert sorted(call["index"] for call in calls) == list(range(TASKS))
        assert len({call["pid"] for call in calls}) == TASKS, "every task should run in its own process"
        assert [call["siblings_ready"] for call in calls] == [TASKS] * TASKS, (
            "the tasks did not all run at the same time, so they never raced for the token"
        )
        assert bitcapital_sandbox.count("GET", "/users/me") == TASKS
        assert bitcapital_sandbox.token_requests == 1
        assert len(list((airflow_deployment.home / "bitcapital-tokens").glob("*.token"))) == 1

    with capsys.disabled():
        print(
            f"\n{DAG_ID}: {TASKS} tasks in {TASKS} processes under the scheduler, "
            f"{bitcapital_sandbox.token_requests} token request, "
            f"in {time.monotonic() - airflow_deployment.created:.0f} s with Airflow's start-up"
        )
