"""Password hashes and signed tokens."""

from __future__ import annotations

import pytest

from hotline.auth import hash_password, issue_token, read_token, verify_password

KEY = b"k" * 32


def test_password_round_trip() -> None:
    stored = hash_password("s3cret")
    assert stored.startswith("scrypt$")
    assert verify_password("s3cret", stored)
    assert not verify_password("s3cret ", stored)
    assert not verify_password("", stored)


def test_hashes_are_salted() -> None:
    assert hash_password("same") != hash_password("same")
    salt = bytes(16)
    assert hash_password("same", salt) == hash_password("same", salt)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext",
        "scrypt$00",
        "scrypt$00$11$22",
        "bcrypt$" + "00" * 16 + "$" + "00" * 32,
        "scrypt$not-hex$" + "00" * 32,
    ],
)
def test_malformed_stored_hash_is_a_mismatch(stored: str) -> None:
    assert verify_password("s3cret", stored) is False


def test_valid_token() -> None:
    claims = read_token(KEY, issue_token(KEY, "1001", role="supervisor"))
    assert claims is not None
    assert claims["sub"] == "1001"
    assert claims["role"] == "supervisor"


def test_token_from_another_key_is_refused() -> None:
    assert read_token(b"other", issue_token(KEY, "1001")) is None


def test_tampered_token_is_refused() -> None:
    token = issue_token(KEY, "1001")
    body, sig = token.split(".")
    forged = issue_token(KEY, "1002").split(".")[0]
    assert read_token(KEY, f"{forged}.{sig}") is None
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert read_token(KEY, f"{body}.{flipped}") is None


def test_expired_token_is_refused() -> None:
    assert read_token(KEY, issue_token(KEY, "1001", ttl=-10)) is None


@pytest.mark.parametrize("token", ["", ".", "abc", "abc.", ".abc", "a.b.c", "%%%.$$$"])
def test_garbage_token_is_refused(token: str) -> None:
    assert read_token(KEY, token) is None


@pytest.mark.parametrize("token", ["eyJ.é", "é.abc", "abc.签名"])
def test_non_ascii_token_is_refused(token: str) -> None:
    # tokens arrive from a query string (the desk's WebSocket) or a header: anything can be in them
    assert read_token(KEY, token) is None
