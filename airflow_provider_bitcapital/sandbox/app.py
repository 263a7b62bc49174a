"""The sandbox's ASGI application: the routes, the error answers, and the recording/fault layer around them.

Every error outside the OAuth ones is answered in the framework's shape (see :mod:`.errors`),
including unknown routes and unsupported methods, which are 404 as on a real instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_bitcapital.sandbox.errors import (
    OAuthError,
    SandboxError,
    UnauthenticatedError,
    framework_error_body,
    not_found,
)
from airflow_provider_bitcapital.sandbox.middleware import SandboxMiddleware
from airflow_provider_bitcapital.sandbox.routes_accounts import account_routes
from airflow_provider_bitcapital.sandbox.routes_control import control_routes
from airflow_provider_bitcapital.sandbox.routes_money import money_routes
from airflow_provider_bitcapital.sandbox.routes_oauth import oauth_routes

if TYPE_CHECKING:
    from airflow_provider_bitcapital.sandbox.state import SandboxState

BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="Service"'}


def create_app(state: SandboxState) -> SandboxMiddleware:
    """Build the sandbox application over a state.

    :param state: the sandbox state the routes read and change.
    :return: the ASGI application to serve.
    """
    app = FastAPI(title="Bitcapital sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(control_routes(state))
    app.include_router(oauth_routes(state))
    app.include_router(account_routes(state))
    app.include_router(money_routes(state))
    app.add_exception_handler(SandboxError, _sandbox_error)
    app.add_exception_handler(OAuthError, _oauth_error)
    app.add_exception_handler(UnauthenticatedError, _unauthenticated)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
    return SandboxMiddleware(app, state)


def _sandbox_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, SandboxError)
    return JSONResponse(error.body(), status_code=error.status)


def _oauth_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, OAuthError)
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _unauthenticated(request: Request, error: Exception) -> Response:
    return Response(status_code=401, headers=BEARER_CHALLENGE)


def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code in (404, 405):
        return _sandbox_error(request, not_found(request.method, request.url.path))
    body = framework_error_body(error.status_code, str(error.detail))
    return JSONResponse(body, status_code=error.status_code)


def _validation_error(request: Request, error: Exception) -> Response:
    return JSONResponse(framework_error_body(400, f"Invalid request: {error}"), status_code=400)


def _unexpected_error(request: Request, error: Exception) -> Response:
    # Starlette re-raises the error after this answer, and uvicorn logs it with its traceback.
    body = framework_error_body(500, f"Internal server error: {request.method} {request.url.path}")
    return JSONResponse(body, status_code=500)
