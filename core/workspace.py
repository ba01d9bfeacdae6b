"""Where a household's data lives: the folders of a workspace and how one is chosen."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_RULES_DIR = PROJECT_ROOT / "rules"
DEMO_WORKSPACE = PROJECT_ROOT / "examples" / "demo"

# Financial data is private by default: folders 0700, files 0600.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "csv_inbox"

    @property
    def household(self) -> Path:
        return self.root / "household"

    @property
    def rules(self) -> Path:
        return self.root / "rules"

    @property
    def decisions_journal(self) -> Path:
        return self.root / "decisions" / "review_decisions.csv"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "balance.duckdb"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def workbook(self) -> Path:
        return self.output / "balance_data.xlsx"

    @property
    def powerbi(self) -> Path:
        return self.output / "powerbi"

    @property
    def warehouse_snapshot(self) -> Path:
        """A read-only copy of the warehouse, refreshed by every run: a shell open on it never
        holds the lock a run needs."""
        return self.output / "warehouse_snapshot.duckdb"

    @property
    def docs_site(self) -> Path:
        return self.output / "docs" / "index.html"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def last_run_file(self) -> Path:
        return self.logs / "last_run.json"

    @property
    def lock_file(self) -> Path:
        # In logs/, which no backup holds and no restore replaces: the lock must stay put
        # while the folders around it are swapped.
        return self.logs / ".balance.lock"

    @property
    def temporary(self) -> Path:
        """Scratch files of the running command (xlsxwriter's parts of a workbook)."""
        return self.logs / "tmp"

    @property
    def archive(self) -> Path:
        return self.root / "data" / "_archive"

    def relative(self, path: Path) -> str:
        """Workspace-relative path for messages and lineage."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


def resolve_workspace(option: str | os.PathLike | None = None) -> Workspace:
    """--workspace wins, then BALANCE_WORKSPACE, then the current directory."""
    chosen = option or os.environ.get("BALANCE_WORKSPACE") or "."
    return Workspace(Path(chosen).expanduser().resolve())


def make_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def describe_os_error(workspace: Workspace, error: OSError) -> str:
    """One line for a file system failure: what went wrong, and on which workspace path."""
    reason = error.strerror or str(error)
    if error.filename is None:
        return reason
    shown = workspace.relative(Path(error.filename))
    if isinstance(error, FileExistsError) and Path(error.filename).is_file():
        # mkdir met a file where a folder of balance's belongs
        return f"{shown} is a file, but balance needs a folder of that name: move the file away"
    if isinstance(error, NotADirectoryError):
        return f"cannot use {shown}: a file stands where one of its folders belongs"
    return f"cannot use {shown} ({reason})"
