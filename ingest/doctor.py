"""`balance doctor FILE`: how a file reads, which schema matches it, and why the others do not."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from core.clock import utc_now
from core.masking import mask_digit_runs
from core.money import dollars
from core.workspace import SHIPPED_RULES_DIR, Workspace
from ingest.draft_schema import draft_schema, schema_id_for
from ingest.household import Household, HouseholdError, load_household
from ingest.inbox import inbox_entry, inbox_member, shown_path, visible_controls
from ingest.ofx import OFX_SCHEMA_ID, OfxReading, read_ofx
from ingest.parse import FileContext, ParsedFile, account_last4, parse_file
from ingest.reader import (
    DELIMITERS,
    HEAD_LINES,
    IdentifyError,
    Layout,
    Record,
    decode,
    head_lines,
    identify,
    split_head,
)
from ingest.schemas import Schema, load_schemas

ROWS_SHOWN = 5
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class Diagnosis:
    shown_path: str
    encoding: str
    layout: Layout | None = None
    error: str | None = None
    verdicts: list[tuple[Schema, str]] = field(default_factory=list)
    parsed: ParsedFile | None = None
    likely_header: Record | None = None
    delimiter: str = ","

    @property
    def is_loadable(self) -> bool:
        return self.layout is not None and self.parsed is not None and not self.parsed.issues


@dataclass
class OfxDiagnosis:
    """An OFX file as it reads: its statements and rows, or why it cannot be read."""

    shown_path: str
    reading: OfxReading

    @property
    def is_loadable(self) -> bool:
        return self.reading.rejection is None


@dataclass
class RefusedDiagnosis:
    """A file the inbox does not read, for what it is (a workbook, a PDF, a link)."""

    shown_path: str
    reason: str

    @property
    def is_loadable(self) -> bool:
        return False


def _verdict(schema: Schema, header: Record | None, file_name: str, delimiter: str) -> str:
    """Why one schema does or does not read the file, in a few words."""
    if not schema.matches_filename(file_name):
        return f"file name does not match {schema.match_filename.pattern!r}"
    if not schema.has_header:
        return "file name matches (a file without header)"
    if header is None:
        return "no header line found"
    missing = schema.headers_missing(header.header_names)
    if missing:
        return f"missing headers: {', '.join(missing)}"
    if schema.delimiter not in (None, delimiter):
        return f"declares delimiter {schema.delimiter!r}, the file uses {delimiter!r}"
    if schema.header_line is not None and not schema.header_line.search(header.raw_line):
        return (
            f"header_line {schema.header_line.pattern!r} does not match line {header.line_number}"
        )
    return f"matches all {len(schema.match_headers)} headers"


def _likely_header(data: bytes) -> tuple[Record | None, str]:
    """For a file no schema reads: its widest early line and the delimiter that splits it."""
    text, _encoding = decode(data)
    head = head_lines(text, HEAD_LINES)
    best: tuple[Record | None, str] = (None, ",")
    for delimiter in DELIMITERS:
        for record in split_head(head, delimiter)[:60]:
            if best[0] is None or len(record.cells) > len(best[0].cells):
                best = (record, delimiter)
    return best


def diagnose(workspace: Workspace, path: Path) -> Diagnosis | OfxDiagnosis | RefusedDiagnosis:
    entry = inbox_entry(path)
    if entry.refusal:
        return RefusedDiagnosis(shown_path(workspace, path), entry.refusal)
    if entry.kind == "ofx":
        return _diagnose_ofx(workspace, path)
    data = path.read_bytes()
    _text, encoding = decode(data)
    diagnosis = Diagnosis(workspace.relative(path), encoding)
    schemas = load_schemas(workspace.rules, SHIPPED_RULES_DIR)
    try:
        diagnosis.layout = identify(path, data, schemas)
    except IdentifyError as error:
        diagnosis.error = str(error)
    if diagnosis.layout is not None:
        layout = diagnosis.layout
        header = layout.records[layout.header_index] if layout.header_index is not None else None
        delimiter = layout.delimiter
    else:
        header, delimiter = _likely_header(data)
    diagnosis.likely_header, diagnosis.delimiter = header, delimiter

    def closeness(schema: Schema) -> tuple:
        """The winner first, then the schemas missing the fewest headers."""
        missing_share = (
            len(schema.headers_missing(header.header_names)) / len(schema.match_headers)
            if header and schema.has_header
            else 1.0
        )
        is_winner = diagnosis.layout is not None and schema.id == diagnosis.layout.schema.id
        return (not is_winner, missing_share, schema.id)

    diagnosis.verdicts = [
        (schema, _verdict(schema, header, path.name, delimiter))
        for schema in sorted(schemas.all(), key=closeness)
    ]
    if diagnosis.layout is not None:
        diagnosis.parsed = parse_file(
            diagnosis.layout,
            _household_or_empty(workspace),
            FileContext(
                diagnosis.shown_path,
                hashlib.sha256(data).hexdigest(),
                _inbox_member_or_none(workspace, path),
                utc_now(),
            ),
        )
    return diagnosis


def _diagnose_ofx(workspace: Workspace, path: Path) -> OfxDiagnosis:
    data = path.read_bytes()
    shown = workspace.relative(path)
    context = FileContext(
        shown, hashlib.sha256(data).hexdigest(), _inbox_member_or_none(workspace, path), utc_now()
    )
    return OfxDiagnosis(shown, read_ofx(data, _household_or_empty(workspace), context))


def _household_or_empty(workspace: Workspace) -> Household:
    try:
        return load_household(workspace.household, workspace.relative(workspace.household))
    except HouseholdError:
        return Household([], [], {})


def _inbox_member_or_none(workspace: Workspace, path: Path) -> str | None:
    try:
        return inbox_member(workspace, path.resolve())
    except ValueError:
        return None  # a file outside the inbox has no member folder


def format_diagnosis(diagnosis: Diagnosis | OfxDiagnosis | RefusedDiagnosis) -> str:
    if isinstance(diagnosis, RefusedDiagnosis):
        return _shown(
            [f"file       {diagnosis.shown_path}", f"verdict    not loadable: {diagnosis.reason}"]
        )
    if isinstance(diagnosis, OfxDiagnosis):
        return _format_ofx(diagnosis)
    layout = diagnosis.layout
    header = diagnosis.likely_header
    lines = [
        f"file       {diagnosis.shown_path}",
        f"encoding   {diagnosis.encoding}",
        f"delimiter  {DELIMITER_NAMES[diagnosis.delimiter]} ({diagnosis.delimiter!r})",
    ]
    if layout is not None and layout.header_index is None:
        lines.append("header     none (columns are column_1, column_2, …)")
    elif header is not None:
        lines.append(f"header     line {header.line_number}: {header.raw_line}")
    if layout is not None:
        lines.append(f"rows       {len(layout.data_records)} record(s) after the header")
    lines.append("schemas")
    winner = layout.schema.id if layout is not None else None
    width = max((len(schema.id) for schema, _ in diagnosis.verdicts), default=0)
    for schema, verdict in diagnosis.verdicts:
        mark = "→" if schema.id == winner else " "
        lines.append(f"  {mark} {schema.id.ljust(width)}  {verdict}")
    if diagnosis.error:
        lines.append(f"verdict    not loadable: {diagnosis.error}")
        if layout is None:
            lines.append(
                f"next       balance doctor {diagnosis.shown_path} --draft-schema writes a "
                "starter schema for this layout into rules/"
            )
        return _shown(lines)
    parsed = diagnosis.parsed
    skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(parsed.skipped.items()))
    lines.append(
        f"verdict    schema {winner}: {len(parsed.rows)} row(s) would load"
        + (f", {parsed.rows_skipped} skipped ({skipped})" if parsed.rows_skipped else "")
    )
    lines += _issues_and_first_rows(diagnosis.shown_path, parsed)
    return _shown(lines)


def _issues_and_first_rows(shown_path: str, parsed: ParsedFile) -> list[str]:
    lines = [f"  {shown_path}:{line_number}: {reason}" for line_number, reason in parsed.issues]
    if parsed.rows:
        lines.append(f"first rows as they would load (of {len(parsed.rows)}):")
        lines.append("  line  date        amount      owner   account  description")
        for row in parsed.rows[:ROWS_SHOWN]:
            account = "…" + row["account_last4"] if row["account_last4"] else "-"
            lines.append(
                f"  {row['line_number']:<4}  {row['transaction_date']}  "
                f"{dollars(row['amount_cents']):>10}  {row['owner_member_id']:<6}  {account:<7}  "
                f"{row['description']}"
            )
    return lines


def _shown(lines: list[str]) -> str:
    """Lines quoting a file's text, safe for a terminal: control characters as escapes."""
    return mask_digit_runs("\n".join(visible_controls(line) for line in lines))


