"""A Bitcapital stand-in for the benchmarks that answers like an instance across a wide-area link.

Loopback answers in microseconds, which hides the cost that matters in production: round trips.
This responder waits one round trip before answering each request, and two more before answering
the first request of each new connection (the TCP and TLS handshakes a real instance costs). It
runs in a process of its own, started by :class:`Responder`, so that its CPU time is never
counted as the client's.

It serves only what the benchmarks call:

- ``POST /oauth/token``: a Bearer token valid one hour (the request is not checked);
- ``GET /users/me``: a small JSON object;
- ``GET /wallets?skip=&limit=``: a page of a fixed list of wallets, with ``X-Data-Length``;
- ``GET /_stats`` and ``POST /_reset``: the counters, answered at once and not counted.

Run it alone with ``python benchmarks/responder.py --rtt-ms 10``; it prints its port, and stops
when its standard input closes or after ``--lifetime`` seconds.

Known limitation: the emulated link has latency but unlimited bandwidth, and the handshake cost is
a fixed wait, not a TLS handshake: client-side TLS CPU time is not part of any figure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CONTROL_PATHS = frozenset({"/_stats", "/_reset"})


class Counters:
    """What the responder has received since the last reset; safe to update from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.connections = 0
        self.requests = 0
        self.token_requests = 0

    def add(self, *, connection: bool, token: bool) -> None:
        with self._lock:
            self.connections += connection
            self.requests += 1
            self.token_requests += token

    def reset(self) -> None:
        with self._lock:
            self.connections = self.requests = self.token_requests = 0

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "connections": self.connections,
                "requests": self.requests,
                "token_requests": self.token_requests,
            }


class WalletList:
    """A fixed list of wallets whose pages are serialized once and then served from memory."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._pages: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()

    def page(self, skip: int, limit: int) -> bytes:
        key = (skip, limit)
        body = self._pages.get(key)
        if body is None:
            items = [_wallet(number) for number in range(skip, min(skip + limit, self.count))]
            body = json.dumps(items, separators=(",", ":")).encode()
            with self._lock:
                self._pages[key] = body
        return body


def _wallet(number: int) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "status": "ready",
        "createdAt": "2024-01-02T03:04:05.000Z",
        "updatedAt": "2024-01-02T03:04:05.000Z",
        "user": {"id": f"10000000-0000-4000-8000-{number:012d}", "name": f"Wallet owner {number}"},
        "balances": [{"asset": "BRLD", "balance": f"{number % 9973}.{number % 100:02d}", "pending": "0.00"}],
    }


class LinkHandler(BaseHTTPRequestHandler):
    """Answer one connection's requests, each after the emulated link's delay."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: LinkServer

    def setup(self) -> None:
        super().setup()
        self._first_request = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        target = urlsplit(self.path)
        if target.path == "/_stats":
            self._answer(200, json.dumps(self.server.counters.snapshot()).encode())
            return
        self._wait_for_link(token=False)
        if target.path == "/users/me":
            self._answer(200, self.server.user_body)
        elif target.path == "/wallets":
            query = parse_qs(target.query)
            skip = int(query.get("skip", ["0"])[0])
            limit = int(query.get("limit", ["100"])[0])
            wallets = self.server.wallets
            self._answer(200, wallets.page(skip, limit), {"X-Data-Length": str(wallets.count)})
        else:
            self._answer(404, b'{"status":404,"message":"Not found"}')

    def do_POST(self) -> None:
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if target.path == "/_reset":
            self.server.counters.reset()
            self._answer(200, b"{}")
            return
        self._wait_for_link(token=target.path == "/oauth/token")
        if target.path == "/oauth/token":
            token = {
                "access_token": "bench-" + secrets.token_hex(20),
                "token_type": "Bearer",
                "expires_in": 3600,
                "user_id": "bench-user",
                "virtual": True,
            }
            self._answer(200, json.dumps(token).encode())
        else:
            self._answer(404, b'{"status":404,"message":"Not found"}')

    def _wait_for_link(self, *, token: bool) -> None:
        # The handshakes are paid before the first answer on a connection, as a client sees them.
        new_connection = self._first_request
        self._first_request = False
        self.server.counters.add(connection=new_connection, token=token)
        round_trips = 1 + (self.server.handshake_round_trips if new_connection else 0)
        time.sleep(round_trips * self.server.round_trip)

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        lines = [
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}",
            "Content-Type: application/json; charset=utf-8",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


class LinkServer(ThreadingHTTPServer):
    """A thread per connection, so that connections wait for the link in parallel."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, port: int, round_trip: float, handshake_round_trips: int, wallet_count: int) -> None:
        super().__init__(("127.0.0.1", port), LinkHandler)
        self.round_trip = round_trip
        self.handshake_round_trips = handshake_round_trips
        self.counters = Counters()
        self.wallets = WalletList(wallet_count)
        self.user_body = json.dumps(
            {"id": "bench-user", "name": "Bench client", "email": "bench@example.com", "virtual": True}
        ).encode()


class Responder:
    """Run the responder in a child process for the duration of a ``with`` block.

    :param rtt_ms: the emulated round trip, in milliseconds.
    :param handshake_round_trips: extra round trips before the first answer on a new connection.
    :param wallet_count: the length of the ``/wallets`` list.
    """

    def __init__(self, rtt_ms: float = 10.0, handshake_round_trips: int = 2, wallet_count: int = 20_000):
        self.rtt_ms = rtt_ms
        self.handshake_round_trips = handshake_round_trips
        self.wallet_count = wallet_count
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Responder:
        command = [
            sys.executable,
            os.path.abspath(__file__),
            f"--rtt-ms={self.rtt_ms}",
            f"--handshake-rtts={self.handshake_round_trips}",
            f"--wallets={self.wallet_count}",
        ]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("port "):
            self.__exit__()
            raise RuntimeError(f"the responder did not start (it printed {line!r})")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is None:
            return
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.terminate()
            self._process.wait(timeout=5)
        self._process = None

    @property
    def link(self) -> str:
        """The emulated link's settings, in words, for the tables."""
        return (
            f"round trip {self.rtt_ms:g} ms per request, "
            f"+{self.handshake_round_trips} round trips per new connection"
        )

    def stats(self) -> dict[str, int]:
        """Return the counters: ``connections``, ``requests`` and ``token_requests``."""
        with urllib.request.urlopen(self.url + "/_stats", timeout=5) as answer:
            counters: dict[str, int] = json.loads(answer.read())
            return counters

    def reset(self) -> None:
        """Set every counter back to zero."""
        request = urllib.request.Request(self.url + "/_reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()


def _stop_when_stdin_closes(server: LinkServer) -> None:
    sys.stdin.read()
    threading.Thread(target=server.shutdown, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rtt-ms", type=float, default=10.0)
    parser.add_argument("--handshake-rtts", type=int, default=2)
    parser.add_argument("--wallets", type=int, default=20_000)
    parser.add_argument("--lifetime", type=float, default=1800.0, help="stop after this many seconds")
    arguments = parser.parse_args()
    server = LinkServer(arguments.port, arguments.rtt_ms / 1000, arguments.handshake_rtts, arguments.wallets)
    print(f"port {server.server_address[1]}", flush=True)
    threading.Thread(target=_stop_when_stdin_closes, args=(server,), daemon=True).start()
    threading.Timer(arguments.lifetime, server.shutdown).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        os._exit(0)


if __name__ == "__main__":
    main()
