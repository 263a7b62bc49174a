"""The instance's ledger: lookups and the operations that change wallets, payments and transactions.

:class:`Bank` is plain Python and not thread-safe: callers hold the sandbox state's lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_bitcapital.sandbox.errors import SandboxError, bad_request
from airflow_provider_bitcapital.sandbox.records import (
    Asset,
    Domain,
    Payment,
    Transaction,
    TransactionState,
    User,
    Wallet,
    format_amount,
)

if TYPE_CHECKING:
    from datetime import datetime

READY = "ready"

RecordT = TypeVar("RecordT")


@dataclass(frozen=True)
class Recipient:
    """One line of a payment request: an amount of an asset for a destination wallet."""

    destination: str
    amount: Decimal
    asset_code: str


def new_id() -> str:
    """Return a fresh UUID for a record created through the API."""
    return str(uuid.uuid4())


class Bank:
    """Every record of the instance, indexed by id, in creation order."""

    def __init__(self) -> None:
        self.assets: dict[str, Asset] = {}
        self.domains: dict[str, Domain] = {}
        self.users: dict[str, User] = {}
        self.wallets: dict[str, Wallet] = {}
        self.payments: dict[str, Payment] = {}
        self.transactions: dict[str, Transaction] = {}
        self.root_domain_id = ""
        self.root_wallet_id = ""
        self.password_users: dict[str, tuple[str, str]] = {}
        """username → (password, user id), for the password grant."""
        self.virtual_users: dict[str, str] = {}
        """client id → id of the virtual user standing for that client."""
        self._wallet_history: dict[str, list[str]] = {}

    # Lookups: each raises the framework's 404 for an unknown id.

    def find_asset(self, key: str) -> Asset:
        """Find an asset by id or by code."""
        for asset in self.assets.values():
            if key in (asset.id, asset.code):
                return asset
        raise SandboxError(404, f"Asset not found: {key}")

    def find_domain(self, domain_id: str) -> Domain:
        """Find a domain by id."""
        return _find(self.domains, domain_id, "Domain")

    def find_user(self, user_id: str) -> User:
        """Find a user by id."""
        return _find(self.users, user_id, "User")

    def find_wallet(self, wallet_id: str) -> Wallet:
        """Find a wallet by id."""
        return _find(self.wallets, wallet_id, "Wallet")

    def find_payment(self, payment_id: str) -> Payment:
        """Find a payment by id."""
        return _find(self.payments, payment_id, "Payment")

    def find_transaction(self, transaction_id: str) -> Transaction:
        """Find a transaction by id."""
        return _find(self.transactions, transaction_id, "Transaction")

    def wallet_transactions(self, wallet_id: str) -> list[Transaction]:
        """Return the transactions a wallet took part in, newest first."""
        self.find_wallet(wallet_id)
        found = [self.transactions[tid] for tid in self._wallet_history.get(wallet_id, [])]
        return sorted(found, key=lambda transaction: transaction.created_at, reverse=True)

    def wallet_payments(self, wallet_id: str) -> list[Payment]:
        """Return the payments from or to a wallet, newest first."""
        payments = [
            self.payments[payment_id]
            for transaction in self.wallet_transactions(wallet_id)
            for payment_id in transaction.payment_ids
        ]
        return [payment for payment in payments if wallet_id in (payment.source, payment.destination)]

    def balance_totals(self) -> dict[str, Decimal]:
        """Return, for every asset code, the sum of all wallet balances."""
        totals = {code: Decimal(0) for code in self.assets}
        for wallet in self.wallets.values():
            for code, balance in wallet.balances.items():
                totals[code] = totals.get(code, Decimal(0)) + balance
        return totals

    # Changes.

    def add_user(self, user: User) -> None:
        """Register a user."""
        self.users[user.id] = user

    def add_wallet(self, wallet: Wallet) -> None:
        """Register a wallet and link it to its user."""
        self.wallets[wallet.id] = wallet
        self.find_user(wallet.user_id).wallet_ids.append(wallet.id)

    def add_transaction(self, transaction: Transaction, payments: list[Payment]) -> None:
        """Register a transaction and its payments, and index it under every wallet it touches."""
        self.transactions[transaction.id] = transaction
        touched = [transaction.source]
        for payment in payments:
            self.payments[payment.id] = payment
            transaction.payment_ids.append(payment.id)
            touched += [payment.source, payment.destination]
        for wallet_id in dict.fromkeys(touched):
            if wallet_id is not None:
                self._wallet_history.setdefault(wallet_id, []).append(transaction.id)

    def create_wallet(self, user_id: str, additional_data: dict[str, Any], now: datetime) -> Wallet:
        """Create a ready wallet with no balances for a user."""
        self.find_user(user_id)
        wallet = Wallet(new_id(), READY, user_id, {}, dict(additional_data), now, now)
        self.add_wallet(wallet)
        return wallet

    def delete_wallet(self, wallet_id: str) -> Wallet:
        """Delete an empty wallet; the root wallet and wallets holding money stay."""
        wallet = self.find_wallet(wallet_id)
        if wallet_id == self.root_wallet_id:
            raise bad_request("The root wallet cannot be deleted", wallet=wallet_id)
        if any(balance != 0 for balance in wallet.balances.values()):
            raise bad_request(f"Wallet {wallet_id} still holds a balance; empty it first", wallet=wallet_id)
        del self.wallets[wallet_id]
        self.find_user(wallet.user_id).wallet_ids.remove(wallet_id)
        return wallet

    def transfer(
        self,
        source_id: str,
        recipients: list[Recipient],
        now: datetime,
        reads_before_settling: int,
        additional_data: dict[str, Any] | None = None,
    ) -> Transaction:
        """Move money from a source wallet to one or more destinations, in one pending transaction.

        Balances move at once; the transaction then settles on reads (see :class:`.Transaction`).

        :raises SandboxError: 404 for an unknown wallet or asset, 400 for a wallet that is not
            ready, a payment to the source itself, or an insufficient balance.
        """
        source = self._ready_wallet(source_id, "Source")
        needed: dict[str, Decimal] = {}
        for recipient in recipients:
            self._ready_wallet(recipient.destination, "Destination")
            self.find_asset(recipient.asset_code)
            if recipient.destination == source_id:
                raise bad_request(f"Source and destination are the same wallet: {source_id}")
            needed[recipient.asset_code] = needed.get(recipient.asset_code, Decimal(0)) + recipient.amount
        for code, amount in needed.items():
            _check_balance(source, code, amount)

        transaction = self._new_transaction(source_id, now, reads_before_settling, additional_data)
        payments = []
        for recipient in recipients:
            destination = self.wallets[recipient.destination]
            source.balances[recipient.asset_code] -= recipient.amount
            destination.balances[recipient.asset_code] = (
                destination.balances.get(recipient.asset_code, Decimal(0)) + recipient.amount
            )
            destination.updated_at = now
            payments.append(
                Payment(
                    id=new_id(),
                    type="transfer",
                    amount=recipient.amount,
                    asset_code=recipient.asset_code,
                    source=source_id,
                    destination=recipient.destination,
                    transaction_id=transaction.id,
                    created_at=now,
                )
            )
        source.updated_at = now
        self.add_transaction(transaction, payments)
        return transaction

    def move_across_boundary(
        self,
        payment_type: str,
        wallet_id: str,
        amount: Decimal,
        asset_code: str,
        now: datetime,
        reads_before_settling: int,
        additional_data: dict[str, Any] | None = None,
    ) -> Transaction:
        """Move money into or out of the instance: an emission, a destruction, a withdrawal or a boleto.

        :param payment_type: ``emit`` credits the wallet; ``destroy``, ``withdrawal`` and ``boleto``
            debit it.
        :raises SandboxError: as :meth:`transfer`.
        """
        wallet = self._ready_wallet(wallet_id, "Wallet")
        code = self.find_asset(asset_code).code
        incoming = payment_type == "emit"
        if not incoming:
            _check_balance(wallet, code, amount)
        transaction = self._new_transaction(wallet_id, now, reads_before_settling, additional_data)
        wallet.balances[code] = wallet.balances.get(code, Decimal(0)) + (amount if incoming else -amount)
        wallet.updated_at = now
        source, destination = (None, wallet_id) if incoming else (wallet_id, None)
        payment = Payment(new_id(), payment_type, amount, code, source, destination, transaction.id, now)
        self.add_transaction(transaction, [payment])
        return transaction

    def read_transaction(self, transaction_id: str, now: datetime) -> Transaction:
        """Read a transaction as ``GET /transactions/{id}`` does, settling it after enough reads."""
        transaction = self.find_transaction(transaction_id)
        if transaction.reads_before_settling is None:
            return transaction
        transaction.reads += 1
        if transaction.reads > transaction.reads_before_settling:
            transaction.status = "executed"
            transaction.states.append(TransactionState("executed", now))
            transaction.reads_before_settling = None
        return transaction

    def _ready_wallet(self, wallet_id: str, role: str) -> Wallet:
        wallet = self.find_wallet(wallet_id)
        if wallet.status != READY:
            raise bad_request(f"{role} wallet {wallet_id} is {wallet.status}, not ready", wallet=wallet_id)
        return wallet

    def _new_transaction(
        self,
        source_id: str,
        now: datetime,
        reads_before_settling: int,
        additional_data: dict[str, Any] | None,
    ) -> Transaction:
        return Transaction(
            id=new_id(),
            type="payment",
            status="pending",
            source=source_id,
            payment_ids=[],
            states=[TransactionState("pending", now)],
            created_at=now,
            additional_data=dict(additional_data or {}),
            reads_before_settling=reads_before_settling,
        )


def _find(records: dict[str, RecordT], record_id: str, kind: str) -> RecordT:
    try:
        return records[record_id]
    except KeyError:
        raise SandboxError(404, f"{kind} not found: {record_id}") from None


def _check_balance(wallet: Wallet, asset_code: str, amount: Decimal) -> None:
    held = wallet.balances.get(asset_code, Decimal(0))
    if held < amount:
        raise bad_request(
            f"Insufficient balance: wallet {wallet.id} holds {format_amount(held)} {asset_code}, "
            f"the request needs {format_amount(amount)}",
            wallet=wallet.id,
            asset=asset_code,
        )
