"""The controller's real HTTP app over the real database, AMI faked at its boundary, cheap argon2.

Built by ``Controller.build_api`` (every route of the product, declared as in production); the
lifespan is not run, so nothing connects to Asterisk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from cms.models import Interaction
from hotline.ami import AmiActionError, AmiUnavailable
from hotline.app import Controller
from hotline.auth import Passwords, Role
from hotline.config import Settings
from hotline.db import Database
from hotline.demo import load_demo_data
from recordings.models import Recording

CHEAP = {"argon2_time_cost": 1, "argon2_memory_cost": 8192}
OTHER_QUEUE = "billing"
PASSWORDS = {"1001": "agent1001", "1002": "agent1002", "demo-supervisor": "demo-supervisor", "demo-admin": "demo-admin"}
OTHER_SUPERVISOR = ("sup-billing", "billing-supervisor-pw")


class FakeAmi:
    def __init__(self) -> None:
        self.connected = True
        self.actions: list[dict[str, Any]] = []
        self.members: list[str] = []
        self.refuse: dict[str, str] = {}

    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
        if not self.connected:
            raise AmiUnavailable("down")
        self.actions.append({"Action": name, **{k: v for k, v in fields.items() if v is not None}})
        if name in self.refuse:
            raise AmiActionError(name, self.refuse[name])
        if name == "QueueStatus":
            return {"Response": "Success", "events": [{"Event": "QueueMember", "Location": m} for m in self.members]}
        return {"Response": "Success"}


@dataclass
class Kit:
    app: FastAPI
    client: httpx.AsyncClient
    controller: Controller
    ami: FakeAmi
    recordings: Path

    async def login(self, username: str, password: str | None = None) -> dict[str, str]:
        r = await self.client.post(
            "/api/session", json={"username": username, "password": password or PASSWORDS[username]}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}


async def seed_calls(db: Database, recordings: Path) -> None:
    """c1: agent 1001 in support; c2: agent 1002 in support; c3: agent 1002 in billing. A recording each."""
    at = datetime(2026, 11, 24, 9, tzinfo=UTC)
    (recordings / "2026/11/24").mkdir(parents=True, exist_ok=True)
    async with db.session() as s:
        for call_id, agent, queue in (
            ("c1", "1001", "support"),
            ("c2", "1002", "support"),
            ("c3", "1002", OTHER_QUEUE),
        ):
            s.add(Interaction(call_id=call_id, agent=agent, queue=queue, started_at=at, outcome="answered"))
            (recordings / f"2026/11/24/{call_id}.wav").write_bytes(b"RIFF" + call_id.encode() + b"WAVE")
            s.add(
                Recording(
                    call_id=call_id,
                    path=f"2026/11/24/{call_id}.wav",
                    agent=agent,
                    queue=queue,
                    duration_seconds=1,
                    size_bytes=10,
                    sha256="x",
                )
            )
        await s.commit()


@asynccontextmanager
async def app_kit(pg_url: str, tmp_path: Path, **settings: Any) -> AsyncIterator[Kit]:
    s = Settings(var_dir=tmp_path, database_url=pg_url, **(CHEAP | settings))
    controller = Controller(s)
    ami = FakeAmi()
    controller.plugin("acd").agents.ami = ami  # type: ignore[attr-defined]
    passwords = Passwords(controller.auth.passwords.cost)
    await load_demo_data(controller.db, passwords)
    await controller.auth.accounts.create(
        OTHER_SUPERVISOR[0], "Billing Supervisor", OTHER_SUPERVISOR[1], [Role.supervisor], [OTHER_QUEUE]
    )
    s.recordings_dir.mkdir(parents=True, exist_ok=True)
    await seed_calls(controller.db, s.recordings_dir)
    app = controller.build_api()
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 50000))
    await controller.core.outbox.start()  # records (agent states, …) reach the database as in production
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield Kit(app, client, controller, ami, s.recordings_dir)
    finally:
        await controller.core.outbox.stop()
        await controller.db.close()
