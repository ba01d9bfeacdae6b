"""Month-end housekeeping: archive loaded exports, back up and restore, forget a wrong file."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.clock import utc_now
from core.workspace import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, Workspace, make_private_dir
from ingest.inbox import inbox_files
from ingest.warehouse import (
    WarehouseLocked,
    connect,
    find_loaded_file,
    loaded_months,
    remove_loaded_file,
)

# Not csv_inbox/: a restore never replaces the folder where new exports wait; `balance archive`
# moves loaded ones to data/_archive/ first (the monthly routine: archive, then backup).
BACKED_UP_FOLDERS = ("household", "rules", "decisions", "warehouse", "output", "data/_archive")
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20


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
    require_warehouse(workspace)
    with connect(workspace.warehouse, read_only=True) as connection:
        loaded = loaded_months(connection)
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


# Names in these folders that are never data: Excel's lock files (`~$book.xlsx`), files an
# interrupted command was writing (`.name.tmp`), and the lock of an earlier version.
def _is_left_out(name: str) -> bool:
    return (
        name.startswith("~$")
        or (name.startswith(".") and name.endswith(".tmp"))
        or (name == ".balance.lock")
    )


@dataclass
class BackupResult:
    path: Path
    skipped: list[str]  # workspace-relative links whose target is gone


def _backup_entries(workspace: Workspace) -> Iterator[Path]:
    """Every folder and file to back up, in path order. Links are followed: a backup holds what
    they point to, so it restores on another machine (a link into the folder it points from is
    followed once)."""
    for name in BACKED_UP_FOLDERS:
        folder = workspace.root / name
        if not folder.is_dir():
            continue
        visited: set[str] = set()
        for directory, folder_names, file_names in os.walk(folder, followlinks=True):
            real = os.path.realpath(directory)
            if real in visited:
                folder_names.clear()
                continue
            visited.add(real)
            folder_names[:] = sorted(n for n in folder_names if not _is_left_out(n))
            here = Path(directory)
            yield here
            yield from (here / n for n in sorted(file_names) if not _is_left_out(n))


def backup_workspace(workspace: Workspace) -> BackupResult:
    """A timestamped .tar.gz of configuration, rules, decisions, warehouse, outputs and the
    archived exports (a rebuild from scratch reads them)."""
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    folder = make_private_dir(workspace.root / "backups")
    target = _free_name(folder / f"balance-backup-{stamp}.tar.gz")
    # Opening the warehouse read-only first proves no writer holds it mid-transaction.
    if workspace.warehouse.exists():
        with connect(workspace.warehouse, read_only=True):
            pass
    skipped = []
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        with tarfile.open(temporary, "w:gz", dereference=True) as archive:
            for path in _backup_entries(workspace):
                name = path.relative_to(workspace.root).as_posix()
                if path.is_dir():
                    archive.add(path, arcname=name, recursive=False)
                elif path.is_file():
                    archive.add(path, arcname=name)
                else:  # a link to nothing (or a pipe): there is no content to keep
                    skipped.append(name)
        os.chmod(temporary, PRIVATE_FILE_MODE)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return BackupResult(target, skipped)


def _restored_folder(name: str) -> str | None:
    """The backed-up folder a member of a backup belongs to, None for any other name."""
    return next((f for f in BACKED_UP_FOLDERS if name == f or name.startswith(f"{f}/")), None)


def check_backup(backup: Path) -> list[str]:
    """The folders a backup restores, once every byte of it has been read: a backup that is
    cut short, damaged or not balance's is refused before anything in the workspace changes."""
    if not backup.is_file():
        raise OperationError(f"{backup}: no such backup file")
    with backup.open("rb") as handle:
        if handle.read(2) != GZIP_MAGIC:
            raise OperationError(f"{backup}: not a balance backup (not a .tar.gz file)")
    folders: set[str] = set()
    try:
        with gzip.open(backup) as stream, tarfile.open(fileobj=stream, mode="r:") as archive:
            for member in archive:
                folder = _restored_folder(member.name)
                if folder is None or not (member.isfile() or member.isdir()):
                    what = "it holds" if folder is None else "it holds a link or device,"
                    raise OperationError(f"{backup}: not a balance backup ({what} {member.name})")
                folders.add(folder)
                if member.isfile():
                    content = archive.extractfile(member)
                    while content.read(CHUNK):
                        pass
            while stream.read(CHUNK):  # to the end: gzip checks its checksum there
                pass
    except (EOFError, OSError, tarfile.TarError, zlib.error):
        raise OperationError(
            f"{backup}: cannot be read to its end (cut short or damaged); nothing was restored"
        ) from None
    if not folders:
        raise OperationError(f"{backup}: not a balance backup (it holds nothing)")
    return [f for f in BACKED_UP_FOLDERS if f in folders]


