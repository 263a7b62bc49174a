"""Payment run: pay a file of transfers, one signed payment each, and write a reconciliation report.

The ``transfers_file`` parameter names a JSON list of transfers (by default the sample
``data/transfers.json`` next to this file, whose wallets exist in the bundled sandbox)::

    [{"reference": "payout-0001", "source": "<wallet id>", "destination": "<wallet id>",
      "amount": "150.00", "asset": "BRLD"}]

``source``, ``destination``, ``amount`` (a positive decimal string, at most 7 decimals) and
``asset`` (a code such as ``BRLD``) are required; ``reference`` is optional and must be unique.

1. ``validate_transfers_file`` reads the whole file and lists every problem in it; one problem fails
   the run before anything is sent. Two identical transfers count as a problem (a copied line
   pays twice): give them distinct references if both are meant.
2. ``check_wallets`` reads each wallet once: every wallet must exist and be ready, and every
   source must hold enough of each asset for all of its transfers together. Still nothing is sent.
3. ``pay``, mapped over the transfers, sends each one as a ``POST /payments``, signed by the hook.
4. ``wait_until_executed``, mapped too, waits in the triggerer until each transaction is executed.
5. ``write_report`` writes ``payment-run-<run id>.json`` and ``.csv`` to the ``report_dir`` folder
   (by default ``$BITCAPITAL_REPORT_DIR`` or ``./bitcapital-reports``): each transfer with its
   payment id, transaction id and final status. It runs even when some payments failed, since
   that is when the report matters most; after writing it, it fails if any transfer is not
   settled, so that the run shows as failed.

Report statuses: ``executed`` or ``notified`` (settled); ``pending`` or ``failed`` (Bitcapital's
status when the report was written, for a payment the wait did not see settle); ``refused``
(Bitcapital answered with an error: nothing was paid); ``outcome_unknown`` (the answer was lost:
the payment may or may not have been made, so check the source wallet's
``GET /wallets/{id}/payments`` before paying that transfer again); ``unknown`` (the ``pay`` task
left no record, or the transaction could not be read; check the same way).

``$BITCAPITAL_POLL_SECONDS`` (default 30) sets how often the triggerer reads each transaction.
The connection ``bitcapital_default`` must point at a Bitcapital instance (or the sandbox).

Known limitation: Bitcapital has no idempotency key, so clearing a ``pay`` task instance, or
triggering the run again with the same file, pays those transfers again. The report of each run
records what it paid; read it before running a file again.

Known limitation: the balance check is a snapshot. A payment made from a source wallet between
``check_wallets`` and ``pay`` can still leave it short; that transfer is then ``refused`` and the
others go through.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, TriggerRule, get_current_context, task

from airflow_provider_bitcapital.sensors.bitcapital import BitcapitalSensor

DEFAULT_TRANSFERS_FILE = str(Path(__file__).resolve().parent / "data" / "transfers.json")
DEFAULT_REPORT_DIR = os.environ.get("BITCAPITAL_REPORT_DIR", "bitcapital-reports")
POLL_SECONDS = float(os.environ.get("BITCAPITAL_POLL_SECONDS", "30"))
WAIT_TIMEOUT_SECONDS = 3600
SETTLED = ("executed", "notified")
REQUIRED_FIELDS = ("source", "destination", "amount", "asset")
REPORT_COLUMNS = (
    "index", "reference", "source", "destination", "amount", "asset",
    "payment_id", "transaction_id", "status", "note",
)  # fmt: skip
FAILURE_KEY = "payment_failure"
# Bitcapital amounts are decimal strings with at most 7 decimals (Stellar's smallest unit).
_AMOUNT = re.compile(r"\A\d+(\.\d{1,7})?\Z")


class TransferFileError(ValueError):
    """The transfers cannot be paid as they are; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"Refusing to pay: {len(problems)} problem(s), nothing was sent:\n  " + "\n  ".join(problems)
        )


