"""Asterisk's directories: moved out of a var/ its user cannot reach, linked back, owned by it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hotline import runas
from hotline.runas import Account, give, place_dirs

ME = Account("me", "me", os.getuid(), os.getgid())


def test_unreachable_var_is_linked_to_a_relocated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runas, "RELOCATED_BASE", tmp_path / "vartmp")
    monkeypatch.setattr(runas, "reachable_by", lambda path, user: False)
    var = tmp_path / "var"
    (var / "recordings" / "2026").mkdir(parents=True)  # made before Asterisk ran unprivileged: moved over
    (var / "recordings" / "2026" / "a.wav").write_bytes(b"RIFF")

    placed = place_dirs(var, ["asterisk-etc", "log/asterisk", "recordings"], ME)

    home = runas.relocated_home(var)
    assert home.parent == tmp_path / "vartmp" and stat.S_IMODE(home.stat().st_mode) == 0o755
    for name in ("asterisk-etc", "log/asterisk", "recordings"):
        assert (var / name).is_symlink() and placed[name] == home / name and (home / name).is_dir()
    assert (var / "recordings" / "2026" / "a.wav").read_bytes() == b"RIFF"
    assert place_dirs(var, ["recordings"], ME)["recordings"] == home / "recordings"  # idempotent


def test_reachable_var_keeps_real_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runas, "reachable_by", lambda path, user: True)
    placed = place_dirs(tmp_path / "var", ["asterisk-run"], ME)
    assert placed["asterisk-run"] == (tmp_path / "var" / "asterisk-run").resolve()
    assert not (tmp_path / "var" / "asterisk-run").is_symlink()


def test_give_private_makes_configuration_readable_by_its_owner_only(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir(mode=0o755)
    (etc / "pjsip.conf").write_text("password = x")
    (etc / "pjsip.conf").chmod(0o644)
    give(etc, ME, private=True)
    assert stat.S_IMODE(etc.stat().st_mode) == 0o700
    assert stat.S_IMODE((etc / "pjsip.conf").stat().st_mode) == 0o600
    assert (etc / "pjsip.conf").stat().st_uid == ME.uid
