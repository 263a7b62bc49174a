"""Many callers, one token request: threads starting cold, threads after a revoke, short-lived tokens."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
from tests.conftest import ConnectionFactory

ENDPOINT = "/users/me"


def call_together(hooks: list[BitcapitalHook], calls_each: int = 1) -> list[BaseException]:
    """Call ``ENDPOINT`` ``calls_each`` times with every hook, each hook on its own thread, all
    released at once; return the errors.
    """
    barrier = threading.Barrier(len(hooks), timeout=60)
    errors: list[BaseException] = []

    def call(hook: BitcapitalHook) -> None:
        try:
            barrier.wait()
            for _ in range(calls_each):
                hook.get(ENDPOINT)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=call, args=(hook,)) for hook in hooks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a call never finished"
    return errors


def ready_hooks(conn_id: str, count: int) -> list[BitcapitalHook]:
    """Return ``count`` hooks whose connection is already read, so that the threads only call."""
    hooks = [BitcapitalHook(conn_id) for _ in range(count)]
    for hook in hooks:
        assert hook.config.client_id
    return hooks


@pytest.mark.parametrize("token_cache", ["memory", "file"])
def test_sixty_four_threads_starting_cold_share_one_token(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, token_cache: str
) -> None:
    hooks = ready_hooks(sandbox_connection(token_cache=token_cache), 64)
    assert call_together(hooks) == []
    assert bitcapital_sandbox.count("GET", ENDPOINT) == 64
    assert bitcapital_sandbox.token_requests == 1


@pytest.mark.parametrize("token_cache", ["memory", "file"])
def test_sixteen_threads_after_a_revoke_renew_the_token_once(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, token_cache: str
) -> None:
    hooks = ready_hooks(sandbox_connection(token_cache=token_cache), 16)
    revoked = hooks[0].get_access_token()
    bitcapital_sandbox.revoke_all_tokens()
    bitcapital_sandbox.reset_counters()

    assert call_together(hooks) == []

    # A thread whose first attempt carried the revoked token was refused and replayed once; one that
    # started after the renewal went straight through. Either way, one token request in all.
    assert 16 < bitcapital_sandbox.count("GET", ENDPOINT) <= 32
    assert bitcapital_sandbox.token_requests == 1
    assert {hook.get_access_token() for hook in hooks} != {revoked}
    assert len({hook.get_access_token() for hook in hooks}) == 1


@pytest.mark.parametrize("token_cache", ["memory", "file"])
def test_a_short_lived_token_is_not_renewed_on_every_call(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, token_cache: str
) -> None:
    bitcapital_sandbox.token_lifetime = 30
    hooks = ready_hooks(sandbox_connection(token_cache=token_cache), 8)
    assert call_together(hooks, calls_each=25) == []
    assert hooks[0].get_token().lifetime == 30
    assert bitcapital_sandbox.count("GET", ENDPOINT) == 200
    assert bitcapital_sandbox.token_requests == 1