def validate_transfers(document: Any, max_transfers: int = 1024) -> list[dict[str, Any]]:
    """Check a decoded transfers file and return its transfers, numbered from 0 in ``index``.

    :param document: the decoded JSON file.
    :param max_transfers: the most transfers one run may map over (Airflow's ``max_map_length``).
    :raises TransferFileError: listing every problem, when there is any.
    """
    if not isinstance(document, list) or not document:
        raise TransferFileError([f"expected a non-empty JSON list of transfers, got {_kind(document)}"])
    if len(document) > max_transfers:
        raise TransferFileError([f"{len(document)} transfers; split the file into runs of {max_transfers}"])
    problems: list[str] = []
    transfers: list[dict[str, Any]] = []
    first_seen: dict[tuple[Any, ...], int] = {}
    for index, item in enumerate(document):
        found = _transfer_problems(item) or _repeat_problems(item, index, first_seen)
        if found:
            problems += [f"transfer {index}: {problem}" for problem in found]
            continue
        transfers.append({"index": index, **item, "reference": item.get("reference") or f"transfer-{index}"})
    if problems:
        raise TransferFileError(problems)
    return transfers


def _transfer_problems(item: Any) -> list[str]:
    if not isinstance(item, dict):
        return [f"expected a JSON object, got {_kind(item)}"]
    problems = [f"unknown field {name!r}" for name in item if name not in (*REQUIRED_FIELDS, "reference")]
    for name in REQUIRED_FIELDS:
        value = item.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name!r} is missing or not a non-empty string")
    amount = item.get("amount")
    if isinstance(amount, str) and amount and (not _AMOUNT.match(amount) or Decimal(amount) <= 0):
        problems.append(f"amount {amount!r} is not a positive decimal string with at most 7 decimals")
    if "reference" in item and (not isinstance(item["reference"], str) or not item["reference"].strip()):
        problems.append("'reference' must be a non-empty string when given")
    if isinstance(item.get("source"), str) and item.get("source") == item.get("destination"):
        problems.append("source and destination are the same wallet")
    return problems


def _repeat_problems(item: dict[str, Any], index: int, first_seen: dict[tuple[Any, ...], int]) -> list[str]:
    """Name the earlier transfer that this one repeats, if any; otherwise remember this one."""
    reference = item.get("reference")
    identity = ("transfer", reference, *(item[name] for name in REQUIRED_FIELDS))
    if identity in first_seen:
        return [f"same transfer as transfer {first_seen[identity]}; give each a reference if both are meant"]
    if reference is not None and ("reference", reference) in first_seen:
        return [f"reference {reference!r} is already used by transfer {first_seen[('reference', reference)]}"]
    first_seen[identity] = index
    if reference is not None:
        first_seen[("reference", reference)] = index
    return []


def _kind(value: Any) -> str:
    return "an empty list" if value == [] else type(value).__name__


def wallet_problems(transfers: list[dict[str, Any]], wallets: dict[str, dict[str, Any] | None]) -> list[str]:
    """List what keeps the transfers from being paid: missing or unready wallets, short balances.

    :param transfers: the validated transfers.
    :param wallets: each wallet id of the transfers, with the wallet or ``None`` when not found.
    """
    problems = [
        f"wallet {wallet_id} was not found" for wallet_id, wallet in wallets.items() if wallet is None
    ]
    problems += [
        f"wallet {wallet_id} is {wallet.get('status')}, not ready"
        for wallet_id, wallet in wallets.items()
        if wallet is not None and wallet.get("status") != "ready"
    ]
    needed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for transfer in transfers:
        needed[(transfer["source"], transfer["asset"])] += Decimal(transfer["amount"])
    for (source, asset), amount in needed.items():
        wallet = wallets.get(source)
        held = held_balances(wallet).get(asset, Decimal(0)) if wallet else None
        if held is not None and held < amount:
            problems.append(f"wallet {source} holds {held} {asset}; its transfers need {amount}")
    return problems


