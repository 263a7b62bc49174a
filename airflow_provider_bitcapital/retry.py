"""The one retry policy shared by the token endpoint and the API.

Retried: connection failures and timeouts (only where the request may safely be repeated), and the
statuses in :data:`RETRYABLE_STATUSES`. ``Retry-After`` is honoured in seconds or as an HTTP date,
capped; otherwise the wait grows exponentially with full jitter. Attempts stop at
``max_retries + 1`` or at a total deadline, whichever comes first.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import requests
import tenacity
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

if TYPE_CHECKING:
    from tenacity import RetryCallState

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class RetryableResponse(Exception):
    """Raised inside an attempt for an answer whose status is worth another try."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    :param max_retries: attempts after the first.
    :param deadline: seconds after the first attempt past which no new attempt starts.
    :param backoff_base: the first exponential wait's upper bound, in seconds.
    :param backoff_max: the largest exponential wait, in seconds.
    :param retry_after_cap: the largest wait a server's ``Retry-After`` can ask for, in seconds.
    """

    max_retries: int = 5
    deadline: float = 300.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_cap: float = 60.0

    def call(
        self,
        attempt: Callable[[], T],
        *,
        method: str,
        path: str,
        may_retry: Callable[[BaseException], bool],
        logger: logging.Logger | None = None,
    ) -> T:
        """Run ``attempt``, retrying it as this policy says; return its result or raise its last error.

        The outcome is that of ``self.retrying(...)(attempt)``, but a first attempt that succeeds,
        as nearly all do, costs no more than calling it: the tenacity controller is built only after
        a failure worth retrying. It then counts that failure as its first attempt, and its deadline
        is shortened by the time that attempt took.

        :param attempt: one try of the logical request.
        :param method: the HTTP method, for the log line of each retry.
        :param path: the path, for the log line of each retry.
        :param may_retry: decides whether a raised exception is worth another attempt.
        :param logger: where each retry is logged.
        """
        started = time.monotonic()
        try:
            return attempt()
        except Exception as error:
            if not may_retry(error):
                raise
            first_failure: Exception | None = error

        def replay_first_failure_then_attempt() -> T:
            nonlocal first_failure
            if first_failure is not None:
                failure, first_failure = first_failure, None
                raise failure
            return attempt()

        retrying = self.retrying(
            method=method,
            path=path,
            may_retry=may_retry,
            logger=logger,
            elapsed=time.monotonic() - started,
        )
        return retrying(replay_first_failure_then_attempt)

    def retrying(
        self,
        *,
        method: str,
        path: str,
        may_retry: Callable[[BaseException], bool],
        logger: logging.Logger | None = None,
        elapsed: float = 0.0,
    ) -> tenacity.Retrying:
        """Return a tenacity controller for one logical request.

        :param method: the HTTP method, for the log line of each retry.
        :param path: the path, for the log line of each retry.
        :param may_retry: decides whether a raised exception is worth another attempt.
        :param logger: where each retry is logged.
        :param elapsed: seconds of the deadline already spent before the controller starts.
        """
        deadline = max(self.deadline - elapsed, 0.0)
        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(may_retry),
            stop=tenacity.stop_after_attempt(self.max_retries + 1) | tenacity.stop_after_delay(deadline),
            wait=self._wait,
            before_sleep=_log_retry(method, path, logger or log),
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableResponse):
            asked = parse_retry_after(error.response.headers.get("Retry-After"))
            if asked is not None:
                return min(asked, self.retry_after_cap)
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (state.attempt_number - 1))
        return random.uniform(0, ceiling)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Return the wait a ``Retry-After`` header asks for, in seconds, or ``None`` if unusable.

    :param value: the header's value: a number of seconds or an HTTP date.
    :param now: the current Unix time, for HTTP dates; defaults to the clock.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if moment is None:
            return None
        seconds = moment.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def never_connected(error: BaseException) -> bool:
    """Tell whether a transport error happened before any byte of the request could be sent."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ConnectTimeoutError)):
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            current = reason
            continue
        nested = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = nested or current.__cause__ or current.__context__
    return False


def is_transport_error(error: BaseException) -> bool:
    """Tell whether an exception is a connection failure or timeout from ``requests``."""
    return isinstance(error, (requests.exceptions.ConnectionError, requests.exceptions.Timeout))


def _log_retry(method: str, path: str, logger: logging.Logger) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error: Any = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableResponse):
            what = f"HTTP {error.response.status_code}"
        else:
            what = type(error).__name__
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "Bitcapital %s %s failed with %s on attempt %d; retrying in %.2f s",
            method,
            path,
            what,
            state.attempt_number,
            wait,
        )

    return before_sleep
