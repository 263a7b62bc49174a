"""The host-wide file cache: several processes, one token request."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from typing import Any

from airflow_provider_bitcapital.auth.cache import FileTokenCache, cache_key
from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook, token_cache_directory
from tests.conftest import ConnectionFactory

CALLER = """
import sys
from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
hook = BitcapitalHook(sys.argv[1])
for _ in range(5):
    hook.get("/users/me")
"""


def test_parallel_processes_share_one_token(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    conn_id = sandbox_connection(token_cache="file")
    processes = [
        subprocess.Popen([sys.executable, "-c", CALLER, conn_id], env=dict(os.environ)) for _ in range(4)
    ]
    assert [process.wait(timeout=120) for process in processes] == [0, 0, 0, 0]
    assert bitcapital_sandbox.count("GET", "/users/me") == 20
    assert bitcapital_sandbox.token_requests == 1


def test_cache_files_are_private(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection(token_cache="file"))
    hook.get_token()
    folder = token_cache_directory()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.glob("*.token"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600


def test_hook_encrypts_with_airflows_fernet_key(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection(token_cache="file"))
    token = hook.get_token()
    (path,) = token_cache_directory().glob("*.token")
    assert token.access_token.encode() not in path.read_bytes()


def test_invalid_fernet_key_keeps_tokens_off_disk(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, monkeypatch: Any
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "not-a-fernet-key")
    hook = BitcapitalHook(sandbox_connection(token_cache="file"))
    for _ in range(3):
        hook.get("/users/me")
    assert bitcapital_sandbox.token_requests == 1
    assert not list(token_cache_directory().glob("*.token"))


def test_corrupt_file_is_a_miss(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection(token_cache="file"))
    cache = FileTokenCache(token_cache_directory(), fernet_key=os.environ["AIRFLOW__CORE__FERNET_KEY"])
    path = cache.path(cache_key(hook.config))
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(b"\x00garbage{")
    assert hook.get("/users/me")["id"]
    assert bitcapital_sandbox.token_requests == 1
    assert cache.load(cache_key(hook.config)) is not None


def test_encrypted_with_the_fernet_key(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    from cryptography.fernet import Fernet

    hook = BitcapitalHook(sandbox_connection(token_cache="file"))
    key = Fernet.generate_key().decode()
    cache = FileTokenCache(token_cache_directory(), fernet_key=key)
    token = hook.get_token()
    cache.store("k", token)
    raw = cache.path("k").read_bytes()
    assert token.access_token.encode() not in raw
    assert cache.load("k") == token
    assert (
        FileTokenCache(token_cache_directory(), fernet_key=Fernet.generate_key().decode()).load("k") is None
    )
    assert FileTokenCache(token_cache_directory()).load("k") is None
