"""Waybill formats: UPU S10 (mod 11, weights 8 6 4 2 3 5 9 7) and 13-digit domestic (Luhn)."""

from __future__ import annotations

import pytest

from shipments.errors import InvalidWaybill
from shipments.waybills import domestic, luhn_check_digit, s10, s10_check_digit, validate


@pytest.mark.parametrize(
    ("serial", "check"),
    [
        ("12345678", 5),  # EE123456785CN, the example of the S10 standard
        ("47312482", 9),  # AA473124829GB, a published example
        ("00000000", 5),  # remainder 0: 11 becomes 5
        ("00000001", 4),
        ("00000008", 0),  # remainder 1: 10 becomes 0
    ],
)
def test_s10_check_digit_on_known_examples(serial: str, check: int) -> None:
    assert s10_check_digit(serial) == check


def test_luhn_on_the_classic_example() -> None:
    assert luhn_check_digit("7992739871") == 3
    assert luhn_check_digit("0") == 0
    assert luhn_check_digit("1") == 8


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("EE123456785CN", "EE123456785CN"),
        ("ee 1234 5678 5 cn", "EE123456785CN"),
        ("AA473124829GB", "AA473124829GB"),
        ("ＥＥ１２３４５６７８５ＣＮ", "EE123456785CN"),  # full-width, as some input methods type it
        ("7700000000016", "7700000000016"),
        ("770-0000-0000-16", "7700000000016"),
        (" 7700 0000 0001 6 ", "7700000000016"),
        ("7992739871003", "7992739871003"),
    ],
)
def test_valid_numbers_are_normalised(raw: str, canonical: str) -> None:
    assert validate(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "no waybill"),
        (None, "no waybill"),
        ("EE123456784CN", "check digit"),
        ("EE123456758CN", "check digit"),  # two digits swapped
        ("7700000000017", "check digit"),
        ("7700000000061", "check digit"),  # last two digits swapped
        ("7070000000016", "check digit"),  # adjacent swap in the serial
        ("SF1234567890", "neither"),  # the courier's own 12-character style is no format here
        ("E123456785CN", "neither"),
        ("EE12345678CN", "neither"),
        ("EE123456785C1", "neither"),
        ("770000000001", "13 digits"),
        ("77000000000160", "13 digits"),
        ("x" * 100, "13 characters"),
    ],
)
def test_invalid_numbers_say_why(raw: str | None, reason: str) -> None:
    with pytest.raises(InvalidWaybill) as e:
        validate(raw)
    assert reason in e.value.message
    assert e.value.status_code == 422


def test_generated_numbers_are_valid_and_every_single_digit_error_is_caught() -> None:
    for serial in (1, 42, 123456789012, 770000000003):
        number = domestic(serial)
        assert validate(number) == number
        for position in range(13):
            for digit in "0123456789":
                if digit == number[position]:
                    continue
                typo = number[:position] + digit + number[position + 1 :]
                with pytest.raises(InvalidWaybill):
                    validate(typo)
    for serial in (0, 1, 12345678, 99999999):
        number = s10("EE", serial)
        assert validate(number) == number
        for digit in "0123456789":  # any other check digit is refused
            if digit != number[10]:
                with pytest.raises(InvalidWaybill):
                    validate(number[:10] + digit + number[11:])


def test_s10_folds_two_remainders_onto_check_digit_5() -> None:
    """A known weakness of the standard (11 and 6 both give 5): some single-digit errors pass; said, not hidden."""
    assert s10_check_digit("00000000") == s10_check_digit("00000004") == 5
