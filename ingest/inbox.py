"""Ingest a workspace: household configuration, review journal, and every export in the inbox."""

from __future__ import annotations

import hashlib
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from core.clock import utc_now
from core.workspace import SHIPPED_RULES_DIR, Workspace
from ingest.household import (
    Household,
    load_household,
    load_review_journal,
    replace_table,
)
from ingest.ofx import OFX_SCHEMA_ID, OFX_SUFFIXES, OfxRejection, read_ofx_file
from ingest.parse import FileContext, ParsedTable, parse_file
from ingest.reader import IdentifyError, Located, locate
from ingest.schemas import SchemaSet, load_schemas
from ingest.vectorised import CleanCandidate, parse_clean_files
from ingest.warehouse import (
    NO_NETWORK,
    LoadedFile,
    connect,
    ensure_raw_tables,
    files_with_other_rows,
    loaded_files,
    record_attempt,
    write_loaded_files,
)

EXPORT_SUFFIXES = {".csv", ".tsv", ".txt"}
# Files the inbox cannot read are reported, each with what to do instead.
SPREADSHEET = "an Excel workbook: save it as CSV"
REFUSED_SUFFIXES = {
    ".xlsx": SPREADSHEET,
    ".xlsm": SPREADSHEET,
    ".xlsb": SPREADSHEET,
    ".xls": SPREADSHEET,
    ".ods": "a spreadsheet: save it as CSV",
    ".numbers": "a spreadsheet: save it as CSV",
    ".pdf": "not a CSV or OFX export (a PDF statement: download the CSV or OFX export instead)",
}
NOT_AN_EXPORT = "not a CSV or OFX export"
LINKED_FILE = "a symbolic link: links are not followed; copy the file itself into the inbox"
LINKED_FOLDER = "a symbolic link to a folder: links are not followed; copy its files into the inbox"
# C0 and C1 control characters, DEL too, except tab: a file's text echoed to a terminal or a
# log must not move the cursor, recolour it or rewrite what it shows.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
MAX_ISSUES_SHOWN = 20
# New files are read and written in batches of about this many characters: a batch's files
# share the vectorised path's queries and one commit, and its text is held in memory.
CHARS_PER_BATCH = 32_000_000
# Part of every file's derivation fingerprint: raise it when a change to ingest's code changes
# the rows it derives from a file, so the next ingest reads every loaded file again.
DERIVATION_VERSION = "3"
# The household files ingest reads: they decide a row's owner, and nothing else about it.
OWNER_FILES = ("members.csv", "accounts.csv")


@dataclass
class FileOutcome:
    path: str
    status: str  # loaded | re-read | unchanged | rejected
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

    @property
    def reread(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "re-read"]


def visible_controls(text: str) -> str:
    """The text with each control character but tab written as an escape (ESC as `\\x1b`)."""
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


@dataclass(frozen=True)
class InboxEntry:
    """A file, or a link, found in the inbox or the archive, and how ingest takes it."""

    path: Path
    kind: str  # csv | ofx | refused | link
    refusal: str | None = None  # why it is not read (refused and link entries)


def _is_silent(name: str) -> bool:
    """Hidden files and Excel's lock files (`~$book.xlsx`) are no one's export."""
    return name.startswith((".", "~$"))


def inbox_entry(path: Path) -> InboxEntry:
    """How ingest takes one file: by its kind, told by its extension; links are not opened."""
    if path.is_symlink():
        return InboxEntry(path, "link", LINKED_FILE)
    suffix = path.suffix.lower()
    if not path.is_file():
        return InboxEntry(path, "refused", "not a regular file")  # a pipe would never end
    if suffix in EXPORT_SUFFIXES:
        return InboxEntry(path, "csv")
    if suffix in OFX_SUFFIXES:
        return InboxEntry(path, "ofx")
    return InboxEntry(path, "refused", REFUSED_SUFFIXES.get(suffix, NOT_AN_EXPORT))


def inbox_entries(workspace: Workspace) -> list[InboxEntry]:
    """Everything in the inbox, then in the archive (a rebuild from scratch reads both),
    in path order: exports to read, and files and links to report.

    Links are never followed, to files or to folders: what the inbox reads is what the user put
    in it, and a link could show any file of the machine in the run's report.
    """
    found: list[InboxEntry] = []
    for folder in (workspace.inbox, workspace.archive):
        if not folder.is_dir():
            continue
        entries: list[InboxEntry] = []
        for directory, folder_names, file_names in os.walk(folder):
            here = Path(directory)
            for name in list(folder_names):
                if _is_silent(name) or (here / name).is_symlink():
                    folder_names.remove(name)
                    if not _is_silent(name):
                        entries.append(InboxEntry(here / name, "link", LINKED_FOLDER))
            entries += [inbox_entry(here / name) for name in file_names if not _is_silent(name)]
        found += sorted(entries, key=lambda entry: entry.path)
    return found


