"""Items per second and peak memory of walking a 20,000-item list, against a hand-written loop.

Contenders, interleaved round by round, each walking ``GET /wallets`` 100 items per page and
reading every item's id:

- the hand loop: ``skip``/``limit`` requests over a plain keep-alive ``requests.Session``, one page
  at a time, stopping at ``X-Data-Length``;
- ``BitcapitalHook.paginate`` with ``concurrency=1``;
- ``BitcapitalHook.paginate`` with ``concurrency=8``.

Memory growth is the peak of Python allocations during a walk (``tracemalloc``, in a separate
pass, since tracing slows the walk) and the peak of the resident set during the timed walks
(``VmHWM`` after resetting it through ``/proc/self/clear_refs``), both above the level before the
walk.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from harness import (
    machine,
    median,
    parse_arguments,
    prepare_airflow_home,
    print_table,
    quiet_provider_logs,
    verdict,
)
from responder import Responder

ITEMS = 20_000
PAGE_SIZE = 100
MEGABYTE = 1024 * 1024


@dataclass
class Walk:
    """One way of walking the list, and what each round measured of it."""

    name: str
    items: Callable[[], Iterable[Any]]
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    rss_growth: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    connections: list[int] = field(default_factory=list)
    traced_peak: int = 0

    def rate(self, index: int) -> float:
        return ITEMS / self.seconds[index]


def consume(items: Iterable[Any]) -> int:
    """Read every item's id, as a task that exports the list would; return the item count."""
    count = 0
    for item in items:
        count += bool(item["id"])
    if count != ITEMS:
        raise RuntimeError(f"the walk gave {count} items instead of {ITEMS}")
    return count


def resident_kilobytes(field_name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_resident_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def hand_loop(base_url: str, token: str) -> Callable[[], Iterable[Any]]:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def walk() -> Iterable[Any]:
        skip, total = 0, None
        while total is None or skip < total:
            answer = session.get(base_url + "/wallets", params={"skip": skip, "limit": PAGE_SIZE}, timeout=30)
            answer.raise_for_status()
            page = answer.json()
            total = int(answer.headers["X-Data-Length"])
            if not page:
                return
            yield from page
            skip += len(page)

    return walk


def walks(base_url: str) -> list[Walk]:
    from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

    hook = BitcapitalHook("bench_memory")
    return [
        Walk("hand loop: requests.Session, skip/limit", hand_loop(base_url, hook.get_access_token())),
        Walk(
            "BitcapitalHook.paginate, concurrency=1", lambda: hook.paginate("/wallets", page_size=PAGE_SIZE)
        ),
        Walk(
            "BitcapitalHook.paginate, concurrency=8",
            lambda: hook.paginate("/wallets", page_size=PAGE_SIZE, concurrency=8),
        ),
    ]


def run_rounds(responder: Responder, contenders: list[Walk], rounds: int) -> None:
    for walk in contenders:  # warm-up: connections opened and pooled, pages cached by the responder
        consume(walk.items())
    for number in range(rounds):
        shift = number % len(contenders)
        for walk in contenders[shift:] + contenders[:shift]:
            responder.reset()
            before = resident_kilobytes("VmRSS") or 0
            peak_was_reset = reset_resident_peak()
            started, cpu_started = time.perf_counter(), time.process_time()
            consume(walk.items())
            walk.cpu_seconds.append(time.process_time() - cpu_started)
            walk.seconds.append(time.perf_counter() - started)
            peak = resident_kilobytes("VmHWM") if peak_was_reset else None
            walk.rss_growth.append(max((peak or before) - before, 0) * 1024)
            counters = responder.stats()
            walk.requests.append(counters["requests"])
            walk.connections.append(counters["connections"])


def trace_memory(contenders: list[Walk]) -> None:
    tracemalloc.start()
    try:
        for walk in contenders:
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            consume(walk.items())
            _, peak = tracemalloc.get_traced_memory()
            walk.traced_peak = peak - before
    finally:
        tracemalloc.stop()


def main() -> None:
    arguments = parse_arguments(__doc__.splitlines()[0])
    with Responder(arguments.rtt_ms, arguments.handshake_rtts, wallet_count=ITEMS) as responder:
        prepare_airflow_home(responder.url)
        quiet_provider_logs()
        contenders = walks(responder.url)
        run_rounds(responder, contenders, arguments.rounds)
        trace_memory(contenders)

    hand, sequential, parallel = contenders
    rows = []
    for walk in contenders:
        indexes = range(len(walk.seconds))
        rows.append(
            [
                walk.name,
                f"{median([walk.rate(i) for i in indexes]):,.0f}",
                f"{median(walk.seconds):.2f}",
                f"{median(walk.cpu_seconds):.2f}",
                f"{median([walk.rate(i) / hand.rate(i) for i in indexes]):.2f}",
                f"{median(walk.requests):.0f}",
                f"{median(walk.connections):.0f}",
                f"{walk.traced_peak / MEGABYTE:.2f}",
                f"{max(walk.rss_growth) / MEGABYTE:.1f}",
            ]
        )
    print_table(
        f"Paging: {ITEMS:,} items, {PAGE_SIZE} per page, GET /wallets",
        [
            f"link: {responder.link}; responder in its own process",
            f"machine: {machine()}",
            f"{arguments.rounds} interleaved rounds after a warm-up walk each (connections pooled);"
            " medians, ratio is the median of per-round ratios",
            "memory: peak above the start of the walk; Python allocations (tracemalloc, one separate walk)"
            " and resident set (largest of the timed walks)",
        ],
        [
            "walk",
            "items/s",
            "s/walk",
            "CPU s/walk",
            "vs hand",
            "requests",
            "new conns",
            "peak MB (py)",
            "peak MB (RSS)",
        ],
        rows,
    )
    indexes = range(arguments.rounds)
    sequential_ratio = median([sequential.rate(i) / hand.rate(i) for i in indexes])
    parallel_ratio = median([parallel.rate(i) / hand.rate(i) for i in indexes])
    lines = [
        verdict("paginate concurrency=1 / hand loop", sequential_ratio, ">= 0.95", sequential_ratio >= 0.95),
        verdict("paginate concurrency=8 / hand loop", parallel_ratio, ">= 4.00", parallel_ratio >= 4.0),
    ]
    for walk in (sequential, parallel):
        growth = max(walk.traced_peak, max(walk.rss_growth)) / MEGABYTE
        lines.append(verdict(f"{walk.name}: peak memory growth, MB", growth, "< 20", growth < 20))
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
