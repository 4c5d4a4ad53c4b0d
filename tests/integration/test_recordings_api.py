"""Recordings' routes over the real database: the catalogue, the audio, and what they refuse."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

import recordings.routes
from hotline.app import install_error_handler
from hotline.auth import issue_token
from hotline.db import Database
from recordings.models import Recording

KEY = b"k"


async def test_audio_is_served_and_bad_ids_are_refused(db: Database, tmp_path: Path) -> None:
    (tmp_path / "2026/11/23").mkdir(parents=True)
    (tmp_path / "2026/11/23/1.1.wav").write_bytes(b"RIFF....WAVE")
    async with db.session() as s:
        s.add_all(
            [
                Recording(call_id="1.1", path="2026/11/23/1.1.wav", duration_seconds=1, size_bytes=12, sha256="x"),
                Recording(call_id="1.2", path="2026/11/23/gone.wav", duration_seconds=1, size_bytes=12, sha256="y"),
                Recording(call_id="1.3", path="../../etc/passwd", duration_seconds=1, size_bytes=12, sha256="z"),
            ]
        )
        await s.commit()
    app = FastAPI()
    install_error_handler(app)
    app.include_router(recordings.routes.build_router(db, tmp_path, KEY))
    headers = {"Authorization": f"Bearer {issue_token(KEY, '1001')}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/api/recordings")).status_code == 401
        listed = (await client.get("/api/recordings", headers=headers)).json()
        assert [r["call_id"] for r in listed] == ["1.3", "1.2", "1.1"]
        r = await client.get("/api/recordings/1/audio", headers=headers)
        assert r.status_code == 200 and r.content == b"RIFF....WAVE"
        r = await client.get("/api/recordings/2/audio", headers=headers)
        assert r.status_code == 404 and "missing" in r.json()["message"]
        r = await client.get("/api/recordings/3/audio", headers=headers)  # outside the recordings directory
        assert r.status_code == 404
        assert (await client.get("/api/recordings/99/audio", headers=headers)).status_code == 404
        assert (await client.get("/api/recordings/99999999999/audio", headers=headers)).status_code == 422
        assert (await client.get("/api/recordings/0/audio", headers=headers)).status_code == 422
