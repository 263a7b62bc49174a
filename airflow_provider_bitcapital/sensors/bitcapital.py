"""The Bitcapital sensor: wait until an endpoint says what you are waiting for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_bitcapital.exceptions import BitcapitalConfigError, BitcapitalError

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
    from airflow_provider_bitcapital.triggers.bitcapital import BitcapitalTrigger


class BitcapitalSensor(BaseSensorOperator):
    """Poll a Bitcapital endpoint until the answer says the wait is over.

    Say what to wait for in one of two ways:

    - ``success_field`` and ``success_values`` (and optionally ``failure_values``): the value at
      that dotted path of the JSON answer, such as ``status`` of ``/transactions/{id}``. This works
      in every mode, including ``deferrable=True``, where the polling runs in the triggerer.
    - ``response_check``: a callable on the decoded JSON that returns a bool or a
      ``PokeReturnValue``. It runs on the worker, so it works in ``poke`` and ``reschedule``
      modes but not deferred.

    With neither, the sensor succeeds as soon as the endpoint answers with a 2xx. The last answer
    is pushed to XCom.

    .. code-block:: python

        BitcapitalSensor(
            task_id="wait_executed",
            endpoint="/transactions/{{ ti.xcom_pull('pay')['transaction']['id'] }}",
            success_field="status",
            success_values=["executed", "notified"],
            failure_values=["failed"],
            deferrable=True,
        )

    :param endpoint: the path to read (templated).
    :param query_params: query parameters (templated).
    :param headers: extra headers (templated).
    :param bitcapital_conn_id: the connection to use (templated).
    :param success_field: dotted path of the field to watch.
    :param success_values: values of that field that end the wait (templated).
    :param failure_values: values of that field that fail the task at once (templated).
    :param response_check: a callable deciding from the JSON; not usable with ``deferrable``.
    :param deferrable: wait in the triggerer instead of holding a worker slot.
    """

    template_fields: Sequence[str] = (
        "endpoint",
        "query_params",
        "headers",
        "bitcapital_conn_id",
        "success_values",
        "failure_values",
    )
    template_fields_renderers = {"query_params": "json", "headers": "json"}

    def __init__(
        self,
        *,
        endpoint: str,
        query_params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        bitcapital_conn_id: str = "bitcapital_default",
        success_field: str | None = None,
        success_values: Sequence[Any] | None = None,
        failure_values: Sequence[Any] | None = None,
        response_check: Callable[[Any], bool | PokeReturnValue] | None = None,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if deferrable and response_check is not None:
            raise BitcapitalConfigError(
                [
                    (
                        "response_check",
                        "a callable cannot run in the triggerer; with deferrable=True use "
                        "success_field and success_values instead",
                    )
                ]
            )
        if success_values is not None and success_field is None:
            raise BitcapitalConfigError([("success_field", "required with success_values")])
        self.endpoint = endpoint
        self.query_params = query_params
        self.headers = headers
        self.bitcapital_conn_id = bitcapital_conn_id
        self.success_field = success_field
        self.success_values = success_values
        self.failure_values = failure_values
        self.response_check = response_check
        self.deferrable = deferrable

    def _trigger(self) -> BitcapitalTrigger:
        # Imported here: the trigger module loads Airflow's trigger machinery, which DAG parsing
        # never needs.
        from airflow_provider_bitcapital.triggers.bitcapital import BitcapitalTrigger

        return BitcapitalTrigger(
            endpoint=self.endpoint,
            bitcapital_conn_id=self.bitcapital_conn_id,
            query_params=self.query_params,
            success_field=self.success_field,
            success_values=self.success_values,
            failure_values=self.failure_values,
            poll_interval=self.poke_interval,
            timeout=self.timeout,
        )

    @cached_property
    def hook(self) -> BitcapitalHook:
        """A hook for ``bitcapital_conn_id``, built on the first poke and kept for the next ones.

        Keeping it keeps its keep-alive connection: in ``poke`` mode every poke after the first
        reuses it instead of opening a new one and validating the connection again.
        """
        from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

        return BitcapitalHook(bitcapital_conn_id=self.bitcapital_conn_id)

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """Read the endpoint once and decide whether the wait is over."""
        from airflow_provider_bitcapital.triggers.bitcapital import field_value

        document = self.hook.get(self.endpoint, params=self.query_params, headers=self.headers)
        if self.response_check is not None:
            return self.response_check(document)
        outcome = self._trigger().outcome(document)
        if outcome == "failure":
            raise BitcapitalError(
                f"Bitcapital GET {self.endpoint}: {self.success_field} is "
                f"{field_value(document, self.success_field)!r}, one of the failure values"
            )
        self.log.info("Bitcapital GET %s: %s", self.endpoint, outcome or "not yet")
        return PokeReturnValue(is_done=outcome == "success", xcom_value=document)

    def execute(self, context: Context) -> Any:
        """Poke or reschedule as usual; when deferrable, check once and then defer to the trigger."""
        if not self.deferrable:
            return super().execute(context)
        result = self.poke(context)
        if result:
            return result.xcom_value if isinstance(result, PokeReturnValue) else None
        self.defer(
            trigger=self._trigger(),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) if self.timeout is not None else None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume on the worker with the trigger's event: return the answer or fail clearly."""
        status = event.get("status")
        if status == "success":
            self.log.info(
                "Bitcapital GET %s succeeded after %s polls in the triggerer",
                self.endpoint,
                event.get("polls"),
            )
            return event.get("value")
        if status == "failure":
            raise BitcapitalError(
                f"Bitcapital GET {self.endpoint}: {event.get('field')} is {event.get('field_value')!r}, "
                "one of the failure values"
            )
        if status == "timeout":
            raise BitcapitalError(
                f"Gave up waiting on Bitcapital GET {self.endpoint}: {event.get('message')}"
            )
        raise BitcapitalError(f"Waiting on Bitcapital GET {self.endpoint} failed: {event.get('message')}")