def restore_workspace(workspace: Workspace, backup: Path) -> Path | None:
    """Put a backup's folders back; the folders it replaces are first saved in a new backup.

    The backup is checked whole, then unpacked into a folder of its own inside the workspace
    (the same disk, so each folder then changes places with its restored copy in one rename).
    Any failure before the last rename puts back what had moved: the workspace stays as it was.
    """
    folders = check_backup(backup)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=workspace.root))
    safety = None
    try:
        restored, replaced = staging / "restored", staging / "replaced"
        try:
            with tarfile.open(backup, "r:gz") as archive:
                archive.extractall(restored, filter="data")
        except (OSError, tarfile.TarError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            where = getattr(error, "filename", None)
            if where and Path(where).is_relative_to(restored):
                reason = f"{Path(where).relative_to(restored).as_posix()}: {reason}"
            raise OperationError(
                f"{backup}: cannot be unpacked ({reason}); nothing was restored"
            ) from None
        if any((workspace.root / name).exists() for name in folders):
            safety = backup_workspace(workspace).path
        _swap_in(workspace.root, restored, replaced, folders)
    except IncompleteRestore as error:
        # Some folders could not be put back: keep every copy there is, and say where.
        raise OperationError(
            f"{backup}: {error}; the folders that were replaced are in "
            f"{workspace.relative(staging)}/replaced/ and in "
            f"{workspace.relative(safety) if safety else 'no backup'}"
        ) from None
    except OSError as error:
        _forget_safety(safety)
        shutil.rmtree(staging, ignore_errors=True)
        raise OperationError(
            f"{backup}: the restored folders could not take their places "
            f"({error.strerror or error}); the workspace is as it was"
        ) from None
    except BaseException:
        _forget_safety(safety)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)  # what was replaced is in the safety backup
    return safety


def _forget_safety(safety: Path | None) -> None:
    """A restore that changed nothing needs no copy of what it would have replaced."""
    if safety:
        safety.unlink(missing_ok=True)


class IncompleteRestore(OSError):
    pass


def _swap_in(root: Path, restored: Path, replaced: Path, folders: list[str]) -> None:
    """Each live folder moves aside, its restored copy takes its place; a failure moves back
    every folder that had moved, in reverse order, and raises the failure."""
    moved_out: list[str] = []
    moved_in: list[str] = []
    try:
        for name in folders:
            live = root / name
            # No chmod here: the workspace's own folders keep the modes the user gave them.
            live.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
            if live.exists() or live.is_symlink():
                (replaced / name).parent.mkdir(parents=True, exist_ok=True)
                os.rename(live, replaced / name)
                moved_out.append(name)
            os.rename(restored / name, live)
            moved_in.append(name)
    except OSError:
        try:
            for name in moved_in[::-1]:
                os.rename(root / name, restored / name)
            for name in moved_out[::-1]:
                os.rename(replaced / name, root / name)
                moved_out.remove(name)
        except OSError as error:
            raise IncompleteRestore(
                f"{', '.join(moved_out)} could not be put back ({error.strerror or error})"
            ) from None
        raise


def require_warehouse(workspace: Workspace) -> None:
    if not workspace.warehouse.exists():
        raise OperationError(f"no warehouse in {workspace.root} yet: run `balance run` first")


def require_unlocked_warehouse(workspace: Workspace) -> None:
    """dbt opens the warehouse for writing. When another program holds it, dbt's failure
    would read as a failed build (exit 2, "fix the data"); asking first gives the one-line
    reason instead (WarehouseLocked). Even a read-only DuckDB shell keeps writers out."""
    if workspace.warehouse.exists():
        with connect(workspace.warehouse):
            pass


def warehouse_lock_message(workspace: Workspace) -> str | None:
    """Why the warehouse cannot be written now, None when it can."""
    try:
        require_unlocked_warehouse(workspace)
    except WarehouseLocked as error:
        return str(error)
    return None


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
    require_warehouse(workspace)
    sha256 = sha256_of(existing) if existing else None
    with connect(workspace.warehouse) as connection:
        row = find_loaded_file(connection, sha256, file_argument)
        if row is None:
            raise OperationError(f"{file_argument}: no loaded file has this path or content")
        file_sha256, file_path = row
        removed = remove_loaded_file(connection, file_sha256)
    moved_to = None
    for candidate in inbox_files(workspace):
        if sha256_of(candidate) == file_sha256:
            target = _free_name(workspace.root / "data" / "_forgotten" / candidate.name)
            make_private_dir(target.parent)
            shutil.move(candidate, target)
            moved_to = workspace.relative(target)
    return ForgetResult(file_path, removed, moved_to)
