"""A local Bitcapital Core server for demos and tests, with seeded data, counters and fault injection.

::

    from airflow_provider_bitcapital.sandbox import SandboxServer

    with SandboxServer() as server:
        os.environ.update(server.env(token_cache="memory"))
        ...

Run it standalone with ``python -m airflow_provider_bitcapital.sandbox``; in pytest, use the
``bitcapital_sandbox`` fixture of :mod:`.pytest_plugin`. Importing this package is cheap: FastAPI
and uvicorn are imported when a server starts.
"""

from __future__ import annotations

from airflow_provider_bitcapital.sandbox.server import SandboxServer
from airflow_provider_bitcapital.sandbox.state import RecordedRequest

__all__ = ["RecordedRequest", "SandboxServer"]
