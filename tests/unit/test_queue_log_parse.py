"""Reading queue_log lines: fields, partial lines, garbage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cms.queue_log import Reject, parse_line, split_lines


def test_a_line_becomes_a_row_and_extra_fields_go_to_data5() -> None:
    row = parse_line("1795468578|1795468570.12|support|Wang Fang|CONNECT|3|1795468575.13|2")
    assert row["time"] == datetime.fromtimestamp(1795468578, UTC)
    assert (row["callid"], row["queue"], row["agent"], row["event"]) == (
        "1795468570.12",
        "support",
        "Wang Fang",
        "CONNECT",
    )
    assert (row["data1"], row["data2"], row["data3"], row["data4"], row["data5"]) == (
        "3",
        "1795468575.13",
        "2",
        None,
        None,
    )
    wide = parse_line("1795468578|c|q|a|CUSTOM|1|2|3|4|5|6|7")
    assert (wide["data4"], wide["data5"]) == ("4", "5|6|7")


@pytest.mark.parametrize(
    "line", ["", "garbage", "1|2|3", "notatime|c|q|a|EVT", "12|c|q|a|EVT", "1795468578|c|q|a|", "99999999999|c|q|a|E"]
)
def test_garbage_is_rejected(line: str) -> None:
    with pytest.raises(Reject):
        parse_line(line)


def test_split_lines_waits_for_the_newline_of_a_partial_last_line() -> None:
    chunk = split_lines(b"a\nbb\ncc", 100, final=False, full=False)
    assert chunk.lines == [(100, b"a"), (102, b"bb")] and chunk.end == 105
    assert split_lines(b"partial", 0, final=False, full=False).lines == []
    # a rotated file gets no more bytes: its last partial line is taken as it is
    final = split_lines(b"a\ncc", 0, final=True, full=False)
    assert final.lines == [(0, b"a"), (2, b"cc")] and final.end == 4
    # a "line" longer than a whole read is taken (and rejected later) rather than blocking forever
    huge = split_lines(b"x" * 16, 0, final=False, full=True)
    assert huge.lines == [(0, b"x" * 16)] and huge.end == 16
