"""What every benchmark shares: the command line, a throwaway Airflow home, medians and tables.

The benchmarks run on noisy machines, so each one measures its baseline in the same process and
run as the contenders, interleaves the contenders round by round, repeats every measurement, and
reports medians and the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import json
import os
import shutil
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path

CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret"


def parse_arguments(description: str, *, rounds: int = 7) -> argparse.Namespace:
    """Read the link settings and the number of rounds from the command line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rtt-ms", type=float, default=10.0, help="emulated round trip per request")
    parser.add_argument(
        "--handshake-rtts", type=int, default=2, help="extra round trips per new connection (TCP + TLS)"
    )
    parser.add_argument("--rounds", type=int, default=rounds, help="interleaved repetitions, at least 5")
    arguments = parser.parse_args()
    if arguments.rounds < 5:
        parser.error("--rounds must be at least 5")
    return arguments


def prepare_airflow_home(base_url: str) -> Path:
    """Point Airflow at a temporary home with a Fernet key and the benchmarks' connections.

    Call it before anything imports Airflow, which reads its configuration once. The connections
    are ``bench_memory`` (tokens cached in the process), ``bench_file`` (tokens cached in a file
    too) and ``bench_http`` (a plain HTTP connection for ``HttpHook``).
    """
    home = Path(tempfile.mkdtemp(prefix="bitcapital-bench-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__FERNET_KEY"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
    for conn_id, token_cache in (("bench_memory", "memory"), ("bench_file", "file")):
        connection = {
            "conn_type": "bitcapital",
            "host": base_url,
            "login": CLIENT_ID,
            "password": CLIENT_SECRET,
            "extra": {"token_cache": token_cache},
        }
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(connection)
    os.environ["AIRFLOW_CONN_BENCH_HTTP"] = json.dumps({"conn_type": "http", "host": base_url})
    return home


def quiet_provider_logs() -> None:
    """Keep log lines out of the tables.

    Silenced: the provider's INFO lines about tokens, and the secrets masker's warning that it
    skips ``file``, the value of ``token_cache`` (Airflow takes any extra whose name holds "token"
    for a secret). Requests are logged at DEBUG, so no per-request work is skipped.
    """
    import logging

    import airflow.sdk  # noqa: F401 - Airflow sets up logging when first imported: do it before

    logging.getLogger("airflow_provider_bitcapital").setLevel(logging.WARNING)
    logging.getLogger("airflow.sdk._shared.secrets_masker").setLevel(logging.ERROR)


def median(values: Sequence[float]) -> float:
    """Return the median of ``values``."""
    return statistics.median(values)


def machine() -> str:
    """Describe the machine: processor count and CPU model."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {model}"


def print_table(
    title: str, notes: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[str]]
) -> None:
    """Print an aligned plain-text table: the title, its notes, then the columns.

    The first column is aligned left, the others right.
    """
    widths = [max(len(str(row[index])) for row in [header, *rows]) for index in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = str(cells[0]).ljust(widths[0])
        rest = [str(cell).rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    rule = "-" * len(line(header))
    print()
    print(title)
    for note in notes:
        print(f"  {note}")
    print(rule)
    print(line(header))
    print(rule)
    for row in rows:
        print(line(row))
    print(rule, flush=True)


def verdict(name: str, value: float, target: str, met: bool) -> str:
    """Return one line stating a target, the measured value and whether it was met."""
    return f"{'MET   ' if met else 'MISSED'}  {name}: {value:.2f} (target {target})"