def held_balances(wallet: dict[str, Any]) -> dict[str, Decimal]:
    """Return a wallet's balance per asset code, in either of Bitcapital's wallet shapes."""
    if "assets" in wallet:
        return {entry["code"]: Decimal(str(entry.get("balance") or "0")) for entry in wallet["assets"]}
    return {entry["asset_code"]: Decimal(str(entry.get("balance") or "0")) for entry in wallet["balances"]}


def transaction_endpoint(payment: dict[str, Any]) -> str:
    """Return the path the sensor reads to follow a payment's transaction."""
    return f"/transactions/{payment['transaction_id']}"


def reconcile(
    transfers: list[dict[str, Any]],
    payments: list[dict[str, Any]],
    settled: list[dict[str, Any]],
    failure_of: Callable[[int], dict[str, Any] | None],
    status_of: Callable[[str], str],
) -> list[dict[str, Any]]:
    """Return one report row per transfer: its payment, its transaction and its final status.

    :param transfers: the validated transfers.
    :param payments: what the ``pay`` tasks returned, for the transfers that were paid.
    :param settled: the transactions the sensors saw settle.
    :param failure_of: the failure a ``pay`` task recorded for a transfer index, if any.
    :param status_of: reads a transaction's current status, for a payment the sensors did not confirm.
    """
    paid = {payment["index"]: payment for payment in payments}
    final = {transaction["id"]: transaction["status"] for transaction in settled}
    rows = []
    for transfer in transfers:
        row = {name: transfer.get(name, "") for name in REPORT_COLUMNS}
        payment = paid.get(transfer["index"])
        if payment is not None:
            row.update(payment_id=payment["payment_id"], transaction_id=payment["transaction_id"])
            row["status"] = final.get(payment["transaction_id"]) or status_of(payment["transaction_id"])
            if payment["transaction_id"] not in final:
                row["note"] = "not confirmed by wait_until_executed; status as read for this report"
        elif (failure := failure_of(transfer["index"])) is not None:
            row["status"] = "outcome_unknown" if failure["outcome_unknown"] else "refused"
            row["note"] = failure["error"]
        else:
            row["status"] = "unknown"
            row["note"] = (
                "the pay task left no record; check the source wallet's payments before paying again"
            )
        rows.append(row)
    return rows


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Return report rows as CSV text, with a header line."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


