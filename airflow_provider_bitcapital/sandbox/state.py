"""Everything the sandbox remembers, behind one lock.

The state is read and changed both by the server's event loop thread and by test threads calling
:class:`.SandboxServer` methods, so every access goes through :attr:`SandboxState.lock`, a
re-entrant lock held only for short, non-blocking work.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Any

from airflow_provider_bitcapital.sandbox.bank import Bank
from airflow_provider_bitcapital.sandbox.faults import Fault, FaultList
from airflow_provider_bitcapital.sandbox.seed import add_virtual_user, seed_bank
from airflow_provider_bitcapital.sandbox.tokens import TokenStore

TOKEN_PATH = "/oauth/token"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the sandbox received it.

    :ivar method: the method, upper case.
    :ivar path: the path, percent-decoded, without the query string.
    :ivar query: the raw query string, without ``?``.
    :ivar headers: the headers, names in lower case (repeated headers joined with ``", "``).
    :ivar body: the raw body.
    :ivar client_id: the OAuth client the request authenticated as (valid Bearer token, or valid
        client credentials on the token endpoint), or ``None``.
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    client_id: str | None


@dataclass
class Settings:
    """What can be changed while the server runs (``POST /_sandbox/settings``).

    :ivar token_lifetime: access token lifetime in seconds, for tokens issued from now on.
    :ivar refresh_token_lifetime: refresh token lifetime in seconds.
    :ivar settle_after_reads: how many reads of ``GET /transactions/{id}`` a new transaction
        answers ``pending`` before it answers ``executed``.
    :ivar allow_non_ascii_secrets: accept client ids and secrets outside printable ASCII at the
        token endpoint (decoded from Basic as UTF-8). ``False`` imitates the reference OAuth
        server, which refuses them with 400 ``invalid_request``.
    """

    token_lifetime: float = 3600.0
    refresh_token_lifetime: float = 14 * 24 * 3600.0
    settle_after_reads: int = 2
    allow_non_ascii_secrets: bool = True

    def updated(self, values: dict[str, Any]) -> Settings:
        """Return a copy with some values changed.

        :raises ValueError: for an unknown name or a value of the wrong type or range.
        """
        unknown = sorted(set(values) - set(asdict(self)))
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        for name in ("token_lifetime", "refresh_token_lifetime"):
            value = values.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a non-negative number of seconds, got {value!r}")
        reads = values.get("settle_after_reads", 0)
        if isinstance(reads, bool) or not isinstance(reads, int) or reads < 0:
            raise ValueError(f"settle_after_reads must be a non-negative integer, got {reads!r}")
        if not isinstance(values.get("allow_non_ascii_secrets", False), bool):
            raise ValueError("allow_non_ascii_secrets must be true or false")
        return replace(self, **values)


class SandboxState:
    """Seeded data, OAuth clients, tokens, faults and counters of one sandbox instance.

    :param client_id: the first OAuth client, whose virtual user owns the root wallet.
    :param client_secret: its secret.
    :param username: the password-grant user.
    :param user_password: that user's password.
    :param wallet_count: how many wallets the seeded instance has.
    :param seed: the seed of the seeded data.
    :param settings: the initial settings, restored by :meth:`reset`.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        username: str,
        user_password: str,
        wallet_count: int,
        seed: int,
        settings: Settings,
    ) -> None:
        self.lock = threading.RLock()
        self.started_at = time.monotonic()
        self.issued_tokens: list[str] = []
        self._initial_clients = {client_id: client_secret}
        self._initial_settings = settings
        self._seed_arguments: dict[str, Any] = {
            "seed": seed,
            "wallet_count": wallet_count,
            "username": username,
            "user_password": user_password,
        }
        self.settings = settings
        self.clients: dict[str, str] = {}
        self.bank = Bank()
        self.tokens = TokenStore()
        self.faults = FaultList()
        self.request_counts: Counter[str] = Counter()
        self.request_log: list[RecordedRequest] = []
        self.token_requests = 0
        self.payments_created = 0
        self.reset()

    def reset(self) -> None:
        """Go back to the freshly seeded state: data, clients, tokens, faults, counters and settings.

        Clients added with :meth:`add_client` are forgotten. :attr:`issued_tokens` is kept, so a
        test can still scan logs for every token the sandbox ever handed out.
        """
        with self.lock:
            self.clients = dict(self._initial_clients)
            self.bank = seed_bank(client_ids=list(self.clients), **self._seed_arguments)
            self.tokens = TokenStore()
            self.faults.clear()
            self.settings = self._initial_settings
            self.reset_counters()

    def reset_counters(self) -> None:
        """Clear the counters and the request log."""
        with self.lock:
            self.request_counts.clear()
            self.request_log.clear()
            self.token_requests = 0
            self.payments_created = 0

    def add_client(self, client_id: str, client_secret: str) -> None:
        """Register an OAuth client (or change its secret) and give it a virtual user."""
        if not client_id or ":" in client_id:
            raise ValueError(f"a client id must be non-empty and cannot contain ':', got {client_id!r}")
        with self.lock:
            self.clients[client_id] = client_secret
            add_virtual_user(self.bank, client_id)

    def record(self, request: RecordedRequest) -> Fault | None:
        """Count and log a received request, then consume the first fault that matches it.

        :return: the fault to apply, or ``None``.
        """
        with self.lock:
            self.request_log.append(request)
            self.request_counts[f"{request.method} {request.path}"] += 1
            if request.method == "POST" and request.path == TOKEN_PATH:
                self.token_requests += 1
            return self.faults.take(request.method, request.path)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Count received requests with this exact method and path; ``None`` matches any."""
        with self.lock:
            total = 0
            for key, number in self.request_counts.items():
                key_method, _, key_path = key.partition(" ")
                if method is not None and key_method != method.upper():
                    continue
                if path is not None and key_path != path:
                    continue
                total += number
            return total

    def stats(self) -> dict[str, Any]:
        """Return the counters as ``{"token_requests", "requests", "payments_created"}``."""
        with self.lock:
            return {
                "token_requests": self.token_requests,
                "requests": dict(self.request_counts),
                "payments_created": self.payments_created,
            }

    def update_settings(self, values: dict[str, Any]) -> None:
        """Change settings; see :class:`Settings`.

        :raises ValueError: for an unknown name or an invalid value.
        """
        with self.lock:
            self.settings = self.settings.updated(values)

    def uptime(self) -> float:
        """Return the seconds since the state was created."""
        return time.monotonic() - self.started_at
