"""Demo versus production: what each mode loads, and a production start without an admin refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from acd.models import Agent
from crm_bridge.models import Customer
from hotline.auth.bootstrap import StartRefused
from hotline.auth.models import User
from hotline.config import Settings
from hotline.db import Database
from hotline.stack import banner, prepare_accounts

CHEAP = {"argon2_time_cost": 1, "argon2_memory_cost": 8192}


def _settings(tmp_path: Path, pg_url: str, **kw: object) -> Settings:
    return Settings(var_dir=tmp_path, database_url=pg_url, **(CHEAP | kw))  # type: ignore[arg-type]


async def _users(db: Database) -> dict[str, User]:
    async with db.session() as s:
        return {u.username: u for u in (await s.execute(select(User))).scalars()}


async def test_production_loads_no_demo_data_and_needs_an_admin_password(
    db: Database, pg_url: str, tmp_path: Path
) -> None:
    with pytest.raises(StartRefused, match="HOTLINE_ADMIN_PASSWORD"):
        await prepare_accounts(db, _settings(tmp_path, pg_url, mode="production"))
    assert await _users(db) == {}
    async with db.session() as s:
        assert list((await s.execute(select(Customer))).scalars()) == []
        assert list((await s.execute(select(Agent))).scalars()) == []
    with pytest.raises(ValidationError, match="at least 12"):
        _settings(tmp_path, pg_url, mode="production", admin_password="short")

    done = await prepare_accounts(db, _settings(tmp_path, pg_url, mode="production", admin_password="x" * 12))
    assert "created" in done
    admin = (await _users(db))["admin"]
    assert admin.roles == ["admin"] and not admin.demo and not admin.disabled
    assert admin.password_hash.startswith("$argon2id$")
    # later starts need no password: an enabled admin exists
    await prepare_accounts(db, _settings(tmp_path, pg_url, mode="production"))


async def test_production_disables_users_left_from_a_demo_run(db: Database, pg_url: str, tmp_path: Path) -> None:
    await prepare_accounts(db, _settings(tmp_path, pg_url, mode="demo"))
    users = await _users(db)
    assert {"1001", "1010", "demo-supervisor", "demo-admin"} <= set(users)
    assert all(u.demo and not u.disabled for u in users.values())
    async with db.session() as s:
        agents = {a.extension: a for a in (await s.execute(select(Agent))).scalars()}
    assert agents["1001"].user_id == users["1001"].id and agents["1001"].sip_password == "sip1001"

    # the demo admin does not count as production's admin: refused, and the demo users are disabled
    with pytest.raises(StartRefused):
        await prepare_accounts(db, _settings(tmp_path, pg_url, mode="production"))
    assert all(u.disabled for u in (await _users(db)).values())
    await prepare_accounts(db, _settings(tmp_path, pg_url, mode="production", admin_password="a" * 16))
    users = await _users(db)
    assert not users["admin"].disabled and all(u.disabled for n, u in users.items() if n != "admin")

    await prepare_accounts(db, _settings(tmp_path, pg_url, mode="demo"))  # demo again: demo users work again
    assert not (await _users(db))["1001"].disabled


def test_banner_says_demo_mode_loudly_and_production_does_not_show_demo_passwords(tmp_path: Path) -> None:
    demo = banner(Settings(var_dir=tmp_path))
    assert "DEMO MODE" in demo and "agent1001" in demo and "sip1001" in demo and "demo-admin" in demo
    production = banner(Settings(var_dir=tmp_path, mode="production"))
    assert "DEMO" not in production and "agent1001" not in production and "sip" not in production


def test_production_start_without_admin_password_exits_non_zero(db: Database, pg_url: str, tmp_path: Path) -> None:
    fake_asterisk = tmp_path / "asterisk" / "sbin" / "asterisk"
    fake_asterisk.parent.mkdir(parents=True)
    fake_asterisk.write_text("")  # prepare checks it exists before it reaches the accounts
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")} | {
        "HOTLINE_MODE": "production",
        "HOTLINE_VAR_DIR": str(tmp_path / "var"),
        "HOTLINE_ASTERISK_PREFIX": str(tmp_path / "asterisk"),
        "DATABASE_URL": pg_url,
    }
    run = subprocess.run(
        [sys.executable, "-m", "hotline.cli", "prepare"], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "refusing to start" in run.stderr and "HOTLINE_ADMIN_PASSWORD" in run.stderr
