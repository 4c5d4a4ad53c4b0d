"""Pickup reference numbers: eight digits an agent reads back to the caller one by one.

Seven random digits (the first never 0, so the number keeps its length when typed into a numeric field)
and a Damm check digit. Damm's quasigroup catches every single wrong digit and every swap of two
neighbours — the two slips of reading a number down a phone line — where Luhn misses 09↔90. The random
part comes from ``secrets``: references are neither sequential nor predictable from one another, so knowing
your own reference tells nothing about anyone else's. Uniqueness is the database's (a unique index; a
collision, about 1 in 9 million per existing order, draws again).
"""

from __future__ import annotations

import secrets

LENGTH = 8

# Damm's totally anti-symmetric quasigroup of order 10
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm_digit(digits: str) -> str:
    """The check digit that makes ``digits`` + it a valid Damm number."""
    interim = 0
    for d in digits:
        interim = _DAMM[interim][int(d)]
    return str(interim)


def is_valid(reference: str) -> bool:
    """Eight ASCII digits whose Damm check holds."""
    return (
        len(reference) == LENGTH
        and reference.isascii()
        and reference.isdigit()
        and reference[0] != "0"
        and damm_digit(reference) == "0"
    )


def new_reference() -> str:
    body = str(1_000_000 + secrets.randbelow(9_000_000))
    return body + damm_digit(body)


def clean(raw: str) -> str:
    """What a person typed or said, as the digits: spaces, dashes and dots dropped."""
    return "".join(ch for ch in raw if ch not in " -.")


def spoken(reference: str) -> str:
    """Grouped for reading aloud: ``4821 0937``."""
    return f"{reference[:4]} {reference[4:]}"
