"""A controller assembled (not started) for tests that need the packages wired together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from hotline.app import Controller
from hotline.config import Settings


@pytest.fixture
def controller_parts(tmp_path: Path) -> Iterator[SimpleNamespace]:
    settings = Settings(var_dir=tmp_path, ami_secret="x")
    controller = Controller(settings)
    yield SimpleNamespace(core=controller.core, controller=controller, cti=controller.plugin("cti"))
