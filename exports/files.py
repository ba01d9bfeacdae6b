"""Writing outputs so that a reader never sees a half-written file, readable by the user alone."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from balance.workspace import PRIVATE_FILE_MODE, make_private_dir


def temporary_sibling(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def replace_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """Write to a hidden sibling, then rename over the target in one step (§4 Outputs)."""
    make_private_dir(target.parent)
    temporary = temporary_sibling(target)
    try:
        write(temporary)
        os.chmod(temporary, PRIVATE_FILE_MODE)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Half-written files left by a run that was killed (never by one still running: the
    workspace lock keeps a second run out)."""
    stale = [path for path in folder.rglob(".*.tmp") if path.is_file()] if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def write_private_text(target: Path, text: str) -> Path:
    return replace_atomically(target, lambda path: path.write_text(text, encoding="utf-8"))
