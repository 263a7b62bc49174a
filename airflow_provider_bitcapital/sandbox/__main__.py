"""Run the Bitcapital sandbox in the foreground: ``python -m airflow_provider_bitcapital.sandbox``.

It prints where it listens and the ``export`` line that points Airflow's default Bitcapital
connection at it, then serves until SIGINT or SIGTERM and exits with status 0.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from typing import TYPE_CHECKING

from airflow_provider_bitcapital.sandbox.server import SandboxServer

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line.

    :param argv: the arguments, without the program name; ``None`` reads ``sys.argv``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_bitcapital.sandbox",
        description="Run a local Bitcapital Core sandbox server.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port, 0 for any free one (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the seeded data (default: %(default)s)")
    parser.add_argument("--wallets", type=int, default=300, help="number of wallets (default: %(default)s)")
    parser.add_argument(
        "--token-lifetime",
        type=float,
        default=3600,
        help="access token lifetime, seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--client-id", default="sandbox-client", help="OAuth client id (default: %(default)s)"
    )
    parser.add_argument("--client-secret", default="sandbox-secret", help="OAuth client secret")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM.

    :param argv: the arguments, without the program name; ``None`` reads ``sys.argv``.
    :return: the exit status.
    """
    arguments = parse_arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop_requested = threading.Event()

    def request_stop(signal_number: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    server = SandboxServer(
        host=arguments.host,
        port=arguments.port,
        client_id=arguments.client_id,
        client_secret=arguments.client_secret,
        wallet_count=arguments.wallets,
        seed=arguments.seed,
        token_lifetime=arguments.token_lifetime,
    )
    with server:
        print(f"Bitcapital sandbox listening on {server.url}", flush=True)
        print(f"export AIRFLOW_CONN_BITCAPITAL_DEFAULT={shlex.quote(server.connection_json())}", flush=True)
        while not stop_requested.wait(0.5):
            pass
    print("Bitcapital sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
