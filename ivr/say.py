"""Saying values from recorded fragments: digits, numbers, dates and times in English and Mandarin.

The fragments (``fragments(language)``: name → text) are rendered at set-up like every prompt; a value is
said as a list of fragment names (``digits("7700")`` → ``d7 d7 d0 d0``), so a waybill or a pickup reference
is read back one character at a time without synthesising anything during the call.
"""

from __future__ import annotations

import string
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

EN_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen \
seventeen eighteen nineteen".split()
EN_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty"}
EN_MONTHS = "January February March April May June July August September October November December".split()
ZH_DIGITS = "零一二三四五六七八九"
ZH_MONTHS = [f"{n}月" for n in ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")]
TOP = 60  # numbers below this are one fragment each (hours, minutes, days, pieces); larger ones digit by digit


def _en_number(n: int) -> str:
    if n < 20:
        return EN_UNITS[n]
    tens, unit = divmod(n, 10)
    return EN_TENS[tens * 10] + (f" {EN_UNITS[unit]}" if unit else "")


def _zh_number(n: int) -> str:
    if n < 10:
        return ZH_DIGITS[n]
    tens, unit = divmod(n, 10)
    return ("" if tens == 1 else ZH_DIGITS[tens]) + "十" + (ZH_DIGITS[unit] if unit else "")


def fragments(language: str) -> dict[str, str]:
    """Every fragment of a language: d0–d9 and letters, n0–n59, months, and the words around times."""
    zh = language == "zh"
    texts: dict[str, str] = {}
    for d in range(10):
        texts[f"d{d}"] = ZH_DIGITS[d] if zh else EN_UNITS[d]
    for letter in string.ascii_uppercase:
        texts[f"l{letter}"] = letter
    for n in range(TOP):
        texts[f"n{n}"] = _zh_number(n) if zh else _en_number(n)
    for m in range(12):
        texts[f"m{m + 1}"] = ZH_MONTHS[m] if zh else EN_MONTHS[m]
    texts.update({"oclock": "点" if zh else "o'clock", "minutes": "分" if zh else "", "day": "日" if zh else ""})
    return {k: v for k, v in texts.items() if v}


def digits(value: str) -> list[str]:
    """One fragment per character (digits and letters; anything else is skipped)."""
    out = []
    for c in value.upper():
        if c.isdigit():
            out.append(f"d{c}")
        elif c in string.ascii_uppercase:
            out.append(f"l{c}")
    return out


def number(value: str | int) -> list[str]:
    n = int(value)
    if 0 <= n < TOP:
        return [f"n{n}"]
    return digits(str(abs(n)))


def _when(value: str, zone: str | None = None) -> datetime | date | time:
    """An ISO date, time or date-time; an aware date-time in ``zone`` (the caller's local time)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        pass
    else:
        return moment.astimezone(ZoneInfo(zone)) if zone and moment.tzinfo else moment
    try:
        return time.fromisoformat(value)
    except ValueError:
        return date.fromisoformat(value)


def say_time(value: str, language: str, zone: str | None = None) -> list[str]:
    t = _when(value, zone)
    if isinstance(t, datetime):
        t = t.time()
    if not isinstance(t, time):
        raise ValueError(f"{value!r} is not a time")
    if language == "zh":
        return [f"n{t.hour}", "oclock", *([f"n{t.minute}", "minutes"] if t.minute else [])]
    return [f"n{t.hour}", *([f"n{t.minute}"] if t.minute else ["oclock"])]


def say_date(value: str, language: str, zone: str | None = None) -> list[str]:
    d = _when(value, zone)
    if isinstance(d, datetime):
        d = d.date()
    if not isinstance(d, date):
        raise ValueError(f"{value!r} is not a date")
    if language == "zh":
        return [f"m{d.month}", f"n{d.day}", "day"]
    return [f"m{d.month}", f"n{d.day}"]
