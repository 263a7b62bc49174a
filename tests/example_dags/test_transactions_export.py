"""The hourly transactions export, run by Airflow against the sandbox."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import DagRunner, task_states, xcom_values

DAG_ID = "example_bitcapital_transactions_export"
# The seeded history spreads over the 14 days after 2026-01-01; these runs export hours inside it.
MIDDLE_RUN = datetime(2026, 1, 8, 13, tzinfo=timezone.utc)
LATE_RUN = datetime(2026, 1, 14, 20, tzinfo=timezone.utc)
HISTORY_PATH = "/wallets/{}/transactions"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def histories(bitcapital_sandbox_server: Any) -> dict[str, list[dict[str, Any]]]:
    """Every wallet's whole history, read over HTTP from the freshly seeded sandbox, newest first.

    The seeded data is the same after every reset, so it is read once for the module; each test's
    ``bitcapital_sandbox`` resets the sandbox and its counters afterwards.
    """
    server = bitcapital_sandbox_server
    server.reset()
    token = requests.post(
        f"{server.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(server.client_id, server.client_secret),
        timeout=10,
    ).json()["access_token"]
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        histories = {}
        for wallet in server.wallets_snapshot():
            answer = session.get(
                server.url + HISTORY_PATH.format(wallet["id"]), params={"limit": 1000}, timeout=10
            )
            answer.raise_for_status()
            assert answer.headers["X-Data-Length"] == str(len(answer.json()))
            histories[wallet["id"]] = answer.json()
    return histories


def ids_created_in(histories: dict[str, list[dict[str, Any]]], start: datetime, end: datetime) -> set[str]:
    return {
        transaction["id"]
        for history in histories.values()
        for transaction in history
        if start <= parse_time(transaction["createdAt"]) < end
    }


def oldest_first(histories: dict[str, list[dict[str, Any]]], transaction_ids: set[str]) -> list[str]:
    created = {
        transaction["id"]: parse_time(transaction["createdAt"])
        for history in histories.values()
        for transaction in history
    }
    return sorted(transaction_ids, key=lambda transaction_id: (created[transaction_id], transaction_id))


def history_pages_needed(history: list[dict[str, Any]], start: datetime, page_size: int) -> int:
    """Pages a lazy reader fetches to reach the first transaction older than ``start``, or the end."""
    for index, transaction in enumerate(history):
        if parse_time(transaction["createdAt"]) < start:
            return index // page_size + 1
    return max(1, -(-len(history) // page_size))


def history_requests(server: Any) -> Counter[str]:
    return Counter(
        request.path
        for request in server.request_log
        if request.method == "GET" and request.path.endswith("/transactions")
    )


def test_export_writes_exactly_the_interval_transactions(
    histories: dict[str, list[dict[str, Any]]], bitcapital_sandbox: Any, run_dag: DagRunner, tmp_path: Path
) -> None:
    dag_run = run_dag(DAG_ID, logical_date=MIDDLE_RUN, run_conf={"export_dir": str(tmp_path)})

    assert task_states(dag_run) == {"export_transactions": "success"}
    start, end = dag_run.data_interval_start, dag_run.data_interval_end
    assert (start, end) == (MIDDLE_RUN - timedelta(hours=1), MIDDLE_RUN)
    expected = ids_created_in(histories, start, end)
    assert len(expected) >= 2, "pick an hour of the seeded history with a few transactions"
    path = tmp_path / "transactions-20260108T12.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [row["id"] for row in rows] == oldest_first(histories, expected)
    assert all(row["payments"] and row["status"] in ("executed", "failed") for row in rows)

    summary = xcom_values(dag_run)["export_transactions"]
    assert summary == {
        "interval_start": start.isoformat(),
        "interval_end": end.isoformat(),
        "wallets": len(histories),
        "rows": len(expected),
        "path": str(path),
    }
    assert bitcapital_sandbox.count("GET", "/wallets") == 3
    assert history_requests(bitcapital_sandbox) == Counter(
        {HISTORY_PATH.format(wallet_id): 1 for wallet_id in histories}
    )
    assert bitcapital_sandbox.count() == 1 + 3 + len(histories)
    assert bitcapital_sandbox.token_requests == 1


def test_paging_stops_at_the_interval_and_a_rerun_rewrites_the_same_file(
    histories: dict[str, list[dict[str, Any]]], bitcapital_sandbox: Any, run_dag: DagRunner, tmp_path: Path
) -> None:
    path = tmp_path / "transactions-20260114T19.jsonl"
    path.write_text('{"id": "left over from an interrupted export"}\n')

    first = run_dag(DAG_ID, logical_date=LATE_RUN, run_conf={"export_dir": str(tmp_path), "page_size": 5})

    assert task_states(first) == {"export_transactions": "success"}
    start, end = first.data_interval_start, first.data_interval_end
    expected = ids_created_in(histories, start, end)
    content = path.read_bytes()
    assert expected
    assert [json.loads(line)["id"] for line in content.decode().splitlines()] == oldest_first(
        histories, expected
    )
    # Five at a time, each history is read only down to its first transaction older than the hour.
    needed = {
        HISTORY_PATH.format(wallet_id): history_pages_needed(history, start, page_size=5)
        for wallet_id, history in histories.items()
    }
    every_page = sum(max(1, -(-len(history) // 5)) for history in histories.values())
    assert history_requests(bitcapital_sandbox) == Counter(needed)
    assert sum(needed.values()) < every_page / 2
    assert bitcapital_sandbox.count("GET", "/wallets") == 60

    second = run_dag(DAG_ID, logical_date=LATE_RUN, run_conf={"export_dir": str(tmp_path)})

    assert task_states(second) == {"export_transactions": "success"}
    assert path.read_bytes() == content
    assert sorted(item.name for item in tmp_path.iterdir()) == [path.name]
    assert xcom_values(second)["export_transactions"]["rows"] == len(expected)


@pytest.mark.parametrize("page_size", [0, 1001])
def test_page_size_outside_the_api_limits_is_refused_before_any_request(
    bitcapital_sandbox: Any, run_dag: DagRunner, tmp_path: Path, page_size: int
) -> None:
    # Airflow 3.3 raises a ValueError, 3.1 its own ParamValidationError; both name the param.
    with pytest.raises(Exception, match="page_size") as caught:
        run_dag(
            DAG_ID, logical_date=MIDDLE_RUN, run_conf={"export_dir": str(tmp_path), "page_size": page_size}
        )
    assert type(caught.value).__name__ in ("ValueError", "ParamValidationError")
    assert bitcapital_sandbox.count() == 0
