"""Shared fixtures: the demo household built once per session, and private copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import copy_demo_sources, invoke


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory) -> Path:
    """The demo household after one `balance run`. Read it; never change it."""
    workspace = copy_demo_sources(tmp_path_factory.mktemp("built") / "demo")
    result = invoke("run", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return workspace


@pytest.fixture
def demo_copy(built_demo: Path, tmp_path: Path) -> Path:
    """A private copy of the built demo (warehouse and outputs included), free to change."""
    return Path(shutil.copytree(built_demo, tmp_path / "demo"))
