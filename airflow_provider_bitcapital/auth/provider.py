"""The token provider: returns a valid access token, asking the token endpoint as rarely as possible."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests

from airflow_provider_bitcapital.auth.backoff import Backoff, backoff_after
from airflow_provider_bitcapital.auth.bearer import BearerToken, ClientAuth
from airflow_provider_bitcapital.auth.cache import FileTokenCache, TokenSlot, cache_key, process_slot
from airflow_provider_bitcapital.auth.token import Token, parse_token_response, token_refusal
from airflow_provider_bitcapital.exceptions import BitcapitalAuthError
from airflow_provider_bitcapital.retry import (
    RETRYABLE_STATUSES,
    RetryableResponse,
    RetryPolicy,
    is_transport_error,
    parse_retry_after,
)

if TYPE_CHECKING:
    from airflow_provider_bitcapital.config import BitcapitalConfig

log = logging.getLogger(__name__)

REVOKE_PATH = "/oauth/revoke"


class TokenProvider:
    """Get, cache, renew and revoke the access tokens of one Bitcapital connection.

    Tokens are shared by every provider of the process with the same credentials (unless
    ``token_cache`` is ``none``) and, with ``token_cache=file``, by the processes of the host.
    However many threads ask at once, one request goes to the token endpoint. A token is renewed
    early by one caller while the others keep using it, and never sent when about to expire.

    :param config: the connection's settings.
    :param session: the HTTP session to send token requests over.
    :param file_cache: the host-wide cache, used when ``config.token_cache`` is ``file``.
    :param retry_policy: how token requests are retried.
    :param on_new_token: called with every new token string (and refresh token) before anything
        else sees it, so that it can be masked in logs.
    """

    def __init__(
        self,
        config: BitcapitalConfig,
        session: requests.Session,
        *,
        file_cache: FileTokenCache | None = None,
        retry_policy: RetryPolicy | None = None,
        on_new_token: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.session = session
        self.key = cache_key(config)
        self.file_cache = file_cache if config.token_cache == "file" else None
        self.retry_policy = retry_policy or RetryPolicy(max_retries=config.max_retries)
        self._on_new_token = on_new_token
        self._slot = TokenSlot() if config.token_cache == "none" else process_slot(self.key)
        self._jitter = random.uniform(0.6, 1.0)

    def __repr__(self) -> str:
        return f"TokenProvider(client_id={self.config.client_id!r}, cache={self.config.token_cache!r})"

    def get_token(self) -> Token:
        """Return a token that is valid for at least the hard safety margin.

        :raises BitcapitalAuthError: if the token endpoint refuses or cannot be reached.
        """
        slot = self._slot
        token = slot.token
        if token is not None and token.is_usable():
            if token.wants_refresh(jitter=self._jitter) and slot.lock.acquire(blocking=False):
                try:
                    return self._refresh_early(token)
                finally:
                    slot.lock.release()
            return token
        with slot.lock:
            token = slot.token
            if token is not None and token.is_usable():
                return token
            self._wait_out(slot.backoff)
            slot.token = self._obtain(avoid=None, previous=token)
            return slot.token

    def invalidate(self, access_token: str) -> None:
        """Forget ``access_token`` after the API refused it, unless a newer token replaced it already.

        Comparing before dropping means that many requests failing with the same stale token cause
        one new token request, not one each.
        """
        slot = self._slot
        with slot.lock:
            if slot.token is not None and slot.token.access_token == access_token:
                slot.token = None
            if self.file_cache is not None:
                # Compare and delete under the host-wide lock, or a slow process could delete the
                # token another process has just stored in place of the refused one.
                with self.file_cache.locked(self.key):
                    self.file_cache.discard(self.key, access_token)

    def revoke(self) -> bool:
        """Revoke the current token at the server and drop it from every cache.

        :return: ``True`` if the server revoked something, ``False`` if it had nothing to revoke
            (or no token was held).
        :raises BitcapitalAuthError: if the server refuses the revocation for another reason.
        """
        slot = self._slot
        with slot.lock:
            token = slot.token
            if token is None and self.file_cache is not None:
                token = self.file_cache.load(self.key)
            slot.token = None
            if self.file_cache is not None:
                self.file_cache.discard(self.key)
        if token is None:
            return False
        response = self.session.post(
            self.config.base_url + REVOKE_PATH,
            data={"accessToken": token.access_token},
            auth=BearerToken(token.access_token),
            timeout=self.config.timeout,
            verify=self.config.verify,
            allow_redirects=False,
        )
        if response.status_code == 404:
            return False
        if response.status_code not in (200, 401):
            raise BitcapitalAuthError(
                f"Bitcapital refused to revoke the token with HTTP {response.status_code}",
                status_code=response.status_code,
            )
        log.info("Revoked the Bitcapital token of client %s", self.config.client_id)
        return response.status_code == 200

    def _refresh_early(self, current: Token) -> Token:
        backoff = self._slot.backoff
        if backoff is not None and time.time() < backoff.until:
            return current
        try:
            self._slot.token = self._obtain(avoid=current, previous=current)
        except Exception as error:
            # The current token is still valid: keep using it and try again on a later call.
            log.warning("Early renewal of the Bitcapital token failed (%s); keeping the current one", error)
            return current
        return self._slot.token

    def _obtain(self, avoid: Token | None, previous: Token | None) -> Token:
        """Take a token from the file cache, or fetch one while holding the host-wide lock.

        :param avoid: a token not to accept from the file cache (the one being renewed early).
        :param previous: the token being replaced, whose refresh token may be used.
        """
        if self.file_cache is None:
            return self._fetch(previous)
        cached = self._from_file(avoid)
        if cached is not None:
            return cached
        with self.file_cache.locked(self.key):
            cached = self._from_file(avoid)
            if cached is not None:
                return cached
            self._wait_out(self.file_cache.load_backoff(self.key))
            token = self._fetch(previous)
            self.file_cache.store(self.key, token)
            return token

    def _wait_out(self, backoff: Backoff | None) -> None:
        """Raise a remembered refusal, or sleep until the token endpoint may be asked again."""
        if backoff is None:
            return
        wait = backoff.until - time.time()
        if wait <= 0:
            return
        if backoff.refusal is not None:
            raise BitcapitalAuthError(
                f"{backoff.refusal.message} (remembered: not asking the token endpoint again "
                f"for {wait:.0f} s)",
                status_code=backoff.refusal.status_code,
                error=backoff.refusal.error,
                error_description=backoff.refusal.error_description,
            )
        wait = min(wait, self.retry_policy.deadline)
        log.warning("The Bitcapital token endpoint asked callers to wait; waiting %.1f s", wait)
        time.sleep(wait)

    def _remember(self, error: BitcapitalAuthError) -> None:
        backoff = backoff_after(error, time.time())
        self._slot.backoff = backoff
        if self.file_cache is not None:
            self.file_cache.store_backoff(self.key, backoff)

    def _from_file(self, avoid: Token | None) -> Token | None:
        assert self.file_cache is not None
        token = self.file_cache.load(self.key)
        if token is None or not token.is_usable():
            return None
        if avoid is not None and (token.access_token == avoid.access_token or token.wants_refresh()):
            return None
        self._announce(token)
        log.info(
            "Using the Bitcapital token of client %s from the file cache; %.0f s left",
            self.config.client_id,
            token.remaining(),
        )
        return token

    def _fetch(self, previous: Token | None) -> Token:
        """Ask the token endpoint; remember a refusal so that the next callers do not ask again."""
        try:
            token = self._fetch_once(previous)
        except BitcapitalAuthError as error:
            self._remember(error)
            raise
        if self._slot.backoff is not None:
            self._remember_success()
        return token

    def _remember_success(self) -> None:
        self._slot.backoff = None
        if self.file_cache is not None:
            self.file_cache.store_backoff(self.key, None)

    def _fetch_once(self, previous: Token | None) -> Token:
        refresh_token = previous.refresh_token if previous is not None else None
        if refresh_token is not None:
            try:
                return self._request_token({"grant_type": "refresh_token", "refresh_token": refresh_token})
            except BitcapitalAuthError as error:
                if error.error != "invalid_grant":
                    raise
                log.info("The Bitcapital refresh token was refused; using the password grant again")
        return self._request_token(self._grant_fields())

    def _grant_fields(self) -> dict[str, str]:
        config = self.config
        if config.grant_type == "client_credentials":
            return {"grant_type": "client_credentials"}
        fields = {
            "grant_type": "password",
            "username": config.username or "",
            "password": config.user_password or "",
        }
        if config.scope:
            fields["scope"] = ",".join(config.scope)
        return fields

    def _request_token(self, fields: dict[str, str]) -> Token:
        config = self.config
        headers = {"Accept": "application/json"}
        auth = ClientAuth(config.client_id, config.client_secret, send=config.client_auth == "basic")
        if config.client_auth == "body":
            fields = {**fields, "client_id": config.client_id, "client_secret": config.client_secret}

        def attempt() -> Token:
            sent_wall, sent_monotonic = time.time(), time.monotonic()
            response = self.session.post(
                config.token_url,
                data=fields,
                headers=headers,
                auth=auth,
                timeout=config.timeout,
                verify=config.verify,
                allow_redirects=False,
            )
            if response.is_redirect:
                raise BitcapitalAuthError(
                    f"Bitcapital token endpoint answered HTTP {response.status_code} with a redirect, "
                    "which is never followed for token requests; set token_url to the final URL",
                    status_code=response.status_code,
                )
            if response.status_code in RETRYABLE_STATUSES:
                raise RetryableResponse(response)
            return parse_token_response(
                response.status_code,
                response.headers.get("Content-Type", ""),
                response.content,
                sent_wall=sent_wall,
                sent_monotonic=sent_monotonic,
            )

        retrying = self.retry_policy.retrying(
            method="POST",
            path=_path_of(config.token_url),
            may_retry=lambda error: isinstance(error, RetryableResponse) or is_transport_error(error),
            logger=log,
        )
        try:
            token = retrying(attempt)
        except RetryableResponse as error:
            response = error.response
            refusal = token_refusal(
                response.status_code, response.headers.get("Content-Type", ""), response.content
            )
            refusal.retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise refusal from None
        except (requests.ConnectionError, requests.Timeout) as error:
            raise BitcapitalAuthError(
                f"Could not reach the Bitcapital token endpoint {config.token_url}: {type(error).__name__}"
            ) from None
        self._announce(token)
        log.info(
            "Got a new Bitcapital token for client %s from the token endpoint; valid %.0f s",
            config.client_id,
            token.lifetime,
        )
        return token

    def _announce(self, token: Token) -> None:
        if self._on_new_token is not None:
            self._on_new_token(token.access_token)
            if token.refresh_token:
                self._on_new_token(token.refresh_token)


def _path_of(url: str) -> str:
    return urlsplit(url).path or "/"
