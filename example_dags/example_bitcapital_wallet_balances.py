"""Daily wallet-balance report: page through every wallet and total the balances per asset.

Each run writes two files named after its logical date to the folder given by the
``report_dir`` parameter (by default ``$BITCAPITAL_REPORT_DIR`` or ``./bitcapital-reports``):

- ``wallet-balances-YYYY-MM-DD.csv``: one row per asset with the number of wallets holding it and
  their total balance;
- ``wallet-balances-YYYY-MM-DD.json``: the same totals with the run's metadata.

The connection ``bitcapital_default`` must point at a Bitcapital instance (or the sandbox).
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, get_current_context, task

from airflow_provider_bitcapital.operators.bitcapital import BitcapitalOperator

DEFAULT_REPORT_DIR = os.environ.get("BITCAPITAL_REPORT_DIR", "bitcapital-reports")


def wallet_balances(wallet: dict[str, Any]) -> list[tuple[str, Decimal]]:
    """Return ``(asset code, balance)`` pairs of a wallet, in either of Bitcapital's wallet shapes."""
    if "assets" in wallet:
        return [(entry["code"], Decimal(str(entry.get("balance") or "0"))) for entry in wallet["assets"]]
    return [
        (entry["asset_code"], Decimal(str(entry.get("balance") or "0")))
        for entry in wallet.get("balances", [])
    ]


with DAG(
    dag_id="example_bitcapital_wallet_balances",
    description="Daily total of Bitcapital wallet balances per asset",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["bitcapital", "example"],
    params={"report_dir": Param(DEFAULT_REPORT_DIR, type="string", description="Folder for the reports")},
) as dag:
    check_instance = BitcapitalOperator(
        task_id="check_instance",
        endpoint="/status",
        response_check=lambda status: bool(status.get("name")),
        response_filter=lambda status: {"name": status["name"], "version": status.get("version")},
    )

    @task
    def total_balances(page_size: int = 100) -> dict[str, Any]:
        """Page through all wallets and total their balances per asset, in constant memory."""
        from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

        totals: dict[str, Decimal] = defaultdict(Decimal)
        holders: dict[str, int] = defaultdict(int)
        wallets = 0
        for wallet in BitcapitalHook().paginate("/wallets", page_size=page_size):
            wallets += 1
            for code, balance in wallet_balances(wallet):
                totals[code] += balance
                holders[code] += 1
        return {
            "wallets": wallets,
            "assets": {
                code: {"wallets": holders[code], "total": f"{totals[code]:.2f}"} for code in sorted(totals)
            },
        }

    @task
    def write_report(totals: dict[str, Any], instance: dict[str, Any]) -> dict[str, Any]:
        """Write the CSV and JSON reports for the run's logical date and return their paths."""
        context = get_current_context()
        folder = Path(context["params"]["report_dir"]).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        day = context["ds"]
        csv_path = folder / f"wallet-balances-{day}.csv"
        with csv_path.open("w", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(["asset", "wallets", "total_balance"])
            for code, entry in totals["assets"].items():
                writer.writerow([code, entry["wallets"], entry["total"]])
        summary = {"date": day, "instance": instance, **totals}
        json_path = folder / f"wallet-balances-{day}.json"
        json_path.write_text(json.dumps(summary, indent=2) + "\n")
        print(f"Wallet balances for {day}: {totals['wallets']} wallets")
        for code, entry in totals["assets"].items():
            print(f"  {code:<6} {entry['wallets']:>5} wallets  total {entry['total']}")
        print(f"Report written to {csv_path} and {json_path}")
        return {"csv": str(csv_path), "json": str(json_path), "wallets": totals["wallets"]}

    write_report(total_balances(), check_instance.output)  # type: ignore[arg-type]  # XComArgs resolve at run time
