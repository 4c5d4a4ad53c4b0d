"""Waybill numbers: the two formats the hotline accepts, each with a check digit.

**International: UPU S10** (the format of EMS and registered items worldwide), 13 characters:
two letters (service indicator), eight digits (serial), one check digit, two letters (the ISO country
code of the issuing post), e.g. ``EE123456785CN``. The check digit is computed over the serial with the
weights 8 6 4 2 3 5 9 7: ``c = 11 - (Σ dᵢ·wᵢ mod 11)``, then 10 → 0 and 11 → 5.

**Domestic: 13 digits, the last a Luhn check digit** (ISO/IEC 7812 mod 10) over the 12-digit serial, e.g.
``7700000000016``. All digits, so a caller can key it in on a phone keypad in the IVR. Luhn gives every
serial a check digit (unlike mod 11, which must drop the serials whose check would be 10), and it catches
every single mistyped digit and every swap of two adjacent digits except 09 ↔ 90.

``validate`` normalises what a person typed or said (spaces, dashes, dots, lower case, full-width
characters) and returns the canonical form, or raises ``InvalidWaybill`` saying what is wrong.
"""

from __future__ import annotations

import re
import unicodedata

from shipments.errors import InvalidWaybill

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
DOMESTIC_LENGTH = 13
_SEPARATORS = re.compile(r"[\s\-_./]+")
_S10 = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")


def s10_check_digit(serial: str) -> int:
    """The S10 check digit of an eight-digit serial."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError(f"an S10 serial is 8 digits, not {serial!r}")
    remainder = sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    return {10: 0, 11: 5}.get(check, check)


def luhn_check_digit(payload: str) -> int:
    """The Luhn digit that completes ``payload`` (digits only)."""
    if not payload.isdigit():
        raise ValueError(f"a Luhn payload is digits only, not {payload!r}")
    total = 0
    # from the right, every second digit of the payload (the first one next to the check digit) is doubled
    for i, d in enumerate(reversed(payload)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return (10 - total % 10) % 10


def s10(service: str, serial: int | str, country: str = "CN") -> str:
    """A valid S10 number for an 8-digit serial (for demo data and tests)."""
    digits = f"{int(serial):08d}"
    return f"{service.upper()}{digits}{s10_check_digit(digits)}{country.upper()}"


def domestic(serial: int | str) -> str:
    """A valid domestic number for a 12-digit serial (for demo data, tests and bulk loads)."""
    digits = f"{int(serial):012d}"
    if len(digits) != DOMESTIC_LENGTH - 1:
        raise ValueError(f"a domestic serial has at most 12 digits, not {serial!r}")
    return digits + str(luhn_check_digit(digits))


def normalise(raw: str) -> str:
    """Upper case, ASCII (full-width characters folded), separators removed."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()


def validate(raw: str | None) -> str:
    """The canonical waybill number in ``raw``, or ``InvalidWaybill`` with the reason."""
    if raw is None or not raw.strip():
        raise InvalidWaybill("no waybill number given")
    number = normalise(raw)
    if len(number) > 32:
        raise InvalidWaybill("a waybill number has 13 characters")
    if number.isdigit():
        if len(number) != DOMESTIC_LENGTH:
            raise InvalidWaybill(f"a domestic waybill number has {DOMESTIC_LENGTH} digits, this one {len(number)}")
        if luhn_check_digit(number[:-1]) != int(number[-1]):
            raise InvalidWaybill(f"{number}: wrong check digit (mistyped?)")
        return number
    match = _S10.match(number)
    if match is None:
        raise InvalidWaybill(
            f"{number!r} is neither a 13-digit domestic number nor an international one "
            "(2 letters, 9 digits, 2 letters, e.g. EE123456785CN)"
        )
    serial, check = match.group(2), int(match.group(3))
    if s10_check_digit(serial) != check:
        raise InvalidWaybill(f"{number}: wrong check digit (mistyped?)")
    return number
