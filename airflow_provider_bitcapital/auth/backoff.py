"""When not to ask the token endpoint: after it asked us to wait, or refused for good.

After a 429 or 503 from the token endpoint every caller of the process (and, with the file cache,
of the host) waits out the server's ``Retry-After`` instead of asking again at once. A refusal
that asking again cannot change (a wrong client secret, say) is remembered for a short time and
raised again without a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_bitcapital.exceptions import BitcapitalAuthError

#: OAuth errors that the same request will always get again.
DETERMINISTIC_ERRORS = frozenset({"invalid_client", "invalid_grant", "unauthorized_client", "invalid_scope"})
#: How long a deterministic refusal is remembered, in seconds.
REFUSAL_MEMORY = 30.0
#: The wait after a 429 or 503 that gave no ``Retry-After``, in seconds.
DEFAULT_WAIT = 5.0
#: The longest wait a server's ``Retry-After`` can impose on the callers that come after.
MAX_WAIT = 300.0
_BUSY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Backoff:
    """Do not ask the token endpoint before ``until`` (Unix time); re-raise ``refusal`` if set."""

    until: float
    refusal: BitcapitalAuthError | None = None

    def to_record(self) -> dict[str, Any]:
        """Return a JSON-ready dict for the host-wide backoff file (it holds no secret)."""
        refusal = self.refusal
        return {
            "until": self.until,
            "refusal": None
            if refusal is None
            else {
                "message": refusal.message,
                "status_code": refusal.status_code,
                "error": refusal.error,
                "error_description": refusal.error_description,
            },
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Backoff:
        """Rebuild a backoff from :meth:`to_record`'s dict; raises ``ValueError`` if malformed."""
        try:
            refusal = record.get("refusal")
            error = None
            if refusal is not None:
                error = BitcapitalAuthError(
                    str(refusal["message"]),
                    status_code=refusal.get("status_code"),
                    error=refusal.get("error"),
                    error_description=refusal.get("error_description"),
                )
            return cls(until=float(record["until"]), refusal=error)
        except (KeyError, TypeError, ValueError, AttributeError) as failure:
            raise ValueError(f"malformed backoff record: {type(failure).__name__}") from None


def backoff_after(error: BitcapitalAuthError, now: float) -> Backoff | None:
    """Return how long to leave the token endpoint alone after ``error``, or ``None``.

    :param error: the token endpoint's final refusal.
    :param now: the current Unix time.
    """
    if error.error in DETERMINISTIC_ERRORS:
        return Backoff(until=now + REFUSAL_MEMORY, refusal=error)
    if error.status_code in _BUSY_STATUSES:
        wait = error.retry_after if error.retry_after is not None else DEFAULT_WAIT
        return Backoff(until=now + min(wait, MAX_WAIT))
    return None
