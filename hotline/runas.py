"""Asterisk as an unprivileged system user.

Started by root with ``-U user -G group``, Asterisk reads ``asterisk.conf`` as root and then drops its
privileges; from then on it must be able to read its configuration and write its own directories, and
nobody else should read its configuration (SIP passwords, the AMI secret). So the set-up creates the user
(a system account with its own group, no home, no shell), gives it its directories, and, when the work
tree is not traversable by it (a clone under /root, a 0700 temporary directory), moves those directories
to ``/var/tmp/hotline-ast-<key>`` and leaves symlinks in ``var/``: paths in the rest of the code stay
``var/...``, and the paths Asterisk is given are resolved through the links.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hotline.logs import get_logger

log = get_logger(__name__)

RELOCATED_BASE = Path("/var/tmp")


class RunAsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Account:
    user: str
    group: str
    uid: int
    gid: int


def ensure_account(user: str) -> Account:
    """The system user (and its group) Asterisk runs as, created if missing. Needs root to create."""
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        log.info("creating system user for Asterisk", user=user)
        r = subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "hotline Asterisk",
                user,
            ],
            capture_output=True,
            text=True,
        )
        if r.returncode not in (0, 9):  # 9: created meanwhile by another set-up
            raise RunAsError(f"useradd {user} failed: {r.stderr.strip()}") from None
        pw = pwd.getpwnam(user)
    return Account(user, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_uid, pw.pw_gid)


def asterisk_account(user: str) -> Account | None:
    """The account to run Asterisk as: only when we are root and a user is configured."""
    if os.geteuid() != 0 or not user:
        return None
    return ensure_account(user)


def reachable_by(path: Path, user: str) -> bool:
    """Can ``user`` traverse to ``path``? Asked of the system itself (ACLs, groups and all)."""
    r = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(path)], capture_output=True)
    return r.returncode == 0


def relocated_home(var_dir: Path) -> Path:
    key = hashlib.sha1(str(var_dir).encode()).hexdigest()[:12]
    return RELOCATED_BASE / f"hotline-ast-{key}"


def place_dirs(var_dir: Path, names: list[str], account: Account) -> dict[str, Path]:
    """Make ``var/<name>`` for each name reachable by the account: the directory itself when ``var/`` is
    reachable, else a symlink to a directory under ``/var/tmp/hotline-ast-<key>`` (existing links are
    kept). Returns each name's real directory."""
    var_dir.mkdir(parents=True, exist_ok=True)
    relocate = not reachable_by(var_dir, account.user)
    home = relocated_home(var_dir)
    if relocate:
        home.mkdir(mode=0o755, parents=True, exist_ok=True)
        home.chmod(0o755)
    placed: dict[str, Path] = {}
    for name in names:
        link = var_dir / name
        if relocate and not link.is_symlink():
            target = home / name
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            if link.is_dir():
                if target.exists():
                    raise RunAsError(f"both {link} and {target} exist: move one away")
                shutil.move(str(link), str(target))  # a tree made before Asterisk ran unprivileged
            target.mkdir(parents=True, exist_ok=True)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target, target_is_directory=True)
            log.info("Asterisk directory relocated: its user cannot reach var/", link=str(link), target=str(target))
        link.mkdir(parents=True, exist_ok=True)
        placed[name] = link.resolve()
    return placed


def give(path: Path, account: Account, private: bool = False) -> None:
    """Own ``path`` and everything under it by the account (symlinks are not followed); ``private``:
    directories 0700 and files 0600."""
    for root, dirs, files in os.walk(path.resolve()):
        for entry in [root, *(os.path.join(root, n) for n in (*dirs, *files))]:
            st = os.lstat(entry)
            if (st.st_uid, st.st_gid) != (account.uid, account.gid):
                os.lchown(entry, account.uid, account.gid)
            if private and not os.path.islink(entry):
                os.chmod(entry, 0o700 if os.path.isdir(entry) else 0o600)


def make_readable(path: Path) -> None:
    """Directories 0755 and files 0644 under ``path``: what Asterisk only reads (the prompts)."""
    for root, _, files in os.walk(path.resolve()):
        os.chmod(root, 0o755)
        for name in files:
            entry = os.path.join(root, name)
            if not os.path.islink(entry):
                os.chmod(entry, 0o644)
