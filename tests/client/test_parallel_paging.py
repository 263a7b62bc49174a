"""Parallel paging: pages in flight, read-ahead, connection reuse, errors and retries."""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

import pytest

from airflow_provider_bitcapital.client.paging import Pager
from airflow_provider_bitcapital.exceptions import BitcapitalApiError
from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
from airflow_provider_bitcapital.operators.bitcapital import BitcapitalOperator
from tests.conftest import ConnectionFactory


def list_requests(server: Any) -> list[str]:
    return [entry.query for entry in server.request_log if entry.method == "GET" and entry.path == "/wallets"]


def wallet_ids(server: Any) -> list[str]:
    return [wallet["id"] for wallet in server.wallets_snapshot()]


def page_threads_alive() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("bitcapital-page")]


def test_every_page_is_fetched_once_and_counted(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    pager = Pager(hook.client, "/wallets", page_size=10, concurrency=8)
    ids = [wallet["id"] for wallet in pager]
    assert ids == wallet_ids(bitcapital_sandbox)
    requests = list_requests(bitcapital_sandbox)
    assert sorted(requests) == sorted(f"skip={skip}&limit=10" for skip in range(0, 300, 10))
    assert pager.pages_fetched == len(requests) == 30
    assert page_threads_alive() == []


def test_reads_ahead_at_most_the_pages_in_flight(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    items = hook.paginate("/wallets", page_size=10, concurrency=3)
    # The first page and one item of the second: the first page, the window of three, and the
    # page fetched to refill the window when the second page was taken from it.
    assert len(list(itertools.islice(items, 11))) == 11
    items.close()
    assert 2 <= len(list_requests(bitcapital_sandbox)) <= 1 + 3 + 1
    assert page_threads_alive() == []


def test_sequential_by_default(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection())
    items = hook.paginate("/wallets", page_size=10)
    assert len(list(itertools.islice(items, 11))) == 11
    assert list_requests(bitcapital_sandbox) == ["skip=0&limit=10", "skip=10&limit=10"]
    assert BitcapitalOperator(task_id="wallets", endpoint="/wallets", paginate=True).concurrency == 1


def test_without_a_total_pages_are_fetched_one_at_a_time(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    # Injected answers carry no X-Data-Length: two full pages, then a short one.
    for first in (0, 10, 20):
        size = 10 if first < 20 else 3
        bitcapital_sandbox.inject("/wallets", json=[{"id": f"w{first + n}"} for n in range(size)])
    hook = BitcapitalHook(sandbox_connection())
    ids = [item["id"] for item in hook.paginate("/wallets", page_size=10, concurrency=8)]
    assert ids == [f"w{n}" for n in range(23)]
    assert list_requests(bitcapital_sandbox) == ["skip=0&limit=10", "skip=10&limit=10", "skip=20&limit=10"]


def test_a_retryable_failure_of_one_page_is_retried(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    items = hook.paginate("/wallets", page_size=10, concurrency=4)
    first = next(items)
    bitcapital_sandbox.inject("/wallets", status=503, retry_after=0, times=1)
    ids = [first["id"]] + [wallet["id"] for wallet in items]
    assert ids == wallet_ids(bitcapital_sandbox)
    assert len(list_requests(bitcapital_sandbox)) == 30 + 1


def test_a_failed_page_raises_and_stops_the_walk(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    items = hook.paginate("/wallets", page_size=10, concurrency=4)
    next(items)
    bitcapital_sandbox.inject("/wallets", status=404, times=1)
    with pytest.raises(BitcapitalApiError) as caught:
        list(items)
    assert (caught.value.status_code, caught.value.method, caught.value.path) == (404, "GET", "/wallets")
    assert len(list_requests(bitcapital_sandbox)) <= 1 + 4 + 4
    assert page_threads_alive() == []


def test_a_revoked_token_is_renewed_once_for_all_pages_in_flight(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    items = hook.paginate("/wallets", page_size=10, concurrency=8)
    first = next(items)
    bitcapital_sandbox.revoke_all_tokens()
    ids = [first["id"]] + [wallet["id"] for wallet in items]
    assert ids == wallet_ids(bitcapital_sandbox)
    assert bitcapital_sandbox.token_requests == 2


@pytest.mark.parametrize("concurrency", [4, 16])
def test_connections_are_kept_for_the_next_walk(
    bitcapital_sandbox: Any,
    sandbox_connection: ConnectionFactory,
    caplog: pytest.LogCaptureFixture,
    concurrency: int,
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
    for _ in range(2):
        assert len(list(hook.paginate("/wallets", page_size=10, concurrency=concurrency))) == 300
    pool = hook.client.session.get_adapter(bitcapital_sandbox.url).poolmanager.connection_from_url(
        bitcapital_sandbox.url
    )
    # One connection per page in flight, opened during the first walk and reused by the second.
    assert pool.num_connections <= concurrency
    assert [record.getMessage() for record in caplog.records if "pool is full" in record.getMessage()] == []
