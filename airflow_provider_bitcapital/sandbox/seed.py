"""Deterministic seeded data: the same seed always builds the same instance, down to every id.

What a fresh sandbox holds:

- three assets, ``BRLD`` (the root asset), ``USDX`` and ``EURX``;
- a root domain and two consumer domains;
- one virtual user per OAuth client; the first client's virtual user owns the root wallet, which
  holds a large balance of every asset;
- the password-grant user with two ready wallets (the first holds ``1000.00 BRLD`` and
  ``250.00 USDX``);
- 36 consumers owning the remaining wallets, so that ``GET /wallets`` lists exactly
  ``wallet_count`` wallets; each holds one to three assets with two-decimal balances, and a few
  are ``pending`` or ``failed`` rather than ``ready``;
- zero to eight executed historical transactions per consumer wallet, dated at random minutes of
  the hours of the 14 days after :data:`.BASE_TIME`. History is decoration: the seeded balances
  are the balances after it.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from airflow_provider_bitcapital.sandbox.bank import READY, Bank
from airflow_provider_bitcapital.sandbox.records import (
    BASE_TIME,
    Asset,
    Domain,
    Payment,
    Transaction,
    TransactionState,
    User,
    Wallet,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

ASSET_CATALOG = (
    ("BRLD", "Brazilian Digital Real"),
    ("USDX", "Digital US Dollar"),
    ("EURX", "Digital Euro"),
)
CONSUMER_COUNT = 36
HISTORY_HOURS = 14 * 24
MAX_HISTORY_PER_WALLET = 8
MIN_WALLET_COUNT = 3
ROOT_BALANCE = Decimal("1000000000.00")

_FIRST_NAMES = (
    "Ana", "Bruno", "Carla", "Diego", "Elisa", "Fabio", "Gabriela", "Heitor", "Iris", "Joao",
    "Karina", "Lucas", "Marina", "Nuno", "Olivia", "Pedro", "Queila", "Rafael", "Sofia", "Tiago",
)  # fmt: skip
_LAST_NAMES = (
    "Almeida", "Barros", "Cardoso", "Duarte", "Esteves", "Ferreira", "Gomes", "Lima", "Moraes",
    "Nogueira", "Oliveira", "Pereira", "Queiroz", "Ribeiro", "Santos", "Teixeira",
)  # fmt: skip
_STELLAR_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_VIRTUAL_USER_NAMESPACE = uuid.UUID("6f1c9a52-3a4e-4c0b-9d43-0c6a3b9e2f10")


def virtual_user_id(client_id: str) -> str:
    """Return the id of the virtual user standing for an OAuth client; stable across resets."""
    return str(uuid.uuid5(_VIRTUAL_USER_NAMESPACE, client_id))


def add_virtual_user(bank: Bank, client_id: str) -> User:
    """Create the virtual user of an OAuth client, unless it exists.

    :param bank: the ledger to add it to.
    :param client_id: the client it stands for.
    :return: the client's virtual user.
    """
    user_id = virtual_user_id(client_id)
    if user_id not in bank.users:
        bank.add_user(
            User(
                id=user_id,
                first_name=client_id,
                last_name="",
                email=f"{user_id[:8]}@clients.sandbox.invalid",
                role="mediator",
                status="active",
                domain_id=bank.root_domain_id,
                virtual=True,
                created_at=BASE_TIME - timedelta(days=365),
            )
        )
    bank.virtual_users[client_id] = user_id
    return bank.users[user_id]


def seed_bank(
    *, seed: int, wallet_count: int, client_ids: Sequence[str], username: str, user_password: str
) -> Bank:
    """Build a fresh ledger.

    :param seed: the seed of the random generator; the same seed gives the same data.
    :param wallet_count: how many wallets ``GET /wallets`` lists, at least three.
    :param client_ids: the OAuth clients; the first one's virtual user owns the root wallet.
    :param username: the password-grant user's username.
    :param user_password: that user's password.
    :raises ValueError: when ``wallet_count`` is below three or no client is given.
    """
    if wallet_count < MIN_WALLET_COUNT:
        raise ValueError(f"wallet_count must be at least {MIN_WALLET_COUNT}, got {wallet_count}")
    if not client_ids:
        raise ValueError("at least one OAuth client is needed to own the root wallet")
    rng = random.Random(seed)
    bank = Bank()
    _seed_assets_and_domains(bank, rng)
    for client_id in client_ids:
        add_virtual_user(bank, client_id)

    root_owner = bank.virtual_users[client_ids[0]]
    root_balances = dict.fromkeys(bank.assets, ROOT_BALANCE)
    bank.root_wallet_id = _add_wallet(bank, rng, root_owner, READY, root_balances).id

    alice = _new_person(bank, rng, username, role="consumer")
    bank.password_users[username] = (user_password, alice.id)
    _add_wallet(bank, rng, alice.id, READY, {"BRLD": Decimal("1000.00"), "USDX": Decimal("250.00")})
    _add_wallet(bank, rng, alice.id, READY, {"BRLD": Decimal("42.50")})

    consumers = [_new_person(bank, rng, None, role="consumer") for _ in range(CONSUMER_COUNT)]
    consumer_wallets = []
    for _ in range(wallet_count - MIN_WALLET_COUNT):
        owner = rng.choice(consumers)
        status = rng.choices(("ready", "pending", "failed"), weights=(92, 5, 3))[0]
        codes = rng.sample(sorted(bank.assets), rng.randint(1, len(bank.assets)))
        balances = {code: Decimal(rng.randint(0, 5_000_000)) / 100 for code in codes}
        consumer_wallets.append(_add_wallet(bank, rng, owner.id, status, balances))

    for wallet in consumer_wallets:
        for _ in range(rng.randint(0, MAX_HISTORY_PER_WALLET)):
            _add_history(bank, rng, wallet, consumer_wallets)
    return bank


def _new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _seed_assets_and_domains(bank: Bank, rng: random.Random) -> None:
    created_at = BASE_TIME - timedelta(days=400)
    for code, name in ASSET_CATALOG:
        issuer = "G" + "".join(rng.choice(_STELLAR_ALPHABET) for _ in range(55))
        bank.assets[code] = Asset(_new_uuid(rng), code, name, issuer, "bitcapital", created_at)
    root = Domain(_new_uuid(rng), "Bitcapital Sandbox", "root", ["http://localhost"], None, created_at)
    bank.domains[root.id] = root
    bank.root_domain_id = root.id
    for name, host in (("Acme Payments", "acme.example.com"), ("Globex Retail", "globex.example.com")):
        domain = Domain(
            _new_uuid(rng), name, "common", [f"https://{host}"], f"https://{host}/postback", created_at
        )
        bank.domains[domain.id] = domain


def _new_person(bank: Bank, rng: random.Random, email: str | None, *, role: str) -> User:
    first_name, last_name = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    user_id = _new_uuid(rng)
    common_domains = [domain.id for domain in bank.domains.values() if domain.role == "common"]
    user = User(
        id=user_id,
        first_name=first_name,
        last_name=last_name,
        email=email or f"{first_name.lower()}.{last_name.lower()}.{user_id[:4]}@example.com",
        role=role,
        status="active",
        domain_id=rng.choice(common_domains),
        virtual=False,
        created_at=BASE_TIME - timedelta(days=rng.randint(30, 365)),
    )
    bank.add_user(user)
    return user


def _add_wallet(
    bank: Bank, rng: random.Random, user_id: str, status: str, balances: dict[str, Decimal]
) -> Wallet:
    created_at = BASE_TIME - timedelta(days=rng.randint(1, 29), minutes=rng.randint(0, 1439))
    wallet = Wallet(_new_uuid(rng), status, user_id, dict(balances), {}, created_at, created_at)
    bank.add_wallet(wallet)
    return wallet


def _add_history(bank: Bank, rng: random.Random, source: Wallet, candidates: list[Wallet]) -> None:
    if not source.balances:
        return
    created_at = BASE_TIME + timedelta(hours=rng.randrange(HISTORY_HOURS), seconds=rng.randrange(3600))
    status = rng.choices(("executed", "failed"), weights=(95, 5))[0]
    transaction = Transaction(
        id=_new_uuid(rng),
        type="payment",
        status=status,
        source=source.id,
        payment_ids=[],
        states=[
            TransactionState("pending", created_at),
            TransactionState(status, created_at + timedelta(seconds=2)),
        ],
        created_at=created_at,
    )
    payments = []
    for _ in range(rng.randint(1, 2)):
        destination = rng.choice(candidates)
        if destination.id == source.id:
            continue
        payment = Payment(
            id=_new_uuid(rng),
            type="transfer",
            amount=Decimal(rng.randint(1, 50_000)) / 100,
            asset_code=rng.choice(list(source.balances)),
            source=source.id,
            destination=destination.id,
            transaction_id=transaction.id,
            created_at=created_at,
        )
        payments.append(payment)
    if payments:
        bank.add_transaction(transaction, payments)
