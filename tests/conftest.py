"""Shared fixtures: an isolated Airflow home, a clean token cache, and connections to the sandbox.

The sandbox server itself comes from the provider's pytest plugin (``bitcapital_sandbox``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Airflow reads these when first imported, so they are set before any test module imports it.
_HOME = tempfile.mkdtemp(prefix="bitcapital-airflow-home-")
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME}/airflow.db"
os.environ.pop("AIRFLOW_CONN_BITCAPITAL_DEFAULT", None)

from airflow_provider_bitcapital.auth.cache import clear_process_cache  # noqa: E402
from airflow_provider_bitcapital.hooks.bitcapital import token_cache_directory  # noqa: E402


@pytest.fixture(autouse=True)
def clean_token_caches() -> Iterator[None]:
    """Start every test with no token cached in this process or on disk."""
    clear_process_cache()
    _clear_token_files()
    yield
    clear_process_cache()
    _clear_token_files()


def _clear_token_files() -> None:
    folder = token_cache_directory()
    if folder.exists():
        for path in folder.iterdir():
            path.unlink()


ConnectionFactory = Callable[..., str]


@pytest.fixture
def sandbox_connection(bitcapital_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> ConnectionFactory:
    """Define a connection to the sandbox as an ``AIRFLOW_CONN_*`` variable and return its id.

    Keyword arguments become the connection's extras; ``conn_id``, ``login``, ``password`` and
    ``host`` override the sandbox's defaults.
    """

    def define(conn_id: str = "bitcapital_test", **fields: Any) -> str:
        connection = {
            "conn_type": "bitcapital",
            "host": fields.pop("host", bitcapital_sandbox.url),
            "login": fields.pop("login", "sandbox-client"),
            "password": fields.pop("password", "sandbox-secret"),
            "extra": {"token_cache": "memory", "max_retries": 2, **fields},
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
        return conn_id

    return define
