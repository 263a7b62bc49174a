"""The daily wallet-balance example, run by Airflow against the sandbox."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DAGS_FOLDER, DagRunner, task_states, xcom_values

DAG_ID = "example_bitcapital_wallet_balances"


def test_report_totals_match_the_instance(
    bitcapital_sandbox: Any, run_dag: DagRunner, tmp_path: Path
) -> None:
    dag_run = run_dag(DAG_ID, run_conf={"report_dir": str(tmp_path)})
    assert set(task_states(dag_run).values()) == {"success"}
    day = dag_run.logical_date.date().isoformat()
    rows = list(csv.DictReader((tmp_path / f"wallet-balances-{day}.csv").open()))
    assert {row["asset"]: row["total_balance"] for row in rows} == bitcapital_sandbox.balance_totals()
    summary = json.loads((tmp_path / f"wallet-balances-{day}.json").read_text())
    assert summary["wallets"] == len(bitcapital_sandbox.wallets_snapshot())
    assert summary["instance"]["name"]
    assert xcom_values(dag_run)["write_report"]["wallets"] == summary["wallets"]
    pages = -(-summary["wallets"] // 100)
    assert bitcapital_sandbox.count("GET", "/wallets") == pages
    assert bitcapital_sandbox.token_requests == 1


EXAMPLE_RUNS = {
    "example_bitcapital_wallet_balances": ("2026-02-01", {}),
    "example_bitcapital_transactions_export": ("2026-01-08T13:00:00+00:00", {}),
    "example_bitcapital_payment_run": (
        "2026-02-01",
        {
            "transfers_file": str(
                Path(__file__).resolve().parents[2] / "example_dags" / "data" / "transfers.json"
            )
        },
    ),
}


@pytest.mark.parametrize("dag_id", sorted(EXAMPLE_RUNS))
def test_airflow_dags_test_leaks_no_secret(
    bitcapital_sandbox: Any, airflow_db: Path, tmp_path: Path, dag_id: str
) -> None:
    logical_date, run_conf = EXAMPLE_RUNS[dag_id]
    env = {
        **os.environ,
        "AIRFLOW_CONN_BITCAPITAL_DEFAULT": bitcapital_sandbox.connection_json(token_cache="file"),
        "BITCAPITAL_REPORT_DIR": str(tmp_path),
        "BITCAPITAL_EXPORT_DIR": str(tmp_path),
        "BITCAPITAL_POLL_SECONDS": "0.2",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG",
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    command = [Path(sys.executable).parent / "airflow", "dags", "test", dag_id, logical_date]
    if run_conf:
        command += ["--conf", json.dumps(run_conf)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    (finished,) = [line for line in output.splitlines() if "DagRun Finished" in line]
    assert "state=success" in finished
    assert list(tmp_path.iterdir()), "the example wrote no output"
    issued = bitcapital_sandbox.issued_tokens
    assert issued
    # At DEBUG, Airflow's own task-runner comms log each MaskSecret message they carry, which is
    # the very call that registers a secret for masking; every other line must be clean.
    lines = [line for line in output.splitlines() if "MaskSecret(" not in line]
    assert len(lines) > 50
    leaked = [line for line in lines if any(secret in line for secret in ["sandbox-secret", *issued])]
    assert leaked == []
