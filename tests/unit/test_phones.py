"""Phone numbers in their stored form."""

from __future__ import annotations

import pytest

from crm_bridge.phones import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138-0013-8000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("13800138000", "13800138000"),
        ("(021) 6234-5678", "02162345678"),
        ("110", "110"),
        ("1001", "1001"),
        ("12", None),
        ("", None),
        (None, None),
        ("abc", None),
        ("anonymous", None),
        ("1" * 20, "1" * 20),
        ("1" * 21, None),
        ("+86 " + "9" * 40, None),
        ("１３８００１３８０００", "13800138000"),  # full-width digits, as typed on some phones
    ],
)
def test_normalise(raw: str | None, expected: str | None) -> None:
    assert normalise(raw) == expected
