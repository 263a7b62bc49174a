"""``requests`` authentication for the token endpoint (the client) and the API (a bearer token)."""

from __future__ import annotations

import base64

import requests


class ClientAuth(requests.auth.AuthBase):
    """Authenticate a token request as the OAuth client.

    HTTP Basic of the raw ``client_id:client_secret`` in UTF-8, neither part URL-encoded, as
    Bitcapital's SDKs send it (``requests``' own Basic auth would encode the text as Latin-1).
    With ``send=False`` the credentials travel in the form body instead, and this only keeps a
    session's own ``auth`` away from the token request. ``repr()`` shows no secret.
    """

    def __init__(self, client_id: str, client_secret: str, *, send: bool = True) -> None:
        self._header = None
        if send:
            credentials = f"{client_id}:{client_secret}".encode()
            self._header = "Basic " + base64.b64encode(credentials).decode("ascii")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._header is not None:
            request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "ClientAuth(<hidden>)"


class BearerToken(requests.auth.AuthBase):
    """Attach one fixed access token; ``repr()`` does not show it."""

    def __init__(self, access_token: str) -> None:
        self._access_token = access_token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._access_token}"
        return request

    def __repr__(self) -> str:
        return "BearerToken(<hidden>)"
