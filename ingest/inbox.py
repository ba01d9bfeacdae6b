"""Ingest a workspace: household configuration, review journal, and every export in the inbox."""

from __future__ import annotations

import hashlib
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from balance.workspace import SHIPPED_RULES_DIR, Workspace
from ingest.household import (
    Household,
    load_household,
    load_review_journal,
    replace_table,
)
from ingest.parse import FileContext, ParsedTable, parse_file
from ingest.reader import IdentifyError, Located, locate
from ingest.schemas import SchemaSet, load_schemas
from ingest.vectorised import CleanCandidate, parse_clean_files
from ingest.warehouse import (
    NO_NETWORK,
    connect,
    ensure_raw_tables,
    loaded_hashes,
    record_attempt,
    utc_now,
    write_loaded_files,
)

EXPORT_SUFFIXES = {".csv", ".tsv", ".txt"}
MAX_ISSUES_SHOWN = 20
# New files are read and written in batches of about this many characters: a batch's files
# share the vectorised path's queries and one commit, and its text is held in memory.
CHARS_PER_BATCH = 32_000_000


@dataclass
class FileOutcome:
    path: str
    status: str  # loaded | unchanged | rejected
    schema_id: str | None = None
    owners: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_skipped: int = 0
    reason: str | None = None
    issues: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    files: list[FileOutcome]
    warnings: list[str]

    @property
    def rejected(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "rejected"]

    @property
    def loaded(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "loaded"]


def inbox_files(workspace: Workspace) -> list[Path]:
    """Exports in the inbox, then archived ones (a rebuild from scratch reads both, §9.21)."""
    found: list[Path] = []
    for folder in (workspace.inbox, workspace.archive):
        if folder.is_dir():
            found += sorted(
                path
                for path in folder.rglob("*")
                if path.is_file()
                and path.suffix.lower() in EXPORT_SUFFIXES
                and not path.name.startswith(".")
            )
    return found


def inbox_member(workspace: Workspace, path: Path) -> str | None:
    """`csv_inbox/<member_id>/…` names the owner; archived files keep that folder (§2)."""
    try:
        parts = path.relative_to(workspace.inbox).parts
    except ValueError:
        parts = path.relative_to(workspace.archive).parts[1:]  # skip the YYYY-MM folder
    return parts[0].casefold() if len(parts) > 1 else None


@dataclass(frozen=True)
class _NewFile:
    """A file not loaded before, located, waiting for its rows to be read."""

    position: int  # its place in the report
    located: Located
    context: FileContext


def _reject(connection, context: FileContext, reason: str, schema_id: str | None, issues):
    """Record a failed attempt now and report it; the file stays where it is (§5)."""
    shown, sha256 = context.file_path, context.file_sha256
    record_attempt(
        connection, context.loaded_at, shown, sha256, "rejected", schema_id, reason, issues
    )
    lines = [f"{shown}:{line}: {text}" for line, text in issues]
    return FileOutcome(shown, "rejected", schema_id, reason=reason, issues=lines)


def _careful_rows(
    connection, new_file: _NewFile, household: Household
) -> ParsedTable | FileOutcome:
    """The careful path: the file's rows, or its rejection naming every bad line."""
    schema_id = new_file.located.schema.id
    try:
        layout = new_file.located.layout()
    except IdentifyError as error:
        return _reject(connection, new_file.context, str(error), None, [])
    parsed = parse_file(layout, household, new_file.context)
    if parsed.issues:
        count = len(parsed.issues)
        reason = f"{count} bad line{'s' if count > 1 else ''} (schema {schema_id})"
        return _reject(connection, new_file.context, reason, schema_id, parsed.issues)
    return parsed.as_table()


def _loaded(new_file: _NewFile, parsed: ParsedTable) -> tuple[FileOutcome, dict]:
    """The report line and the raw.files row of a file about to be loaded."""
    located, context = new_file.located, new_file.context
    file_row = {
        "file_sha256": context.file_sha256,
        "file_path": context.file_path,
        "schema_id": located.schema.id,
        "inbox_member_id": context.inbox_member_id,
        "encoding": located.encoding,
        "delimiter": located.delimiter,
        "rows_read": parsed.rows_read,
        "rows_loaded": parsed.rows_loaded,
        "rows_skipped": parsed.rows_skipped,
        "rows_skipped_by_reason": dict(parsed.skipped),
        "amount_cents_total": parsed.amount_cents_total,
        "loaded_at": context.loaded_at,
    }
    outcome = FileOutcome(
        context.file_path,
        "loaded",
        located.schema.id,
        ", ".join(parsed.owners),
        parsed.rows_read,
        parsed.rows_loaded,
        parsed.rows_skipped,
    )
    return outcome, file_row


