"""Routes that move money, and the ones that read payments and transactions.

The money-moving POSTs need a request signature (see :mod:`.signing`), checked before the body.
Scopes a scope-limited token needs: ``payments:write`` for ``POST /payments``,
``POST /payments/withdraw/{bankingId}`` and ``POST /boletos/pay``; ``boletos:write`` for
``POST /boletos/emit``; ``assets:emit`` for ``POST /assets/{id}/emit`` and ``/destroy``;
``payments:read`` for ``GET /payments/{id}``; ``transactions:read`` for ``GET /transactions/{id}``.

Every money-moving call answers one Payment, ``{id, type, status, amount, asset: {id, code, name},
source, destination, createdAt, transaction: {id, type, status, source, payments, states, ...}}``.
A ``POST /payments`` with several recipients creates one payment per recipient inside one
transaction and answers the first recipient's payment; the others are listed in
``transaction.payments``. Balances move at once; the transaction reports ``pending`` for its first
``settle_after_reads`` reads of ``GET /transactions/{id}``, then ``executed``.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_bitcapital.sandbox.bank import Recipient, new_id
from airflow_provider_bitcapital.sandbox.errors import bad_request
from airflow_provider_bitcapital.sandbox.records import Transaction, format_amount, format_time, parse_amount
from airflow_provider_bitcapital.sandbox.request_checks import authorize, json_object, required_text
from airflow_provider_bitcapital.sandbox.views import payment_view, transaction_view

if TYPE_CHECKING:
    from decimal import Decimal

    from airflow_provider_bitcapital.sandbox.state import SandboxState

ROOT_ASSET = "BRLD"


def money_routes(state: SandboxState) -> APIRouter:
    """Build the payment, transaction, emission and boleto routes over a sandbox state."""
    router = APIRouter()
    _add_payment_routes(router, state)
    _add_boundary_routes(router, state)
    return router


def _add_payment_routes(router: APIRouter, state: SandboxState) -> None:
    @router.post("/payments")
    async def create_payment(request: Request) -> Response:
        """Pay one or more recipients from a source wallet."""
        await authorize(state, request, "payments:write")
        body = await json_object(request)
        source = required_text(body, "source")
        recipients = _recipients(body.get("recipients"))
        additional_data = {"scheduleFor": _schedule_for(body)} if body.get("scheduleFor") is not None else {}
        with state.lock:
            bank = state.bank
            recipients = [
                Recipient(item.destination, item.amount, bank.find_asset(item.asset_code).code)
                for item in recipients
            ]
            transaction = bank.transfer(
                source, recipients, _now(), state.settings.settle_after_reads, additional_data
            )
            return _payment_answer(state, transaction)

    @router.get("/payments/{payment_id}")
    async def payment(request: Request, payment_id: str) -> Response:
        """Answer one payment with its transaction; this is not a read of the transaction."""
        await authorize(state, request, "payments:read")
        with state.lock:
            return JSONResponse(payment_view(state.bank, state.bank.find_payment(payment_id)))

    @router.get("/transactions/{transaction_id}")
    async def transaction(request: Request, transaction_id: str) -> Response:
        """Answer one transaction; each call is a read that brings a new transaction nearer to settling."""
        await authorize(state, request, "transactions:read")
        with state.lock:
            found = state.bank.read_transaction(transaction_id, _now())
            return JSONResponse(transaction_view(state.bank, found))


def _add_boundary_routes(router: APIRouter, state: SandboxState) -> None:
    @router.post("/payments/withdraw/{banking_id}")
    async def withdraw(request: Request, banking_id: str) -> Response:
        """Withdraw ``amount`` of ``asset`` (default BRLD) from ``source`` to a bank account."""
        await authorize(state, request, "payments:write")
        body = await json_object(request)
        return _move(
            state,
            "withdrawal",
            required_text(body, "source"),
            _amount(body),
            _asset_code(body),
            {"bankingId": banking_id},
        )

    @router.post("/assets/{asset_id}/emit")
    async def emit(request: Request, asset_id: str) -> Response:
        """Create ``amount`` of an asset in ``destination`` (default the root wallet)."""
        await authorize(state, request, "assets:emit")
        body = await json_object(request)
        with state.lock:
            destination = body.get("destination") or state.bank.root_wallet_id
        return _move(state, "emit", str(destination), _amount(body), asset_id, {})

    @router.post("/assets/{asset_id}/destroy")
    async def destroy(request: Request, asset_id: str) -> Response:
        """Destroy ``amount`` of an asset held by ``source`` (default the root wallet)."""
        await authorize(state, request, "assets:emit")
        body = await json_object(request)
        with state.lock:
            source = body.get("source") or state.bank.root_wallet_id
        return _move(state, "destroy", str(source), _amount(body), asset_id, {})

    @router.post("/boletos/pay")
    async def pay_boleto(request: Request) -> Response:
        """Pay the boleto ``barcode`` with ``amount`` BRLD from ``source``."""
        await authorize(state, request, "payments:write")
        body = await json_object(request)
        barcode = required_text(body, "barcode")
        return _move(
            state, "boleto", required_text(body, "source"), _amount(body), ROOT_ASSET, {"barcode": barcode}
        )

    @router.post("/boletos/emit")
    async def emit_boleto(request: Request) -> Response:
        """Issue a boleto that would credit ``destination`` when paid; no money moves in the sandbox."""
        await authorize(state, request, "boletos:write")
        body = await json_object(request)
        destination = required_text(body, "destination")
        amount = _amount(body)
        with state.lock:
            state.bank.find_wallet(destination)
        return JSONResponse(
            {
                "id": new_id(),
                "barcode": "".join(secrets.choice("0123456789") for _ in range(47)),
                "amount": format_amount(amount),
                "asset": ROOT_ASSET,
                "destination": destination,
                "status": "pending",
                "createdAt": format_time(_now()),
            }
        )


def _move(
    state: SandboxState,
    payment_type: str,
    wallet_id: str,
    amount: Decimal,
    asset: str,
    additional_data: dict[str, Any],
) -> Response:
    with state.lock:
        transaction = state.bank.move_across_boundary(
            payment_type, wallet_id, amount, asset, _now(), state.settings.settle_after_reads, additional_data
        )
        return _payment_answer(state, transaction)


def _payment_answer(state: SandboxState, transaction: Transaction) -> Response:
    """Count a transaction's new payments and answer its first one. The caller holds the lock."""
    state.payments_created += len(transaction.payment_ids)
    first = state.bank.payments[transaction.payment_ids[0]]
    return JSONResponse(payment_view(state.bank, first))


