"""The Bitcapital trigger: polls an endpoint from the triggerer until a field reaches a value."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_bitcapital.exceptions import BitcapitalError


def field_value(document: Any, path: str | None) -> Any:
    """Return the value at a dotted ``path`` (``"transaction.status"``) of a JSON document.

    A number in the path indexes a list (``"states.0.status"``). A missing step gives ``None``.
    """
    if not path:
        return document
    value = document
    for step in path.split("."):
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


class BitcapitalTrigger(BaseTrigger):
    """Poll a Bitcapital endpoint without holding a worker slot.

    Every ``poll_interval`` seconds the trigger reads ``endpoint``; it fires a ``success`` event
    when the value at ``success_field`` is one of ``success_values`` (or, without a field, when the
    call succeeds), and a ``failure`` event when it is one of ``failure_values``. An API error that
    retries could not cure fires an ``error`` event, and a wait longer than ``timeout`` seconds a
    ``timeout`` event. The trigger holds no state between polls, so a restarted triggerer simply
    starts polling again (and its timeout starts again too: Airflow's own deferral timeout, which
    the sensor sets, bounds the whole wait).

    Blocking HTTP calls run in a worker thread, never on the triggerer's event loop.

    :param endpoint: the path to read, such as ``/transactions/{id}``.
    :param bitcapital_conn_id: the connection to use.
    :param query_params: query parameters.
    :param success_field: dotted path of the field to watch, such as ``status``.
    :param success_values: values of that field that end the wait successfully.
    :param failure_values: values of that field that end the wait with a failure.
    :param poll_interval: seconds between two reads.
    :param timeout: seconds after which to give up with a ``timeout`` event; ``None`` waits on.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        bitcapital_conn_id: str = "bitcapital_default",
        query_params: dict[str, Any] | None = None,
        success_field: str | None = None,
        success_values: Sequence[Any] | None = None,
        failure_values: Sequence[Any] | None = None,
        poll_interval: float = 60.0,
        timeout: float | None = None,
    ) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.bitcapital_conn_id = bitcapital_conn_id
        self.query_params = query_params
        self.success_field = success_field
        self.success_values = list(success_values) if success_values is not None else None
        self.failure_values = list(failure_values or [])
        self.poll_interval = float(poll_interval)
        self.timeout = float(timeout) if timeout is not None else None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and arguments that rebuild this trigger in the triggerer."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "endpoint": self.endpoint,
                "bitcapital_conn_id": self.bitcapital_conn_id,
                "query_params": self.query_params,
                "success_field": self.success_field,
                "success_values": self.success_values,
                "failure_values": self.failure_values,
                "poll_interval": self.poll_interval,
                "timeout": self.timeout,
            },
        )

    def outcome(self, document: Any) -> str | None:
        """Return ``"success"``, ``"failure"`` or ``None`` (keep waiting) for one answer."""
        value = field_value(document, self.success_field)
        if value in self.failure_values:
            return "failure"
        if self.success_values is None:
            return "success" if self.success_field is None or value is not None else None
        return "success" if value in self.success_values else None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the outcome is decided; yield exactly one event."""
        from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

        try:
            connection = await BitcapitalHook.aget_connection(self.bitcapital_conn_id)
            hook = BitcapitalHook.for_connection(connection)
            polls = 0
            give_up = None if self.timeout is None else time.monotonic() + self.timeout
            while True:
                document = await asyncio.to_thread(hook.get, self.endpoint, params=self.query_params)
                polls += 1
                outcome = self.outcome(document)
                if outcome is not None:
                    yield TriggerEvent(
                        {
                            "status": outcome,
                            "value": document,
                            "field": self.success_field,
                            "field_value": field_value(document, self.success_field),
                            "polls": polls,
                        }
                    )
                    return
                if give_up is not None and time.monotonic() + self.poll_interval > give_up:
                    yield TriggerEvent(
                        {
                            "status": "timeout",
                            "message": f"still waiting after {self.timeout:.0f} s and {polls} polls",
                            "value": document,
                            "polls": polls,
                        }
                    )
                    return
                self.log.info(
                    "Bitcapital GET %s: %s is %r; next poll in %.0f s",
                    self.endpoint,
                    self.success_field,
                    field_value(document, self.success_field),
                    self.poll_interval,
                )
                await asyncio.sleep(self.poll_interval)
        except BitcapitalError as error:
            yield TriggerEvent({"status": "error", "message": str(error)})
