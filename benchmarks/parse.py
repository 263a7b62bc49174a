"""What the provider adds to DAG parsing: module import time, and the cost of building operators.

Each measurement runs in a fresh Python process (warm: byte code and file caches filled by a
discarded first run), as the DAG processor's parsing processes do. After ``from airflow.sdk import
DAG``, which every DAG file does anyway, the child times the import of the provider's operator and
sensor modules, then builds 1,000 operators inside a DAG. The same is done for the HTTP provider.

While the provider is imported and its operators built, ``socket.connect`` raises: building an
operator must not open a connection. The responder also counts connections, which must stay zero;
the children's ``bitcapital_default`` connection points at it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from harness import machine, median, parse_arguments, prepare_airflow_home, print_table, verdict
from responder import Responder

OPERATORS = 1000

CHILD = r"""
import json, socket, sys, time

from airflow.sdk import DAG

attempts = []


def refuse(self, *args, **kwargs):
    attempts.append(repr(args))
    raise OSError("no connection may be opened while parsing a DAG")


socket.socket.connect = refuse
socket.socket.connect_ex = refuse

provider = sys.argv[1]
timings = []
if provider == "bitcapital":
    names = [
        "airflow_provider_bitcapital.operators.bitcapital",
        "airflow_provider_bitcapital.sensors.bitcapital",
    ]
else:
    names = ["airflow.providers.http.operators.http", "airflow.providers.http.sensors.http"]
for name in names:
    started = time.perf_counter()
    __import__(name)
    timings.append(time.perf_counter() - started)

if provider == "bitcapital":
    from airflow_provider_bitcapital.operators.bitcapital import BitcapitalOperator

    def build(number):
        return BitcapitalOperator(
            task_id=f"call_{number}",
            endpoint="/wallets/{{ params.wallet_id }}",
            query_params={"status": "ready"},
            paginate=number % 2 == 0,
        )
else:
    from airflow.providers.http.operators.http import HttpOperator

    def build(number):
        return HttpOperator(
            task_id=f"call_{number}",
            endpoint="/wallets/{{ params.wallet_id }}",
            method="GET",
            data={"status": "ready"},
        )

with DAG(dag_id="parse_benchmark", schedule=None):
    started = time.perf_counter()
    for number in range(int(sys.argv[2])):
        build(number)
    construction = time.perf_counter() - started

watched = {
    "requests": "requests",
    "tenacity": "tenacity",
    "hook": "airflow_provider_bitcapital.hooks.bitcapital",
    "client": "airflow_provider_bitcapital.client.http",
    "triggers.base": "airflow.triggers.base",
}
loaded = [label for label, name in watched.items() if name in sys.modules]
result = {"imports": timings, "construction": construction, "connects": len(attempts), "loaded": loaded}
print(json.dumps(result))
"""


@dataclass
class ChildRun:
    """What one fresh process measured."""

    imports: list[float]
    construction: float
    connects: int
    loaded: list[str]


def run_child(provider: str) -> ChildRun:
    finished = subprocess.run(
        [sys.executable, "-c", CHILD, provider, str(OPERATORS)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the {provider} child failed:\n{finished.stderr[-3000:]}")
    return ChildRun(**json.loads(finished.stdout.strip().splitlines()[-1]))


def main() -> None:
    arguments = parse_arguments(__doc__.splitlines()[0])
    providers = ("bitcapital", "http")
    with Responder(arguments.rtt_ms, arguments.handshake_rtts, wallet_count=100) as responder:
        prepare_airflow_home(responder.url)
        os.environ["AIRFLOW_CONN_BITCAPITAL_DEFAULT"] = os.environ["AIRFLOW_CONN_BENCH_MEMORY"]
        os.environ["AIRFLOW_CONN_HTTP_DEFAULT"] = os.environ["AIRFLOW_CONN_BENCH_HTTP"]
        for provider in providers:  # warm-up: byte code compiled, files cached, Airflow home created
            run_child(provider)
        responder.reset()
        results: dict[str, list[ChildRun]] = {provider: [] for provider in providers}
        for number in range(arguments.rounds):
            for provider in providers[number % 2 :] + providers[: number % 2]:
                results[provider].append(run_child(provider))
        connections = responder.stats()["connections"]

    rows = []
    labels = {
        "bitcapital": "bitcapital: operators, sensors / BitcapitalOperator",
        "http": "http: operators.http, sensors.http / HttpOperator",
    }
    figures: dict[str, tuple[float, float, int]] = {}
    for provider in providers:
        runs = results[provider]
        total_ms = median([sum(run.imports) * 1000 for run in runs])
        construction_ms = median([run.construction * 1000 for run in runs])
        connects = sum(run.connects for run in runs)
        figures[provider] = (total_ms, construction_ms, connects)
        rows.append(
            [
                labels[provider],
                f"{median([run.imports[0] * 1000 for run in runs]):.1f}",
                f"{median([run.imports[1] * 1000 for run in runs]):.1f}",
                f"{total_ms:.1f}",
                f"{construction_ms:.0f}",
                f"{construction_ms * 1000 / OPERATORS:.0f}",
                str(connects),
                ", ".join(runs[-1].loaded) or "-",
            ]
        )
    print_table(
        f"DAG parse cost: importing the modules after `from airflow.sdk import DAG`; building {OPERATORS:,}"
        " operators in a DAG",
        [
            f"fresh processes, warm; {arguments.rounds} interleaved runs each after a discarded one; medians",
            f"machine: {machine()}",
            f"socket.connect raises in the children; the responder saw {connections} connections",
            "also loaded: which of requests, tenacity, the Bitcapital hook and client, and"
            " airflow.triggers.base are loaded after building (airflow.sdk loads tenacity)",
        ],
        [
            "modules / operator",
            "operators ms",
            "sensors ms",
            "import ms",
            "build ms",
            "us each",
            "connects",
            "also loaded",
        ],
        rows,
    )
    total_ms, construction_ms, connects = figures["bitcapital"]
    lines = [
        verdict("bitcapital operator + sensor import, ms", total_ms, "< 50", total_ms < 50),
        verdict(
            f"connections opened while building {OPERATORS:,} BitcapitalOperators",
            connects + connections,
            "0",
            connects + connections == 0,
        ),
    ]
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
