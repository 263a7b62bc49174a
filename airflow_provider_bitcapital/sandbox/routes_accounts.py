"""Routes for status, users, wallets, assets and domains.

Scopes a scope-limited token needs (tokens without scopes may call everything):

- ``GET /users/me``: none;
- ``GET /users/{id}``, ``/users/{id}/wallets``, ``/users/role/{role}``: ``users:read``;
- ``GET /wallets``, ``/wallets/root``, ``/wallets/{id}``: ``wallets:read``;
- ``POST /wallets``, ``POST /wallets/{id}``, ``DELETE /wallets/{id}``: ``wallets:write``;
- ``GET /wallets/{id}/transactions``: ``transactions:read``;
- ``GET /wallets/{id}/payments``: ``payments:read``;
- ``GET /assets``, ``/assets/{id}``: ``assets:read``;
- ``GET /domains``, ``/domains/root``, ``/domains/{id}``: ``domains:read``.

Every token sees every record: the sandbox does not limit a consumer to its own wallets.
"""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_bitcapital.sandbox.errors import bad_request
from airflow_provider_bitcapital.sandbox.request_checks import authorize, json_object, page_of, paged_response
from airflow_provider_bitcapital.sandbox.views import (
    asset_view,
    domain_view,
    payment_view,
    transaction_view,
    user_view,
    wallet_view,
)

if TYPE_CHECKING:
    from airflow_provider_bitcapital.sandbox.records import Transaction
    from airflow_provider_bitcapital.sandbox.state import SandboxState

SANDBOX_NAME = "bitcapital-sandbox"
SANDBOX_VERSION = "1.0.0"


def account_routes(state: SandboxState) -> APIRouter:
    """Build the status, user, wallet, asset and domain routes over a sandbox state."""
    router = APIRouter()
    _add_status_routes(router, state)
    _add_user_routes(router, state)
    _add_wallet_routes(router, state)
    _add_catalog_routes(router, state)
    return router


def _add_status_routes(router: APIRouter, state: SandboxState) -> None:
    @router.get("/status")
    @router.get("/")
    async def status() -> Response:
        """Describe the instance; needs no token."""
        return JSONResponse(
            {
                "name": SANDBOX_NAME,
                "version": SANDBOX_VERSION,
                "env": "sandbox",
                "uptime": round(state.uptime(), 3),
            }
        )


def _add_user_routes(router: APIRouter, state: SandboxState) -> None:
    @router.get("/users/me")
    async def current_user(request: Request) -> Response:
        """Answer the token's user, with the token's expiry and scope in ``x-oauth-bearer-*`` headers."""
        token = await authorize(state, request, None)
        with state.lock:
            body = user_view(state.bank, state.bank.find_user(token.user_id))
        headers = {
            "x-oauth-bearer-expiration": email.utils.formatdate(token.wall_clock_expiry(), usegmt=True),
            "x-oauth-bearer-scope": token.scope_text or "",
        }
        return JSONResponse(body, headers=headers)

    @router.get("/users/role/{role}")
    async def users_with_role(request: Request, role: str) -> Response:
        """List the users with a role (``consumer``, ``mediator``), paged."""
        await authorize(state, request, "users:read")
        page = page_of(request)
        with state.lock:
            bank = state.bank
            users = [user for user in bank.users.values() if user.role == role]
            return paged_response(users, page, lambda user: user_view(bank, user))

    @router.get("/users/{user_id}")
    async def user(request: Request, user_id: str) -> Response:
        """Answer one user."""
        await authorize(state, request, "users:read")
        with state.lock:
            return JSONResponse(user_view(state.bank, state.bank.find_user(user_id)))

    @router.get("/users/{user_id}/wallets")
    async def user_wallets(request: Request, user_id: str) -> Response:
        """List a user's wallets, paged."""
        await authorize(state, request, "users:read")
        page = page_of(request)
        with state.lock:
            bank = state.bank
            wallets = [bank.wallets[wallet_id] for wallet_id in bank.find_user(user_id).wallet_ids]
            return paged_response(wallets, page, lambda wallet: wallet_view(bank, wallet))


