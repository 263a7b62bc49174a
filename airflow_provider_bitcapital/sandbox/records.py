"""Records the sandbox keeps for a Bitcapital Core instance, and how amounts and dates are written.

The records are plain dataclasses with no behaviour of their own: :mod:`.bank` changes them and
:mod:`.views` turns them into the JSON a real instance answers with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

BASE_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)
"""The moment the seeded history starts; seeded dates are spread over the days after it."""

MAX_AMOUNT_DECIMALS = 7
"""Stellar, underneath Bitcapital, counts amounts in units of 10**-7."""

_AMOUNT_PATTERN = re.compile(rf"\A\d+(\.\d{{1,{MAX_AMOUNT_DECIMALS}}})?\Z")


def format_time(moment: datetime) -> str:
    """Write a moment as ISO 8601 in UTC with milliseconds and ``Z``, like JavaScript's ``toISOString``.

    :param moment: an aware datetime.
    :return: for example ``2026-01-01T03:00:00.000Z``.
    """
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_amount(value: Decimal) -> str:
    """Write an amount as a decimal string with at least two decimals, never in exponent notation.

    :param value: the amount.
    :return: for example ``"10.00"`` or ``"0.0000001"``.
    """
    exponent = value.normalize().as_tuple().exponent
    decimals = max(2, -exponent) if isinstance(exponent, int) else 2
    return format(value.quantize(Decimal(1).scaleb(-decimals)), "f")


def parse_amount(text: object) -> Decimal | None:
    """Read a positive amount written as a decimal string with at most seven decimals.

    :param text: the value found in a request body.
    :return: the amount, or ``None`` when ``text`` is not such a string or is zero.
    """
    if not isinstance(text, str) or not _AMOUNT_PATTERN.match(text):
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount > 0 else None


@dataclass
class Asset:
    """A currency or token that wallets hold, such as ``BRLD``."""

    id: str
    code: str
    name: str
    issuer: str
    provider: str
    created_at: datetime


@dataclass
class Domain:
    """A tenant of the instance; the root domain is the instance owner's."""

    id: str
    name: str
    role: str
    urls: list[str]
    postback_url: str | None
    created_at: datetime


@dataclass
class User:
    """A person, or the virtual user that stands for an OAuth client under the client credentials grant."""

    id: str
    first_name: str
    last_name: str
    email: str
    role: str
    status: str
    domain_id: str
    virtual: bool
    created_at: datetime
    wallet_ids: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Return the full name."""
        return (f"{self.first_name} {self.last_name}").strip()


@dataclass
class Wallet:
    """A wallet and its balance in each asset it holds, in the order the assets were added."""

    id: str
    status: str
    user_id: str
    balances: dict[str, Decimal]
    additional_data: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass
class Payment:
    """One movement of one asset from a source wallet to one destination (or out of the instance)."""

    id: str
    type: str
    amount: Decimal
    asset_code: str
    source: str | None
    destination: str | None
    transaction_id: str
    created_at: datetime


@dataclass
class TransactionState:
    """One step in a transaction's history."""

    status: str
    created_at: datetime
    additional_data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Transaction:
    """A ledger transaction grouping one or more payments.

    A transaction created through the API settles on reads, not on a timer: it reports ``pending``
    for its first ``reads_before_settling`` reads of ``GET /transactions/{id}`` and ``executed``
    afterwards. ``reads_before_settling`` is ``None`` for transactions whose status is final.
    """

    id: str
    type: str
    status: str
    source: str | None
    payment_ids: list[str]
    states: list[TransactionState]
    created_at: datetime
    additional_data: dict[str, Any] = field(default_factory=dict)
    reads_before_settling: int | None = None
    reads: int = 0
