"""A throwaway Airflow deployment for integration tests: every component a process of its own.

:class:`LocalAirflow` migrates a SQLite metadata database in a temporary Airflow home, then starts
the API server, the scheduler (with the LocalExecutor), the DAG processor and the triggerer, each
in its own process group with its own log file, and talks to the public REST API on 127.0.0.1.
Every wait is bounded, notices a component that died, and :meth:`LocalAirflow.diagnostics`
gathers the tail of every component log and task log to show when something went wrong.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import requests

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
FINISHED_RUN_STATES = frozenset({"success", "failed"})
# A valid Fernet key, so that the components can encrypt what they store (the token files included).
FERNET_KEY = "x4Yw9U8Q2q2zj5bqJ8mA1eR0cVZpLw3nT6sKf7dHh0E="
_POLL_SECONDS = 0.5
_STOP_SECONDS = 20.0


class AirflowComponentDied(RuntimeError):
    """An Airflow component exited while the test still needed it."""


class LocalAirflow:
    """Airflow on SQLite with the LocalExecutor, one process per component, in ``home``.

    :param home: the Airflow home to create; it holds the database, the logs and the DAGs folder.
    :param dag_files: DAG files copied into the DAGs folder.
    :param environment: extra environment variables for every component, such as connections.
    :param parallelism: how many tasks the LocalExecutor runs at once.
    """

    def __init__(
        self,
        home: Path,
        dag_files: Iterable[Path],
        environment: Mapping[str, str],
        *,
        parallelism: int = 8,
    ) -> None:
        self.created = time.monotonic()
        self.home = home
        self.dags_folder = home / "dags"
        self.dag_files = list(dag_files)
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.environment = _component_environment(home, self.port, parallelism, environment)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.api = requests.Session()
        self.api.trust_env = False

    def __repr__(self) -> str:
        return f"LocalAirflow({str(self.home)!r}, port={self.port})"

    def start(self) -> None:
        """Migrate the database and start every component; return without waiting for them.

        :raises subprocess.CalledProcessError: if the migration fails.
        """
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        for dag_file in self.dag_files:
            shutil.copy(dag_file, self.dags_folder / dag_file.name)
        self._airflow_command("db", "migrate", timeout=300)
        for component in COMPONENTS:
            with (self.home / f"{component}.log").open("wb") as log:
                self.processes[component] = subprocess.Popen(
                    [_airflow_executable(), component],
                    env=self.environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )

    def stop(self) -> None:
        """Stop every component and every process it started, politely first, then by force."""
        family = self._process_family()
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGTERM)
        for member in family:
            with contextlib.suppress(psutil.Error):
                member.terminate()
        _gone, alive = psutil.wait_procs(family, timeout=_STOP_SECONDS)
        for member in alive:
            with contextlib.suppress(psutil.Error):
                member.kill()
        psutil.wait_procs(alive, timeout=_STOP_SECONDS)
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=_STOP_SECONDS)
        self.api.close()

    def wait_for_dag(self, dag_id: str, timeout: float) -> dict[str, Any]:
        """Wait until the API server knows ``dag_id`` (the DAG processor has parsed it); return it.

        :raises TimeoutError: if it does not appear within ``timeout`` seconds.
        :raises AirflowComponentDied: if a component exits meanwhile.
        """
        give_up = time.monotonic() + timeout
        while True:
            self._check_components()
            with contextlib.suppress(requests.ConnectionError):
                response = self.api.get(f"{self.base_url}/api/v2/dags/{dag_id}", timeout=10)
                if response.status_code == 401:
                    self._authorize()
                if response.status_code == 200:
                    return dict(response.json())
            if time.monotonic() >= give_up:
                raise TimeoutError(f"DAG {dag_id} did not appear in the API within {timeout:.0f} s")
            time.sleep(_POLL_SECONDS)

    def _authorize(self) -> None:
        # Airflow 3.1 asks for a token even when everyone is an admin; it hands one out at
        # /auth/token to whoever asks, as long as simple_auth_manager_all_admins is on.
        answer = self.api.get(f"{self.base_url}/auth/token", timeout=10)
        if answer.ok:
            self.api.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def trigger(self, dag_id: str, conf: Mapping[str, Any]) -> str:
        """Trigger a run of ``dag_id`` with ``conf`` through the REST API and return its run id."""
        response = self.api.post(
            f"{self.base_url}/api/v2/dags/{dag_id}/dagRuns",
            json={"logical_date": None, "conf": dict(conf)},
            timeout=30,
        )
        assert response.status_code == 200, (
            f"triggering {dag_id}: HTTP {response.status_code} {response.text}"
        )
        return str(response.json()["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Wait until the run finishes and return its state, ``success`` or ``failed``.

        :raises TimeoutError: if it is still running after ``timeout`` seconds.
        :raises AirflowComponentDied: if a component exits meanwhile.
        """
        give_up = time.monotonic() + timeout
        while True:
            self._check_components()
            run = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in FINISHED_RUN_STATES:
                return str(run["state"])
            if time.monotonic() >= give_up:
                raise TimeoutError(f"run {run_id} of {dag_id} still {run['state']} after {timeout:.0f} s")
            time.sleep(_POLL_SECONDS)

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        """Return the state of every task instance of a run, keyed ``task_id`` or ``task_id[map_index]``."""
        answer = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)
        states: dict[str, str | None] = {}
        for instance in answer["task_instances"]:
            index = instance.get("map_index", -1)
            name = instance["task_id"] if index < 0 else f"{instance['task_id']}[{index}]"
            states[name] = instance["state"]
        return states

    def get(self, path: str, **params: Any) -> Any:
        """``GET`` a path of the REST API and return its decoded JSON; a non-200 answer fails."""
        response = self.api.get(f"{self.base_url}{path}", params=params, timeout=30)
        assert response.status_code == 200, f"GET {path}: HTTP {response.status_code} {response.text}"
        return response.json()

    def task_logs(self) -> list[Path]:
        """Return the log file of every task attempt, in a stable order."""
        return sorted((self.home / "logs").glob("dag_id=*/**/attempt=*.log"))

    def diagnostics(self, lines: int = 60) -> str:
        """Return the tail of each component's log and of each task log, for a failure report."""
        sections = []
        for component, process in self.processes.items():
            status = "running" if process.poll() is None else f"exited with {process.returncode}"
            sections.append(_tail(self.home / f"{component}.log", lines, f"{component} ({status})"))
        for path in self.task_logs():
            sections.append(_tail(path, lines // 2, str(path.relative_to(self.home))))
        return "\n".join(sections)

    @contextlib.contextmanager
    def diagnostics_on_failure(self) -> Iterator[None]:
        """Print :meth:`diagnostics` if the block raises, then let the error through."""
        try:
            yield
        except BaseException:
            print(self.diagnostics())
            raise

    def _check_components(self) -> None:
        for component, process in self.processes.items():
            if process.poll() is not None:
                raise AirflowComponentDied(
                    f"Airflow {component} exited with status {process.returncode}; "
                    f"see {self.home / (component + '.log')}"
                )

    def _process_family(self) -> list[psutil.Process]:
        family: list[psutil.Process] = []
        for process in self.processes.values():
            with contextlib.suppress(psutil.Error):
                parent = psutil.Process(process.pid)
                family.extend([parent, *parent.children(recursive=True)])
        return family

    def _airflow_command(self, *arguments: str, timeout: float) -> None:
        with (self.home / "airflow-cli.log").open("ab") as log:
            subprocess.run(
                [_airflow_executable(), *arguments],
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=True,
                timeout=timeout,
            )


def _component_environment(
    home: Path, port: int, parallelism: int, extra: Mapping[str, str]
) -> dict[str, str]:
    # The test process's own Airflow settings (unit-test mode, its home) must not leak in.
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    environment.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # SQLite takes one writer at a time: a small, fixed number of task slots.
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(parallelism),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__FERNET_KEY": FERNET_KEY,
            # No login on this throwaway deployment: the REST API answers without a token.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            # The scheduler signs the tasks' tokens and the API server checks them: one shared secret.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        }
    )
    environment.update(extra)
    return environment


def _airflow_executable() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(path: Path, lines: int, title: str) -> str:
    try:
        text = [_readable(line) for line in path.read_text(errors="replace").splitlines()[-lines:]]
    except OSError as error:
        text = [f"(unreadable: {error.strerror})"]
    return "\n".join([f"===== {title}: last {len(text)} lines =====", *text])


def _readable(line: str) -> str:
    """Shorten a JSON log line (as task logs are written) to its time, level, logger and message."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict) or "event" not in record:
        return line
    fields = (record.get("timestamp", ""), record.get("level", ""), record.get("logger", ""), record["event"])
    readable = " ".join(str(field) for field in fields if field)
    if "error_detail" in record:
        readable += f" {record['error_detail']}"
    return readable
