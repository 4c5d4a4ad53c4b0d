"""Phone-number normalisation: the form numbers are stored and looked up in.

Numbers are stored in E.164 (``+8613800138000``, ``+862162345678``, ``+16502530000``), parsed with
Google's libphonenumber rules (the ``phonenumbers`` package): a caller ID arrives in whatever form the
carrier sends — national (``13800138000``, ``021 6234 5678``), with the international prefix
(``0086…``, ``+86 …``), or bare with the country code (``8613800138000``) — and every form of one
number must find the same customer. Short codes and internal extensions that are no public number
(``110``, ``1001``) are kept as their digits.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

DEFAULT_REGION = "CN"
_KEEP = re.compile(r"[^0-9+]")


def normalise(number: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 for a possible public number, the digits for a short code or extension, else None."""
    if not number:
        return None
    text = _KEEP.sub("", unicodedata.normalize("NFKC", number))  # full-width digits become ASCII
    digits = text.lstrip("+")
    if not digits.isdigit() or not 3 <= len(digits) <= 20:
        return None
    candidates = [text]
    if not text.startswith(("+", "00")):  # a carrier may send the country code without any prefix
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return digits if len(digits) <= 15 and not text.startswith("+") else None


def customer_number(number: str | None, region: str = DEFAULT_REGION) -> str | None:
    """A number a customer can call from: a public number in E.164, never a short code or extension."""
    phone = normalise(number, region)
    return phone if phone is not None and phone.startswith("+") else None
