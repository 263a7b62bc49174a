"""Token requests when many callers need a token at once: threads, processes, a revoke, a short lifetime.

Each scenario starts from a freshly reset sandbox and empty token caches (in the process and on
disk), makes its calls (``GET /users/me`` through ``BitcapitalHook``), and reports how many
``POST /oauth/token`` requests the sandbox received, against a target:

- 64 threads of one process, released together, with no token anywhere: 1;
- 8 processes of 20 calls each with ``token_cache=file``: 1, as they share the host's file cache;
- the same with ``token_cache=memory``: 8, one per process (the baseline the file cache removes);
- 16 threads after the server revoked the token they all hold: 1, as one refused call renews it
  and the others replay with the new token;
- 1,000 calls spread over 10 s with 30 s tokens: at most 1 per 15 s of elapsed time, as a token
  is renewed only in the last quarter of its life (with jitter), not on every call near expiry.

The sandbox runs in this process; the processes of the process scenarios are spawned, read the
connection from ``AIRFLOW_CONN_*`` variables and share a temporary ``AIRFLOW_HOME``, so their file
cache is this benchmark's alone. Counts, not timings, decide the verdicts; the seconds are shown
for information. Run with ``python benchmarks/tokens.py``; the exit status is 1 if a scenario
misses its target.
"""

from __future__ import annotations

import base64
import math
import multiprocessing
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import print_table, quiet_provider_logs

if TYPE_CHECKING:
    from airflow_provider_bitcapital.sandbox import SandboxServer

ENDPOINT = "/users/me"
CONNECTION_IDS = {"file": "bench_tokens_file", "memory": "bench_tokens_memory"}
#: The longest wait for callers to be ready to go (spawned processes import Airflow first).
START_TIMEOUT_SECONDS = 120.0
#: The longest wait for callers to finish once released.
FINISH_TIMEOUT_SECONDS = 120.0
#: The short-lifetime scenario's budget: one token request per this many seconds of calls.
SECONDS_PER_TOKEN_REQUEST = 15.0


@dataclass(frozen=True)
class Result:
    """One scenario's row: what was asked, what the sandbox counted, and the verdict."""

    scenario: str
    cache: str
    calls: str
    api_requests: int
    token_requests: int
    target: str
    met: bool
    seconds: float

    def cells(self) -> list[str]:
        return [
            self.scenario,
            self.cache,
            self.calls,
            str(self.api_requests),
            str(self.token_requests),
            self.target,
            f"{self.seconds:.1f}",
            "PASS" if self.met else "FAIL",
        ]


def prepare_airflow_home() -> Path:
    """Point Airflow, and every process spawned from here, at a temporary home with a Fernet key.

    Call it before anything imports Airflow, which reads its configuration once.
    """
    home = Path(tempfile.mkdtemp(prefix="bitcapital-bench-tokens-"))
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__FERNET_KEY"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
    return home


def define_connections(sandbox: SandboxServer) -> None:
    """Define one connection to the sandbox per token cache, as ``AIRFLOW_CONN_*`` variables.

    The file cache is the connection's default, so that connection names no cache at all.
    """
    extras = {"file": {}, "memory": {"token_cache": "memory"}}
    for cache, conn_id in CONNECTION_IDS.items():
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = sandbox.connection_json(**extras[cache])


def start_cold(sandbox: SandboxServer) -> None:
    """Reset the sandbox and forget every token, in this process and in the file cache."""
    from airflow_provider_bitcapital.auth.cache import clear_process_cache
    from airflow_provider_bitcapital.hooks.bitcapital import token_cache_directory

    sandbox.reset()
    clear_process_cache()
    shutil.rmtree(token_cache_directory(), ignore_errors=True)


