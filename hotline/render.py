"""Render ``asterisk-conf/*.j2`` into ``<var>/asterisk-etc`` with the configuration and what the packages
contribute (agents, queues, prompts, the routing contract: ``Plugin.asterisk_context``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hotline.config import Settings
from hotline.runas import Account

TEMPLATES = Path(__file__).resolve().parent.parent / "asterisk-conf"


@dataclass
class SipAgent:
    extension: str
    name: str
    sip_password: str


# what Asterisk writes or reads after dropping root, relative to var/: real directories, or links to where
# Asterisk's user can reach them (hotline/runas.py)
ASTERISK_VAR_DIRS = ["asterisk-etc", "asterisk-lib", "asterisk-spool", "asterisk-run", "log/asterisk", "recordings"]


def asterisk_dirs(settings: Settings) -> dict[str, Path]:
    """Where Asterisk's directories are, as the rest of the code names them (under var/)."""
    v = settings.var_dir
    return {
        "etc": settings.asterisk_etc,
        "varlib": v / "asterisk-lib",
        "spool": v / "asterisk-spool",
        "run": settings.asterisk_run,
        "logdir": settings.log_dir / "asterisk",
    }


def render_asterisk(
    settings: Settings, contributed: dict[str, Any], templates: Path = TEMPLATES, run_as: Account | None = None
) -> Path:
    """Render every template, mode 0600; ``run_as``: the account Asterisk will run as, which then owns the
    configuration (and owns the control socket, root's CLI still connecting)."""
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
        # Asterisk is given real paths: after dropping root it may not be able to go through var/
        "recordings": settings.recordings_dir.resolve(),
        "carrier_matches": [m.strip() for m in settings.carrier_match.split(",") if m.strip()],
        "run_as": run_as,
        **{k: str(p.resolve()) for k, p in dirs.items()},
    }
    etc = dirs["etc"]
    for template in sorted(templates.glob("*.j2")):
        target = etc / template.name.removesuffix(".j2")
        text = env.get_template(template.name).render(**context)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text)
        tmp.chmod(0o600)
        if run_as is not None:
            os.chown(tmp, run_as.uid, run_as.gid)
        tmp.replace(target)
    if run_as is not None:
        os.chown(etc, run_as.uid, run_as.gid)
        etc.chmod(0o700)
    return etc / "asterisk.conf"
