"""Shared fixtures: an isolated Airflow home, a clean token cache, and connections to the sandbox.

The sandbox server itself comes from the provider's pytest plugin (``bitcapital_sandbox``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun

ROOT = Path(__file__).resolve().parent.parent

# Airflow reads these when first imported, so they are set before any test module imports it.
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="bitcapital-airflow-home-"))
DAGS_FOLDER = AIRFLOW_HOME / "dags"
os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{AIRFLOW_HOME}/airflow.db"
os.environ["AIRFLOW__CORE__FERNET_KEY"] = "x4Yw9U8Q2q2zj5bqJ8mA1eR0cVZpLw3nT6sKf7dHh0E="
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


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate a SQLite metadata database and fill the DAGs folder with the example and test DAGs."""
    DAGS_FOLDER.mkdir(exist_ok=True)
    for folder in (ROOT / "example_dags", ROOT / "tests" / "dags"):
        for source in folder.glob("*.py"):
            shutil.copy(source, DAGS_FOLDER / source.name)
    subprocess.run(
        [Path(sys.executable).parent / "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=dict(os.environ),
        timeout=300,
    )
    from airflow import settings

    # Connections opened before the migration may still see the old, empty database file.
    if settings.engine is not None:
        settings.engine.dispose()
    return DAGS_FOLDER


DagRunner = Callable[..., "DagRun"]


@pytest.fixture
def run_dag(airflow_db: Path) -> DagRunner:
    """Run a DAG of the DAGs folder with ``dag.test()`` and return its finished DAG run."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    def run(dag_id: str, **kwargs: Any) -> DagRun:
        dag = DagBag(dag_folder=str(airflow_db)).get_dag(dag_id)
        assert dag is not None, f"DAG {dag_id} was not found in {airflow_db}"
        return dag.test(**kwargs)

    return run


def xcom_values(dag_run: DagRun) -> dict[str, Any]:
    """Return the ``return_value`` XComs of a DAG run, by task id (mapped tasks give lists)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    values: dict[str, Any] = {}
    with create_session() as session:
        rows = session.query(XComModel).filter_by(
            dag_id=dag_run.dag_id, run_id=dag_run.run_id, key="return_value"
        )
        for row in rows.order_by(XComModel.map_index):
            if row.map_index >= 0:
                values.setdefault(row.task_id, []).append(row.value)
            else:
                values[row.task_id] = row.value
    return values


def task_states(dag_run: DagRun) -> dict[str, str]:
    """Return the final state of each task of a DAG run, by task id."""
    from airflow.utils.session import create_session

    with create_session() as session:
        return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances(session=session)}
