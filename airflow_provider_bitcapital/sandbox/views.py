"""The JSON a Bitcapital instance answers with, built from the sandbox's records.

Field names follow the public SDKs' models (camelCase); amounts are decimal strings and dates ISO 8601
in UTC with ``Z``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_bitcapital.sandbox.records import (
    Asset,
    Domain,
    Payment,
    Transaction,
    User,
    Wallet,
    format_amount,
    format_time,
)

if TYPE_CHECKING:
    from airflow_provider_bitcapital.sandbox.bank import Bank


def asset_view(asset: Asset) -> dict[str, Any]:
    """Render an asset."""
    return {
        "id": asset.id,
        "code": asset.code,
        "name": asset.name,
        "issuer": asset.issuer,
        "provider": asset.provider,
        "createdAt": format_time(asset.created_at),
    }


def domain_view(domain: Domain) -> dict[str, Any]:
    """Render a domain."""
    return {
        "id": domain.id,
        "name": domain.name,
        "role": domain.role,
        "urls": list(domain.urls),
        "postbackUrl": domain.postback_url,
        "createdAt": format_time(domain.created_at),
    }


def user_view(bank: Bank, user: User) -> dict[str, Any]:
    """Render a user with its domain and a summary of its wallets."""
    domain = bank.domains[user.domain_id]
    return {
        "id": user.id,
        "name": user.name,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "role": user.role,
        "status": user.status,
        "domain": {"id": domain.id, "name": domain.name, "role": domain.role},
        "wallets": [
            {"id": wallet_id, "status": bank.wallets[wallet_id].status} for wallet_id in user.wallet_ids
        ],
        "virtual": user.virtual,
        "createdAt": format_time(user.created_at),
        "updatedAt": format_time(user.created_at),
    }


def wallet_view(bank: Bank, wallet: Wallet) -> dict[str, Any]:
    """Render a wallet with its balances as ``assets: [{id, code, name, balance, consolidatedBalance}]``."""
    user = bank.users[wallet.user_id]
    assets = []
    for code, balance in wallet.balances.items():
        asset = bank.assets[code]
        amount = format_amount(balance)
        assets.append(
            {
                "id": asset.id,
                "code": code,
                "name": asset.name,
                "balance": amount,
                "consolidatedBalance": amount,
            }
        )
    return {
        "id": wallet.id,
        "status": wallet.status,
        "user": {"id": user.id, "name": user.name},
        "assets": assets,
        "additionalData": dict(wallet.additional_data),
        "createdAt": format_time(wallet.created_at),
        "updatedAt": format_time(wallet.updated_at),
    }


def wallets_view(bank: Bank) -> list[dict[str, Any]]:
    """Render every wallet, in the order ``GET /wallets`` lists them."""
    return [wallet_view(bank, wallet) for wallet in bank.wallets.values()]


def payment_summary(bank: Bank, payment: Payment) -> dict[str, Any]:
    """Render a payment without its transaction, as listed inside a transaction."""
    asset = bank.assets[payment.asset_code]
    return {
        "id": payment.id,
        "type": payment.type,
        "amount": format_amount(payment.amount),
        "asset": {"id": asset.id, "code": asset.code, "name": asset.name},
        "source": payment.source,
        "destination": payment.destination,
        "createdAt": format_time(payment.created_at),
    }


def transaction_view(bank: Bank, transaction: Transaction) -> dict[str, Any]:
    """Render a transaction with its payments and its history of states."""
    return {
        "id": transaction.id,
        "type": transaction.type,
        "status": transaction.status,
        "source": transaction.source,
        "payments": [payment_summary(bank, bank.payments[pid]) for pid in transaction.payment_ids],
        "states": [
            {
                "status": state.status,
                "additionalData": dict(state.additional_data),
                "createdAt": format_time(state.created_at),
            }
            for state in transaction.states
        ],
        "additionalData": dict(transaction.additional_data),
        "createdAt": format_time(transaction.created_at),
        "updatedAt": format_time(transaction.states[-1].created_at),
    }


def payment_view(bank: Bank, payment: Payment) -> dict[str, Any]:
    """Render a payment with its whole transaction.

    The payment's ``status`` is its transaction's current status; rendering it does not count as a
    read of the transaction.
    """
    transaction = bank.transactions[payment.transaction_id]
    return {
        **payment_summary(bank, payment),
        "status": transaction.status,
        "transaction": transaction_view(bank, transaction),
    }
