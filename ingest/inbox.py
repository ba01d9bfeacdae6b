"""Ingest a workspace: household configuration, review journal, and every export in the inbox."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

from balance.workspace import SHIPPED_RULES_DIR, Workspace
from ingest.household import (
    Household,
    load_household,
    load_review_journal,
    replace_table,
)
from ingest.parse import FileContext, parse_file
from ingest.reader import IdentifyError, identify
from ingest.schemas import SchemaSet, load_schemas
from ingest.warehouse import (
    connect,
    ensure_raw_tables,
    loaded_hashes,
    record_attempt,
    utc_now,
    write_loaded_file,
)

EXPORT_SUFFIXES = {".csv", ".tsv", ".txt"}
MAX_ISSUES_SHOWN = 20


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


def _ingest_file(
    connection,
    workspace: Workspace,
    path: Path,
    data: bytes,
    sha256: str,
    schemas: SchemaSet,
    household: Household,
) -> FileOutcome:
    shown = workspace.relative(path)
    attempted_at = utc_now()

    def reject(reason: str, schema_id: str | None, issues: list[tuple[int | None, str]]):
        record_attempt(
            connection, attempted_at, shown, sha256, "rejected", schema_id, reason, issues
        )
        lines = [f"{shown}:{line}: {text}" for line, text in issues]
        return FileOutcome(shown, "rejected", schema_id, reason=reason, issues=lines)

    try:
        layout = identify(path, data, schemas)
    except (IdentifyError, UnicodeDecodeError) as error:
        return reject(str(error), None, [])
    context = FileContext(shown, sha256, inbox_member(workspace, path), attempted_at)
    parsed = parse_file(layout, household, context)
    if parsed.issues:
        count = len(parsed.issues)
        reason = f"{count} bad line{'s' if count > 1 else ''} (schema {layout.schema.id})"
        return reject(reason, layout.schema.id, parsed.issues)
    file_row = {
        "file_sha256": sha256,
        "file_path": shown,
        "schema_id": layout.schema.id,
        "inbox_member_id": context.inbox_member_id,
        "encoding": layout.encoding,
        "delimiter": layout.delimiter,
        "rows_read": parsed.rows_read,
        "rows_loaded": len(parsed.rows),
        "rows_skipped": parsed.rows_skipped,
        "rows_skipped_by_reason": dict(parsed.skipped),
        "amount_cents_total": sum(row["amount_cents"] for row in parsed.rows),
        "loaded_at": attempted_at,
    }
    write_loaded_file(connection, file_row, parsed.rows)
    owners = ", ".join(sorted({row["owner_member_id"] for row in parsed.rows}))
    return FileOutcome(
        shown,
        "loaded",
        layout.schema.id,
        owners,
        parsed.rows_read,
        len(parsed.rows),
        parsed.rows_skipped,
    )


def ingest_workspace(workspace: Workspace, progress=None) -> IngestReport:
    """Load what is new; configuration problems raise, a bad export is reported and left alone."""
    schemas = load_schemas(workspace.rules, SHIPPED_RULES_DIR)
    household = load_household(workspace.household, workspace.relative(workspace.household))
    journal, journal_problems = load_review_journal(
        workspace.decisions_journal, workspace.relative(workspace.decisions_journal)
    )
    outcomes: list[FileOutcome] = []
    with connect(workspace.warehouse) as connection:
        ensure_raw_tables(connection)
        connection.execute("begin transaction")
        for table in [*household.tables.values(), journal]:
            replace_table(connection, table)
        connection.execute("commit")
        known = loaded_hashes(connection)
        files = inbox_files(workspace)
        for number, path in enumerate(files, start=1):
            if progress:
                progress(number, len(files), workspace.relative(path))
            data = path.read_bytes()
            sha256 = hashlib.sha256(data).hexdigest()
            if sha256 in known:
                outcomes.append(FileOutcome(workspace.relative(path), "unchanged"))
                continue
            outcome = _ingest_file(connection, workspace, path, data, sha256, schemas, household)
            if outcome.status == "loaded":
                known.add(sha256)
            outcomes.append(outcome)
    return IngestReport(outcomes, journal_problems)


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
