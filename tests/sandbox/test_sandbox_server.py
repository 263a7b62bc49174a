"""The server's lifecycle, its connection helpers, the standalone command and the pytest plugin."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests

from airflow_provider_bitcapital.sandbox import SandboxServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def subprocess_environment():
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), environment.get("PYTHONPATH")])
    )
    return environment


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TestLifecycle:
    def test_port_is_known_before_start_and_kept_across_restart(self):
        server = SandboxServer(wallet_count=5)
        port = server.port
        assert port > 0
        assert server.url == f"http://127.0.0.1:{port}"
        assert not server.running

        with server:
            assert server.running
            assert requests.get(server.url + "/status", timeout=5).status_code == 200
        assert not server.running
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(server.url + "/status", timeout=5)

        assert server.start() is server
        try:
            assert server.port == port
            assert requests.get(server.url + "/status", timeout=5).status_code == 200
        finally:
            server.stop()
        server.stop()

    def test_start_twice_is_harmless(self, sandbox_server):
        assert sandbox_server.start() is sandbox_server
        assert requests.get(sandbox_server.url + "/status", timeout=5).status_code == 200

    def test_stop_does_not_wait_for_delayed_requests(self):
        with SandboxServer(wallet_count=5) as server, ThreadPoolExecutor(1) as pool:
            server.inject("/status", delay=30)
            pending = pool.submit(requests.get, server.url + "/status", timeout=30)
            while server.count("GET", "/status") == 0:
                time.sleep(0.01)
            server.stop()
            with pytest.raises(requests.exceptions.ConnectionError):
                pending.result(timeout=5)

    def test_concurrent_requests_and_controls(self, sandbox, api, ready_wallets):
        def pay(index):
            return api.pay(
                ready_wallets[index % 10]["id"], ready_wallets[10 + index % 10]["id"], "0.01"
            ).status_code

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(pay, range(40)))
            pool.map(lambda _: sandbox.stats(), range(40))

        assert results == [200] * 40
        assert sandbox.stats()["payments_created"] == 40
        assert sandbox.count("POST", "/payments") == 40


class TestConnectionHelpers:
    def test_connection_json(self, sandbox):
        document = json.loads(sandbox.connection_json(token_cache="memory", timeout=5))

        assert document == {
            "conn_type": "bitcapital",
            "host": sandbox.url,
            "login": "sandbox-client",
            "password": "sandbox-secret",
            "extra": {"token_cache": "memory", "timeout": 5},
        }

    def test_connection_uri_round_trips_reserved_characters(self):
        server = SandboxServer(wallet_count=5, client_id="id.with-dots", client_secret="a:b/c+d=e%f@g h")

        uri = server.connection_uri(token_cache="memory", verify=False)
        parts = urlsplit(uri)

        assert uri.startswith(
            f"bitcapital://id.with-dots:a%3Ab%2Fc%2Bd%3De%25f%40g%20h@http%3A%2F%2F127.0.0.1%3A{server.port}/?"
        )
        assert unquote(parts.password) == "a:b/c+d=e%f@g h"
        assert unquote(parts.hostname) == f"http://127.0.0.1:{server.port}"
        assert dict(parse_qsl(parts.query)) == {"token_cache": "memory", "verify": "false"}
        assert server.connection_uri().endswith("%3A" + str(server.port) + "/")

    def test_env(self, sandbox):
        environment = sandbox.env("bitcapital_reports", grant_type="password")

        assert list(environment) == ["AIRFLOW_CONN_BITCAPITAL_REPORTS"]
        assert json.loads(environment["AIRFLOW_CONN_BITCAPITAL_REPORTS"])["extra"] == {
            "grant_type": "password"
        }


def test_standalone_command_prints_the_connection_and_stops_on_sigterm():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_bitcapital.sandbox", "--port", str(port), "--wallets", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_environment(),
    )
    try:
        listening = process.stdout.readline().strip()
        export = process.stdout.readline().strip()

        assert listening == f"Bitcapital sandbox listening on http://127.0.0.1:{port}"
        assert export.startswith("export AIRFLOW_CONN_BITCAPITAL_DEFAULT='")
        connection = json.loads(export.split("=", 1)[1].strip("'"))
        assert connection["host"] == f"http://127.0.0.1:{port}"
        assert requests.get(connection["host"] + "/status", timeout=5).json()["env"] == "sandbox"
        stats = requests.get(connection["host"] + "/_sandbox/stats", timeout=5).json()
        assert stats["requests"] == {"GET /status": 1}

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_pytest_plugin_fixtures(tmp_path):
    (tmp_path / "test_uses_sandbox.py").write_text(
        textwrap.dedent(
            """
            import json
            import os
            import sys

            import requests


            def test_first(bitcapital_sandbox):
                connection = json.loads(os.environ["AIRFLOW_CONN_BITCAPITAL_DEFAULT"])
                assert connection["host"] == bitcapital_sandbox.url
                assert connection["extra"] == {"token_cache": "memory"}
                bitcapital_sandbox.inject("/status", status=503, times=5)
                assert requests.get(bitcapital_sandbox.url + "/status").status_code == 503


            def test_second_starts_clean(bitcapital_sandbox, bitcapital_sandbox_server):
                assert bitcapital_sandbox is bitcapital_sandbox_server
                assert requests.get(bitcapital_sandbox.url + "/status").status_code == 200
                assert bitcapital_sandbox.count() == 1


            def test_plugin_import_is_cheap():
                assert "fastapi" not in sys.modules or "uvicorn" in sys.modules
            """
        )
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "airflow_provider_bitcapital.sandbox.pytest_plugin",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        # Loaded explicitly, whether or not the installed entry point would load it too.
        env={**subprocess_environment(), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        timeout=60,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "3 passed" in completed.stdout


def test_plugin_module_imports_neither_fastapi_nor_uvicorn():
    code = (
        "import sys; import airflow_provider_bitcapital.sandbox.pytest_plugin; "
        "import airflow_provider_bitcapital.sandbox; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_environment(), timeout=30
    )

    assert completed.stdout.strip() == "[]", completed.stderr