class _Loader:
    """Reads new files in batches — the vectorised path for those it is certain of, the careful
    path for the rest — and writes each batch's loaded files in one transaction."""

    def __init__(self, connection, scratch, household: Household, known: set[str]):
        self.connection = connection
        self.scratch = scratch
        self.household = household
        self.known = known
        self.outcomes: list[FileOutcome | None] = []
        self.batch: list[_NewFile] = []
        self.batch_chars = 0

    def add(self, workspace: Workspace, path: Path, schemas: SchemaSet) -> None:
        shown = workspace.relative(path)
        data = path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        if any(new_file.context.file_sha256 == sha256 for new_file in self.batch):
            self.settle()  # a copy of a file still unread: it is loaded, or rejected, first
        if sha256 in self.known:
            self.outcomes.append(FileOutcome(shown, "unchanged"))
            return
        context = FileContext(shown, sha256, inbox_member(workspace, path), utc_now())
        try:
            located = locate(path, data, schemas)
        except (IdentifyError, UnicodeDecodeError) as error:
            self.outcomes.append(_reject(self.connection, context, str(error), None, []))
            return
        self.batch.append(_NewFile(len(self.outcomes), located, context))
        self.outcomes.append(None)
        self.batch_chars += len(located.text)
        if self.batch_chars >= CHARS_PER_BATCH:
            self.settle()

    def settle(self) -> None:
        """Read the batch's rows, report each file, and write those that load."""
        fast: dict[int, ParsedTable] = {}
        if self.scratch is not None:
            candidates = {
                new_file.position: CleanCandidate(new_file.located, new_file.context)
                for new_file in self.batch
            }
            fast = parse_clean_files(candidates, self.household, self.scratch)
        loadable: list[tuple[dict, pa.Table]] = []
        for new_file in self.batch:
            parsed = fast.get(new_file.position)
            if parsed is None:
                parsed = _careful_rows(self.connection, new_file, self.household)
            if isinstance(parsed, FileOutcome):
                self.outcomes[new_file.position] = parsed
                continue
            outcome, file_row = _loaded(new_file, parsed)
            self.outcomes[new_file.position] = outcome
            loadable.append((file_row, parsed.table))
            self.known.add(new_file.context.file_sha256)
        write_loaded_files(self.connection, loadable)
        self.batch = []
        self.batch_chars = 0


def ingest_workspace(workspace: Workspace, progress=None, vectorised: bool = True) -> IngestReport:
    """Load what is new; configuration problems raise, a bad export is reported and left alone.

    `vectorised=False` reads every file on the careful path (tests compare the two).
    """
    schemas = load_schemas(workspace.rules, SHIPPED_RULES_DIR)
    household = load_household(workspace.household, workspace.relative(workspace.household))
    journal, journal_problems = load_review_journal(
        workspace.decisions_journal, workspace.relative(workspace.decisions_journal)
    )
    with connect(workspace.warehouse) as connection, scratch_connection(vectorised) as scratch:
        ensure_raw_tables(connection)
        connection.execute("begin transaction")
        for table in [*household.tables.values(), journal]:
            replace_table(connection, table)
        connection.execute("commit")
        loader = _Loader(connection, scratch, household, loaded_hashes(connection))
        files = inbox_files(workspace)
        for number, path in enumerate(files, start=1):
            if progress:
                progress(number, len(files), workspace.relative(path))
            loader.add(workspace, path, schemas)
        loader.settle()
    return IngestReport(loader.outcomes, journal_problems)


@contextmanager
def scratch_connection(wanted: bool):
    """An in-memory DuckDB for the vectorised path's working tables, or None without it."""
    if not wanted:
        yield None
        return
    connection = duckdb.connect(config=NO_NETWORK)
    try:
        yield connection
    finally:
        connection.close()


def format_report(report: IngestReport) -> str:
    """A closing table of file, schema, owner, rows and status, then the reasons for rejections."""
    header = ("file", "schema", "owner", "read", "loaded", "skipped", "status")
    rows = [
        (
            f.path,
            f.schema_id or "-",
            f.owners or "-",
            str(f.rows_read),
            str(f.rows_loaded),
            str(f.rows_skipped),
            f.status,
        )
        for f in report.files
        if f.status != "unchanged"
    ]
    unchanged = sum(1 for f in report.files if f.status == "unchanged")
    lines = []
    if rows:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            lines.append(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
    lines.append(
        f"{len(report.loaded)} loaded, {len(report.rejected)} rejected, {unchanged} unchanged"
    )
    for outcome in report.rejected:
        lines.append(f"rejected {outcome.path}: {outcome.reason}")
        lines += [f"  {issue}" for issue in outcome.issues[:MAX_ISSUES_SHOWN]]
        if len(outcome.issues) > MAX_ISSUES_SHOWN:
            lines.append(f"  … and {len(outcome.issues) - MAX_ISSUES_SHOWN} more")
    lines += [f"warning: {warning}" for warning in report.warnings]
    return "\n".join(lines)


def print_progress(number: int, total: int, shown_path: str) -> None:
    """A progress bar rewritten in place on a terminal; silent when output is piped."""
    if not sys.stderr.isatty() or total < 2:
        return
    width = 24
    filled = width * number // total
    bar = "█" * filled + "░" * (width - filled)
    end = "\n" if number == total else ""
    sys.stderr.write(f"\r\033[K{bar} {number}/{total} {shown_path}{end}")
    sys.stderr.flush()
