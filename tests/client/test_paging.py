"""Paging through the sandbox's lists, counting the requests each walk makes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from airflow_provider_bitcapital.exceptions import BitcapitalApiError, BitcapitalConfigError
from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
from tests.conftest import ConnectionFactory


def list_requests(server: Any) -> list[str]:
    return [entry.query for entry in server.request_log if entry.method == "GET" and entry.path == "/wallets"]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_walks_every_item_in_order_and_stops_at_the_total(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, concurrency: int
) -> None:
    expected = [wallet["id"] for wallet in bitcapital_sandbox.wallets_snapshot()]
    hook = BitcapitalHook(sandbox_connection())
    ids = [wallet["id"] for wallet in hook.paginate("/wallets", page_size=100, concurrency=concurrency)]
    assert ids == expected
    pages = -(-len(expected) // 100)
    assert len(list_requests(bitcapital_sandbox)) == pages


def test_is_lazy(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    hook = BitcapitalHook(sandbox_connection())
    items = hook.paginate("/wallets", page_size=50)
    assert bitcapital_sandbox.count("GET", "/wallets") == 0
    first = list(itertools.islice(items, 60))
    assert len(first) == 60
    assert list_requests(bitcapital_sandbox) == ["skip=0&limit=50", "skip=50&limit=50"]


def test_max_items_asks_only_for_what_it_needs(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    items = list(hook.paginate("/wallets", page_size=100, max_items=130, params={"status": None}))
    assert len(items) == 130
    assert list_requests(bitcapital_sandbox) == ["skip=0&limit=100", "skip=100&limit=30"]


def test_parallel_paging_respects_max_items(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    expected = [wallet["id"] for wallet in bitcapital_sandbox.wallets_snapshot()][:215]
    hook = BitcapitalHook(sandbox_connection())
    ids = [w["id"] for w in hook.paginate("/wallets", page_size=40, max_items=215, concurrency=3)]
    assert ids == expected
    assert len(list_requests(bitcapital_sandbox)) == 6


def test_without_a_total_a_short_page_ends_the_walk(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    bitcapital_sandbox.inject("/wallets", status=200, json=[{"id": "a"}, {"id": "b"}])
    assert [item["id"] for item in hook.paginate("/wallets", page_size=10, concurrency=4)] == ["a", "b"]
    assert bitcapital_sandbox.count("GET", "/wallets") == 1


def test_a_failed_page_raises_with_its_details(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    items = hook.paginate("/wallets", page_size=100)
    next(items)
    bitcapital_sandbox.inject("/wallets", status=404, times=1)
    with pytest.raises(BitcapitalApiError) as caught:
        list(items)
    assert (caught.value.status_code, caught.value.path) == (404, "/wallets")


def test_a_non_list_answer_is_refused(bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory) -> None:
    with pytest.raises(BitcapitalApiError, match="expected a JSON list"):
        list(BitcapitalHook(sandbox_connection()).paginate("/users/me"))


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 5000}, "page_size"),
        ({"page_size": "10"}, "page_size"),
        ({"max_items": -1}, "max_items"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 100}, "concurrency"),
        ({"params": {"skip": 5}}, "params"),
    ],
)
def test_wrong_arguments_fail_before_any_request(
    bitcapital_sandbox: Any, sandbox_connection: ConnectionFactory, arguments: dict[str, Any], field: str
) -> None:
    hook = BitcapitalHook(sandbox_connection())
    with pytest.raises(BitcapitalConfigError) as caught:
        hook.paginate("/wallets", **arguments)
    assert caught.value.fields == (field,)
    assert bitcapital_sandbox.count() == 0