def _add_wallet_routes(router: APIRouter, state: SandboxState) -> None:
    @router.get("/wallets")
    async def wallets(request: Request) -> Response:
        """List every wallet in creation order, paged."""
        await authorize(state, request, "wallets:read")
        page = page_of(request)
        with state.lock:
            bank = state.bank
            return paged_response(list(bank.wallets.values()), page, lambda wallet: wallet_view(bank, wallet))

    @router.post("/wallets")
    async def create_wallet(request: Request) -> Response:
        """Create a ready wallet with no balances, for ``user`` or else the token's user."""
        token = await authorize(state, request, "wallets:write")
        body = await json_object(request)
        owner = body.get("user", token.user_id)
        if isinstance(owner, dict):
            owner = owner.get("id")
        if not isinstance(owner, str):
            raise bad_request("'user' must be a user id", field="user")
        with state.lock:
            wallet = state.bank.create_wallet(owner, _additional_data(body), _now())
            return JSONResponse(wallet_view(state.bank, wallet))

    @router.get("/wallets/root")
    async def root_wallet(request: Request) -> Response:
        """Answer the instance's root wallet."""
        await authorize(state, request, "wallets:read")
        with state.lock:
            return JSONResponse(wallet_view(state.bank, state.bank.find_wallet(state.bank.root_wallet_id)))

    @router.get("/wallets/{wallet_id}")
    async def wallet(request: Request, wallet_id: str) -> Response:
        """Answer one wallet."""
        await authorize(state, request, "wallets:read")
        with state.lock:
            return JSONResponse(wallet_view(state.bank, state.bank.find_wallet(wallet_id)))

    @router.post("/wallets/{wallet_id}")
    async def update_wallet(request: Request, wallet_id: str) -> Response:
        """Replace a wallet's ``additionalData``."""
        await authorize(state, request, "wallets:write")
        body = await json_object(request)
        with state.lock:
            found = state.bank.find_wallet(wallet_id)
            found.additional_data = _additional_data(body)
            found.updated_at = _now()
            return JSONResponse(wallet_view(state.bank, found))

    @router.delete("/wallets/{wallet_id}")
    async def delete_wallet(request: Request, wallet_id: str) -> Response:
        """Delete an empty wallet and answer it as it was."""
        await authorize(state, request, "wallets:write")
        with state.lock:
            body = wallet_view(state.bank, state.bank.find_wallet(wallet_id))
            state.bank.delete_wallet(wallet_id)
        return JSONResponse(body)

    @router.get("/wallets/{wallet_id}/transactions")
    async def wallet_transactions(request: Request, wallet_id: str) -> Response:
        """List the transactions a wallet took part in, newest first, paged."""
        await authorize(state, request, "transactions:read")
        page = page_of(request)
        with state.lock:
            bank = state.bank
            found: list[Transaction] = bank.wallet_transactions(wallet_id)
            return paged_response(found, page, lambda transaction: transaction_view(bank, transaction))

    @router.get("/wallets/{wallet_id}/payments")
    async def wallet_payments(request: Request, wallet_id: str) -> Response:
        """List the payments from or to a wallet, newest first, paged."""
        await authorize(state, request, "payments:read")
        page = page_of(request)
        with state.lock:
            bank = state.bank
            return paged_response(
                bank.wallet_payments(wallet_id), page, lambda payment: payment_view(bank, payment)
            )


def _add_catalog_routes(router: APIRouter, state: SandboxState) -> None:
    @router.get("/assets")
    async def assets(request: Request) -> Response:
        """List the assets, paged."""
        await authorize(state, request, "assets:read")
        page = page_of(request)
        with state.lock:
            return paged_response(list(state.bank.assets.values()), page, asset_view)

    @router.get("/assets/{asset_id}")
    async def asset(request: Request, asset_id: str) -> Response:
        """Answer one asset, by id or by code."""
        await authorize(state, request, "assets:read")
        with state.lock:
            return JSONResponse(asset_view(state.bank.find_asset(asset_id)))

    @router.get("/domains")
    async def domains(request: Request) -> Response:
        """List the domains, paged."""
        await authorize(state, request, "domains:read")
        page = page_of(request)
        with state.lock:
            return paged_response(list(state.bank.domains.values()), page, domain_view)

    @router.get("/domains/root")
    async def root_domain(request: Request) -> Response:
        """Answer the root domain."""
        await authorize(state, request, "domains:read")
        with state.lock:
            return JSONResponse(domain_view(state.bank.find_domain(state.bank.root_domain_id)))

    @router.get("/domains/{domain_id}")
    async def domain(request: Request, domain_id: str) -> Response:
        """Answer one domain."""
        await authorize(state, request, "domains:read")
        with state.lock:
            return JSONResponse(domain_view(state.bank.find_domain(domain_id)))


def _additional_data(body: dict[str, object]) -> dict[str, object]:
    value = body.get("additionalData", {})
    if not isinstance(value, dict):
        raise bad_request("'additionalData' must be a JSON object", field="additionalData")
    return value


def _now() -> datetime:
    return datetime.now(timezone.utc)
