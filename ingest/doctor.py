"""`balance doctor FILE`: how a file reads, which schema matches it, and why the others do not."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from balance.money import dollars
from balance.workspace import SHIPPED_RULES_DIR, Workspace
from exports.masking import mask_digit_runs
from ingest.household import Household, HouseholdError, load_household
from ingest.inbox import inbox_member
from ingest.parse import FileContext, ParsedFile, parse_file
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
from ingest.warehouse import utc_now

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


def diagnose(workspace: Workspace, path: Path) -> Diagnosis:
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


def format_diagnosis(diagnosis: Diagnosis) -> str:
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
        return mask_digit_runs("\n".join(lines))
    parsed = diagnosis.parsed
    skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(parsed.skipped.items()))
    lines.append(
        f"verdict    schema {winner}: {len(parsed.rows)} row(s) would load"
        + (f", {parsed.rows_skipped} skipped ({skipped})" if parsed.rows_skipped else "")
    )
    for line_number, reason in parsed.issues:
        lines.append(f"  {diagnosis.shown_path}:{line_number}: {reason}")
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
    return mask_digit_runs("\n".join(lines))
