"""Exceptions raised by the Bitcapital provider.

Every exception carries the fields a caller needs to act (status, Bitcapital's ``stackId``, the
OAuth error code, the method and path) and a message a person can act on. None of them ever holds
a client secret, a token or a request body.
"""

from __future__ import annotations

from collections.abc import Sequence


class BitcapitalError(Exception):
    """Base class of every error raised by this provider."""


class BitcapitalConfigError(BitcapitalError, ValueError):
    """A connection field or call argument is wrong; raised before any request is made.

    :param problems: one ``(field, explanation)`` pair for each wrong field, so that a connection
        with several mistakes is reported in one go.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        lines = [f"{field}: {explanation}" for field, explanation in self.problems]
        if len(lines) == 1:
            message = f"Invalid Bitcapital setting {lines[0]}"
        else:
            message = "Invalid Bitcapital settings:\n  " + "\n  ".join(lines)
        super().__init__(message)

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the wrong fields, in the order they were found."""
        return tuple(field for field, _ in self.problems)


class BitcapitalAuthError(BitcapitalError):
    """The token endpoint refused to issue a token, or answered something unusable.

    :param message: what went wrong and what to change.
    :param status_code: the HTTP status of the token endpoint's answer, if there was one.
    :param error: the OAuth ``error`` code (``invalid_client``, ``invalid_grant``, ...).
    :param error_description: the OAuth ``error_description``.
    :param stack_id: Bitcapital's ``stackId``, when the answer had the framework's error shape.
    :param retry_after: the seconds the server asked callers to wait (``Retry-After``), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
        stack_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error = error
        self.error_description = error_description
        self.stack_id = stack_id
        self.retry_after = retry_after


class BitcapitalApiError(BitcapitalError):
    """A Bitcapital API call failed: a non-2xx answer, or no answer at all.

    :param message: the server's message, or a description of the failure.
    :param method: the HTTP method of the failed call.
    :param path: the path of the failed call, without the query string.
    :param status_code: the HTTP status, or ``None`` when no answer arrived.
    :param stack_id: Bitcapital's ``stackId``, the id its support asks for.
    :param error: the OAuth ``error`` code when the answer had the OAuth shape.
    :param hint: what to change or check, when the status says something about it.
    :param outcome_unknown: ``True`` when a request that is not safe to repeat may or may not
        have been carried out by the server (for example a payment whose answer was lost).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status_code: int | None = None,
        stack_id: str | None = None,
        error: str | None = None,
        hint: str | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.status_code = status_code
        self.stack_id = stack_id
        self.error = error
        self.hint = hint
        self.outcome_unknown = outcome_unknown
        super().__init__(self._describe())

    def _describe(self) -> str:
        status = f"HTTP {self.status_code}" if self.status_code is not None else "no response"
        text = f"Bitcapital {self.method} {self.path} failed with {status}: {self.message}"
        if self.stack_id:
            text += f" (stackId: {self.stack_id})"
        if self.hint:
            text += f". {self.hint}"
        return text
