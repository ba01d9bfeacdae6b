"""Writing outputs so that a reader never sees a half-written file, readable by the user alone."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from core.workspace import PRIVATE_FILE_MODE, make_private_dir


def file_state(path: Path) -> list[int] | None:
    """A file's inode, size and change times (ns), None when it is gone: a save rewrites or
    replaces the file, and no program can set the change time back."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


def temporary_sibling(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


# Called with the target just before the final rename: lets a test make the world change at
# that moment (a spreadsheet program opening the file), where a sleep would only make it likely.
before_final_rename: list[Callable[[Path], None]] = []


def replace_atomically(
    target: Path,
    write: Callable[[Path], None],
    divert: Callable[[], Path | None] = lambda: None,
) -> Path:
    """Write to a hidden sibling, then rename over the target in one step.

    `divert`, asked at the last moment before the rename, may name another destination: the
    target is then left as it is. Returns where the file went.
    """
    make_private_dir(target.parent)
    temporary = temporary_sibling(target)
    try:
        write(temporary)
        os.chmod(temporary, PRIVATE_FILE_MODE)
        for hook in before_final_rename:
            hook(target)
        destination = divert() or target
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
    return destination


def move_aside(path: Path, why: str, now: dt.datetime) -> Path:
    """Rename path to `<stem>.<why>-<UTC time><suffix>` beside itself, keeping a file that is
    about to be replaced; returns the new path."""
    stamp = f"{now:%Y%m%dT%H%M%S}Z"
    target = path.with_name(f"{path.stem}.{why}-{stamp}{path.suffix}")
    attempt = 1
    while target.exists():  # set aside twice within a second
        attempt += 1
        target = path.with_name(f"{path.stem}.{why}-{stamp}-{attempt}{path.suffix}")
    path.rename(target)
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