def call_together(calls: Sequence[Callable[[], Any]]) -> int:
    """Run each call on a thread of its own, released at the same moment; return how many succeeded."""
    barrier = threading.Barrier(len(calls), timeout=START_TIMEOUT_SECONDS)
    succeeded: list[bool] = []

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            call()
            succeeded.append(True)
        except Exception as error:
            print(f"  a call failed: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=run, args=(call,), daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    give_up = time.monotonic() + START_TIMEOUT_SECONDS + FINISH_TIMEOUT_SECONDS
    for thread in threads:
        thread.join(timeout=max(0.0, give_up - time.monotonic()))
    return len(succeeded)


def ready_hooks(count: int, cache: str) -> list[Any]:
    """Return ``count`` hooks with their connection already read, so that only calls remain."""
    from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

    hooks = [BitcapitalHook(CONNECTION_IDS[cache]) for _ in range(count)]
    for hook in hooks:
        hook.config  # noqa: B018 - read the connection now, not inside the timed calls
    return hooks


def cold_threads(sandbox: SandboxServer, threads: int = 64) -> Result:
    """``threads`` hooks of one process ask for their first token at the same moment."""
    start_cold(sandbox)
    hooks = ready_hooks(threads, "file")
    started = time.monotonic()
    succeeded = call_together([partial(hook.get, ENDPOINT) for hook in hooks])
    seconds = time.monotonic() - started
    return exactly_one(sandbox, f"{threads} threads, cold", "file", succeeded, threads, seconds)


def processes(sandbox: SandboxServer, cache: str, count: int = 8, calls: int = 20) -> Result:
    """``count`` spawned processes, released together once all have imported Airflow, each make
    ``calls`` calls with one hook.
    """
    start_cold(sandbox)
    context = multiprocessing.get_context("spawn")
    # This process waits at the barrier too, so that the clock starts when the callers are released.
    barrier = context.Barrier(count + 1)
    results: multiprocessing.Queue[int] = context.Queue()
    workers = [
        context.Process(
            target=call_from_process, args=(CONNECTION_IDS[cache], calls, barrier, results), daemon=True
        )
        for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    try:
        barrier.wait(timeout=START_TIMEOUT_SECONDS)
    except threading.BrokenBarrierError:
        print(f"  the {count} processes were not all ready within {START_TIMEOUT_SECONDS:.0f} s")
    started = time.monotonic()
    made = collect(results, count)
    seconds = time.monotonic() - started
    for worker in workers:
        worker.join(timeout=FINISH_TIMEOUT_SECONDS)
        if worker.is_alive():
            worker.terminate()
            worker.join(timeout=FINISH_TIMEOUT_SECONDS)
    name = f"{count} processes x {calls} calls"
    if cache == "memory":
        return baseline(sandbox, name, cache, made, count * calls, seconds, expected=count)
    return exactly_one(sandbox, name, cache, made, count * calls, seconds)


def call_from_process(conn_id: str, calls: int, barrier: Any, results: Any) -> None:
    """In a spawned process: wait for the siblings, make ``calls`` calls, report how many succeeded."""
    from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

    quiet_provider_logs()
    made = 0
    try:
        hook = BitcapitalHook(conn_id)
        hook.config  # noqa: B018 - read the connection before the siblings are released
        barrier.wait(timeout=START_TIMEOUT_SECONDS)
        for _ in range(calls):
            hook.get(ENDPOINT)
            made += 1
    finally:
        results.put(made)


def collect(results: Any, count: int) -> int:
    """Add up what ``count`` processes reported, giving up on those that never do."""
    total = 0
    give_up = time.monotonic() + START_TIMEOUT_SECONDS + FINISH_TIMEOUT_SECONDS
    for _ in range(count):
        try:
            total += results.get(timeout=max(0.1, give_up - time.monotonic()))
        except queue.Empty:
            print("  a process never reported")
            break
    return total


def threads_after_revoke(sandbox: SandboxServer, threads: int = 16) -> Result:
    """``threads`` hooks share a token the server then revokes; they all call at the same moment."""
    start_cold(sandbox)
    hooks = ready_hooks(threads, "file")
    hooks[0].get_token()
    sandbox.revoke_all_tokens()
    sandbox.reset_counters()
    started = time.monotonic()
    succeeded = call_together([partial(hook.get, ENDPOINT) for hook in hooks])
    seconds = time.monotonic() - started
    return exactly_one(sandbox, f"{threads} threads after a revoke", "file", succeeded, threads, seconds)


def short_lifetime(
    sandbox: SandboxServer, calls: int = 1000, seconds: float = 10.0, lifetime: float = 30.0, threads: int = 8
) -> Result:
    """``calls`` calls from ``threads`` threads, evenly spread over ``seconds``, with short-lived tokens."""
    start_cold(sandbox)
    sandbox.token_lifetime = lifetime
    hooks = ready_hooks(threads, "file")
    schedule = iter(range(calls))
    schedule_lock = threading.Lock()
    made: list[int] = []
    started = time.monotonic()

    def paced(hook: Any) -> None:
        while True:
            with schedule_lock:
                number = next(schedule, None)
            if number is None:
                return
            time.sleep(max(0.0, started + number * seconds / calls - time.monotonic()))
            hook.get(ENDPOINT)
            made.append(number)

    call_together([partial(paced, hook) for hook in hooks])
    elapsed = time.monotonic() - started
    limit = max(1, math.ceil(elapsed / SECONDS_PER_TOKEN_REQUEST))
    requests = sandbox.token_requests
    return Result(
        scenario=f"{calls:,} calls over {seconds:.0f} s, {lifetime:.0f} s tokens",
        cache="file",
        calls=f"{len(made)}/{calls}",
        api_requests=sandbox.count("GET", ENDPOINT),
        token_requests=requests,
        target=f"<= {limit} (1 per {SECONDS_PER_TOKEN_REQUEST:.0f} s)",
        met=len(made) == calls and requests <= limit,
        seconds=elapsed,
    )


def exactly_one(
    sandbox: SandboxServer, scenario: str, cache: str, made: int, calls: int, seconds: float
) -> Result:
    """The row of a scenario whose calls should all succeed on a single token request."""
    requests = sandbox.token_requests
    return Result(
        scenario=scenario,
        cache=cache,
        calls=f"{made}/{calls}",
        api_requests=sandbox.count("GET", ENDPOINT),
        token_requests=requests,
        target="1",
        met=made == calls and requests == 1,
        seconds=seconds,
    )


def baseline(
    sandbox: SandboxServer, scenario: str, cache: str, made: int, calls: int, seconds: float, expected: int
) -> Result:
    """The row of a baseline: the count it should show without sharing, here one per process."""
    requests = sandbox.token_requests
    return Result(
        scenario=scenario,
        cache=cache,
        calls=f"{made}/{calls}",
        api_requests=sandbox.count("GET", ENDPOINT),
        token_requests=requests,
        target=f"{expected} (baseline)",
        met=made == calls and requests == expected,
        seconds=seconds,
    )


def main() -> int:
    """Run every scenario and print the table; return 1 if any scenario missed its target."""
    home = prepare_airflow_home()
    try:
        from airflow_provider_bitcapital.sandbox import SandboxServer

        with SandboxServer() as sandbox:
            define_connections(sandbox)
            quiet_provider_logs()
            results = [
                cold_threads(sandbox),
                processes(sandbox, "file"),
                processes(sandbox, "memory"),
                threads_after_revoke(sandbox),
                short_lifetime(sandbox),
            ]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print_table(
        "Token requests counted by the sandbox",
        [
            f"calls: GET {ENDPOINT} through BitcapitalHook; every scenario starts with no token cached",
            "processes are spawned and share a temporary AIRFLOW_HOME; the sandbox runs in this process",
            f"machine: {os.cpu_count()} CPUs",
        ],
        ["scenario", "cache", "calls", "API requests", "token requests", "target", "seconds", "result"],
        [result.cells() for result in results],
    )
    return 0 if all(result.met for result in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
