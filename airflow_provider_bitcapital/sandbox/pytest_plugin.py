"""pytest fixtures that run the Bitcapital sandbox for a test session.

Installed with the provider, this plugin is registered automatically (a ``pytest11`` entry
point), so a team's own DAG tests can use its fixtures without any ``conftest.py``:

``bitcapital_sandbox_server`` (session scope)
    One :class:`.SandboxServer` on a free port of 127.0.0.1, started on first use and stopped
    at the end of the session. Its state carries over between tests; prefer the fixture below.

``bitcapital_sandbox`` (function scope)
    The same server, reset to its freshly seeded state before the test (data, clients, tokens,
    faults, counters, settings), with ``AIRFLOW_CONN_BITCAPITAL_DEFAULT`` set for the test's
    duration to a connection on it that caches tokens in memory only::

        def test_wallet_export(bitcapital_sandbox):
            bitcapital_sandbox.inject("/wallets", status=503, retry_after=1)
            rows = export_wallets()  # the DAG's code, using the bitcapital_default connection
            assert len(rows) == len(bitcapital_sandbox.wallets_snapshot())
            assert bitcapital_sandbox.token_requests == 1

Importing this module is cheap: FastAPI and uvicorn load only when a fixture starts the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_bitcapital.sandbox.server import SandboxServer

CONNECTION_VARIABLE = "AIRFLOW_CONN_BITCAPITAL_DEFAULT"


@pytest.fixture(scope="session")
def bitcapital_sandbox_server() -> Iterator[SandboxServer]:
    """Run one sandbox server for the whole test session."""
    from airflow_provider_bitcapital.sandbox.server import SandboxServer

    server = SandboxServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bitcapital_sandbox(
    bitcapital_sandbox_server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> SandboxServer:
    """Reset the session's sandbox and point ``bitcapital_default`` at it for one test."""
    bitcapital_sandbox_server.reset()
    monkeypatch.setenv(CONNECTION_VARIABLE, bitcapital_sandbox_server.connection_json(token_cache="memory"))
    return bitcapital_sandbox_server
