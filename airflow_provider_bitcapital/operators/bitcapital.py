"""The Bitcapital operator: one API call, or a whole paged list, as a DAG task."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_bitcapital.exceptions import BitcapitalConfigError, BitcapitalError

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

#: The default limit on the items a task returns to XCom.
DEFAULT_MAX_XCOM_ITEMS = 10_000


class BitcapitalOperator(BaseOperator):
    """Call a Bitcapital endpoint and return its decoded JSON for XCom.

    .. code-block:: python

        wallets = BitcapitalOperator(task_id="wallets", endpoint="/wallets", paginate=True)

    :param endpoint: the path below the instance URL, such as ``/wallets`` (templated).
    :param method: the HTTP method (templated).
    :param query_params: query parameters (templated). Not named ``params``, which every Airflow
        operator already has for the DAG's ``{{ params }}``.
    :param json: a JSON body (templated).
    :param headers: extra headers (templated).
    :param bitcapital_conn_id: the connection to use (templated).
    :param paginate: walk every page of a list endpoint and return all items (GET only).
    :param page_size: items per page when paginating, 1 to 1000.
    :param max_items: stop paginating after this many items.
    :param concurrency: pages fetched at once after the first, when paginating.
    :param sign: force request signing on (``True``) or off (``False``) for this call.
    :param response_check: called with the decoded JSON; the task fails if it returns a false value.
    :param response_filter: called with the decoded JSON; its result is what the task returns.
    :param max_xcom_items: the most list items the task may return. XCom lives in Airflow's
        metadata database, so a larger result fails the task (paging stops as soon as it is
        exceeded) unless a ``response_filter`` reduces it; ``None`` lifts the guard.
    :param deferrable: make the call from the triggerer instead of a worker slot. GET only: a
        request that is not safe to repeat must not run where a triggerer restart may repeat it.
    """

    template_fields: Sequence[str] = (
        "endpoint",
        "method",
        "query_params",
        "json",
        "headers",
        "bitcapital_conn_id",
    )
    template_fields_renderers = {"query_params": "json", "json": "json", "headers": "json"}
    ui_color = "#1a73e8"

    def __init__(
        self,
        *,
        endpoint: str,
        method: str = "GET",
        query_params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        bitcapital_conn_id: str = "bitcapital_default",
        paginate: bool = False,
        page_size: int = 100,
        max_items: int | None = None,
        concurrency: int = 1,
        sign: bool | None = None,
        response_check: Callable[[Any], bool] | None = None,
        response_filter: Callable[[Any], Any] | None = None,
        max_xcom_items: int | None = DEFAULT_MAX_XCOM_ITEMS,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if deferrable and (paginate or _is_literal_non_get(method)):
            raise BitcapitalConfigError(
                [("deferrable", "only a single GET can be deferred; other methods are not safe to repeat")]
            )
        self.endpoint = endpoint
        self.method = method
        self.query_params = query_params
        self.json = json
        self.headers = headers
        self.bitcapital_conn_id = bitcapital_conn_id
        self.paginate = paginate
        self.page_size = page_size
        self.max_items = max_items
        self.concurrency = concurrency
        self.sign = sign
        self.response_check = response_check
        self.response_filter = response_filter
        self.max_xcom_items = max_xcom_items
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> BitcapitalHook:
        """A hook for ``bitcapital_conn_id``, built once when the task runs."""
        from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

        return BitcapitalHook(bitcapital_conn_id=self.bitcapital_conn_id)

    def execute(self, context: Context) -> Any:
        """Make the call and return the (filtered) JSON."""
        method = str(self.method).upper()
        if self.deferrable:
            if method != "GET":
                problem = f"got method {self.method!r}; only GET can be deferred"
                raise BitcapitalConfigError([("deferrable", problem)])
            from airflow_provider_bitcapital.triggers.bitcapital import BitcapitalTrigger

            self.defer(
                trigger=BitcapitalTrigger(
                    endpoint=self.endpoint,
                    bitcapital_conn_id=self.bitcapital_conn_id,
                    query_params=self.query_params,
                ),
                method_name="execute_complete",
            )
        if self.paginate:
            data: Any = self._read_all_pages(method)
        else:
            data = self.hook.client.get_json(
                self.endpoint,
                method=method,
                params=self.query_params,
                json=self.json,
                headers=self.headers,
                sign=self.sign,
            )
            self.log.info("Bitcapital %s %s succeeded", method, self.endpoint)
        return self._result(method, data)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume with the trigger's event and return the (filtered) JSON."""
        if event.get("status") != "success":
            raise BitcapitalError(f"Deferred Bitcapital GET {self.endpoint} failed: {event.get('message')}")
        return self._result("GET", event.get("value"))

    def _read_all_pages(self, method: str) -> list[Any]:
        if method != "GET":
            raise BitcapitalConfigError([("method", f"got {self.method!r}; paginate works with GET only")])
        limit = None if self.response_filter is not None else self.max_xcom_items
        items: list[Any] = []
        pages = self.hook.paginate(
            self.endpoint,
            params=self.query_params,
            page_size=self.page_size,
            max_items=self.max_items,
            concurrency=self.concurrency,
        )
        for item in pages:
            items.append(item)
            if limit is not None and len(items) > limit:
                raise self._too_many(f"more than {limit}")
        self.log.info("Read %d items from Bitcapital GET %s", len(items), self.endpoint)
        return items

    def _result(self, method: str, data: Any) -> Any:
        if self.response_check is not None and not self.response_check(data):
            raise BitcapitalError(f"response_check returned a false value for {method} {self.endpoint}")
        if self.response_filter is not None:
            data = self.response_filter(data)
        if self.max_xcom_items is not None and isinstance(data, list) and len(data) > self.max_xcom_items:
            raise self._too_many(str(len(data)))
        return data

    def _too_many(self, count: str) -> BitcapitalConfigError:
        return BitcapitalConfigError(
            [
                (
                    "max_xcom_items",
                    f"the result has {count} items, over the limit of {self.max_xcom_items} for XCom, "
                    "which lives in Airflow's metadata database; reduce it with response_filter or "
                    "max_items, page through the list in a task with BitcapitalHook.paginate, or raise "
                    "max_xcom_items",
                )
            ]
        )


def _is_literal_non_get(method: Any) -> bool:
    return isinstance(method, str) and "{{" not in method and method.strip().upper() != "GET"