def shown_path(workspace: Workspace, path: Path) -> str:
    """An inbox entry's workspace-relative path, a link's own and not its target's."""
    return f"{workspace.relative(path.parent)}/{path.name}"


def inbox_files(workspace: Workspace) -> list[Path]:
    """The regular files of the inbox and the archive, which ingest opens: the exports it reads
    and the other files it reports (links, and pipes that would never end, are not opened)."""
    return [
        entry.path
        for entry in inbox_entries(workspace)
        if entry.kind != "link" and entry.path.is_file()
    ]


def inbox_member(workspace: Workspace, path: Path) -> str | None:
    """`csv_inbox/<member_id>/…` names the owner; archived files keep that folder."""
    try:
        parts = path.relative_to(workspace.inbox).parts
    except ValueError:
        parts = path.relative_to(workspace.archive).parts[1:]  # skip the YYYY-MM folder
    return parts[0].casefold() if len(parts) > 1 else None


def derivation_fingerprint(schemas: SchemaSet, household_dir: Path) -> str:
    """What a loaded file's rows were derived with besides its own bytes: this version of
    ingest, every schema in the order they are tried, and the household files that decide
    owners. A loaded file whose fingerprint is not today's is read again.

    The version leads in clear, so that a file read by another version says so.
    """
    digest = hashlib.sha256()
    sources = [schema.path for schema in schemas.all()]
    sources += [household_dir / name for name in OWNER_FILES]
    for source in sources:
        content = source.read_bytes() if source.is_file() else b""
        digest.update(hashlib.sha256(content).digest())
    return f"{DERIVATION_VERSION}:{digest.hexdigest()}"


def _derived_by_this_version(fingerprint: str | None) -> bool:
    return fingerprint is not None and fingerprint.startswith(f"{DERIVATION_VERSION}:")


@dataclass(frozen=True)
class _FileToRead:
    """A file waiting to be written: a new one, or a loaded one whose configuration changed
    (`previous` says what the warehouse holds of it). A CSV export is located, its rows read
    when its batch settles; an OFX file is read already."""

    position: int  # its place in the report
    context: FileContext
    schema_id: str
    encoding: str
    delimiter: str | None
    located: Located | None = None
    parsed: ParsedTable | None = None
    previous: LoadedFile | None = None


def _reject(connection, context: FileContext, reason: str, schema_id: str | None, issues):
    """Record a failed attempt now and report it; the file stays where it is. Reasons
    quote the file's own text, so its control characters are shown as escapes."""
    shown, sha256 = context.file_path, context.file_sha256
    reason = visible_controls(reason)
    issues = [(line, visible_controls(text)) for line, text in issues]
    record_attempt(
        connection, context.loaded_at, shown, sha256, "rejected", schema_id, reason, issues
    )
    lines = [f"{shown}:{line}: {text}" for line, text in issues]
    return FileOutcome(shown, "rejected", schema_id, reason=reason, issues=lines)


def _careful_rows(
    connection, to_read: _FileToRead, household: Household
) -> ParsedTable | FileOutcome:
    """The careful path: the file's rows, or its rejection naming every bad line."""
    schema_id = to_read.schema_id
    try:
        layout = to_read.located.layout()
    except IdentifyError as error:
        return _reject(connection, to_read.context, str(error), None, [])
    parsed = parse_file(layout, household, to_read.context)
    if parsed.issues:
        count = len(parsed.issues)
        reason = f"{count} bad line{'s' if count > 1 else ''} (schema {schema_id})"
        return _reject(connection, to_read.context, reason, schema_id, parsed.issues)
    return parsed.as_table()


def _loaded(
    to_read: _FileToRead, parsed: ParsedTable, fingerprint: str
) -> tuple[FileOutcome, dict]:
    """The report line and the raw.files row of a file about to be loaded."""
    context = to_read.context
    file_row = {
        "file_sha256": context.file_sha256,
        "file_path": context.file_path,
        "schema_id": to_read.schema_id,
        "inbox_member_id": context.inbox_member_id,
        "encoding": to_read.encoding,
        "delimiter": to_read.delimiter,
        "rows_read": parsed.rows_read,
        "rows_loaded": parsed.rows_loaded,
        "rows_skipped": parsed.rows_skipped,
        "rows_skipped_by_reason": dict(parsed.skipped),
        "amount_cents_total": parsed.amount_cents_total,
        "loaded_at": context.loaded_at,
        "derivation_fingerprint": fingerprint,
    }
    outcome = FileOutcome(
        context.file_path,
        "loaded",
        to_read.schema_id,
        ", ".join(parsed.owners),
        parsed.rows_read,
        parsed.rows_loaded,
        parsed.rows_skipped,
    )
    return outcome, file_row


