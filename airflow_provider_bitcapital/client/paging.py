"""Walk Bitcapital's ``skip``/``limit`` lists lazily, one page or a bounded window of pages at a time."""

from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from airflow_provider_bitcapital.client.http import decode_json
from airflow_provider_bitcapital.exceptions import BitcapitalApiError, BitcapitalConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from airflow_provider_bitcapital.client.http import BitcapitalClient

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 1000
MAX_CONCURRENCY = 32
TOTAL_HEADER = "X-Data-Length"


class Pager:
    """The items of one list endpoint, fetched page by page as they are consumed.

    The first page tells the total (``X-Data-Length``) when the server sends it; the walk stops at
    that total, at ``max_items``, at an empty page, or (when no total is known) at a page shorter
    than asked for. With ``concurrency`` above 1 and a known total, that many of the following
    pages are in flight at once, over as many keep-alive connections; items still come out in
    order, and at most ``concurrency`` + 1 pages are held in memory (those in flight and the one
    being consumed). Without a total, pages are fetched one at a time whatever ``concurrency`` says,
    since only a short page tells where the list ends. Each page is retried like any other request.

    Known limitation: pages are addressed by offset, so a list that gains or loses items while it
    is walked can make the walk repeat or skip items near the change, with any ``concurrency``
    (pages fetched in parallel are read in no fixed order). When every item must be seen exactly
    once, walk a filtered list that does not change while it is read.

    :param client: the client to send the requests with.
    :param endpoint: the list's path, such as ``/wallets``.
    :param params: other query parameters; ``skip`` and ``limit`` are the pager's.
    :param page_size: items asked for per page, 1 to 1000.
    :param max_items: stop after this many items; ``None`` for all.
    :param concurrency: pages in flight at once after the first, 1 to 32.
    :raises BitcapitalConfigError: for a wrong argument, before any request.
    """

    def __init__(
        self,
        client: BitcapitalClient,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        page_size: int = 100,
        max_items: int | None = None,
        concurrency: int = 1,
    ) -> None:
        problems = _check_arguments(params, page_size, max_items, concurrency)
        if problems:
            raise BitcapitalConfigError(problems)
        self.client = client
        self.endpoint = endpoint
        self.params = dict(params or {})
        self.page_size = page_size
        self.max_items = max_items
        self.concurrency = concurrency
        self.pages_fetched = 0
        self._count_lock = threading.Lock()

    def __iter__(self) -> Iterator[Any]:
        limit = self.max_items
        if limit == 0:
            return
        first, total = self._page(0, self._size_at(0))
        yield from first[:limit]
        stop = _end(total, limit)
        if not first or (total is None and len(first) < self._size_at(0)):
            return
        if stop is not None and len(first) >= stop:
            return
        if self.concurrency > 1 and total is not None:
            yield from self._parallel(len(first), stop if stop is not None else total)
        else:
            yield from self._sequential(len(first), stop)

    def _sequential(self, skip: int, stop: int | None) -> Iterator[Any]:
        while stop is None or skip < stop:
            size = self._size_at(skip, stop)
            items, total = self._page(skip, size)
            if total is not None:
                stop = _end(total, self.max_items)
            keep = items if stop is None else items[: max(stop - skip, 0)]
            yield from keep
            skip += len(items)
            if not items or (total is None and len(items) < size):
                return

    def _parallel(self, skip: int, stop: int) -> Iterator[Any]:
        offsets = iter(range(skip, stop, self.page_size))
        window: deque[tuple[int, Future[tuple[list[Any], int | None]]]] = deque()
        self.client.reserve_connections(self.concurrency)
        executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="bitcapital-page")

        def fetch_next() -> None:
            offset = next(offsets, None)
            if offset is not None:
                window.append((offset, executor.submit(self._page, offset, self._size_at(offset, stop))))

        try:
            for _ in range(self.concurrency):
                fetch_next()
            while window:
                offset, future = window.popleft()
                items, _ = future.result()
                complete = len(items) >= self._size_at(offset, stop)
                if complete:
                    fetch_next()
                yield from items[: stop - offset]
                if not complete:
                    # The server answered a shorter page than asked (it caps page sizes, or the list
                    # shrank): the remaining offsets no longer line up, so finish one page at a time.
                    for _, pending in window:
                        pending.cancel()
                    window.clear()
                    if items:
                        yield from self._sequential(offset + len(items), stop)
                    return
        finally:
            executor.shutdown(wait=True, cancel_futures=True)

    def _size_at(self, skip: int, stop: int | None = None) -> int:
        if stop is None:
            stop = self.max_items
        return self.page_size if stop is None else max(1, min(self.page_size, stop - skip))

    def _page(self, skip: int, size: int) -> tuple[list[Any], int | None]:
        path = self.endpoint
        response = self.client.request("GET", path, params={**self.params, "skip": skip, "limit": size})
        with self._count_lock:
            self.pages_fetched += 1
        items = decode_json(response, "GET", path)
        if not isinstance(items, list):
            raise BitcapitalApiError(
                f"expected a JSON list of items, got {type(items).__name__}",
                method="GET",
                path=path,
                status_code=response.status_code,
                hint="paginate only list endpoints such as /wallets",
            )
        total_text = response.headers.get(TOTAL_HEADER, "").strip()
        total = int(total_text) if total_text.isdigit() else None
        log.debug("Bitcapital GET %s page skip=%d limit=%d gave %d items", path, skip, size, len(items))
        return items, total


def _end(total: int | None, max_items: int | None) -> int | None:
    if total is None:
        return max_items
    return total if max_items is None else min(total, max_items)


def _check_arguments(
    params: Mapping[str, Any] | None, page_size: Any, max_items: Any, concurrency: Any
) -> list[tuple[str, str]]:
    problems = []
    if not _whole(page_size) or not 1 <= page_size <= MAX_PAGE_SIZE:
        problems.append(
            ("page_size", f"got {page_size!r}; expected a whole number from 1 to {MAX_PAGE_SIZE}")
        )
    if max_items is not None and (not _whole(max_items) or max_items < 0):
        problems.append(("max_items", f"got {max_items!r}; expected a whole number of 0 or more, or None"))
    if not _whole(concurrency) or not 1 <= concurrency <= MAX_CONCURRENCY:
        problems.append(
            ("concurrency", f"got {concurrency!r}; expected a whole number from 1 to {MAX_CONCURRENCY}")
        )
    if params and ({"skip", "limit"} & set(params)):
        problems.append(("params", "skip and limit are set by the pager; use page_size and max_items"))
    return problems


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
