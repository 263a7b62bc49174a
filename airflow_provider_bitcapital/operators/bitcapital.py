"""The Bitcapital operator: one API call, or a whole paged list, as a DAG task."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_bitcapital.exceptions import BitcapitalConfigError, BitcapitalError

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook


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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
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

    @property
    def hook(self) -> BitcapitalHook:
        """A hook for ``bitcapital_conn_id``, built when the task runs."""
        from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

        return BitcapitalHook(bitcapital_conn_id=self.bitcapital_conn_id)

    def execute(self, context: Context) -> Any:
        """Make the call and return the (filtered) JSON."""
        hook = self.hook
        method = str(self.method).upper()
        if self.paginate:
            if method != "GET":
                raise BitcapitalConfigError(
                    [("method", f"got {self.method!r}; paginate works with GET only")]
                )
            data: Any = list(
                hook.paginate(
                    self.endpoint,
                    params=self.query_params,
                    page_size=self.page_size,
                    max_items=self.max_items,
                    concurrency=self.concurrency,
                )
            )
            self.log.info("Read %d items from Bitcapital GET %s", len(data), self.endpoint)
        else:
            data = hook.client.get_json(
                self.endpoint,
                method=method,
                params=self.query_params,
                json=self.json,
                headers=self.headers,
                sign=self.sign,
            )
            self.log.info("Bitcapital %s %s succeeded", method, self.endpoint)
        if self.response_check is not None and not self.response_check(data):
            raise BitcapitalError(
                f"response_check returned a false value for Bitcapital {method} {self.endpoint}"
            )
        if self.response_filter is not None:
            return self.response_filter(data)
        return data
