"""Phone-number normalisation: the form numbers are stored and looked up in."""

from __future__ import annotations

import re
import unicodedata

_NON_DIGITS = re.compile(r"[^0-9]")


def normalise(number: str | None) -> str | None:
    """Digits only, China's country prefix dropped from mobile numbers; None if nothing usable.

    '+86 138-0013-8000' and '008613800138000' both become '13800138000'.
    """
    if not number:
        return None
    digits = _NON_DIGITS.sub("", unicodedata.normalize("NFKC", number))  # full-width digits become ASCII
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not 3 <= len(digits) <= 20:
        return None
    return digits