with DAG(
    dag_id="example_bitcapital_payment_run",
    description="Pay a file of transfers with signed Bitcapital payments and reconcile them",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["bitcapital", "example"],
    params={
        "transfers_file": Param(DEFAULT_TRANSFERS_FILE, type="string", description="JSON list of transfers"),
        "report_dir": Param(DEFAULT_REPORT_DIR, type="string", description="Folder for the reports"),
    },
) as dag:

    @task(retries=0)
    def validate_transfers_file() -> list[dict[str, Any]]:
        """Read and check the whole transfers file; fail, listing every problem, before any request."""
        try:
            from airflow.sdk.configuration import conf
        except ImportError:  # Airflow 3.1 reads its configuration from the core package
            from airflow.configuration import conf

        path = Path(get_current_context()["params"]["transfers_file"]).expanduser()
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise TransferFileError([f"cannot read {path} as JSON: {error}"]) from None
        transfers = validate_transfers(document, conf.getint("core", "max_map_length", fallback=1024))
        print(f"{len(transfers)} transfers in {path} are valid")
        return transfers

    @task(retries=0)
    def check_wallets(transfers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Read each wallet once and refuse the run if any transfer could not be paid."""
        from airflow_provider_bitcapital.exceptions import BitcapitalApiError
        from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

        hook = BitcapitalHook()
        wallets: dict[str, dict[str, Any] | None] = {}
        for wallet_id in dict.fromkeys(t[role] for t in transfers for role in ("source", "destination")):
            try:
                wallets[wallet_id] = hook.get(f"/wallets/{wallet_id}")
            except BitcapitalApiError as error:
                if error.status_code != 404:
                    raise
                wallets[wallet_id] = None
        problems = wallet_problems(transfers, wallets)
        if problems:
            raise TransferFileError(problems)
        print(f"{len(wallets)} wallets are ready and the sources hold enough for {len(transfers)} transfers")
        return transfers

    # retries=0: POST /payments has no idempotency key. If a payment went through and the task then
    # failed (the worker died, the answer was lost), a retry would pay the same transfer again. The
    # hook already refuses to repeat a POST that may have reached the server; a failed payment is
    # for a person to settle, with the report, never for an automatic retry.
    @task(retries=0, map_index_template="{{ task.op_kwargs['transfer']['reference'] }}")
    def pay(transfer: dict[str, Any]) -> dict[str, Any]:
        """Send one transfer as a signed ``POST /payments`` and return its payment and transaction ids."""
        from airflow_provider_bitcapital.exceptions import BitcapitalError
        from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

        recipient = {key: transfer[key] for key in ("destination", "amount", "asset")}
        try:
            payment = BitcapitalHook().post(
                "/payments", json={"source": transfer["source"], "recipients": [recipient]}
            )
        except BitcapitalError as error:
            # Only an API error can leave the outcome unknown; a token or settings error stops
            # before the payment is sent.
            unknown = getattr(error, "outcome_unknown", False)
            failure = {"index": transfer["index"], "outcome_unknown": unknown, "error": str(error)}
            get_current_context()["ti"].xcom_push(key=FAILURE_KEY, value=failure)
            raise
        print(f"Transfer {transfer['reference']} paid: payment {payment['id']}")
        return {
            "index": transfer["index"],
            "payment_id": payment["id"],
            "transaction_id": payment["transaction"]["id"],
        }

    @task(trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS)
    def write_report(
        transfers: list[dict[str, Any]], payments: list[dict[str, Any]], settled: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Write the reconciliation report; then fail if any transfer is not settled."""
        from airflow_provider_bitcapital.exceptions import BitcapitalError
        from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

        context = get_current_context()
        hook = BitcapitalHook()

        def failure_of(index: int) -> dict[str, Any] | None:
            return context["ti"].xcom_pull(task_ids="pay", key=FAILURE_KEY, map_indexes=index)

        def status_of(transaction_id: str) -> str:
            try:
                return str(hook.get(f"/transactions/{transaction_id}")["status"])
            except BitcapitalError as error:
                print(f"Could not read transaction {transaction_id} for the report: {error}")
                return "unknown"

        rows = reconcile(list(transfers), list(payments), list(settled), failure_of, status_of)
        statuses = dict(Counter(row["status"] for row in rows))
        folder = Path(context["params"]["report_dir"]).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        name = "payment-run-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", context["run_id"])
        summary = {"run_id": context["run_id"], "transfers_file": context["params"]["transfers_file"]}
        json_path, csv_path = folder / f"{name}.json", folder / f"{name}.csv"
        write_atomically(
            json_path, json.dumps({**summary, "statuses": statuses, "transfers": rows}, indent=2)
        )
        write_atomically(csv_path, csv_text(rows))
        print(f"Payment run report: {statuses}, written to {json_path} and {csv_path}")

        unsettled = [f"{row['reference']}: {row['status']}" for row in rows if row["status"] not in SETTLED]
        if unsettled:
            raise RuntimeError(
                f"{len(unsettled)} of {len(rows)} transfers are not settled ({', '.join(unsettled)}); "
                f"see {json_path}"
            )
        return {"json": str(json_path), "csv": str(csv_path), "transfers": len(rows), "statuses": statuses}

    checked = check_wallets(validate_transfers_file())  # type: ignore[arg-type]  # resolved at run time
    payments = pay.expand(transfer=checked)
    waits = BitcapitalSensor.partial(
        task_id="wait_until_executed",
        success_field="status",
        success_values=list(SETTLED),
        failure_values=["failed"],
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=WAIT_TIMEOUT_SECONDS,
        # Wait for every payment that went out, even when another transfer's payment failed.
        trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS,
    ).expand(endpoint=payments.map(transaction_endpoint))
    write_report(checked, payments, waits.output)  # type: ignore[arg-type]  # XComArgs resolve at run time
