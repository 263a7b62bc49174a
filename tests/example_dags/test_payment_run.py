"""The payment-run example, run by Airflow against the sandbox."""

from __future__ import annotations

import csv
import importlib.util
import json
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import ROOT, DagRunner, xcom_values

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun

DAG_ID = "example_bitcapital_payment_run"
DAG_FILE = ROOT / "example_dags" / "example_bitcapital_payment_run.py"
SAMPLE_FILE = ROOT / "example_dags" / "data" / "transfers.json"
TASKS = ("validate_transfers_file", "check_wallets", "pay", "wait_until_executed", "write_report")


@pytest.fixture(scope="module")
def payment_run() -> ModuleType:
    """The example DAG's module, for its validation functions."""
    spec = importlib.util.spec_from_file_location("example_bitcapital_payment_run", DAG_FILE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the triggerer read the transactions every 0.1 s instead of every 30 s."""
    monkeypatch.setenv("BITCAPITAL_POLL_SECONDS", "0.1")


def sandbox_transfers(server: Any) -> list[dict[str, str]]:
    """Three transfers between ready seeded wallets; the first wallet pays twice and is paid once."""
    funded = [
        wallet
        for wallet in server.wallets_snapshot()[3:]
        if wallet["status"] == "ready" and wallet["assets"] and Decimal(wallet["assets"][0]["balance"]) > 100
    ]
    payer, first_payee, second_payee, other_payer = funded[:4]
    asset, other_asset = payer["assets"][0]["code"], other_payer["assets"][0]["code"]
    return [
        transfer("invoice-1", payer, first_payee, "12.34", asset),
        transfer("invoice-2", payer, second_payee, "0.5", asset),
        transfer("invoice-3", other_payer, payer, "7.00", other_asset),
    ]


def transfer(
    reference: str, source: dict[str, Any], destination: dict[str, Any], amount: str, asset: str
) -> dict[str, str]:
    return {
        "reference": reference,
        "source": source["id"],
        "destination": destination["id"],
        "amount": amount,
        "asset": asset,
    }


def write_transfers(folder: Path, transfers: Any) -> Path:
    path = folder / "transfers.json"
    path.write_text(json.dumps(transfers, indent=2))
    return path


def balances(server: Any) -> dict[tuple[str, str], Decimal]:
    return {
        (wallet["id"], entry["code"]): Decimal(entry["balance"])
        for wallet in server.wallets_snapshot()
        for entry in wallet["assets"]
    }


def task_instance_states(dag_run: DagRun) -> Counter[tuple[str, str]]:
    """Count the task instances of a run by task id and final state, mapped ones one by one."""
    from airflow.utils.session import create_session

    with create_session() as session:
        return Counter((ti.task_id, str(ti.state)) for ti in dag_run.get_task_instances(session=session))


def rendered_map_indexes(dag_run: DagRun, task_id: str) -> list[str | None]:
    from airflow.utils.session import create_session

    with create_session() as session:
        instances = [ti for ti in dag_run.get_task_instances(session=session) if ti.task_id == task_id]
        return [ti.rendered_map_index for ti in sorted(instances, key=lambda ti: ti.map_index)]


def paid_bodies(server: Any) -> list[dict[str, Any]]:
    requests = [r for r in server.request_log if r.method == "POST" and r.path == "/payments"]
    assert all("x-request-signature" in request.headers for request in requests)
    return [json.loads(request.body) for request in requests]


def report_of(folder: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    (json_path,) = folder.glob("payment-run-*.json")
    (csv_path,) = folder.glob("payment-run-*.csv")
    return json.loads(json_path.read_text()), list(csv.DictReader(csv_path.open()))


@pytest.mark.usefixtures("quick_polls")
def test_each_transfer_is_paid_once_and_reported_executed(
    bitcapital_sandbox: Any, run_dag: DagRunner, tmp_path: Path
) -> None:
    transfers = sandbox_transfers(bitcapital_sandbox)
    before, totals_before = balances(bitcapital_sandbox), bitcapital_sandbox.balance_totals()
    reports = tmp_path / "reports"
    conf = {"transfers_file": str(write_transfers(tmp_path, transfers)), "report_dir": str(reports)}

    dag_run = run_dag(DAG_ID, run_conf=conf)

    assert task_instance_states(dag_run) == Counter(
        {
            ("validate_transfers_file", "success"): 1,
            ("check_wallets", "success"): 1,
            ("pay", "success"): 3,
            ("wait_until_executed", "success"): 3,
            ("write_report", "success"): 1,
        }
    )
    assert rendered_map_indexes(dag_run, "pay") == ["invoice-1", "invoice-2", "invoice-3"]
    # Each transfer was sent exactly once, as one signed payment.
    assert bitcapital_sandbox.count("POST", "/payments") == 3
    assert bitcapital_sandbox.stats()["payments_created"] == 3
    sent = [(body["source"], *body["recipients"][0].values()) for body in paid_bodies(bitcapital_sandbox)]
    expected_bodies = [(t["source"], t["destination"], t["amount"], t["asset"]) for t in transfers]
    assert sorted(sent) == sorted(expected_bodies)

    moved: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for item in transfers:
        moved[(item["source"], item["asset"])] -= Decimal(item["amount"])
        moved[(item["destination"], item["asset"])] += Decimal(item["amount"])
    after = balances(bitcapital_sandbox)
    assert {key: after.get(key, Decimal(0)) - before.get(key, Decimal(0)) for key in moved} == dict(moved)
    assert {key: value for key, value in after.items() if key not in moved} == {
        key: value for key, value in before.items() if key not in moved
    }
    assert bitcapital_sandbox.balance_totals() == totals_before

    report, csv_rows = report_of(reports)
    rows = report["transfers"]
    assert [row["reference"] for row in rows] == ["invoice-1", "invoice-2", "invoice-3"]
    assert [row["status"] for row in rows] == ["executed"] * 3
    assert [
        (row["source"], row["destination"], row["amount"], row["asset"]) for row in rows
    ] == expected_bodies
    assert len({row["payment_id"] for row in rows}) == len({row["transaction_id"] for row in rows}) == 3
    assert csv_rows == [{name: str(value) for name, value in row.items()} for row in rows]
    assert report["statuses"] == {"executed": 3}
    assert xcom_values(dag_run)["write_report"]["statuses"] == {"executed": 3}

    # The sensors read each new transaction until it settled; nothing else was read twice.
    settle_reads = bitcapital_sandbox.settle_after_reads + 1
    for row in rows:
        assert bitcapital_sandbox.count("GET", f"/transactions/{row['transaction_id']}") == settle_reads
    wallets = {item[role] for item in transfers for role in ("source", "destination")}
    assert sum(bitcapital_sandbox.count("GET", f"/wallets/{wallet_id}") for wallet_id in wallets) == 4
    assert bitcapital_sandbox.count() == 1 + 4 + 3 + 3 * settle_reads
    assert bitcapital_sandbox.token_requests == 1


@pytest.mark.usefixtures("quick_polls")
def test_the_sample_file_pays_in_the_sandbox(
    bitcapital_sandbox: Any, run_dag: DagRunner, tmp_path: Path
) -> None:
    dag_run = run_dag(DAG_ID, run_conf={"transfers_file": str(SAMPLE_FILE), "report_dir": str(tmp_path)})

    report, _ = report_of(tmp_path)
    assert report["statuses"] == {"executed": 3}, task_instance_states(dag_run)
    assert bitcapital_sandbox.count("POST", "/payments") == 3


@pytest.mark.parametrize(
    ("fault", "status", "payments_made"),
    [
        pytest.param({"status": 400}, "refused", 2, id="refused"),
        pytest.param({"status": 502, "when": "after"}, "outcome_unknown", 3, id="answer-lost"),
    ],
)
@pytest.mark.usefixtures("quick_polls")
def test_a_failed_payment_is_never_retried_and_is_reported(
    bitcapital_sandbox: Any,
    run_dag: DagRunner,
    tmp_path: Path,
    fault: dict[str, Any],
    status: str,
    payments_made: int,
) -> None:
    transfers = sandbox_transfers(bitcapital_sandbox)
    bitcapital_sandbox.inject("/payments", method="POST", **fault)
    conf = {"transfers_file": str(write_transfers(tmp_path, transfers)), "report_dir": str(tmp_path)}

    dag_run = run_dag(DAG_ID, run_conf=conf)

    # The failed payment is not retried; the others are still waited for, reported, then the run fails.
    assert task_instance_states(dag_run) == Counter(
        {
            ("validate_transfers_file", "success"): 1,
            ("check_wallets", "success"): 1,
            ("pay", "success"): 2,
            ("pay", "failed"): 1,
            ("wait_until_executed", "success"): 2,
            ("write_report", "failed"): 1,
        }
    )
    assert bitcapital_sandbox.count("POST", "/payments") == 3
    assert bitcapital_sandbox.stats()["payments_created"] == payments_made
    report, _ = report_of(tmp_path)
    assert report["statuses"] == {"executed": 2, status: 1}
    (failed,) = [row for row in report["transfers"] if row["status"] == status]
    assert failed["payment_id"] == failed["transaction_id"] == ""
    assert "POST /payments failed" in failed["note"]


@pytest.mark.usefixtures("quick_polls")
def test_a_payment_the_wait_could_not_confirm_is_reported_with_its_current_status(
    bitcapital_sandbox: Any, run_dag: DagRunner, tmp_path: Path
) -> None:
    transfers = sandbox_transfers(bitcapital_sandbox)[:1]
    bitcapital_sandbox.inject("/transactions/*", method="GET", status=404)
    conf = {"transfers_file": str(write_transfers(tmp_path, transfers)), "report_dir": str(tmp_path)}

    dag_run = run_dag(DAG_ID, run_conf=conf)

    states = task_instance_states(dag_run)
    assert states[("wait_until_executed", "failed")] == states[("write_report", "failed")] == 1
    report, _ = report_of(tmp_path)
    (row,) = report["transfers"]
    assert row["status"] == "pending"
    assert row["note"].startswith("not confirmed by wait_until_executed;")
    assert bitcapital_sandbox.count("GET", f"/transactions/{row['transaction_id']}") == 2


def test_a_malformed_file_is_refused_before_any_request(
    bitcapital_sandbox: Any, run_dag: DagRunner, tmp_path: Path
) -> None:
    transfers: list[Any] = sandbox_transfers(bitcapital_sandbox)
    transfers[1]["amount"] = 10.5
    reports = tmp_path / "reports"
    conf = {"transfers_file": str(write_transfers(tmp_path, transfers)), "report_dir": str(reports)}

    dag_run = run_dag(DAG_ID, run_conf=conf)

    states = task_instance_states(dag_run)
    assert states[("validate_transfers_file", "failed")] == 1
    assert not any(states[(task_id, "success")] for task_id in TASKS)
    assert bitcapital_sandbox.count("POST", "/payments") == 0
    assert bitcapital_sandbox.count() == 0
    assert not reports.exists()


def test_a_short_balance_is_refused_before_any_payment(
    bitcapital_sandbox: Any, run_dag: DagRunner, tmp_path: Path
) -> None:
    transfers = sandbox_transfers(bitcapital_sandbox)
    source = next(w for w in bitcapital_sandbox.wallets_snapshot() if w["id"] == transfers[0]["source"])
    held = Decimal(
        next(entry["balance"] for entry in source["assets"] if entry["code"] == transfers[0]["asset"])
    )
    transfers[0]["amount"] = str(held)  # all it holds, and invoice-2 needs 0.5 more of it
    conf = {"transfers_file": str(write_transfers(tmp_path, transfers)), "report_dir": str(tmp_path)}

    dag_run = run_dag(DAG_ID, run_conf=conf)

    states = task_instance_states(dag_run)
    assert states[("check_wallets", "failed")] == 1
    assert states[("pay", "upstream_failed")] == 1
    assert bitcapital_sandbox.count("POST", "/payments") == 0
    assert bitcapital_sandbox.count("GET") == 4
    assert list(tmp_path.glob("payment-run-*")) == []


GOOD = {"source": "a", "destination": "b", "amount": "1.5", "asset": "BRLD"}


def without(name: str) -> dict[str, Any]:
    return {key: value for key, value in GOOD.items() if key != name}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        pytest.param(GOOD, "expected a non-empty JSON list of transfers, got dict", id="not-a-list"),
        pytest.param([], "got an empty list", id="empty"),
        pytest.param(["a"], "transfer 0: expected a JSON object, got str", id="not-an-object"),
        pytest.param([without("asset")], "'asset' is missing", id="no-asset"),
        pytest.param([without("destination")], "'destination' is missing", id="no-destination"),
        pytest.param([{**GOOD, "amount": 1}], "'amount' is missing or not a non-empty string", id="number"),
        pytest.param([{**GOOD, "amount": "-1.00"}], "amount '-1.00' is not a positive", id="negative"),
        pytest.param([{**GOOD, "amount": "0.00"}], "amount '0.00' is not a positive", id="zero"),
        pytest.param([{**GOOD, "amount": "1e3"}], "amount '1e3' is not a positive", id="exponent"),
        pytest.param([{**GOOD, "amount": "1.12345678"}], "at most 7 decimals", id="eight-decimals"),
        pytest.param([{**GOOD, "destination": "a"}], "source and destination are the same", id="self"),
        pytest.param([{**GOOD, "ammount": "1"}], "unknown field 'ammount'", id="typo"),
        pytest.param(
            [{**GOOD, "reference": ""}], "'reference' must be a non-empty string", id="blank-reference"
        ),
        pytest.param([GOOD, GOOD], "transfer 1: same transfer as transfer 0", id="duplicate"),
        pytest.param(
            [{**GOOD, "reference": "r"}, {**GOOD, "destination": "c", "reference": "r"}],
            "transfer 1: reference 'r' is already used by transfer 0",
            id="reference-reused",
        ),
    ],
)
def test_validation_names_each_problem(payment_run: ModuleType, document: Any, problem: str) -> None:
    with pytest.raises(payment_run.TransferFileError, match="nothing was sent") as raised:
        payment_run.validate_transfers(document)
    assert problem in str(raised.value)


def test_validation_lists_every_problem_and_numbers_good_transfers(payment_run: ModuleType) -> None:
    good = GOOD
    bad = [good, {**good, "amount": "x"}, {**good, "asset": ""}, {**good, "reference": "r1"}]
    with pytest.raises(payment_run.TransferFileError) as raised:
        payment_run.validate_transfers(bad)
    assert raised.value.problems == [
        "transfer 1: amount 'x' is not a positive decimal string with at most 7 decimals",
        "transfer 2: 'asset' is missing or not a non-empty string",
    ]
    assert payment_run.validate_transfers([good, {**good, "reference": "r1"}]) == [
        {"index": 0, **good, "reference": "transfer-0"},
        {"index": 1, **good, "reference": "r1"},
    ]
    with pytest.raises(payment_run.TransferFileError, match="split the file"):
        payment_run.validate_transfers([good] * 3, max_transfers=2)


def test_the_sample_file_is_valid(payment_run: ModuleType) -> None:
    transfers = payment_run.validate_transfers(json.loads(SAMPLE_FILE.read_text()))
    assert [item["reference"] for item in transfers] == ["payout-0001", "payout-0002", "refund-0001"]