def _format_ofx(diagnosis: OfxDiagnosis) -> str:
    """What was read: the format, each statement (account, rows, dates, ledger balance), the
    verdict and the first rows; or why the file cannot be read."""
    reading = diagnosis.reading
    lines = [
        f"file       {diagnosis.shown_path}",
        f"format     OFX {reading.version}, read by {reading.reader}",
        f"encoding   {reading.encoding}",
    ]
    if reading.laid_out:
        lines.append(
            "lines      several transactions share a line: lines are counted as the file "
            "reads laid out one element per line"
        )
    if reading.refusal:
        lines.append(f"verdict    not loadable: {reading.refusal}")
        return _shown(lines)
    lines.append(f"statements {len(reading.statements)}")
    for statement in reading.statements:
        last4 = account_last4(statement.account_text)
        account = f"…{last4}" if last4 else statement.account_text or "(no ACCTID)"
        dates = f"{statement.first_date} to {statement.last_date}" if statement.first_date else "-"
        ledger = (
            f", ledger balance {dollars(statement.ledger_balance_cents)} on "
            f"{statement.ledger_date or '-'}"
            if statement.ledger_balance_cents is not None
            else ""
        )
        lines.append(
            f"  line {statement.line_number}: {statement.kind} account {account}"
            f" ({statement.institution or 'institution not named'}): "
            f"{statement.rows} row(s), {dates}{ledger}"
        )
    if not reading.balances_stated:
        lines.append(
            "balances   not checked: the file holds several accounts, and the statement check "
            "follows one account through a file"
        )
    parsed = reading.parsed
    rejection = reading.rejection
    if rejection:
        lines.append(f"verdict    not loadable: {rejection.reason}")
    else:
        lines.append(f"verdict    schema {OFX_SCHEMA_ID}: {len(parsed.rows)} row(s) would load")
    lines += _issues_and_first_rows(diagnosis.shown_path, parsed)
    return _shown(lines)


def write_draft_schema(workspace: Workspace, path: Path) -> Path:
    """Draft a schema for the file into the workspace's rules/ (never over an existing one);
    raises DraftError when the file gives too little to draft from."""
    text, _encoding = decode(path.read_bytes())
    draft = draft_schema(text, path.name)
    schema_id = schema_id_for(path.name)
    target = workspace.rules / f"{schema_id}.yaml"
    number = 1
    while target.exists():
        number += 1
        target = workspace.rules / f"{schema_id}_{number}.yaml"
    if number > 1:  # the id must be unique too
        draft = draft.replace(f"\nid: {schema_id}\n", f"\nid: {schema_id}_{number}\n", 1)
    workspace.rules.mkdir(parents=True, exist_ok=True)
    target.write_text(draft, encoding="utf-8")
    return target