def _reread_reason(previous: LoadedFile, schema_id: str, owners_changed: bool) -> str:
    """Why a loaded file now reads to other rows, as far as can be told: raw.files keeps its
    schema and one fingerprint, not what went into it, but the household decides owners only."""
    if schema_id != previous.schema_id:
        return f"now read with schema {schema_id} (was {previous.schema_id})"
    if not _derived_by_this_version(previous.derivation_fingerprint):
        return "loaded by an earlier version"
    if owners_changed:
        return "household/accounts.csv or members.csv changed its owners"
    return f"schema {schema_id} changed"


class _Loader:
    """Reads new files, and loaded ones whose derivation fingerprint is not today's, in batches
    — the vectorised path for those it is certain of, the careful path for the rest — and
    writes what each batch changes in one transaction."""

    def __init__(
        self,
        connection,
        scratch,
        household: Household,
        loaded: dict[str, LoadedFile],
        fingerprint: str,
    ):
        self.connection = connection
        self.scratch = scratch
        self.household = household
        self.loaded = loaded
        self.fingerprint = fingerprint
        self.outcomes: list[FileOutcome | None] = []
        self.batch: list[_FileToRead] = []
        self.batch_chars = 0
        self.unreadable: list[str] = []  # loaded files that no longer read, by content hash

    def add(self, workspace: Workspace, entry: InboxEntry, schemas: SchemaSet) -> None:
        if entry.kind == "link" or not entry.path.is_file():
            self.outcomes.append(self._refused_unopened(workspace, entry))
            return
        path = entry.path
        shown = workspace.relative(path)
        data = path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        if any(to_read.context.file_sha256 == sha256 for to_read in self.batch):
            self.settle()  # a copy of a file still unread: it is loaded, or rejected, first
        previous = self.loaded.get(sha256)
        if previous is not None and previous.derivation_fingerprint == self.fingerprint:
            self.outcomes.append(FileOutcome(shown, "unchanged"))
            return
        context = FileContext(shown, sha256, inbox_member(workspace, path), utc_now())
        if entry.refusal:
            # Refused for what the file is, not for its content, which may be loaded from
            # another copy: nothing loaded is touched.
            self.outcomes.append(_reject(self.connection, context, entry.refusal, None, []))
            return
        if entry.kind == "ofx":
            parsed, encoding = read_ofx_file(data, self.household, context)
            if isinstance(parsed, OfxRejection):
                self._rejected(context, parsed.reason, OFX_SCHEMA_ID, parsed.issues, previous)
                return
            to_read = _FileToRead(
                len(self.outcomes), context, OFX_SCHEMA_ID, encoding, None, None, parsed, previous
            )
            self._queue(to_read, len(data))
            return
        try:
            located = locate(path, data, schemas)
        except (IdentifyError, UnicodeDecodeError) as error:
            self._rejected(context, str(error), None, [], previous)
            return
        to_read = _FileToRead(
            len(self.outcomes),
            context,
            located.schema.id,
            located.encoding,
            located.delimiter,
            located,
            None,
            previous,
        )
        self._queue(to_read, len(located.text))

    def _queue(self, to_read: _FileToRead, chars: int) -> None:
        self.batch.append(to_read)
        self.outcomes.append(None)
        self.batch_chars += chars
        if self.batch_chars >= CHARS_PER_BATCH:
            self.settle()

    def _rejected(
        self,
        context: FileContext,
        reason: str,
        schema_id: str | None,
        issues: list[tuple[int, str]],
        previous: LoadedFile | None,
    ) -> None:
        outcome = _reject(self.connection, context, reason, schema_id, issues)
        self.outcomes.append(outcome)
        if previous is not None:
            self._no_longer_reads(context.file_sha256, outcome)

    def _refused_unopened(self, workspace: Workspace, entry: InboxEntry) -> FileOutcome:
        """A link, or a pipe, is reported, never opened: its attempt is keyed by where it
        points, or by its path."""
        shown = shown_path(workspace, entry.path)
        what = (
            f"symbolic link to {os.readlink(entry.path)}"
            if entry.kind == "link"
            else f"special file {shown}"
        )
        sha256 = hashlib.sha256(what.encode()).hexdigest()
        context = FileContext(shown, sha256, inbox_member(workspace, entry.path), utc_now())
        return _reject(self.connection, context, entry.refusal, None, [])

    def _no_longer_reads(self, sha256: str, outcome: FileOutcome) -> None:
        """A loaded file rejected when read again: its rows go, until it reads once more."""
        self.unreadable.append(sha256)
        del self.loaded[sha256]
        outcome.reason += "; the rows it loaded before are removed"

    def settle(self) -> None:
        """Read the batch's rows, report each file, and write what changed."""
        fast: dict[int, ParsedTable] = {}
        if self.scratch is not None:
            candidates = {
                to_read.position: CleanCandidate(to_read.located, to_read.context)
                for to_read in self.batch
                if to_read.located is not None
            }
            fast = parse_clean_files(candidates, self.household, self.scratch)
        readable: list[tuple[_FileToRead, ParsedTable]] = []
        for to_read in self.batch:
            parsed = fast.get(to_read.position, to_read.parsed)
            if parsed is None:
                parsed = _careful_rows(self.connection, to_read, self.household)
            if isinstance(parsed, FileOutcome):
                self.outcomes[to_read.position] = parsed
                if to_read.previous is not None:
                    self._no_longer_reads(to_read.context.file_sha256, parsed)
                continue
            readable.append((to_read, parsed))
        replaced, owners_changed = self._compare_rereads(readable)
        loadable: list[tuple[dict, pa.Table]] = []
        confirmed: dict[str, str] = {}
        for to_read, parsed in readable:
            context, schema_id = to_read.context, to_read.schema_id
            sha256 = context.file_sha256
            self.loaded[sha256] = LoadedFile(schema_id, self.fingerprint)
            if to_read.previous is not None and sha256 not in replaced:
                self.outcomes[to_read.position] = FileOutcome(context.file_path, "unchanged")
                confirmed[sha256] = self.fingerprint
                continue
            outcome, file_row = _loaded(to_read, parsed, self.fingerprint)
            if to_read.previous is not None:
                outcome.status = "re-read"
                outcome.reason = _reread_reason(
                    to_read.previous, schema_id, sha256 in owners_changed
                )
            self.outcomes[to_read.position] = outcome
            loadable.append((file_row, parsed.table))
        write_loaded_files(self.connection, loadable, [*self.unreadable, *replaced], confirmed)
        self.batch = []
        self.batch_chars = 0
        self.unreadable = []

    def _compare_rereads(
        self, readable: list[tuple[_FileToRead, ParsedTable]]
    ) -> tuple[set[str], set[str]]:
        """The files read again whose rows differ from those they loaded, and those of them
        whose owners differ."""
        rereads = {
            to_read.context.file_sha256: parsed.table
            for to_read, parsed in readable
            if to_read.previous is not None
        }
        if not rereads:
            return set(), set()
        changed = files_with_other_rows(self.connection, list(rereads), list(rereads.values()))
        owners_changed = files_with_other_rows(
            self.connection,
            list(changed),
            [rereads[sha256] for sha256 in changed],
            ("line_number", "owner_member_id"),
        )
        return changed, owners_changed


