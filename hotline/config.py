"""The one configuration object: defaults, then a TOML file, then ``HOTLINE_*`` environment variables.

The file is ``$HOTLINE_CONFIG`` if set, else ``hotline.toml`` in the working directory if present.
``DATABASE_URL`` (without prefix) is honoured too, so an existing PostgreSQL can be used.
Secrets that the set-up generates (AMI secret, token key) live in ``<var_dir>/secrets.json``
and are read from there unless given explicitly.
"""

from __future__ import annotations

import json
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _config_file() -> Path | None:
    explicit = os.environ.get("HOTLINE_CONFIG")
    if explicit:
        return Path(explicit)
    default = Path("hotline.toml")
    return default if default.exists() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="forbid", validate_default=True)

    # where everything the running system writes lives
    var_dir: Path = Path("var")
    asterisk_prefix: Path | None = None  # default: <var_dir>/asterisk (linked by the build script)

    # network: everything on loopback unless told otherwise
    bind_host: str = "127.0.0.1"
    http_port: int = 8080
    agi_port: int = 4573
    ami_port: int = 5038
    sip_port: int = 5060
    rtp_start: int = 10000
    rtp_end: int = 10999
    pg_port: int = 5433

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("HOTLINE_DATABASE_URL", "DATABASE_URL", "database_url")
    )

    # telephony
    hotline_number: str = "11183"
    carrier_match: str = "127.0.0.1"  # source address(es) identifying the carrier trunk
    support_queue: str = "support"
    queue_timeout: int = 300  # seconds a caller waits before being offered voicemail
    ami_username: str = "hotline"
    ami_secret: str | None = None
    lookup_timeout: float = 1.5  # the IVR never waits longer than this for the CRM
    # the system user (and its group) Asterisk drops root to; created by the set-up. "" keeps the user
    # that starts it (and a non-root start always does)
    asterisk_user: str = "hotline-ast"

    # demo: known demo users and customers, said loudly on screen; production: none of it, and an admin
    mode: Literal["demo", "production"] = "demo"
    admin_username: str = "admin"
    admin_password: SecretStr | None = None  # HOTLINE_ADMIN_PASSWORD: creates/sets the admin in production
    argon2_time_cost: int = Field(3, ge=1, le=20)
    argon2_memory_cost: int = Field(65536, ge=8192, le=4 * 1024 * 1024)  # KiB
    argon2_parallelism: int = Field(1, ge=1, le=16)
    session_ttl: int = Field(12 * 3600, ge=60, le=30 * 24 * 3600)  # seconds
    login_failures_per_user: int = Field(5, ge=1)
    login_failures_per_address: int = Field(20, ge=1)
    login_window: int = Field(300, ge=1)  # seconds
    agents_hear_own_recordings: bool = True

    # records wait this long in the outbox for others before one transaction takes them all (they are safe on
    # disk meanwhile): longer means fewer, larger transactions and a later row in PostgreSQL
    outbox_linger: float = Field(2.0, ge=0, le=5)

    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("http_port", "agi_port", "ami_port", "sip_port", "rtp_start", "rtp_end", "pg_port")
    @classmethod
    def _port(cls, v: int) -> int:
        if not 1 <= v <= 65535:
            raise ValueError(f"port {v} is not in 1-65535")
        return v

    @field_validator("hotline_number")
    @classmethod
    def _number(cls, v: str) -> str:
        if not v.isdigit():
            raise ValueError("hotline_number must be digits")
        return v

    @field_validator("admin_password")
    @classmethod
    def _admin_password(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) < 12:
            raise ValueError("the admin password must have at least 12 characters")
        return v

    @model_validator(mode="after")
    def _ranges(self) -> Settings:
        if self.rtp_end <= self.rtp_start:
            raise ValueError("rtp_end must be above rtp_start")
        ports = [self.http_port, self.agi_port, self.ami_port, self.sip_port, self.pg_port]
        if len(set(ports)) != len(ports):
            raise ValueError(f"ports must differ: {ports}")
        self.var_dir = self.var_dir.absolute()
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # derived paths
    @property
    def asterisk_dir(self) -> Path:
        return self.asterisk_prefix or self.var_dir / "asterisk"

    @property
    def asterisk_etc(self) -> Path:
        return self.var_dir / "asterisk-etc"

    @property
    def asterisk_run(self) -> Path:
        return self.var_dir / "asterisk-run"

    @property
    def recordings_dir(self) -> Path:
        return self.var_dir / "recordings"

    @property
    def prompts_dir(self) -> Path:
        # resolved: these paths are handed to Asterisk, which may not reach var/ (see hotline/runas.py)
        return (self.var_dir / "prompts").resolve()

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def queue_log_path(self) -> Path:
        """Asterisk's queue_log (astlogdir, see render.asterisk_dirs, and logger.conf's queue_log_name)."""
        return self.log_dir / "asterisk" / "queue_log"

    @property
    def outbox_path(self) -> Path:
        return self.var_dir / "outbox.sqlite3"

    @cached_property
    def secrets(self) -> dict[str, str]:
        return load_or_create_secrets(self.var_dir)

    @property
    def ami_password(self) -> str:
        return self.ami_secret or self.secrets["ami_secret"]

    @property
    def db_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+asyncpg://" + url.split("://", 1)[1]
            return url
        return f"postgresql+asyncpg://hotline@127.0.0.1:{self.pg_port}/hotline"

    @property
    def uses_local_cluster(self) -> bool:
        return self.database_url is None


def load_or_create_secrets(var_dir: Path) -> dict[str, str]:
    """Secrets generated once per installation and kept (mode 0600) under var/."""
    path = var_dir / "secrets.json"
    data: dict[str, Any] = {}
    if path.exists():
        data = json.loads(path.read_text())
    changed = False
    for key in ("ami_secret",):
        if not data.get(key):
            data[key] = secrets.token_urlsafe(24)
            changed = True
    if changed:
        var_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others, even briefly
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(data, indent=1))
        tmp.replace(path)
    return data


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
