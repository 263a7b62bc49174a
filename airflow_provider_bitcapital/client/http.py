"""The Bitcapital HTTP client: every API call goes through :meth:`BitcapitalClient.request`."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter

from airflow_provider_bitcapital import __version__
from airflow_provider_bitcapital._sanitize import snippet
from airflow_provider_bitcapital.auth.bearer import BearerToken
from airflow_provider_bitcapital.auth.signing import canonical_json, should_sign, signature_headers
from airflow_provider_bitcapital.client.errors import api_error, outcome_unknown_error
from airflow_provider_bitcapital.exceptions import BitcapitalApiError, BitcapitalConfigError
from airflow_provider_bitcapital.retry import (
    RETRYABLE_STATUSES,
    RetryableResponse,
    RetryPolicy,
    is_transport_error,
    never_connected,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from airflow_provider_bitcapital.auth.provider import TokenProvider
    from airflow_provider_bitcapital.config import BitcapitalConfig

log = logging.getLogger(__name__)

#: Methods that may be repeated without changing the outcome.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Answers larger than this are refused rather than loaded into memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
USER_AGENT = f"airflow-provider-bitcapital/{__version__} python-requests/{requests.__version__}"
_CHUNK_BYTES = 256 * 1024
_SAFE_PATH_CHARACTERS = "/:@!$&'()*+,;=-._~%"


class TokenAuth(requests.auth.AuthBase):
    """Attach a valid access token to every request, and replay a request once after a 401.

    Used on the session :meth:`BitcapitalHook.get_conn` returns, for callers who want a plain
    ``requests.Session``.
    """

    def __init__(self, provider: TokenProvider) -> None:
        self.provider = provider

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.provider.get_token().access_token}"
        request.register_hook("response", self._replay_once_on_401)
        return request

    def _replay_once_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        request = response.request
        if response.status_code != 401 or getattr(request, "_bitcapital_replayed", False):
            return response
        sent = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        self.provider.invalidate(sent)
        response.content  # noqa: B018 - drain the body so the connection can be reused
        response.close()
        retry = request.copy()
        retry.headers["Authorization"] = f"Bearer {self.provider.get_token().access_token}"
        retry._bitcapital_replayed = True  # type: ignore[attr-defined]
        replayed = response.connection.send(retry, **kwargs)
        replayed.history.append(response)
        replayed.request = retry
        return replayed

    def __repr__(self) -> str:
        return f"TokenAuth({self.provider!r})"


class InstanceAdapter(HTTPAdapter):
    """The transport of :func:`new_session`: keep-alive connection pools that can grow.

    A pool keeps at most ``pool_size`` idle connections per host and closes any other connection
    once its request is done. Parallel paging keeps several requests in flight, so it asks for a
    larger pool first (:meth:`reserve`) rather than pay for a new connection on every page.

    :param pool_size: idle connections kept per host.
    """

    def __init__(self, pool_size: int = 10) -> None:
        super().__init__(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
        self.pool_size = pool_size
        self._resize_lock = threading.Lock()

    def reserve(self, count: int) -> None:
        """Keep up to ``count`` idle connections per host from now on; never shrinks the pools.

        The larger pools replace the current ones, whose idle connections are closed; connections in
        use finish their request and are closed after it.
        """
        with self._resize_lock:
            if count <= self.pool_size:
                return
            retired = self.poolmanager
            self.init_poolmanager(2, count)
            self.pool_size = count
        retired.clear()


def new_session(config: BitcapitalConfig, *, pool_size: int = 10) -> requests.Session:
    """Return a keep-alive session with the connection's TLS settings and the provider's User-Agent."""
    session = requests.Session()
    adapter = InstanceAdapter(pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = config.verify
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json"
    return session


class BitcapitalClient:
    """Authenticated, signed, retried calls to one Bitcapital instance.

    :param config: the connection's settings.
    :param tokens: where access tokens come from.
    :param session: the keep-alive HTTP session; :func:`new_session` builds a suitable one.
    :param retry_policy: how failures are retried; by default ``config.max_retries`` attempts.
    :param max_response_bytes: answers larger than this are refused.
    """

    def __init__(
        self,
        config: BitcapitalConfig,
        tokens: TokenProvider,
        session: requests.Session,
        *,
        retry_policy: RetryPolicy | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.session = session
        self.retry_policy = retry_policy or RetryPolicy(max_retries=config.max_retries)
        self.max_response_bytes = max_response_bytes
        self._timeout = (min(config.timeout, 10.0), config.timeout)

    def __repr__(self) -> str:
        return f"BitcapitalClient({self.config.base_url!r}, client_id={self.config.client_id!r})"

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        sign: bool | None = None,
    ) -> requests.Response:
        """Send one authenticated request and return its 2xx answer.

        The JSON body is serialized once, compactly and with keys in order, and exactly those
        bytes are signed and sent. A 401 drops the token that request carried and replays it once
        with a new one. Failures worth retrying are retried by :class:`RetryPolicy`, except that a
        request that is not idempotent (a POST) is retried only if it never reached the server.

        :param method: the HTTP method.
        :param endpoint: the path below the instance URL, such as ``/wallets``.
        :param params: query parameters.
        :param json: a JSON-serializable body.
        :param headers: extra headers; ``Authorization`` cannot be overridden.
        :param sign: sign (``True``) or do not sign (``False``) this request whatever the
            connection's ``sign_requests`` says.
        :raises BitcapitalConfigError: for a malformed method or endpoint, before any request.
        :raises BitcapitalApiError: for a non-2xx answer or a failure to get one.
        :raises BitcapitalAuthError: if no token can be had.
        """
        method = _check_method(method)
        path = self._path_of(endpoint)
        query = urlencode(_query_items(params), doseq=True) if params else ""
        path_and_query = f"{path}?{query}" if query else path
        body = canonical_json(json) if json is not None else None
        request_headers = dict(headers or {})
        request_headers.pop("Authorization", None)
        if body is not None:
            request_headers["Content-Type"] = "application/json; charset=utf-8"
        signed = should_sign(self.config.sign_requests, method, path, sign)
        idempotent = method in IDEMPOTENT_METHODS
        url = self.config.base_url + path_and_query

        def attempt() -> requests.Response:
            replayed = False
            while True:
                token = self.tokens.get_token()
                if signed:
                    request_headers.update(
                        signature_headers(self.config.client_secret, method, path_and_query, body)
                    )
                response = self._send(
                    method, url, path, body, request_headers, token.access_token, idempotent
                )
                if response.status_code == 401 and not replayed:
                    log.info("Bitcapital %s %s got 401; renewing the token and replaying once", method, path)
                    self.tokens.invalidate(token.access_token)
                    replayed = True
                    continue
                return response

        try:
            response = self.retry_policy.call(
                attempt, method=method, path=path, may_retry=self._may_retry(idempotent), logger=log
            )
        except RetryableResponse as error:
            raise api_error(error.response, method, path) from None
        except (requests.ConnectionError, requests.Timeout) as error:
            raise BitcapitalApiError(
                f"could not get an answer: {type(error).__name__}", method=method, path=path
            ) from None
        if response.ok:
            log.debug("Bitcapital %s %s answered %d", method, path, response.status_code)
            return response
        unknown = (
            not idempotent and response.status_code in RETRYABLE_STATUSES and response.status_code != 429
        )
        raise api_error(response, method, path, outcome_unknown=unknown)

    def get_json(self, endpoint: str, **kwargs: Any) -> Any:
        """Send a request (``GET`` unless ``method`` is given) and return the decoded JSON answer."""
        method = kwargs.pop("method", "GET")
        return decode_json(self.request(method, endpoint, **kwargs), method, self._path_of(endpoint))

    def paginate(
        self,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        page_size: int = 100,
        max_items: int | None = None,
        concurrency: int = 1,
    ) -> Iterator[Any]:
        """Iterate lazily over the items of a ``skip``/``limit`` list; see :class:`Pager`."""
        from airflow_provider_bitcapital.client.paging import Pager

        return iter(
            Pager(
                self,
                endpoint,
                params=params,
                page_size=page_size,
                max_items=max_items,
                concurrency=concurrency,
            )
        )

    def reserve_connections(self, count: int) -> None:
        """Keep ``count`` connections to the instance open between calls, for as many parallel requests.

        Known limitation: only the provider's own transport (:class:`InstanceAdapter`, which
        :func:`new_session` mounts) can grow. A session passed in with another adapter keeps its
        pool size, and closes the connections beyond it after each request.
        """
        adapter = self.session.get_adapter(self.config.base_url)
        if isinstance(adapter, InstanceAdapter):
            adapter.reserve(count)

    def _send(
        self,
        method: str,
        url: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
        access_token: str,
        idempotent: bool,
    ) -> requests.Response:
        try:
            response = self.session.request(
                method,
                url,
                data=body,
                headers=headers,
                auth=BearerToken(access_token),
                timeout=self._timeout,
                # requests drops the Authorization header when a redirect leaves the instance's host.
                allow_redirects=idempotent,
                stream=True,
            )
            self._read_body(response, method, path)
        except (requests.ConnectionError, requests.Timeout) as error:
            if idempotent or never_connected(error):
                raise
            raise outcome_unknown_error(
                method, path, f"the connection failed ({type(error).__name__})"
            ) from None
        if response.status_code in RETRYABLE_STATUSES and idempotent:
            raise RetryableResponse(response)
        return response

    def _read_body(self, response: requests.Response, method: str, path: str) -> None:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            response.close()
            raise self._too_large(method, path, response.status_code)
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_content(_CHUNK_BYTES):
            total += len(chunk)
            if total > self.max_response_bytes:
                response.close()
                raise self._too_large(method, path, response.status_code)
            chunks.append(chunk)
        response._content = b"".join(chunks)

    def _too_large(self, method: str, path: str, status: int) -> BitcapitalApiError:
        return BitcapitalApiError(
            f"the answer is larger than {self.max_response_bytes} bytes and was refused",
            method=method,
            path=path,
            status_code=status,
            hint="page through the list with smaller pages",
        )

    @staticmethod
    def _may_retry(idempotent: bool) -> Any:
        def decide(error: BaseException) -> bool:
            if isinstance(error, RetryableResponse):
                return True
            if is_transport_error(error):
                return idempotent or never_connected(error)
            return False

        return decide

    def _path_of(self, endpoint: str) -> str:
        if not isinstance(endpoint, str) or not endpoint.strip():
            raise BitcapitalConfigError([("endpoint", f"got {endpoint!r}; expected a path such as /wallets")])
        text = endpoint.strip()
        if "://" in text:
            parts = urlsplit(text)
            base = urlsplit(self.config.base_url)
            if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(
                base.path
            ):
                expected = f"a path below the instance URL {self.config.base_url}"
                raise BitcapitalConfigError([("endpoint", f"got {endpoint!r}; expected {expected}")])
            if parts.query:
                raise BitcapitalConfigError(
                    [("endpoint", "pass query parameters in params, not in the endpoint")]
                )
            text = parts.path[len(base.path) :]
        if "?" in text or "#" in text:
            raise BitcapitalConfigError(
                [("endpoint", "pass query parameters in params, not in the endpoint")]
            )
        return quote("/" + text.lstrip("/"), safe=_SAFE_PATH_CHARACTERS)


def decode_json(response: requests.Response, method: str, path: str) -> Any:
    """Return the decoded JSON of a 2xx answer (``None`` for an empty body).

    :raises BitcapitalApiError: if the body is not JSON.
    """
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise BitcapitalApiError(
            f"the answer is not JSON: {snippet(response.content)}",
            method=method,
            path=path,
            status_code=response.status_code,
        ) from None


def _check_method(method: str) -> str:
    accepted = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
    text = method.upper().strip() if isinstance(method, str) else ""
    if text not in accepted:
        raise BitcapitalConfigError([("method", f"got {method!r}; accepted: " + ", ".join(accepted))])
    return text


def _query_items(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        items.append((str(key), value))
    return items