def ingest_workspace(workspace: Workspace, progress=None, vectorised: bool = True) -> IngestReport:
    """Load what is new, and read again what was loaded with other schemas or owner files;
    configuration problems raise, a bad export is reported and left alone.

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
        fingerprint = derivation_fingerprint(schemas, workspace.household)
        loader = _Loader(connection, scratch, household, loaded_files(connection), fingerprint)
        entries = inbox_entries(workspace)
        for number, entry in enumerate(entries, start=1):
            if progress:
                progress(number, len(entries), shown_path(workspace, entry.path))
            loader.add(workspace, entry, schemas)
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
    """A closing table of file, schema, owner, rows and status, then why each file was read
    again and why each was rejected."""
    header = ("file", "schema", "owner", "read", "loaded", "skipped", "status")
    rows = [
        (
            visible_controls(f.path),
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
    reread = f"{len(report.reread)} re-read, " if report.reread else ""
    lines.append(
        f"{len(report.loaded)} loaded, {reread}{len(report.rejected)} rejected, "
        f"{unchanged} unchanged"
    )
    lines += [
        f"re-read {visible_controls(outcome.path)}: {outcome.reason}" for outcome in report.reread
    ]
    for outcome in report.rejected:
        lines.append(f"rejected {visible_controls(outcome.path)}: {outcome.reason}")
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
    sys.stderr.write(f"\r\033[K{bar} {number}/{total} {visible_controls(shown_path)}{end}")
    sys.stderr.flush()
