"""Recordings' routes over the real database: the catalogue, the audio, and what they refuse."""

from __future__ import annotations

from pathlib import Path

from hotline.db import Database
from recordings.models import Recording
from tests.integration.appkit import app_kit


async def test_audio_is_served_and_bad_ids_are_refused(db: Database, pg_url: str, tmp_path: Path) -> None:
    async with app_kit(pg_url, tmp_path) as kit:
        async with db.session() as s:
            s.add_all(
                [
                    Recording(call_id="1.2", path="2026/11/23/gone.wav", duration_seconds=1, size_bytes=12, sha256="y"),
                    Recording(call_id="1.3", path="../../etc/passwd", duration_seconds=1, size_bytes=12, sha256="z"),
                ]
            )
            await s.commit()
        client, headers = kit.client, await kit.login("demo-admin")
        assert (await client.get("/api/recordings")).status_code == 401
        listed = (await client.get("/api/recordings", headers=headers)).json()
        assert [r["call_id"] for r in listed] == ["1.3", "1.2", "c3", "c2", "c1"]
        r = await client.get("/api/recordings/1/audio", headers=headers)
        assert r.status_code == 200 and r.content == b"RIFFc1WAVE"
        assert r.headers["content-disposition"].startswith("inline")
        r = await client.get("/api/recordings/1/audio", headers=headers, params={"download": "true"})
        assert r.headers["content-disposition"].startswith("attachment")
        r = await client.get("/api/recordings/4/audio", headers=headers)
        assert r.status_code == 404 and "missing" in r.json()["message"]
        r = await client.get("/api/recordings/5/audio", headers=headers)  # outside the recordings directory
        assert r.status_code == 404
        assert (await client.get("/api/recordings/99/audio", headers=headers)).status_code == 404
        assert (await client.get("/api/recordings/99999999999/audio", headers=headers)).status_code == 422
        assert (await client.get("/api/recordings/0/audio", headers=headers)).status_code == 422
