"""Desk log-in: password hashing and signed bearer tokens (HMAC-SHA256, no server-side sessions)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
TOKEN_TTL = 12 * 3600


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """False for a wrong password and for a stored hash we cannot read (never an exception)."""
    try:
        scheme, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, **SCRYPT)
        return hmac.compare_digest(candidate.hex().encode(), digest.encode())
    except (ValueError, UnicodeEncodeError):
        return False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(key: bytes, subject: str, role: str = "agent", ttl: int = TOKEN_TTL) -> str:
    body = _b64(json.dumps({"sub": subject, "role": role, "exp": int(time.time()) + ttl}).encode())
    sig = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return f"{body}.{sig}"


def read_token(key: bytes, token: str) -> dict[str, str] | None:
    """The token's claims if its signature is ours and it has not expired, else None."""
    if not token.isascii():  # tokens come from URLs and headers: anything else is forged
        return None
    body, _, sig = token.partition(".")
    if not body or not sig:
        return None
    expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        return None
    try:
        claims = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict) or int(claims.get("exp", 0)) < time.time():
        return None
    return claims
