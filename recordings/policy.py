"""The recordings configuration (``recordings.yaml``): policy and retention per queue, transcoding and
transcription settings, validated at load.

The dialplan applies the policy: each queue's policy is rendered into a global variable
(``HOTLINE_REC_<queue, letters digits and _ only>``) that the ``hotline-record`` subroutine reads before
the caller joins a queue. ``all`` starts MixMonitor into ``<call>.wav``; ``on_demand`` starts it into
``<call>.provisional.wav``, kept (trimmed to the desk's "record") only if the agent asks for it during the
call and deleted otherwise; ``none`` is never recorded. The controller's AMI user cannot start MixMonitor
(that action needs the ``system`` write class, which it does not hold).
"""

from __future__ import annotations

import enum
import os
import re
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

DEFAULT_CONFIG = Path(__file__).with_name("recordings.yaml")
CONFIG_ENV = "HOTLINE_RECORDINGS_CONFIG"
RECORD_CONTEXT = "hotline-record"  # the dialplan subroutine that starts MixMonitor by the queue's policy
POLICY_VAR_PREFIX = "HOTLINE_REC_"
MIXMON_ID_VAR = "HOTLINE_MIXMON_ID"  # MixMonitor's i() option: set once a recording runs on the channel
MIXMON_POLICY_VAR = "HOTLINE_MIXMON_POLICY"  # the policy the running recording was started under
PROVISIONAL_SUFFIX = ".provisional.wav"  # an on-demand call's file until the desk asks to keep it


class Policy(enum.StrEnum):
    all = "all"
    none = "none"
    on_demand = "on_demand"


class QueueRecording(BaseModel):
    policy: Policy = Policy.all
    retention_days: int = Field(90, ge=1, le=3650)


class Transcode(BaseModel):
    bitrate_kbps: int = Field(16, ge=6, le=128)
    timeout_s: float = Field(120.0, gt=0, le=3600)


class Transcription(BaseModel):
    enabled: bool = True
    language: Literal["en", "ko"] = "en"
    every_s: float = Field(30.0, gt=0, le=86400)
    timeout_s: float = Field(600.0, gt=0, le=7200)
    nice: int = Field(15, ge=0, le=19)


def dialplan_name(queue: str) -> str:
    """A queue's name as a dialplan variable suffix (what ``${FILTER(A-Za-z0-9_,…)}`` keeps)."""
    return re.sub(r"[^A-Za-z0-9_]", "", queue)


class RecordingsConfig(BaseModel):
    default: QueueRecording = QueueRecording()
    queues: dict[str, QueueRecording] = {}
    transcode: Transcode = Transcode()
    transcription: Transcription = Transcription()
    purge_every_s: float = Field(3600.0, gt=0, le=86400)

    @model_validator(mode="after")
    def _distinct_names(self) -> Self:
        seen: dict[str, str] = {}
        for queue in self.queues:
            name = dialplan_name(queue)
            if not name:
                raise ValueError(f"queue {queue!r} has no letter or digit")
            if name in seen:
                raise ValueError(f"queues {seen[name]!r} and {queue!r} read the same dialplan variable")
            seen[name] = queue
        return self

    def for_queue(self, queue: str | None) -> QueueRecording:
        return self.queues.get(queue or "", self.default)

    def policy(self, queue: str | None) -> Policy:
        return self.for_queue(queue).policy

    def retention_days(self, queue: str | None) -> int:
        return self.for_queue(queue).retention_days

    def template_context(self, queues: frozenset[str] | None = None) -> dict[str, Any]:
        """The dialplan's view: each known queue's policy, and the default for any other."""
        names = sorted(set(queues or ()) | set(self.queues))
        return {
            "recording": {
                "context": RECORD_CONTEXT,
                "var_prefix": POLICY_VAR_PREFIX,
                "id_var": MIXMON_ID_VAR,
                "policy_var": MIXMON_POLICY_VAR,
                "provisional_suffix": PROVISIONAL_SUFFIX,
                "default": self.default.policy.value,
                "policies": {dialplan_name(q): self.policy(q).value for q in names},
            }
        }


class RecordingsConfigError(ValueError):
    pass


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: Path | None = None) -> RecordingsConfig:
    path = path or config_path()
    try:
        with path.open(encoding="utf-8") as f:
            return RecordingsConfig.model_validate(yaml.safe_load(f) or {})
    except (OSError, yaml.YAMLError, ValidationError) as e:
        raise RecordingsConfigError(f"{path}: {e}") from e