def _recipients(value: object) -> list[Recipient]:
    if not isinstance(value, list) or not value:
        raise bad_request(
            "'recipients' must be a non-empty list of {destination, amount, asset}", field="recipients"
        )
    recipients = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise bad_request(f"recipients[{index}] must be a JSON object", field="recipients")
        recipients.append(Recipient(required_text(item, "destination"), _amount(item), _asset_code(item)))
    return recipients


def _amount(body: dict[str, Any]) -> Decimal:
    amount = parse_amount(body.get("amount"))
    if amount is None:
        raise bad_request(
            "'amount' must be a positive decimal string with at most 7 decimals, such as \"10.00\"; "
            f"got {body.get('amount')!r}",
            field="amount",
        )
    return amount


def _asset_code(body: dict[str, Any]) -> str:
    asset = body.get("asset", ROOT_ASSET)
    if isinstance(asset, dict):
        asset = asset.get("code") or asset.get("id")
    if not isinstance(asset, str) or not asset:
        raise bad_request("'asset' must be an asset code such as \"BRLD\"", field="asset")
    return asset


def _schedule_for(body: dict[str, Any]) -> str:
    value = body.get("scheduleFor")
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(
            f"'scheduleFor' must be an ISO 8601 date, got {value!r}", field="scheduleFor"
        ) from None
    return value


def _now() -> datetime:
    return datetime.now(timezone.utc)
