"""Month-end housekeeping: archive loaded exports, back up and restore, forget a wrong file."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from balance.workspace import PRIVATE_FILE_MODE, Workspace, make_private_dir
from ingest.inbox import inbox_files
from ingest.warehouse import connect, utc_now

BACKED_UP_FOLDERS = ("household", "rules", "decisions", "warehouse", "output")


class OperationError(RuntimeError):
    pass


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _free_name(target: Path) -> Path:
    """The target, or target with ' (2)', ' (3)' … when that name is taken."""
    candidate, number = target, 2
    while candidate.exists():
        candidate = target.with_name(f"{target.stem} ({number}){target.suffix}")
        number += 1
    return candidate


@dataclass
class ArchiveResult:
    moved: list[tuple[str, str]]  # (from, to), workspace-relative
    kept: list[str]  # inbox files not (yet) in the warehouse


def archive_loaded_files(workspace: Workspace) -> ArchiveResult:
    """Move inbox files whose exact content is in the warehouse to data/_archive/YYYY-MM/.

    A file is moved only after its content hash is confirmed in raw.files; the month is the one
    it was loaded in, and the member folder is kept so its owner stays known.
    """
    with connect(workspace.warehouse, read_only=True) as connection:
        loaded = dict(
            connection.execute(
                "select file_sha256, strftime(loaded_at, '%Y-%m') from raw.files"
            ).fetchall()
        )
    result = ArchiveResult([], [])
    for path in inbox_files(workspace):
        if not path.is_relative_to(workspace.inbox):
            continue  # already archived
        month = loaded.get(sha256_of(path))
        if month is None:
            result.kept.append(workspace.relative(path))
            continue
        relative = path.relative_to(workspace.inbox)
        target = _free_name(workspace.archive / month / relative)
        make_private_dir(target.parent)
        shutil.move(path, target)
        result.moved.append((workspace.relative(path), workspace.relative(target)))
    return result


def backup_workspace(workspace: Workspace) -> Path:
    """A timestamped .tar.gz of configuration, rules, decisions, warehouse and outputs."""
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    folder = make_private_dir(workspace.root / "backups")
    target = _free_name(folder / f"balance-backup-{stamp}.tar.gz")
    # Opening the warehouse read-only first proves no writer holds it mid-transaction.
    if workspace.warehouse.exists():
        with connect(workspace.warehouse, read_only=True):
            pass
    temporary = target.with_name(f".{target.name}.tmp")
    with tarfile.open(temporary, "w:gz") as archive:
        for name in BACKED_UP_FOLDERS:
            if (workspace.root / name).exists():
                archive.add(workspace.root / name, arcname=name)
    os.chmod(temporary, PRIVATE_FILE_MODE)
    os.replace(temporary, target)
    return target


def restore_workspace(workspace: Workspace, backup: Path) -> Path | None:
    """Put a backup's folders back; the folders it replaces are first saved in a new backup."""
    if not backup.is_file():
        raise OperationError(f"{backup}: no such backup file")
    with tarfile.open(backup, "r:gz") as archive:
        members = archive.getmembers()
        top_folders = {member.name.split("/")[0] for member in members}
        unexpected = sorted(top_folders - set(BACKED_UP_FOLDERS))
        if unexpected:
            raise OperationError(f"{backup}: not a balance backup (it holds {unexpected[0]})")
        safety = (
            backup_workspace(workspace)
            if any((workspace.root / name).exists() for name in top_folders)
            else None
        )
        for name in top_folders:
            shutil.rmtree(workspace.root / name, ignore_errors=True)
        archive.extractall(workspace.root, filter="data")
    return safety


@dataclass
class ForgetResult:
    file_path: str
    rows_removed: int
    moved_to: str | None


def forget_file(workspace: Workspace, file_argument: str) -> ForgetResult:
    """Remove one loaded file's rows (a wrong download); the file itself moves to data/_forgotten.

    The file is named by its path (as loaded or as it is now) or by its content hash.
    """
    path = Path(file_argument)
    candidates = [path, workspace.root / path]
    existing = next((p for p in candidates if p.is_file()), None)
    sha256 = sha256_of(existing) if existing else None
    with connect(workspace.warehouse) as connection:
        row = connection.execute(
            "select file_sha256, file_path from raw.files "
            "where file_sha256 = ? or file_path = ? or file_sha256 = ?",
            [sha256, file_argument, file_argument],
        ).fetchone()
        if row is None:
            raise OperationError(f"{file_argument}: no loaded file has this path or content")
        file_sha256, file_path = row
        connection.execute("begin transaction")
        removed = connection.execute(
            "delete from raw.transactions where file_sha256 = ?", [file_sha256]
        ).fetchone()[0]
        connection.execute("delete from raw.files where file_sha256 = ?", [file_sha256])
        connection.execute("commit")
    moved_to = None
    for candidate in inbox_files(workspace):
        if sha256_of(candidate) == file_sha256:
            target = _free_name(workspace.root / "data" / "_forgotten" / candidate.name)
            make_private_dir(target.parent)
            shutil.move(candidate, target)
            moved_to = workspace.relative(target)
    return ForgetResult(file_path, removed, moved_to)
