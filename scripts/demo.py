"""Run the example wallet-balance DAG against a local sandbox, with a throwaway Airflow home.

Used by ``make demo``: starts the Bitcapital sandbox, prepares an Airflow home with SQLite under
``.airflow-demo``, runs ``airflow dags test`` on the example DAG, prints the report and where it
is, and stops the sandbox.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_HOME = ROOT / ".airflow-demo"
REPORT_DIR = ROOT / "bitcapital-reports"
DAG_ID = "example_bitcapital_wallet_balances"
BIN = Path(sys.executable).parent


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_bitcapital.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:
        line = process.stdout.readline()
        if not line:
            break
        match = re.match(r"export AIRFLOW_CONN_BITCAPITAL_DEFAULT='(.*)'$", line.strip())
        if match:
            return process, match.group(1)
    process.kill()
    raise SystemExit("The sandbox did not start")


def main() -> int:
    started = time.monotonic()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME}/airflow.db",
        "BITCAPITAL_REPORT_DIR": str(REPORT_DIR),
    }
    AIRFLOW_HOME.mkdir(exist_ok=True)
    print(f"Preparing the Airflow metadata database in {AIRFLOW_HOME} ...", flush=True)
    subprocess.run([BIN / "airflow", "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)

    sandbox, connection = start_sandbox()
    print(f"Bitcapital sandbox running at {json.loads(connection)['host']}", flush=True)
    try:
        env["AIRFLOW_CONN_BITCAPITAL_DEFAULT"] = connection
        day = date.today().isoformat()
        print(f"Running: airflow dags test {DAG_ID} {day}", flush=True)
        result = subprocess.run(
            [BIN / "airflow", "dags", "test", DAG_ID, day], env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            print(result.stdout[-4000:], result.stderr[-4000:], sep="\n")
            print(f"airflow dags test failed with exit code {result.returncode}")
            return result.returncode
        report = REPORT_DIR / f"wallet-balances-{day}.csv"
        summary = json.loads((REPORT_DIR / f"wallet-balances-{day}.json").read_text())
        print(f"\nWallet balances on {summary['instance']['name']} for {day}: {summary['wallets']} wallets")
        print(report.read_text().rstrip())
        print(f"\nReport: {report}\nSummary: {report.with_suffix('.json')}")
        host = json.loads(connection)["host"]
        with urllib.request.urlopen(f"{host}/_sandbox/stats", timeout=10) as answer:
            stats = json.load(answer)
        calls = ", ".join(f"{count} x {call}" for call, count in sorted(stats["requests"].items()))
        print(f"The sandbox answered {calls} ({stats['token_requests']} token request)")
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=30)
    print(f"Done in {time.monotonic() - started:.1f} s; the sandbox is stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
