from __future__ import annotations

from crm_bridge.importer import parse
from crm_bridge.models import CreditRating, Tier

HEADER = "name,phone,phones,tier,company,city,agreement,credit,address,postal_code\n"


def test_good_rows_are_normalised() -> None:
    parsed = parse(
        (
            HEADER + "Zhao Lei,138 0013 8111,010-6552-0000;+86 139 0013 9111,VIP,ACME,Beijing,AG-1,watch,"
            "Road 1,100022\nQian Yu,13800138222,,,,,,,,\n"
        ).encode()
    )
    assert parsed.rejected == [] and parsed.total == 2
    first, second = parsed.rows
    assert first.line == 2 and first.phones == ["+8613800138111", "+861065520000", "+8613900139111"]
    assert first.customer["tier"] == Tier.vip and first.customer["credit"] == CreditRating.watch
    assert first.customer["phone"] == "+8613800138111" and first.customer["agreement"] == "AG-1"
    assert first.address == {"label": "main", "text": "Road 1", "postal_code": "100022", "city": "Beijing"}
    assert second.customer["tier"] == Tier.walk_in and second.address is None


def test_bad_rows_are_reported_with_their_line_and_reason() -> None:
    text = HEADER + "\n".join(
        [
            "Good One,13800138001,,,,,,,,",  # line 2
            ",13800138002,,,,,,,,",  # 3: no name
            "Bad Phone,12345,,,,,,,,",  # 4
            "Dup In File,138-0013-8001,,,,,,,,",  # 5: the number of line 2
            "Bad Tier,13800138005,,platinum,,,,,,",  # 6
            "Dup Own,13800138006,13800138006,,,,,,,",  # 7: twice in the row
            "Bad Credit,13800138007,,,,,,awful,,",  # 8
            "No Phone,,,,,,,,,",  # 9
            'Quoted "Name",13800138009,,,,,AG-1,,,',  # 10
            "Same Agreement,13800138010,,,,,AG-1,,,",  # 11
        ]
    )
    parsed = parse(text.encode())
    reasons = {r.line: r.reason for r in parsed.rejected}
    assert parsed.total == 10 and [r.line for r in parsed.rows] == [2, 10]
    assert reasons[3] == "missing name"
    assert reasons[4] == "bad phone '12345'"
    assert reasons[5] == "duplicate phone +8613800138001 (also on line 2)"
    assert reasons[6].startswith("bad tier 'platinum'")
    assert reasons[7] == "duplicate phone +8613800138006 (also in this row)"
    assert reasons[8].startswith("bad credit 'awful'")
    assert reasons[9] == "missing phone"
    assert reasons[11] == "duplicate agreement AG-1 (also on line 10)"
    assert set(reasons) == {3, 4, 5, 6, 7, 8, 9, 11}


def test_a_file_without_the_required_columns_or_not_utf8_is_refused_whole() -> None:
    parsed = parse(b"name,mobile\nA,13800138000\n")
    assert parsed.rows == [] and parsed.rejected[0].line == 1 and "lacks phone" in parsed.rejected[0].reason
    parsed = parse("name,phone\nZhang,13800138000\n".encode("gb18030") + "张伟,13800138001\n".encode("gb18030"))
    assert parsed.rows == [] and "not UTF-8" in parsed.rejected[0].reason


def test_line_numbers_count_physical_lines_of_quoted_fields() -> None:
    parsed = parse(b'name,phone,notes\nA,13800138000,"two\nlines"\n,13800138001,\n')
    assert [r.line for r in parsed.rows] == [3] and parsed.rejected[0].line == 4
