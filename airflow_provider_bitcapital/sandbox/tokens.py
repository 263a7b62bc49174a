"""Access and refresh tokens the sandbox has issued, and what each one is worth.

Expiry is measured on the monotonic clock so a change of the wall clock cannot expire or revive a
token; the wall-clock issue time is kept only for the ``x-oauth-bearer-expiration`` header.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

ACCESS = "access"
REFRESH = "refresh"


@dataclass
class Token:
    """One issued token.

    :ivar value: the token string, ``secrets.token_hex(20)``.
    :ivar kind: ``access`` or ``refresh``.
    :ivar client_id: the OAuth client it was issued to.
    :ivar user_id: the user it acts as (a virtual user under the client credentials grant).
    :ivar scopes: the scopes it is limited to; empty means unlimited.
    :ivar scope_text: the ``scope`` parameter as the client sent it, if any.
    :ivar grant: the grant that issued it.
    :ivar lifetime: its lifetime in seconds.
    :ivar issued_at: wall-clock issue time, Unix seconds.
    :ivar expires_at: expiry on the :func:`time.monotonic` clock.
    """

    value: str
    kind: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    scope_text: str | None
    grant: str
    lifetime: float
    issued_at: float
    expires_at: float
    revoked: bool = False

    def is_expired(self) -> bool:
        """Tell whether the token's lifetime has passed."""
        return time.monotonic() >= self.expires_at

    def is_usable(self) -> bool:
        """Tell whether the token is neither revoked nor expired."""
        return not self.revoked and not self.is_expired()

    def wall_clock_expiry(self) -> float:
        """Return the expiry as Unix seconds."""
        return self.issued_at + self.lifetime


class TokenStore:
    """Every token issued since the last reset, by value."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def issue(
        self,
        *,
        kind: str,
        client_id: str,
        user_id: str,
        scopes: tuple[str, ...],
        scope_text: str | None,
        grant: str,
        lifetime: float,
    ) -> Token:
        """Create and remember a new token."""
        token = Token(
            value=secrets.token_hex(20),
            kind=kind,
            client_id=client_id,
            user_id=user_id,
            scopes=scopes,
            scope_text=scope_text,
            grant=grant,
            lifetime=lifetime,
            issued_at=time.time(),
            expires_at=time.monotonic() + lifetime,
        )
        self._tokens[token.value] = token
        return token

    def find(self, value: str) -> Token | None:
        """Return the token with this value, whatever its state."""
        return self._tokens.get(value)

    def find_usable(self, value: str, kind: str) -> Token | None:
        """Return the token with this value if it is of this kind and neither revoked nor expired."""
        token = self._tokens.get(value)
        if token is None or token.kind != kind or not token.is_usable():
            return None
        return token

    def revoke_user_tokens(self, user_id: str) -> int:
        """Revoke every usable token of a user.

        :return: how many tokens were revoked.
        """
        return self._revoke(token for token in self._tokens.values() if token.user_id == user_id)

    def revoke_token(self, value: str, user_id: str) -> int:
        """Revoke one usable token of a user.

        :return: 1, or 0 when there is no such usable token of that user.
        """
        token = self._tokens.get(value)
        if token is None or token.user_id != user_id:
            return 0
        return self._revoke([token])

    def revoke_all(self) -> int:
        """Revoke every usable token, as an administrator would.

        :return: how many tokens were revoked.
        """
        return self._revoke(self._tokens.values())

    def expire_all(self) -> None:
        """Make every access token expire now, as if its lifetime had passed."""
        now = time.monotonic()
        for token in self._tokens.values():
            if token.kind == ACCESS:
                token.expires_at = min(token.expires_at, now)

    @staticmethod
    def _revoke(tokens: Iterable[Token]) -> int:
        count = 0
        for token in list(tokens):
            if token.is_usable():
                token.revoked = True
                count += 1
        return count
