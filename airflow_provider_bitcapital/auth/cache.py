"""Where tokens are kept between calls: in this process, and in files shared by the host.

Every hook of a process that uses the same credentials shares one :class:`TokenSlot`, found in a
process-wide registry by :func:`cache_key`. With the file cache, the processes of one host also
share one file per key, so that parallel tasks reuse the token the first of them fetched.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import hmac
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_bitcapital.auth.backoff import Backoff
from airflow_provider_bitcapital.auth.token import Token

if TYPE_CHECKING:
    from airflow_provider_bitcapital.config import BitcapitalConfig

log = logging.getLogger(__name__)

_FILE_FORMAT = "bitcapital-token-v1"
_LOCK_POLL_SECONDS = 0.02


def cache_key(config: BitcapitalConfig) -> str:
    """Return the key tokens of ``config`` are cached under.

    It covers the token URL, client id, a keyed fingerprint of the client secret (never the
    secret), the grant, the user and the scopes, so that changing any of them gets a new token.
    """
    fingerprint = hmac.new(
        ("bitcapital-token-cache:" + config.client_id).encode("utf-8"),
        config.client_secret.encode("utf-8"),
        hashlib.sha256,
    ).hexdigest()
    parts = [
        config.token_url,
        config.client_id,
        fingerprint,
        config.grant_type,
        config.username or "",
        " ".join(sorted(config.scope)),
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:40]


@dataclass
class TokenSlot:
    """The token of one cache key in this process, and the lock that makes fetching single-flight.

    ``backoff`` says when the token endpoint may be asked again after it refused.
    """

    token: Token | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    backoff: Backoff | None = None


class _SlotRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, TokenSlot] = {}

    def get(self, key: str) -> TokenSlot:
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = TokenSlot()
            return slot

    def clear(self) -> None:
        with self._lock:
            self._slots.clear()

    def after_fork(self) -> None:
        # A lock held by another thread at fork time would never be released in the child.
        # Tokens inherited from the parent stay valid and are kept.
        self._lock = threading.Lock()
        for slot in self._slots.values():
            slot.lock = threading.Lock()


_REGISTRY = _SlotRegistry()
os.register_at_fork(after_in_child=_REGISTRY.after_fork)


def process_slot(key: str) -> TokenSlot:
    """Return this process's shared slot for ``key``."""
    return _REGISTRY.get(key)


def clear_process_cache() -> None:
    """Forget every token cached in this process (the file cache is left alone)."""
    _REGISTRY.clear()


class FileTokenCache:
    """One file per cache key in a private folder, shared by the processes of one host.

    Files are mode 0600 in a 0700 folder, written to a temporary file and renamed into place, and
    encrypted with a Fernet key when one is given. A file that is corrupt, truncated, cannot be
    decrypted or belongs to another key is treated as absent, never as an error.

    :param directory: the folder of the cache files.
    :param fernet_key: a Fernet key; without one the files hold the token in plain text.
    :param lock_timeout: the longest wait for another process's fetch, in seconds.
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, fernet_key: str | None = None, lock_timeout: float = 60.0
    ):
        self.directory = Path(directory)
        self.lock_timeout = lock_timeout
        self._fernet: Any = None
        if fernet_key:
            from cryptography.fernet import Fernet, MultiFernet

            keys = [Fernet(part.strip().encode()) for part in fernet_key.split(",") if part.strip()]
            self._fernet = MultiFernet(keys)

    def __repr__(self) -> str:
        encrypted = "encrypted" if self._fernet else "plain"
        return f"FileTokenCache({str(self.directory)!r}, {encrypted})"

    def path(self, key: str) -> Path:
        """Return the file that holds the token of ``key``."""
        return self.directory / f"{key}.token"

    def load(self, key: str) -> Token | None:
        """Return the cached token of ``key``, or ``None`` if there is none that can be read."""
        try:
            data = self.path(key).read_bytes()
        except OSError:
            return None
        try:
            if self._fernet is not None:
                data = self._fernet.decrypt(data)
            record = json.loads(data)
            if (
                not isinstance(record, dict)
                or record.get("format") != _FILE_FORMAT
                or record.get("key") != key
            ):
                return None
            return Token.from_record(record["token"])
        except Exception as error:
            log.debug(
                "Ignoring unreadable Bitcapital token cache file %s (%s)",
                self.path(key),
                type(error).__name__,
            )
            return None

    def store(self, key: str, token: Token) -> None:
        """Write the token of ``key`` atomically; failures are logged and otherwise ignored."""
        record = {"format": _FILE_FORMAT, "key": key, "token": token.to_record()}
        data = json.dumps(record).encode("utf-8")
        if self._fernet is not None:
            data = self._fernet.encrypt(data)
        try:
            self._ensure_directory()
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(temporary, self.path(key))
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as error:
            log.warning(
                "Could not write the Bitcapital token cache in %s: %s", self.directory, error.strerror
            )

    def discard(self, key: str, access_token: str | None = None) -> None:
        """Remove the cached token of ``key``; with ``access_token``, only if it is that token."""
        if access_token is not None:
            cached = self.load(key)
            if cached is None or cached.access_token != access_token:
                return
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def load_backoff(self, key: str) -> Backoff | None:
        """Return the host-wide backoff of ``key``, or ``None`` if there is none that can be read."""
        try:
            return Backoff.from_record(json.loads(self._backoff_path(key).read_bytes()))
        except (OSError, ValueError):
            return None

    def store_backoff(self, key: str, backoff: Backoff | None) -> None:
        """Record (or, with ``None``, clear) the host-wide backoff of ``key``; failures are ignored."""
        path = self._backoff_path(key)
        try:
            if backoff is None:
                path.unlink(missing_ok=True)
                return
            self._ensure_directory()
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(backoff.to_record()))
            os.replace(temporary, path)
        except OSError as error:
            log.debug("Could not record the Bitcapital token endpoint backoff: %s", error.strerror)

    def _backoff_path(self, key: str) -> Path:
        return self.directory / f"{key}.backoff"

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[bool]:
        """Hold the host-wide lock of ``key``; yields ``False`` if it could not be had in time.

        The lock is an ``fcntl`` lock on a side file, released by the kernel if the holder dies.
        """
        try:
            self._ensure_directory()
            descriptor = os.open(self.directory / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            log.warning("Could not open the Bitcapital token cache lock: %s", error.strerror)
            yield False
            return
        try:
            acquired = self._acquire(descriptor)
            try:
                yield acquired
            finally:
                if acquired:
                    fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)

    def _acquire(self, descriptor: int) -> bool:
        give_up = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= give_up:
                log.warning(
                    "Gave up waiting %.0f s for another process's Bitcapital token", self.lock_timeout
                )
                return False
            time.sleep(_LOCK_POLL_SECONDS)

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.directory.stat().st_mode & 0o077:
            os.chmod(self.directory, 0o700)
