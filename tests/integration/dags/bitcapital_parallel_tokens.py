"""Eight tasks at once, each in its own process, each calling Bitcapital through the hook.

The integration test triggers this DAG under a real scheduler. Before calling, every task waits
for its siblings at a file barrier, so the eight calls really race for the first token. The run's
conf names the barrier folder (``barrier_dir``) and how many tasks to wait for (``parties``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from airflow.sdk import dag, get_current_context, task

TASKS = 8
BARRIER_TIMEOUT_SECONDS = 90.0


def wait_for_siblings(folder: Path, parties: int, timeout: float) -> int:
    """Announce this process in ``folder`` and wait until ``parties`` processes have; return how many did.

    Gives up after ``timeout`` seconds and returns the count seen, so that a slow executor shows up
    as an assertion in the test rather than a task stuck forever.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{os.getpid()}.ready").touch()
    give_up = time.monotonic() + timeout
    while True:
        ready = len(list(folder.glob("*.ready")))
        if ready >= parties or time.monotonic() >= give_up:
            return ready
        time.sleep(0.05)


@dag(schedule=None, catchup=False, tags=["bitcapital", "integration"])
def bitcapital_parallel_tokens() -> None:
    @task(retries=0)
    def call_bitcapital(index: int) -> dict[str, int]:
        from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

        conf = get_current_context()["dag_run"].conf or {}
        folder = Path(conf["barrier_dir"])
        siblings = wait_for_siblings(folder, int(conf.get("parties", TASKS)), BARRIER_TIMEOUT_SECONDS)
        me = BitcapitalHook().get("/users/me")
        outcome = {"index": index, "pid": os.getpid(), "siblings_ready": siblings, "user": bool(me["id"])}
        (folder / f"{os.getpid()}.called").write_text(json.dumps(outcome))
        return outcome

    call_bitcapital.expand(index=list(range(TASKS)))


bitcapital_parallel_tokens()
