"""The recording policy: its configuration, and how the dialplan applies it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import Settings
from hotline.render import render_asterisk
from recordings.policy import Policy, RecordingsConfig, RecordingsConfigError, load_config
from tests.unit.test_render import contributed


def test_the_shipped_configuration_loads_and_unknown_queues_take_the_default() -> None:
    config = load_config()
    assert config.policy("complaints") is Policy.all and config.retention_days("complaints") == 365
    assert config.policy("no-such-queue") is config.default.policy
    assert config.retention_days(None) == config.default.retention_days


def test_bad_configurations_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_text("queues:\n  support:\n    policy: sometimes\n")
    with pytest.raises(RecordingsConfigError, match="policy"):
        load_config(bad)
    bad.write_text("queues:\n  a-b: {policy: none}\n  ab: {policy: all}\n")
    with pytest.raises(RecordingsConfigError, match="same dialplan variable"):
        load_config(bad)
    bad.write_text("default: {retention_days: 0}\n")
    with pytest.raises(RecordingsConfigError, match="retention_days"):
        load_config(bad)


def _dialplan(tmp_path: Path, config: RecordingsConfig) -> str:
    settings = Settings(var_dir=tmp_path, asterisk_prefix=tmp_path, agi_port=4599, ami_port=5039)
    etc = render_asterisk(settings, {**contributed([]), **config.template_context()}).parent
    return (etc / "extensions.conf").read_text()


def test_the_dialplan_records_by_each_queues_policy(tmp_path: Path) -> None:
    config = RecordingsConfig.model_validate(
        {
            "default": {"policy": "none"},
            "queues": {"support": {"policy": "all"}, "key-accounts": {"policy": "on_demand"}},
        }
    )
    dialplan = _dialplan(tmp_path, config)
    assert "HOTLINE_REC_support = all\n" in dialplan and "HOTLINE_REC_keyaccounts = on_demand\n" in dialplan
    record = dialplan.split("[hotline-record]\n", 1)[1].split("\n\n", 1)[0]
    assert 'exten => s,1,GotoIf($["${HOTLINE_MIXMON_ID}" != ""]?done)' in record  # once per call
    assert "Set(LOCAL(policy)=${HOTLINE_REC_${FILTER(A-Za-z0-9_,${ARG1})}})" in record
    assert 'ExecIf($["${LOCAL(policy)}" = ""]?Set(LOCAL(policy)=none))' in record  # the default
    assert 'GotoIf($["${LOCAL(policy)}" != "all"]?done)' in record
    assert "MixMonitor(${MONITOR_FILENAME}.wav,bi(HOTLINE_MIXMON_ID))" in record  # bridged audio only
    # on_demand: recorded the same way, into the provisional file the controller keeps (cut) or deletes
    on_demand = record.split('GotoIf($["${LOCAL(policy)}" = "on_demand"]?provisional)', 1)[1]
    assert "same => n(provisional),Set(HOTLINE_MIXMON_POLICY=on_demand)\n" in on_demand
    assert " same => n,MixMonitor(${MONITOR_FILENAME}.provisional.wav,bi(HOTLINE_MIXMON_ID))\n" in on_demand
    assert record.count("MixMonitor(") == 2 and "Set(HOTLINE_MIXMON_POLICY=all)" in record
    queue_side = dialplan.split("[hotline-queue]", 1)[1].split("\n[", 1)[0]
    gosub = queue_side.index("Gosub(hotline-record,s,1(${HOTLINE_QUEUE}))")
    assert gosub < queue_side.index("Queue(direct-") < queue_side.index("Queue(${HOTLINE_QUEUE}")
    callback = dialplan.split("\n[hotline-callback]\n", 1)[1].split("\n[", 1)[0]
    assert "Gosub(hotline-record,s,1(${HOTLINE_CALLBACK_QUEUE}))" in callback and "MixMonitor(" not in callback
