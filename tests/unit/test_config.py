"""Settings: defaults, TOML file, environment, validation, generated secrets."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from hotline.config import Settings, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No HOTLINE_* or DATABASE_URL from the outside, and no hotline.toml in the working directory."""
    for name in list(os.environ):
        if name.upper().startswith("HOTLINE_") or name.upper() == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults(tmp_path: Path) -> None:
    s = Settings()
    assert (s.http_port, s.agi_port, s.ami_port, s.sip_port, s.pg_port) == (8080, 4573, 5038, 5060, 5433)
    assert s.bind_host == "127.0.0.1"
    assert s.hotline_number == "11183"
    assert s.var_dir == tmp_path / "var"
    assert s.var_dir.is_absolute()
    assert s.asterisk_dir == s.var_dir / "asterisk"
    assert s.asterisk_etc == s.var_dir / "asterisk-etc"
    assert s.db_url == "postgresql+asyncpg://hotline@127.0.0.1:5433/hotline"
    assert s.uses_local_cluster


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_HTTP_PORT", "9000")
    monkeypatch.setenv("HOTLINE_LOOKUP_TIMEOUT", "0.25")
    s = load_settings()
    assert s.http_port == 9000
    assert s.lookup_timeout == 0.25
    assert load_settings(http_port=9100).http_port == 9100  # explicit arguments win


@pytest.mark.parametrize(
    "overrides",
    [
        {"http_port": 0},
        {"agi_port": 70000},
        {"ami_port": -1},
        {"agi_port": 8080},
        {"pg_port": 5060},
        {"rtp_start": 20000, "rtp_end": 20000},
        {"hotline_number": "111-83"},
        {"no_such_setting": 1},
    ],
)
def test_invalid_settings_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**overrides)  # type: ignore[arg-type]


def test_invalid_port_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_HTTP_PORT", "99999")
    with pytest.raises(ValidationError, match="not in 1-65535"):
        Settings()


def test_duplicate_ports_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AMI_PORT", "4573")
    with pytest.raises(ValidationError, match="ports must differ"):
        Settings()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@db:5432/calls", "postgresql+asyncpg://u:p@db:5432/calls"),
        ("postgresql://u@db/calls", "postgresql+asyncpg://u@db/calls"),
        ("postgresql+asyncpg://u@db/calls", "postgresql+asyncpg://u@db/calls"),
    ],
)
def test_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch, url: str, expected: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    s = Settings()
    assert s.db_url == expected
    assert not s.uses_local_cluster


def test_prefixed_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgres://h/x")
    assert Settings().db_url == "postgresql+asyncpg://h/x"


def test_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text('http_port = 9090\nhotline_number = "95338"\nagi_port = 4600\n')
    monkeypatch.setenv("HOTLINE_CONFIG", str(path))
    monkeypatch.setenv("HOTLINE_AGI_PORT", "4700")
    s = Settings()
    assert s.http_port == 9090
    assert s.hotline_number == "95338"
    assert s.agi_port == 4700  # the environment wins over the file


def test_hotline_toml_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "hotline.toml").write_text("sip_port = 5070\n")
    assert Settings().sip_port == 5070


def test_invalid_toml_value_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("http_port = 123456\n")
    monkeypatch.setenv("HOTLINE_CONFIG", str(path))
    with pytest.raises(ValidationError):
        Settings()


def test_secrets_are_created_private_and_stable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    var = tmp_path / "state"
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(var))
    first = Settings()
    assert first.var_dir == var
    ami = first.ami_password
    assert len(ami) >= 24
    path = var / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Settings()
    assert again.ami_password == ami
    assert not (var / "secrets.tmp").exists()


def test_explicit_secrets_win(tmp_path: Path) -> None:
    s = Settings(var_dir=tmp_path, ami_secret="given")
    assert s.ami_password == "given"


def test_missing_secret_is_added_to_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text("{}")
    s = Settings(var_dir=tmp_path)
    assert s.ami_password
    assert Settings(var_dir=tmp_path).ami_password == s.ami_password
