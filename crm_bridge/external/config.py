"""The adapter's settings: crm_bridge/external/external_crm.toml, or the file named by
``HOTLINE_EXTERNAL_CRM_CONFIG``; validated at load. The token comes from the environment."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator

DEFAULT_CONFIG = Path(__file__).with_name("external_crm.toml")
CONFIG_ENV = "HOTLINE_EXTERNAL_CRM_CONFIG"


class ExternalCrmConfig(BaseModel):
    enabled: bool = False
    base_url: str = Field("http://127.0.0.1:8900/v1", pattern=r"^https?://[^\s/]+(/\S*)?$")
    token_env: str = "HOTLINE_EXTERNAL_CRM_TOKEN"
    token: SecretStr | None = None  # filled from ``token_env`` at load
    lookup_timeout: float = Field(0.5, gt=0, le=10)
    write_timeout: float = Field(3.0, gt=0, le=60)
    cache_ttl: float = Field(60.0, gt=0)
    cache_size: int = Field(10_000, ge=1)
    breaker_failures: int = Field(5, ge=1)
    breaker_cool_down: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _url(self) -> Self:
        self.base_url = self.base_url.rstrip("/")
        return self

    @classmethod
    def load(cls, path: Path | None = None) -> ExternalCrmConfig:
        path = path or Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
        with path.open("rb") as f:
            config = cls.model_validate(tomllib.load(f))
        token = os.environ.get(config.token_env)
        if token and config.token is None:
            config.token = SecretStr(token)
        return config
