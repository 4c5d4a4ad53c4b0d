"""Phone numbers in their stored form (E.164; short codes and extensions as digits)."""

from __future__ import annotations

import pytest

from crm_bridge.phones import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138-0013-8000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("13800138000", "+8613800138000"),
        ("(021) 6234-5678", "+862162345678"),  # a Shanghai landline, national form
        ("+86 21 6234 5678", "+862162345678"),  # the same, international form
        ("0086 21 62345678", "+862162345678"),
        ("862162345678", "+862162345678"),  # country code without a prefix, as some carriers send it
        ("010-8888-6666", "+861088886666"),  # Beijing
        ("+1 650-253-0000", "+16502530000"),  # the US
        ("+44 20 7946 0958", "+442079460958"),  # the UK
        ("+852 2123 4567", "+85221234567"),  # Hong Kong
        ("110", "110"),  # a short code
        ("1001", "1001"),  # an internal extension
        ("12", None),
        ("", None),
        (None, None),
        ("abc", None),
        ("anonymous", None),
        ("+86 " + "9" * 40, None),
        ("1" * 21, None),
        ("１３８００１３８０００", "+8613800138000"),  # full-width digits, as typed on some phones
    ],
)
def test_normalise(raw: str | None, expected: str | None) -> None:
    assert normalise(raw) == expected


def test_every_form_of_one_number_is_the_same_key() -> None:
    forms = ["13800138000", "+8613800138000", "008613800138000", "8613800138000", "+86 (138) 0013 8000"]
    assert {normalise(f) for f in forms} == {"+8613800138000"}
