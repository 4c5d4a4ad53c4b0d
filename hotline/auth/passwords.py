"""Password hashes: argon2id with a configurable cost, legacy ``scrypt$salt$digest`` still verified.

Hashing is deliberately slow (tens to hundreds of ms of CPU): the async helpers run it in a thread so
the event loop never waits on it. A stored hash is *upgraded* when it is legacy scrypt or when its
argon2 parameters are weaker than the configured ones (``needs_rehash``), on the next successful log-in.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cached_property

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

LEGACY_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class Argon2Cost:
    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 1


def legacy_scrypt_hash(password: str, salt: bytes | None = None) -> str:
    """The format installs before argon2 stored (kept to build test fixtures and verify old rows)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **LEGACY_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _verify_legacy_scrypt(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, **LEGACY_SCRYPT)
        return hmac.compare_digest(candidate.hex().encode(), digest.encode())
    except (ValueError, UnicodeEncodeError):
        return False


class Passwords:
    def __init__(self, cost: Argon2Cost | None = None) -> None:
        self.cost = cost or Argon2Cost()
        self._hasher = argon2.PasswordHasher(
            time_cost=self.cost.time_cost,
            memory_cost=self.cost.memory_cost,
            parallelism=self.cost.parallelism,
            type=argon2.Type.ID,
        )

    @cached_property
    def dummy_hash(self) -> str:
        """A hash of a random secret with the current cost: what an unknown user's password is checked
        against, so unknown and known users cost the same time."""
        return self.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password: str, stored: str) -> bool:
        """False for a wrong password and for a stored hash we cannot read (never an exception)."""
        if stored.startswith("scrypt$"):
            return _verify_legacy_scrypt(password, stored)
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """True for legacy hashes and for argon2 hashes whose cost is below the configured one."""
        if not stored.startswith("$argon2"):
            return True
        try:
            params = argon2.extract_parameters(stored)
        except InvalidHashError:
            return True
        return (
            params.type is not argon2.Type.ID
            or params.time_cost < self.cost.time_cost
            or params.memory_cost < self.cost.memory_cost
            or params.parallelism < self.cost.parallelism
        )

    async def ahash(self, password: str) -> str:
        return await asyncio.to_thread(self.hash, password)

    async def averify(self, password: str, stored: str) -> bool:
        return await asyncio.to_thread(self.verify, password, stored)

    async def adummy(self) -> str:
        """The dummy hash, computed in a thread the first time."""
        if "dummy_hash" not in self.__dict__:
            await asyncio.to_thread(lambda: self.dummy_hash)
        return self.dummy_hash
