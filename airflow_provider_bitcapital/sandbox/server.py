"""``SandboxServer``: a local Bitcapital Core instance in a background thread, and its Python controls."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from airflow_provider_bitcapital.sandbox.faults import new_fault
from airflow_provider_bitcapital.sandbox.records import format_amount
from airflow_provider_bitcapital.sandbox.serving import ServerThread
from airflow_provider_bitcapital.sandbox.state import RecordedRequest, SandboxState, Settings
from airflow_provider_bitcapital.sandbox.views import wallets_view

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType


class SandboxServer:
    """A local Bitcapital Core instance for demos and tests, served by uvicorn on a daemon thread.

    It speaks the instance's wire protocol (OAuth grants and revocation, Bearer and scope checks,
    request signatures, paged lists with ``X-Data-*`` headers, both error shapes) over seeded,
    deterministic data, counts what it receives, and can inject faults. Everything here is also
    reachable over HTTP under ``/_sandbox`` (see :mod:`.routes_control`) for other processes.

    :param host: the interface to listen on.
    :param port: the port; 0 picks a free one, known from :attr:`port` as soon as it is bound.
    :param client_id: the OAuth client the connection helpers use; its virtual user owns the root wallet.
    :param client_secret: that client's secret.
    :param username: the user of the password grant.
    :param user_password: that user's password.
    :param wallet_count: how many wallets ``GET /wallets`` lists, at least 3.
    :param seed: the seed of the seeded data.
    :param token_lifetime: access token lifetime in seconds; a lifetime under 1 s leaves
        ``expires_in`` out of the token response, as the reference server does.
    :param refresh_token_lifetime: refresh token lifetime in seconds.
    :param settle_after_reads: how many reads of ``GET /transactions/{id}`` a new transaction
        answers ``pending`` before it answers ``executed``.
    :param allow_non_ascii_secrets: accept client ids and secrets outside printable ASCII at the
        token endpoint, decoded from the Basic header as UTF-8 (the default, so a client's UTF-8
        encoding can be tested end to end). ``False`` imitates the reference OAuth server, which
        refuses them with 400 ``invalid_request``.
    :raises ValueError: when ``wallet_count`` is below 3.

    Known limitation: the sandbox is simpler than a real instance. Every token may read and use
    every wallet (a consumer is not limited to its own); balances move as soon as a payment is
    accepted while its transaction settles only after ``settle_after_reads`` reads; scheduled
    payments (``scheduleFor``) are recorded but not delayed; a boleto payment debits BRLD and an
    emitted boleto is never paid; ``POST /assets`` and the ``/consumers``,
    ``/domains/{id}/consumers`` and ``/domains/{id}/metrics`` endpoints are not implemented and
    answer 404.

    Known limitation: with port 0, reading :attr:`port` or :attr:`url` before :meth:`start` binds
    and holds a listening socket, so the port stays reserved; it is released by :meth:`stop` or
    when the server object is garbage-collected.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
        username: str = "alice@example.com",
        user_password: str = "alice-password",
        wallet_count: int = 300,
        seed: int = 7,
        token_lifetime: float = 3600,
        refresh_token_lifetime: float = 14 * 24 * 3600,
        settle_after_reads: int = 2,
        allow_non_ascii_secrets: bool = True,
    ) -> None:
        self.host = host
        self.client_id = client_id
        self.client_secret = client_secret
        self.username = username
        self.user_password = user_password
        settings = Settings().updated(
            {
                "token_lifetime": token_lifetime,
                "refresh_token_lifetime": refresh_token_lifetime,
                "settle_after_reads": settle_after_reads,
                "allow_non_ascii_secrets": allow_non_ascii_secrets,
            }
        )
        self._state = SandboxState(
            client_id=client_id,
            client_secret=client_secret,
            username=username,
            user_password=user_password,
            wallet_count=wallet_count,
            seed=seed,
            settings=settings,
        )
        self._serving = ServerThread(host, port)

    def __repr__(self) -> str:
        # Reading self.url here would bind a socket for port 0: a repr must have no side effect.
        return (
            f"SandboxServer(host={self.host!r}, port={self._serving.assigned_port}, running={self.running})"
        )

    # Lifecycle.

    def start(self) -> SandboxServer:
        """Start serving on a daemon thread; return once the server accepts connections.

        Calling it on a running server does nothing. A stopped server can start again, on the same port.

        :return: the server itself.
        :raises RuntimeError: when uvicorn fails to start within 10 seconds.
        """
        from airflow_provider_bitcapital.sandbox.app import create_app

        if not self._serving.running:
            self._serving.start(create_app(self._state))
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end; calling it again does nothing.

        Requests held by a ``delay`` fault are dropped rather than waited for.
        """
        self._serving.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Tell whether the server thread is serving."""
        return self._serving.running

    @property
    def port(self) -> int:
        """The port; with port 0, a free port is bound on first use and kept across restarts."""
        return self._serving.port

    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:54321``, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # Connections for the client side.

    def add_client(self, client_id: str, client_secret: str) -> None:
        """Register another OAuth client, with a virtual user, until the next :meth:`reset`.

        :param client_id: the client id; it cannot contain ``:``.
        :param client_secret: the secret, any characters (see ``allow_non_ascii_secrets``).
        """
        self._state.add_client(client_id, client_secret)

    def connection_json(self, **extra: Any) -> str:
        """Return this instance as an Airflow connection in JSON, for ``AIRFLOW_CONN_BITCAPITAL_DEFAULT``.

        :param extra: values for the connection's ``extra``, such as ``token_cache="memory"``.
        """
        return json.dumps(
            {
                "conn_type": "bitcapital",
                "host": self.url,
                "login": self.client_id,
                "password": self.client_secret,
                "extra": extra,
            }
        )

    def connection_uri(self, **extra: Any) -> str:
        """Return this instance as an Airflow connection URI.

        The host, scheme included, is percent-encoded as Airflow writes it
        (``bitcapital://id:secret@http%3A%2F%2F127.0.0.1%3A54321/?token_cache=memory``).

        :param extra: values for the connection's ``extra``, written as query parameters.
        """
        query = urlencode({name: _uri_value(value) for name, value in extra.items()})
        login, password = quote(self.client_id, safe=""), quote(self.client_secret, safe="")
        return f"bitcapital://{login}:{password}@{quote(self.url, safe='')}/" + (f"?{query}" if query else "")

    def env(self, conn_id: str = "bitcapital_default", **extra: Any) -> dict[str, str]:
        """Return the environment variable that defines this instance as an Airflow connection.

        :param conn_id: the connection id.
        :param extra: values for the connection's ``extra``.
        :return: ``{"AIRFLOW_CONN_<CONN_ID>": <connection JSON>}``.
        """
        return {f"AIRFLOW_CONN_{conn_id.upper()}": self.connection_json(**extra)}

    # Counters and inspection.

    @property
    def token_requests(self) -> int:
        """How many ``POST /oauth/token`` requests arrived, refused and faulted ones included."""
        with self._state.lock:
            return self._state.token_requests

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Count received requests with this exact method and path (no query string); ``None`` matches any.

        Faulted requests and ``/oauth`` requests count; the ``/_sandbox`` control endpoints never do.
        """
        return self._state.count(method, path)

    @property
    def request_log(self) -> list[RecordedRequest]:
        """A copy of the requests received since the last counter reset, oldest first."""
        with self._state.lock:
            return list(self._state.request_log)

    def stats(self) -> dict[str, Any]:
        """Return ``{"token_requests": n, "requests": {"GET /wallets": n, ...}, "payments_created": n}``."""
        return self._state.stats()

    def reset_counters(self) -> None:
        """Clear the counters and the request log, nothing else."""
        self._state.reset_counters()

    def reset(self) -> None:
        """Go back to the freshly seeded state: data, clients, tokens, faults, counters and settings."""
        self._state.reset()

    def revoke_all_tokens(self) -> None:
        """Revoke every access and refresh token, as an administrator would."""
        with self._state.lock:
            self._state.tokens.revoke_all()

    def expire_all_tokens(self) -> None:
        """Make every access token expire now, as if its lifetime had passed (refresh tokens stay)."""
        with self._state.lock:
            self._state.tokens.expire_all()

    @property
    def issued_tokens(self) -> list[str]:
        """Every access and refresh token ever issued by this server, resets included."""
        with self._state.lock:
            return list(self._state.issued_tokens)

    def balance_totals(self) -> dict[str, str]:
        """Return, for every asset code, the sum of all wallet balances as a decimal string."""
        with self._state.lock:
            return {code: format_amount(total) for code, total in self._state.bank.balance_totals().items()}

    def wallets_snapshot(self) -> list[dict[str, Any]]:
        """Return every wallet as ``GET /wallets`` lists them, all pages together."""
        with self._state.lock:
            return wallets_view(self._state.bank)

    # Settings.

    @property
    def token_lifetime(self) -> float:
        """Access token lifetime in seconds, for tokens issued from now on."""
        return self._state.settings.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: float) -> None:
        self._state.update_settings({"token_lifetime": seconds})

    @property
    def refresh_token_lifetime(self) -> float:
        """Refresh token lifetime in seconds, for tokens issued from now on."""
        return self._state.settings.refresh_token_lifetime

    @refresh_token_lifetime.setter
    def refresh_token_lifetime(self, seconds: float) -> None:
        self._state.update_settings({"refresh_token_lifetime": seconds})

    @property
    def settle_after_reads(self) -> int:
        """How many reads a new transaction answers ``pending`` before ``executed``."""
        return self._state.settings.settle_after_reads

    @settle_after_reads.setter
    def settle_after_reads(self, reads: int) -> None:
        self._state.update_settings({"settle_after_reads": reads})

    def settings(self) -> dict[str, Any]:
        """Return the current settings."""
        return asdict(self._state.settings)

    # Fault injection.

    def inject(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = None,
        json: object | None = None,
        body: str | bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: str | int | None = None,
        delay: float = 0.0,
        drop: bool = False,
        when: str = "before",
        times: int = 1,
    ) -> None:
        """Make the next matching requests fail or slow down.

        Faults are tried in the order injected; the first match wins and uses up one of its ``times``.

        :param path: an exact path, or an :mod:`fnmatch` glob such as ``/wallets/*``.
        :param method: the method to match; ``None`` matches any.
        :param status: answer this status instead of the real one; without ``json`` or ``body`` the
            body is the framework's error shape.
        :param json: answer this JSON body (status 200 unless ``status`` is given).
        :param body: answer this raw body, such as an HTML gateway page or broken JSON.
        :param content_type: the content type of that answer.
        :param headers: headers to add, such as ``Location``; alone, they are added to the real answer.
        :param retry_after: a ``Retry-After`` header value (seconds or an HTTP date).
        :param delay: seconds to wait before answering (or dropping); alone, the real answer follows.
        :param drop: close the TCP connection without any answer.
        :param when: ``before`` skips the real handler; ``after`` runs it first (a payment is made)
            and then answers with the fault instead.
        :param times: how many matching requests the fault applies to.
        :raises ValueError: for an invalid value or combination.
        """
        fault = new_fault(
            path,
            method=method,
            status=status,
            json=json,
            body=body,
            content_type=content_type,
            headers=headers,
            retry_after=retry_after,
            delay=delay,
            drop=drop,
            when=when,
            times=times,
        )
        with self._state.lock:
            self._state.faults.add(fault)

    def clear_faults(self) -> None:
        """Forget every injected fault."""
        with self._state.lock:
            self._state.faults.clear()


def _uri_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
