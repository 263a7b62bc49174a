"""Routes of the OAuth server: ``POST /oauth/token`` and ``POST /oauth/revoke``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_bitcapital.sandbox.bearer import revoke
from airflow_provider_bitcapital.sandbox.errors import OAuthError
from airflow_provider_bitcapital.sandbox.request_checks import authorize
from airflow_provider_bitcapital.sandbox.token_endpoint import FORM_CONTENT_TYPE, grant_token, parse_form

if TYPE_CHECKING:
    from airflow_provider_bitcapital.sandbox.state import SandboxState

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_routes(state: SandboxState) -> APIRouter:
    """Build the OAuth routes over a sandbox state."""
    router = APIRouter()

    @router.post("/oauth/token")
    async def token(request: Request) -> Response:
        """Grant a token; every answer, refusals included, carries ``Cache-Control: no-store``."""
        try:
            answer = grant_token(
                state,
                content_type=request.headers.get("content-type", ""),
                authorization=request.headers.get("authorization"),
                form=parse_form(await request.body()),
            )
        except OAuthError as error:
            return JSONResponse(error.body(), status_code=error.status, headers={**NO_STORE, **error.headers})
        return JSONResponse(answer, headers=NO_STORE)

    @router.post("/oauth/revoke")
    async def revoke_tokens(request: Request) -> Response:
        """Revoke the token named by ``accessToken`` (query, form or JSON), or all of the caller's tokens."""
        token = await authorize(state, request, None)
        target = request.query_params.get("accessToken") or await _body_parameter(request, "accessToken")
        count = revoke(state, token, target, request.method, request.url.path)
        return JSONResponse({"revoked": True, "count": count})

    return router


async def _body_parameter(request: Request, name: str) -> str | None:
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == FORM_CONTENT_TYPE:
        return parse_form(body).get(name) or None
    try:
        document = json.loads(body) if body.strip() else {}
    except ValueError:
        return None
    value = document.get(name) if isinstance(document, dict) else None
    return value if isinstance(value, str) and value else None
