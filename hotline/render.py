"""Render ``asterisk-conf/*.j2`` into ``<var>/asterisk-etc`` with the configuration and what the packages
contribute (agents, queues, prompts, the routing contract: ``Plugin.asterisk_context``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hotline.config import Settings

TEMPLATES = Path(__file__).resolve().parent.parent / "asterisk-conf"


@dataclass
class SipAgent:
    extension: str
    name: str
    sip_password: str


def asterisk_dirs(settings: Settings) -> dict[str, Path]:
    v = settings.var_dir
    return {
        "etc": settings.asterisk_etc,
        "varlib": v / "asterisk-lib",
        "spool": v / "asterisk-spool",
        "run": settings.asterisk_run,
        "logdir": settings.log_dir / "asterisk",
    }


def render_asterisk(settings: Settings, contributed: dict[str, Any], templates: Path = TEMPLATES) -> Path:
    dirs = asterisk_dirs(settings)
    for d in (
        *dirs.values(),
        dirs["varlib"] / "keys",
        dirs["logdir"] / "cdr-csv",
        dirs["logdir"] / "cdr-custom",
        dirs["logdir"] / "cel-custom",
        settings.recordings_dir,
    ):
        d.mkdir(parents=True, exist_ok=True)
    env = Environment(
        loader=FileSystemLoader(templates), undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    context = {
        "s": settings,
        "prefix": settings.asterisk_dir.resolve(),
        **contributed,
        "ami_secret": settings.ami_password,
        "recordings": settings.recordings_dir,
        "carrier_matches": [m.strip() for m in settings.carrier_match.split(",") if m.strip()],
        **{k: str(p) for k, p in dirs.items()},
    }
    etc = dirs["etc"]
    for template in sorted(templates.glob("*.j2")):
        target = etc / template.name.removesuffix(".j2")
        text = env.get_template(template.name).render(**context)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text)
        tmp.chmod(0o600)
        tmp.replace(target)
    return etc / "asterisk.conf"
