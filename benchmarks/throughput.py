"""Throughput and client CPU of one authenticated call, against a responder across an emulated link.

Contenders, each doing ``GET /users/me`` and decoding the JSON, interleaved round by round:

- the floor: a plain keep-alive ``requests.Session`` with a fixed ``Authorization`` header;
- ``BitcapitalHook.get`` with the token cached in the process;
- ``HttpHook.run`` of ``apache-airflow-providers-http`` with a Bearer header;
- the naive script: ``requests.post`` to the token endpoint, then ``requests.get``, no session.

Then a task of ten calls: a new ``BitcapitalHook`` in a fresh process state with the token in the
file cache, against the naive script's token request followed by ten calls.

A call is one ``GET``, except for the naive script, whose every call is two HTTP requests (the
token, then the ``GET``). Client CPU is this process's ``time.process_time``; the responder runs
in another process.

Known limitation: the task of ten calls runs in this process, so its "fresh state" is a new hook,
a new session and no token in the process, not a new interpreter: the cost of starting Python and
importing Airflow, the same for both contenders, is left out (``benchmarks/parse.py`` measures
imports).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    machine,
    median,
    parse_arguments,
    prepare_airflow_home,
    print_table,
    quiet_provider_logs,
    verdict,
)
from responder import Responder

ENDPOINT = "/users/me"
TASK_CALLS = 10


@dataclass
class Contender:
    """One way of making a call, and what each round measured of it."""

    name: str
    call: Callable[[], Any]
    calls_per_round: int
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    connections: list[int] = field(default_factory=list)
    token_requests: list[int] = field(default_factory=list)

    def rate(self, index: int) -> float:
        return self.calls_per_round / self.seconds[index]

    def cpu_per_call(self, index: int) -> float:
        return self.cpu_seconds[index] / self.calls_per_round


def run_rounds(responder: Responder, contenders: list[Contender], rounds: int) -> None:
    """Run every contender once per round, in an order that rotates from round to round."""
    for contender in contenders:  # warm-up: connections opened, tokens cached, code paths loaded
        for _ in range(3):
            contender.call()
    for number in range(rounds):
        shift = number % len(contenders)
        for contender in contenders[shift:] + contenders[:shift]:
            responder.reset()
            started, cpu_started = time.perf_counter(), time.process_time()
            for _ in range(contender.calls_per_round):
                contender.call()
            contender.cpu_seconds.append(time.process_time() - cpu_started)
            contender.seconds.append(time.perf_counter() - started)
            counters = responder.stats()
            contender.requests.append(counters["requests"])
            contender.connections.append(counters["connections"])
            contender.token_requests.append(counters["token_requests"])


def naive_token(base_url: str) -> str:
    import requests

    answer = requests.post(
        base_url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=30,
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def naive_get(base_url: str, token: str) -> Any:
    import requests

    answer = requests.get(base_url + ENDPOINT, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    answer.raise_for_status()
    return answer.json()


def single_call_contenders(base_url: str, calls: int) -> list[Contender]:
    import requests
    from airflow.providers.http.hooks.http import HttpHook

    from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

    token = naive_token(base_url)
    floor_session = requests.Session()
    floor_session.headers["Authorization"] = f"Bearer {token}"

    def floor() -> Any:
        answer = floor_session.get(base_url + ENDPOINT, timeout=30)
        answer.raise_for_status()
        return answer.json()

    hook = BitcapitalHook("bench_memory")
    http_hook = HttpHook(method="GET", http_conn_id="bench_http")
    bearer = {"Authorization": f"Bearer {token}"}

    return [
        Contender("requests.Session, fixed header (floor)", floor, calls),
        Contender("BitcapitalHook.get, token cached", lambda: hook.get(ENDPOINT), calls),
        Contender(
            "HttpHook.run, Bearer header", lambda: http_hook.run(ENDPOINT, headers=bearer).json(), calls
        ),
        Contender(
            "naive: requests.post token + requests.get",
            lambda: naive_get(base_url, naive_token(base_url)),
            max(calls // 5, 5),
        ),
    ]


def task_contenders(base_url: str) -> list[Contender]:
    from airflow_provider_bitcapital.auth.cache import clear_process_cache
    from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

    def hook_task() -> None:
        clear_process_cache()
        hook = BitcapitalHook("bench_file")
        for _ in range(TASK_CALLS):
            hook.get(ENDPOINT)
        hook.client.session.close()

    def naive_task() -> None:
        token = naive_token(base_url)
        for _ in range(TASK_CALLS):
            naive_get(base_url, token)

    return [
        Contender(f"BitcapitalHook, {TASK_CALLS} calls, token in file cache", hook_task, 1),
        Contender(f"naive: token + {TASK_CALLS} x requests.get", naive_task, 1),
    ]


def ratios(contender: Contender, baseline: Contender, measure: str) -> float:
    if measure == "speed":
        values = [contender.rate(i) / baseline.rate(i) for i in range(len(contender.seconds))]
    else:
        values = [contender.cpu_per_call(i) / baseline.cpu_per_call(i) for i in range(len(contender.seconds))]
    return median(values)


def report_single_calls(contenders: list[Contender], settings: list[str]) -> list[str]:
    floor, hook, http_hook, _ = contenders
    rows = []
    for contender in contenders:
        indexes = range(len(contender.seconds))
        rows.append(
            [
                contender.name,
                f"{median([contender.rate(i) for i in indexes]):.1f}",
                f"{median([contender.requests[i] / contender.seconds[i] for i in indexes]):.1f}",
                f"{median([contender.cpu_per_call(i) for i in indexes]) * 1e6:.0f}",
                f"{ratios(contender, floor, 'speed'):.3f}",
                f"{ratios(contender, floor, 'cpu'):.3f}",
                f"{median(contender.connections) / contender.calls_per_round:.2f}",
                f"{median(contender.token_requests) / contender.calls_per_round:.2f}",
            ]
        )
    print_table(
        f"Throughput: GET {ENDPOINT} + JSON, one call at a time",
        settings,
        [
            "contender",
            "calls/s",
            "HTTP req/s",
            "CPU us/call",
            "speed/floor",
            "CPU/floor",
            "conns/call",
            "tokens/call",
        ],
        rows,
    )
    speed = ratios(hook, floor, "speed")
    cpu = ratios(hook, floor, "cpu")
    versus_http = ratios(hook, http_hook, "speed")
    return [
        verdict("BitcapitalHook.get speed / floor", speed, ">= 0.95", speed >= 0.95),
        verdict("BitcapitalHook.get CPU per call / floor", cpu, "<= 1.25", cpu <= 1.25),
        verdict("BitcapitalHook.get speed / HttpHook.run", versus_http, ">= 1.00", versus_http >= 1.0),
    ]


def report_tasks(contenders: list[Contender], settings: list[str]) -> list[str]:
    hook_task, naive_task = contenders
    rows = []
    for contender in contenders:
        speedups = [naive_task.seconds[i] / contender.seconds[i] for i in range(len(contender.seconds))]
        rows.append(
            [
                contender.name,
                f"{median(contender.seconds) * 1000:.1f}",
                f"{median(contender.cpu_seconds) * 1000:.1f}",
                f"{median(speedups):.2f}",
                f"{median(contender.connections):.0f}",
                f"{median(contender.token_requests):.0f}",
            ]
        )
    print_table(
        f"A task of {TASK_CALLS} calls: GET {ENDPOINT} + JSON",
        [*settings, "the hook starts with no token in the process and the token in the file cache (Fernet)"],
        ["contender", "ms/task", "CPU ms/task", "naive/this", "connections", "token requests"],
        rows,
    )
    speedup = median([naive_task.seconds[i] / hook_task.seconds[i] for i in range(len(hook_task.seconds))])
    return [verdict(f"task of {TASK_CALLS} calls, naive time / hook time", speedup, ">= 1.5", speedup >= 1.5)]


def main() -> None:
    arguments = parse_arguments(__doc__.splitlines()[0])
    with Responder(arguments.rtt_ms, arguments.handshake_rtts, wallet_count=100) as responder:
        prepare_airflow_home(responder.url)
        quiet_provider_logs()
        calls = max(20, int(1000 / max(arguments.rtt_ms, 1.0)))
        settings = [
            f"link: {responder.link}; responder in its own process",
            f"machine: {machine()}",
            f"{arguments.rounds} interleaved rounds of {calls} calls (naive: {max(calls // 5, 5)}); medians,"
            " ratios are medians of per-round ratios",
        ]
        singles = single_call_contenders(responder.url, calls)
        run_rounds(responder, singles, arguments.rounds)
        verdicts = report_single_calls(singles, settings)

        tasks = task_contenders(responder.url)
        run_rounds(responder, tasks, arguments.rounds)
        verdicts += report_tasks(tasks, [settings[0], settings[1], f"{arguments.rounds} interleaved rounds"])
    for line in verdicts:
        print(line)


if __name__ == "__main__":
    main()
