"""Per-call facts from queue_log lines, the interaction row and the agent's state spans (cms.facts.derive)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cms.facts import CallInputs, QueueEvent, Span, bucket_of, contact_key, derive

T0 = datetime(2026, 11, 24, 9, 7, 30, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ev(at: float, event: str, *data: str, agent: str = "NONE", queue: str = "support") -> QueueEvent:
    d = [*data, None, None, None, None]
    return QueueEvent(s(at), event, queue, agent, d[0], d[1], d[2], d[3])


def answered_call() -> CallInputs:
    """Queued at 0, the first agent let it ring (RINGNOANSWER 15000 ms), 1001 answered at 12 s after 3 s of
    ringing, held it 20 s, 150 s connected in all, then 45 s of wrap-up."""
    return CallInputs(
        call_id="c1",
        started_at=s(-30),
        outcome="answered",
        caller="13800138000",
        queue="support",
        agent="1001",
        queued_at=s(0),
        answered_at=s(12),
        ended_at=s(162),
        self_service=False,
        lines=[
            ev(0, "ENTERQUEUE", "", "13800138000", "1"),
            ev(8, "RINGNOANSWER", "15000", agent="PJSIP/1002"),
            ev(12, "CONNECT", "12", "c1-agent", "3", agent="PJSIP/1001"),
            ev(162, "COMPLETECALLER", "12", "150", "1", agent="PJSIP/1001"),
        ],
        spans=[
            Span("on_call", s(12), s(50)),
            Span("on_hold", s(50), s(70)),
            Span("on_call", s(70), s(162)),
            Span("wrap_up", s(163), s(208)),
        ],
        csat=4,
    )


def test_an_answered_call() -> None:
    f = derive(answered_call(), threshold=20, short_abandon=5)
    assert (f.offered, f.answered, f.abandoned, f.timed_out) == (True, True, False, False)
    assert f.queue == "support" and f.agent == "1001"
    assert f.bucket == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert f.wait_s == 12 and f.in_sl
    assert f.ring_s == 3 and f.ring_attempts == 1
    assert f.hold_s == 20
    assert f.talk_s == 130  # 150 connected − 20 on hold
    assert f.acw_s == 45 and not f.acw_pending
    assert f.csat == 4
    assert f.contact_key == "number:+8613800138000"
    assert f.ivr_known and not f.ivr_contained


def test_wrap_up_still_open_is_pending() -> None:
    c = answered_call()
    c = CallInputs(**{**c.__dict__, "spans": [Span("wrap_up", s(163), None)]})
    f = derive(c, threshold=20, short_abandon=5)
    assert f.acw_s is None and f.acw_pending


def test_a_call_without_wrap_up_has_none_to_count() -> None:
    c = CallInputs(**{**answered_call().__dict__, "spans": []})
    f = derive(c, threshold=20, short_abandon=5)
    assert f.acw_s == 0 and f.hold_s == 0 and f.talk_s == 150


def test_an_answer_after_the_threshold_is_not_in_the_service_level() -> None:
    c = answered_call()
    lines = list(c.lines)
    lines[2] = ev(25, "CONNECT", "25", "c1-agent", "3", agent="PJSIP/1001")
    f = derive(CallInputs(**{**c.__dict__, "lines": lines}), threshold=20, short_abandon=5)
    assert f.wait_s == 25 and not f.in_sl


def abandoned(wait: int) -> CallInputs:
    return CallInputs(
        call_id=f"a{wait}",
        started_at=s(-10),
        outcome="abandoned",
        queue="support",
        queued_at=s(0),
        ended_at=s(wait),
        lines=[ev(0, "ENTERQUEUE", "", "13900139000", "3"), ev(wait, "ABANDON", "2", "3", str(wait))],
    )


def test_abandons_short_within_and_after_the_threshold() -> None:
    short, within, after = (derive(abandoned(w), threshold=20, short_abandon=5) for w in (3, 12, 45))
    assert short.abandoned and short.short_abandon and not short.in_sl
    assert within.abandoned and not within.short_abandon and within.in_sl
    assert after.abandoned and not after.in_sl
    assert after.wait_s == 45 and after.abandon_position == 2 and after.abandon_entry_position == 3
    assert after.agent == "" and after.talk_s is None


def test_a_timed_out_call() -> None:
    c = CallInputs(
        call_id="t1",
        started_at=s(0),
        outcome="queue_timeout",
        queue="support",
        queued_at=s(0),
        ended_at=s(300),
        lines=[ev(0, "ENTERQUEUE", "", "139", "1"), ev(300, "EXITWITHTIMEOUT", "1", "1", "300")],
    )
    f = derive(c, threshold=20, short_abandon=5)
    assert f.timed_out and not f.abandoned and not f.answered and f.wait_s == 300


def test_a_transferred_call_counts_its_transfer_and_its_first_part() -> None:
    c = answered_call()
    lines = [*c.lines[:3], ev(100, "BLINDTRANSFER", "2000", "hotline", "12", "88", "1", agent="PJSIP/1001")]
    f = derive(CallInputs(**{**c.__dict__, "lines": lines, "spans": []}), threshold=20, short_abandon=5)
    assert f.transfers == 1 and f.talk_s == 88


def test_without_queue_log_lines_the_interaction_row_speaks() -> None:
    c = CallInputs(
        call_id="b1",
        started_at=s(0),
        outcome="answered",
        queue="billing",
        agent="1002",
        customer_id=7,
        queued_at=s(5),
        answered_at=s(35),
        ended_at=s(95),
        wait_seconds=30,
        talk_seconds=60,
        transfer_legs=1,
    )
    f = derive(c, threshold=20, short_abandon=5)
    assert f.answered and f.agent == "1002" and f.wait_s == 30 and f.talk_s == 60 and not f.in_sl
    assert f.transfers == 1 and f.contact_key == "customer:7"
    assert f.bucket == bucket_of(s(5))


def test_an_ivr_only_call_is_contained_and_never_offered() -> None:
    c = CallInputs(call_id="i1", started_at=s(0), outcome="ivr_hangup", self_service=True, ended_at=s(40))
    f = derive(c, threshold=20, short_abandon=5)
    assert f.queue == "" and not f.offered and f.ivr_known and f.ivr_contained


def test_contact_keys() -> None:
    assert contact_key(3, "13800138000") == "customer:3"
    assert contact_key(None, "anonymous") is None
    assert contact_key(None, "1001") is None  # an extension is nobody's number


def test_the_answering_agent_is_an_extension_never_a_member_name() -> None:
    c = answered_call()
    named = [*c.lines[:2], ev(12, "CONNECT", "12", "c1-agent", "3", agent="Chen Jing"), *c.lines[3:]]
    assert derive(CallInputs(**{**c.__dict__, "lines": named}), threshold=20, short_abandon=5).agent == "1001"
    anonymous = CallInputs(**{**c.__dict__, "lines": named, "agent": None})
    assert derive(anonymous, threshold=20, short_abandon=5).agent == ""
    by_interface = CallInputs(**{**c.__dict__, "agent": None})
    assert derive(by_interface, threshold=20, short_abandon=5).agent == "1001"
