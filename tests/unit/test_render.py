"""Asterisk's configuration rendered from the templates."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from acd.queues import Queues
from acd.rules import RoutingRules
from cti.controls import template_context as desk_context
from floor.supervise import template_context as supervise_context
from hotline.config import Settings
from hotline.render import TEMPLATES, SipAgent, render_asterisk
from hotline.routing import template_context

PROMPTS = {"no_agents": Path("/x/na"), "goodbye": Path("/x/bye")}


def contributed(agents: list[SipAgent]) -> dict[str, Any]:
    """What the packages contribute at set-up: agents (acd), queues (acd), prompts and the routing contract (ivr)."""
    return {
        "ami_events": ["AgentCalled", "Hangup"],
        "agents": agents,
        "queues": Queues.load().definitions(),
        "routing": RoutingRules.load(),
        "prompts": PROMPTS,
        **template_context(Queues.load().default),
        **supervise_context(),
        **desk_context(frozenset({"support", "billing"})),
        "supervisor_phones": [SipAgent("1901", "Sue", "pw-sue-9")],
    }


@pytest.fixture
def etc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings(
        var_dir=tmp_path,
        asterisk_prefix=tmp_path,
        agi_port=4599,
        ami_port=5039,
        hotline_number="95338",
        carrier_match="10.0.0.1, 10.0.0.2",
    )
    agents = [SipAgent("1001", "Alice", "pw-alice-1"), SipAgent("1002", "Bob", "pw-bob-2")]
    conf = render_asterisk(settings, contributed(agents))
    assert conf == tmp_path / "asterisk-etc" / "asterisk.conf"
    return conf.parent


def read(etc: Path, name: str) -> str:
    return (etc / name).read_text()


def test_every_template_is_rendered_privately(etc: Path) -> None:
    templates = sorted(t.name.removesuffix(".j2") for t in TEMPLATES.glob("*.j2"))
    assert templates
    assert sorted(p.name for p in etc.iterdir()) == templates
    for name in templates:
        assert stat.S_IMODE((etc / name).stat().st_mode) == 0o600, name
        assert "{{" not in read(etc, name) and "{%" not in read(etc, name), name


def test_pjsip_agents_and_carrier(etc: Path) -> None:
    pjsip = read(etc, "pjsip.conf")
    for ext, password in (("1001", "pw-alice-1"), ("1002", "pw-bob-2")):
        assert f"[{ext}]\ntype = auth\nauth_type = userpass\nusername = {ext}\npassword = {password}\n" in pjsip
        assert f"[{ext}](agent-endpoint)" in pjsip
    assert '"Alice" <1001>' in pjsip
    assert "match = 10.0.0.1\nmatch = 10.0.0.2\n" in pjsip
    assert "bind = 127.0.0.1:5060" in pjsip


def test_manager_has_the_ami_secret_and_port(etc: Path, tmp_path: Path) -> None:
    manager = read(etc, "manager.conf")
    secret = Settings(var_dir=tmp_path).ami_password  # the one generated into <var>/secrets.json
    assert f"[hotline]\nsecret = {secret}\n" in manager
    assert "port = 5039" in manager


def test_dialplan(etc: Path) -> None:
    dialplan = read(etc, "extensions.conf")
    assert "exten => 95338,1,Goto(hotline,s,1)" in dialplan
    assert "AGI(agi://127.0.0.1:4599/ivr)" in dialplan
    assert "Gosub(hotline-queue,s,1)" in dialplan
    # without the ACD's own decision from the IVR, the router is asked at queue entry
    assert 'GotoIf($["${HOTLINE_DECIDED_BY}" = "acd"]?decided)' in dialplan
    # the IVR's facts as the route script's arguments, in the order it reads them (hotline.routing.ROUTE_FACTS)
    facts = '"${HOTLINE_QUEUE}","${HOTLINE_INTENT}","${HOTLINE_IVR_PATH}","${HOTLINE_CUSTOMER_ID}"'
    assert f"AGI(agi://127.0.0.1:4599/route,{facts})" in dialplan
    # the queue side: the preferred agent first (their own queue), then the queue, its wait defaulting to 300 s
    survey = '${IF($["${HOTLINE_SURVEY}" = "1"]?c)}'  # a caller who agreed stays on after the agent
    assert (
        f'Queue(direct-${{HOTLINE_PREFERRED_AGENT}},t{survey},,,${{IF($["${{HOTLINE_PREFERRED_RING}}" = ""]?15:'
        in dialplan
    )
    assert 'ExecIf($["${HOTLINE_MAX_PENALTY}" != ""]?Set(QUEUE_MAX_PENALTY=${HOTLINE_MAX_PENALTY}))' in dialplan
    assert "?300:${HOTLINE_MAX_WAIT})})" in dialplan
    assert f"Queue(${{HOTLINE_QUEUE}},t{survey},,,${{LOCAL(wait)}})" in dialplan
    assert "AGI(agi://127.0.0.1:4599/survey)" in dialplan  # after the agent hangs up, for those who agreed
    assert "VoiceMail(95338@hotline,s)" in dialplan
    assert "Playback(/x/na)" in dialplan
    assert "Playback(/x/bye)" in dialplan
    assert f"HOTLINE_REC_DIR = {etc.parent / 'recordings'}" in dialplan


def test_queues_and_other_files(etc: Path, tmp_path: Path) -> None:
    queues = read(etc, "queues.conf")
    assert "autofill = yes" in queues
    assert "monitor-format = wav" not in queues  # the dialplan records, by each queue's policy
    assert "[support]" in queues
    assert "force_longest_waiting_caller = prio" in queues
    assert "[complaints]" in queues and "defaultrule = overflow-complaints" in queues
    assert "[direct-1001]" in queues and "[direct-1002]" in queues  # each agent's own queue
    rules = read(etc, "queuerules.conf")
    assert "[overflow-complaints]\npenaltychange => 20,2\npenaltychange => 40,4\npenaltychange => 60,9" in rules
    assert f"astetcdir => {etc}" in read(etc, "asterisk.conf")
    assert f"astmoddir => {tmp_path.resolve()}/lib/asterisk/modules" in read(etc, "asterisk.conf")
    assert "rtpstart = 10000\nrtpend = 10999" in read(etc, "rtp.conf")
    assert "95338 => 0000" in read(etc, "voicemail.conf")


def test_directories_are_created(etc: Path, tmp_path: Path) -> None:
    for d in ("asterisk-lib/keys", "asterisk-spool", "asterisk-run", "log/asterisk/cdr-csv", "recordings"):
        assert (tmp_path / d).is_dir(), d


def test_rendering_again_replaces_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings(var_dir=tmp_path, asterisk_prefix=tmp_path, ami_secret="fixed")
    render_asterisk(settings, contributed([SipAgent("1001", "Alice", "old")]))
    etc = render_asterisk(settings, contributed([SipAgent("1003", "Carol", "new")])).parent
    pjsip = read(etc, "pjsip.conf")
    assert "password = new" in pjsip
    assert "1001" not in pjsip
    assert "secret = fixed" in read(etc, "manager.conf")
    assert not list(etc.glob("*.tmp"))


@pytest.mark.parametrize(("bind", "media"), [("127.0.0.1", True), ("192.0.2.10", True), ("0.0.0.0", False)])
def test_rtp_follows_a_specific_bind_address_only(tmp_path: Path, bind: str, media: bool) -> None:
    settings = Settings(var_dir=tmp_path, asterisk_prefix=tmp_path, bind_host=bind, ami_secret="s")
    pjsip = (render_asterisk(settings, contributed([SipAgent("1001", "A", "p")])).parent / "pjsip.conf").read_text()
    assert (f"media_address = {bind}" in pjsip) is media  # an SDP must never offer 0.0.0.0
    assert ("bind_rtp_to_media_address = yes" in pjsip) is media
    assert f"bind = {bind}:" in pjsip


def test_the_ami_session_gets_only_the_events_the_packages_handle(etc: Path) -> None:
    manager = read(etc, "manager.conf")
    filters = [line for line in manager.splitlines() if line.startswith("eventfilter")]
    assert filters == [
        "eventfilter(action(include),name(AgentCalled)) =",
        "eventfilter(action(include),name(Hangup)) =",
    ]
    assert "read = call,agent,user,system\n" in manager  # reading system events (FullyBooted) grants no action
    write = next(line for line in manager.splitlines() if line.startswith("write = "))
    assert write == "write = agent,reporting,originate,call"
    assert "system" not in write.split(" = ", 1)[1].split(",") and "command" not in write  # no MixMonitor, System()


def test_the_assembled_controller_handles_the_events_it_filters_for(controller_parts: object) -> None:
    ami = controller_parts.core.ami  # type: ignore[attr-defined]
    handled = set(ami.handled_events)
    assert {"Newchannel", "Hangup", "AgentCalled", "AgentConnect", "QueueCallerJoin", "UserEvent"} <= handled
    assert {"BridgeEnter", "BridgeLeave"} <= handled  # the recordings' file time
    assert not handled & {"VarSet", "Newexten", "RTCPSent", "DTMFBegin"}


def test_supervisors_phones_and_the_chanspy_context(etc: Path) -> None:
    pjsip = read(etc, "pjsip.conf")
    assert "[1901](agent-endpoint)" in pjsip and "password = pw-sue-9" in pjsip
    dialplan = read(etc, "extensions.conf")
    context = dialplan.split("[hotline-supervise]", 1)[1].split("\n[", 1)[0]
    assert "exten => listen,1,Answer()" in context
    assert "ChanSpy(${HOTLINE_SPY_TARGET}-,qES)" in context
    assert "ChanSpy(${HOTLINE_SPY_TARGET}-,qESw)" in context  # whisper: the agent alone hears
    assert "ChanSpy(${HOTLINE_SPY_TARGET}-,qESB)" in context  # barge: both parties hear


def test_the_desk_context_for_hold_and_transfers(etc: Path) -> None:
    dialplan = read(etc, "extensions.conf")
    context = dialplan.split("[hotline-desk]", 1)[1].split("\n[", 1)[0]
    assert "exten => *21,1,Set(QUEUE_PRIO=${HOTLINE_PRIORITY})\n same => n,Queue(billing,t,,,300)" in context
    assert "exten => *22,1,Set(QUEUE_PRIO=${HOTLINE_PRIORITY})\n same => n,Queue(support,t,,,300)" in context
    assert "exten => _*1X.,1,UserEvent(HotlineTransferOffer,Agent: ${EXTEN:2})" in context
    assert " same => n,Dial(PJSIP/${EXTEN:2},30,t)" in context
    # an outside number leaves the way a callback reaches its customer (acd/routing.yaml)
    assert "exten => _*3X.,1,Dial(PJSIP/carrier/sip:${EXTEN:2}@127.0.0.1:5080,60)" in context
    assert "exten => hold,1,MusicOnHold(default)" in context and "exten => held,1,Wait(3600)" in context


def test_the_dialplan_presets_every_decision_variable_before_the_ivr_runs(etc: Path) -> None:
    """The IVR writes only what differs from these: each must be in place before its AGI, or an earlier pass's
    value (a caller sent back to the IVR) would stand."""
    from hotline.routing import IVR_PRESETS

    dialplan = read(etc, "extensions.conf")
    hotline = dialplan.split("[hotline]\n", 1)[1]
    before_ivr = hotline.split("AGI(agi://127.0.0.1:4599/ivr)", 1)[0]
    assert before_ivr.startswith("; ")  # the context's own lines, up to its IVR
    for var, value in IVR_PRESETS.items():
        assert f"n,Set({var.value}={value})\n" in before_ivr, var
