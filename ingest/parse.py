"""Turning an identified file into canonical transaction rows, strictly (§3, §5, §9.2–9.4)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath

import pyarrow as pa
import pyarrow.compute as pc

from ingest.household import Household
from ingest.reader import Layout, Record
from ingest.schemas import JOINED_CELL_SEPARATOR, Schema, normalize_header
from ingest.values import (
    MAX_AMOUNT_WHOLE_DIGITS,
    BadValue,
    date_out_of_range,
    day_month_swapped,
    infer_date_format,
    parse_amount_cents,
    parse_dates,
    posting_contradiction,
    reads_both_ways,
)
from ingest.warehouse import arrow_rows

DIGITS = re.compile(r"\d")
COLUMN_BY_POSITION = re.compile(r"column_[1-9][0-9]*")
# Amount cells repeat (prices, rents, transfers); parsing is pure, so each text is parsed once.
cached_amount_cents = functools.lru_cache(maxsize=65536)(parse_amount_cents)
# Most amounts are written plainly ("-12.34"); those need none of the general grammar, which
# would read them to the same cents. Longer ones go through it and its size check.
PLAIN_AMOUNT = {
    mark: re.compile(rf"-?[0-9]{{1,{MAX_AMOUNT_WHOLE_DIGITS}}}{re.escape(mark)}[0-9][0-9]")
    for mark in (".", ",")
}


def read_amount_cents(text: str, schema: Schema) -> int:
    """Cents of a stripped, non-empty amount cell: plain amounts directly, others by the grammar."""
    if PLAIN_AMOUNT[schema.decimal].fullmatch(text):
        return int(text.replace(schema.decimal, ""))
    return cached_amount_cents(text, schema.decimal, schema.thousands, schema.currency_texts)


@dataclass
class ParsedFile:
    rows: list[dict] = field(default_factory=list)
    rows_read: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    issues: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    def as_table(self) -> ParsedTable:
        return ParsedTable(arrow_rows(self.rows), self.rows_read, self.skipped)


@dataclass(frozen=True)
class ParsedTable:
    """A file's loadable rows as one Arrow table of raw.transactions columns, with its counts."""

    table: pa.Table
    rows_read: int
    skipped: Counter

    @property
    def rows_loaded(self) -> int:
        return self.table.num_rows

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    @property
    def amount_cents_total(self) -> int:
        return pc.sum(self.table["amount_cents"]).as_py() or 0

    @property
    def owners(self) -> list[str]:
        return sorted(pc.unique(self.table["owner_member_id"]).to_pylist())


@dataclass(frozen=True)
class FileContext:
    file_path: str  # workspace-relative
    file_sha256: str
    inbox_member_id: str | None
    loaded_at: dt.datetime


def account_last4(account_text: str) -> str | None:
    """Account numbers appear only as their last four digits (§5); also part of identity (§9.3)."""
    digits = DIGITS.findall(account_text)
    return "".join(digits[-4:]) if len(digits) >= 4 else None


def account_identity(account_text: str, inbox_member: str | None) -> str:
    """The account a row belongs to, as its txn_id sees it (§9.3): the whole account text,
    trimmed, case-folded, runs of spaces collapsed, when the file names accounts; else the
    inbox member. Two accounts ending in the same four digits stay two accounts, and one
    aggregator export saved in two members' folders stays one set of transactions."""
    normalised = " ".join(account_text.split()).casefold()
    return f"account:{normalised}" if normalised else f"member:{inbox_member or ''}"


def _hashed(*facts: str) -> str:
    return hashlib.md5("\x1f".join(facts).encode("utf-8")).hexdigest()[:16]


def transaction_id(
    schema_id: str,
    identity: str,
    date: dt.date,
    amount_cents: int,
    description: str,
    reference: str,
    occurrence: int,
) -> str:
    """Stable hash of parsed facts only, so editing configuration never re-keys a row (§9.3)."""
    return _hashed(
        schema_id,
        identity,
        date.isoformat(),
        str(amount_cents),
        description.strip(),
        reference.strip(),
        str(occurrence),
    )


def legacy_transaction_id(
    schema_id: str,
    inbox_member: str | None,
    account_text: str,
    date: dt.date,
    amount_cents: int,
    description: str,
    reference: str,
    occurrence: int,
) -> str:
    """The txn_id of earlier versions (inbox member and the account's last four digits), kept
    on every row so that review journals written by them keep applying."""
    return _hashed(
        schema_id,
        inbox_member or "",
        account_last4(account_text) or account_text.strip(),
        date.isoformat(),
        str(amount_cents),
        description.strip(),
        reference.strip(),
        str(occurrence),
    )


class RowIdentities:
    """The ids of one file's rows, read in file order: identical facts are told apart by their
    order (§9.3), counted once under each formula, since two account texts may be one account
    identity. Both the CSV and the OFX readers number rows with it."""

    def __init__(self, schema_id: str, inbox_member: str | None):
        self.schema_id = schema_id
        self.inbox_member = inbox_member
        self.occurrences: Counter = Counter()
        self.legacy_occurrences: Counter = Counter()

    def next(
        self, account_text: str, date: dt.date, cents: int, description: str, reference: str
    ) -> tuple[str, str, int]:
        """(txn_id, legacy_txn_id, occurrence index) of the next row with these facts."""
        identity = account_identity(account_text, self.inbox_member)
        facts = (date, cents, description.strip(), reference)
        occurrence = self.occurrences[(identity, *facts)]
        self.occurrences[(identity, *facts)] += 1
        legacy_occurrence = self.legacy_occurrences[(account_text, *facts)]
        self.legacy_occurrences[(account_text, *facts)] += 1
        txn_id = transaction_id(
            self.schema_id, identity, date, cents, description, reference, occurrence
        )
        legacy_txn_id = legacy_transaction_id(
            self.schema_id,
            self.inbox_member,
            account_text,
            date,
            cents,
            description,
            reference,
            legacy_occurrence,
        )
        return txn_id, legacy_txn_id, occurrence


def rekeyed_rows(rows: list[tuple]) -> pa.Table:
    """Today's txn_id and occurrence index of rows keyed by an earlier version, whose txn_id
    becomes their legacy_txn_id. Rows are (rowid, txn_id, file_sha256, schema_id, inbox member,
    account text, date, cents, description, reference), in file and line order."""
    occurrences: Counter = Counter()
    row_ids, txn_ids, legacy_ids, occurrence_indexes = [], [], [], []
    for row_id, legacy_id, file_sha256, schema_id, inbox_member, account_text, *facts in rows:
        date, amount_cents, description, reference = facts
        identity = account_identity(account_text or "", inbox_member)
        key = (file_sha256, identity, date, amount_cents, description.strip(), reference)
        occurrence = occurrences[key]
        occurrences[key] += 1
        row_ids.append(row_id)
        legacy_ids.append(legacy_id)
        occurrence_indexes.append(occurrence)
        txn_ids.append(
            transaction_id(
                schema_id, identity, date, amount_cents, description, reference, occurrence
            )
        )
    return pa.table(
        {
            "row_id": pa.array(row_ids, pa.int64()),
            "txn_id": pa.array(txn_ids, pa.string()),
            "legacy_txn_id": pa.array(legacy_ids, pa.string()),
            "occurrence_index": pa.array(occurrence_indexes, pa.int32()),
        }
    )


class Columns:
    """Cell lookup by role, or by column name for `pending` and `skip_rows`, for one file."""

    def __init__(self, schema: Schema, header_cells: list[str]):
        self.has_header = schema.has_header
        self.positions: dict[str, int] = {}
        for index, cell in enumerate(header_cells):
            self.positions.setdefault(normalize_header(cell), index)
        # Columns a row condition reads must exist too, or the condition would silently never hold.
        condition_columns = [column for column, _ in schema.skip_rows]
        if schema.pending_column:
            condition_columns.append(schema.pending_column)
        self.index = {
            role: [self.position(column) for column in names]
            for role, names in schema.columns.items()
        }
        read = [*(name for names in schema.columns.values() for name in names), *condition_columns]
        self.missing = sorted({column for column in read if self.position(column) is None})
        if schema.has_header:
            # A header that ends with empty names (`…,Balance,`) has no columns there: rows one
            # field shorter are whole, unless the schema maps such a column by position.
            self.width = len(header_cells)
            while self.width and not header_cells[self.width - 1].strip():
                self.width -= 1
            mapped = [self.position(column) for column in read]
            self.width = max([self.width, *(index + 1 for index in mapped if index is not None)])
        else:
            # Without a header, the fields after the last one mapped are the file's own
            # columns, not extra ones: a row needs only the mapped ones.
            self.width = max(self.position(column) for column in read) + 1

    def position(self, column: str) -> int | None:
        if self.has_header:
            named = self.positions.get(normalize_header(column))
            if named is None and COLUMN_BY_POSITION.fullmatch(column.strip()):
                # column_N names the Nth column of any file, e.g. one whose header cell is empty.
                return int(column.strip().split("_")[1]) - 1
            return named
        return int(column.split("_")[1]) - 1  # column_N of a file without header

    def _cell(self, record: Record, index: int | None) -> str:
        if index is None or index >= len(record.cells):
            return ""
        return record.cells[index].strip()

    def get(self, record: Record, role: str) -> str:
        """The role's cell, or the non-empty cells of its columns joined."""
        indexes = self.index.get(role)
        if indexes is None:
            return ""
        cells = record.cells
        if len(indexes) == 1:  # the usual case, kept fast: this runs for every cell read
            index = indexes[0]
            return cells[index].strip() if index is not None and index < len(cells) else ""
        joined = (self._cell(record, index) for index in indexes)
        return JOINED_CELL_SEPARATOR.join(cell for cell in joined if cell)

    def named(self, record: Record, column: str) -> str:
        return self._cell(record, self.position(column))


def _record_shape_problem(record: Record, columns: Columns, extra_fields: str) -> str | None:
    if len(record.cells) < columns.width:
        return f"expected {columns.width} fields, found {len(record.cells)}"
    if not columns.has_header or extra_fields != "error":
        return None
    extra = record.cells[columns.width :]
    # Some banks end every data row with one more (empty) field than the header has.
    if any(cell.strip() for cell in extra):
        return (
            f"expected {columns.width} fields, found {len(record.cells)}; cells beyond the header"
            " are filled (file.extra_fields: ignore or join accepts them)"
        )
    return None


def _with_extra_fields_joined(record: Record, width: int, delimiter: str) -> Record:
    """The record with its cells beyond `width` put back into the last column's text, split
    where the bank wrote its delimiter unquoted inside that text; trailing empty ones dropped."""
    cells = record.cells
    if len(cells) <= width or not any(cell.strip() for cell in cells[width:]):
        return record
    spilled = cells[width - 1 :]
    while not spilled[-1].strip():
        spilled.pop()
    return Record(
        record.line_number, record.raw_line, [*cells[: width - 1], delimiter.join(spilled)]
    )


def _select_records(layout: Layout, columns: Columns, parsed: ParsedFile) -> list[Record]:
    """Records after the header minus declared skips (counted by reason, §9.17)."""
    schema = layout.schema
    records = layout.data_records
    parsed.rows_read = len(records)
    if schema.footer_lines:
        kept = len(records) - schema.footer_lines
        parsed.skipped["footer_lines"] += min(schema.footer_lines, len(records))
        records = records[: max(kept, 0)]
    selected = []
    for record in records:
        if any(pattern.search(record.raw_line) for pattern in schema.skip_lines):
            parsed.skipped["skip_lines"] += 1
            continue
        if any(
            pattern.search(columns.named(record, column)) for column, pattern in schema.skip_rows
        ):
            parsed.skipped["skip_rows"] += 1
            continue
        if schema.pending_column and (
            columns.named(record, schema.pending_column).casefold() in schema.pending_values
        ):
            parsed.skipped["pending"] += 1
            continue
        selected.append(record)
    return selected


def _amount_cents(record: Record, columns: Columns, layout: Layout) -> int:
    schema = layout.schema

    def cents(role: str) -> int | None:
        text = columns.get(record, role)
        if not text:
            return None
        return read_amount_cents(text, schema)

    if "amount" in schema.columns:
        amount = cents("amount")
        if amount is None:
            raise BadValue("empty amount")
        if "direction" in schema.columns:
            direction = columns.get(record, "direction").casefold()
            if direction in schema.direction_out:
                return -abs(amount)
            if direction in schema.direction_in:
                return abs(amount)
            raise BadValue(f"direction {columns.get(record, 'direction')!r} is neither out nor in")
        return -amount if schema.negate else amount
    debit, credit = cents("debit"), cents("credit")
    if debit is not None and credit is not None and debit != 0 and credit != 0:
        raise BadValue("both debit and credit are filled")
    if debit is None and credit is None:
        raise BadValue("empty amount")
    if debit:
        return -abs(debit)
    return abs(credit or 0)


def owner_of(
    schema: Schema,
    household: Household,
    context: FileContext,
    member_text: str,
    account_text: str,
) -> str:
    """The mapped member column, else accounts.csv, else the inbox folder (§9.4)."""
    static_member = schema.static.get("member")
    if static_member:
        owner = household.member_named(static_member)
        if owner is None:
            raise BadValue(f"static member {static_member!r} is not a household member")
        return owner
    if member_text:
        owner = household.member_named(member_text)
        if owner is None:
            raise BadValue(f"member {member_text!r} is not a household member")
        return owner
    owner = household.account_owner(account_text, PurePath(context.file_path).name)
    if owner:
        return owner
    inbox_member = context.inbox_member_id
    if inbox_member and inbox_member in household.member_ids:
        return inbox_member
    raise BadValue(
        "no owner: no member column, no accounts.csv row matches "
        f"{account_text or 'the empty account'!r} or the file's name, and the file is not in a "
        "member's inbox folder"
    )


def _dates(
    records: list[Record], columns: Columns, layout: Layout, role: str, parsed: ParsedFile
) -> list[dt.date | None]:
    """Dates of one column: a declared format, or one inferred from the whole column."""
    texts = [columns.get(record, role) for record in records]
    if not any(texts):
        return [None] * len(texts)  # nothing to infer from; empty required dates are reported
    formats = layout.schema.date_formats
    if not formats:
        try:
            formats = (infer_date_format(texts),)
        except BadValue as error:
            # infer_date_format names the value that is ambiguous or unreadable by its position.
            parsed.issues.append(
                (
                    records[error.index].line_number,
                    f"{'+'.join(layout.schema.columns[role])}: {error}",
                )
            )
            return [None] * len(texts)
    # A column repeats few distinct dates: parse each once (a year of daily rows is 365 texts).
    known: dict[str, dt.date | BadValue] = {}
    dates: list[dt.date | None] = []
    for record, text in zip(records, texts, strict=True):
        if not text:
            dates.append(None)
            continue
        if text not in known:
            try:
                known[text] = parse_dates([text], list(formats))[0]
            except BadValue as error:
                known[text] = error
        date = known[text]
        if isinstance(date, BadValue):
            parsed.issues.append((record.line_number, str(date)))
            dates.append(None)
        else:
            dates.append(date)
    return dates


def _day_month_misread(
    records: list[Record],
    dates: list[dt.date | None],
    posted: list[dt.date | None],
    columns: Columns,
    schema: Schema,
    run_date: dt.date,
) -> tuple[int, str] | None:
    """(line, reason) when the file's dates read both ways (every day is 12 or less) and, read
    with the schema's format, contradict the file's own evidence: a posted date far from its
    transaction date, or a date that cannot be right. A file re-saved by a spreadsheet set to
    the other order looks exactly like this, and would load with every date wrong."""
    formats = schema.date_formats
    texts = [columns.get(record, role) for record in records for role in ("date", "posted_date")]
    if not formats or not reads_both_ways(texts, formats):
        return None
    for record, date, posted_date in zip(records, dates, posted, strict=True):
        if date is None:
            continue
        evidence = (
            posting_contradiction(date, posted_date)
            or date_out_of_range(date, run_date)
            or (posted_date and date_out_of_range(posted_date, run_date))
        )
        if evidence:
            other = next(day_month_swapped(f) for f in formats if day_month_swapped(f) != f)
            order = "day-first" if other.index("%d") < other.index("%m") else "month-first"
            shown = " or ".join(formats)
            return record.line_number, f"dates look {order}; the schema reads {shown}: {evidence}"
    return None


def _drop_impossible_dates(
    records: list[Record],
    dates: list[dt.date | None],
    posted: list[dt.date | None],
    run_date: dt.date,
    parsed: ParsedFile,
) -> None:
    """Report each date no transaction can have, and forget it so that its row is not read."""
    for index, record in enumerate(records):
        problems = [date_out_of_range(d, run_date) for d in (dates[index], posted[index]) if d]
        problem = next(filter(None, problems), None)  # one reason per line
        if problem:
            parsed.issues.append((record.line_number, problem))
            dates[index] = None


def parse_file(layout: Layout, household: Household, context: FileContext) -> ParsedFile:
    schema = layout.schema
    parsed = ParsedFile()
    columns = Columns(schema, layout.header_cells)
    if columns.missing:
        parsed.issues.append((1, f"columns not in the file: {', '.join(columns.missing)}"))
        return parsed
    records = _select_records(layout, columns, parsed)
    shaped = []
    joins_extra_fields = columns.has_header and schema.extra_fields == "join"
    for record in records:
        problem = _record_shape_problem(record, columns, schema.extra_fields)
        if problem:
            parsed.issues.append((record.line_number, problem))
        elif joins_extra_fields:
            shaped.append(_with_extra_fields_joined(record, columns.width, layout.delimiter))
        else:
            shaped.append(record)
    dates = _dates(shaped, columns, layout, "date", parsed)
    posted = (
        _dates(shaped, columns, layout, "posted_date", parsed)
        if "posted_date" in schema.columns
        else [None] * len(shaped)
    )
    run_date = context.loaded_at.date()
    misread = _day_month_misread(shaped, dates, posted, columns, schema, run_date)
    if misread is not None:
        parsed.issues.append(misread)
        parsed.issues.sort()
        return parsed
    _drop_impossible_dates(shaped, dates, posted, run_date, parsed)

    identities = RowIdentities(schema.id, context.inbox_member_id)
    static_account = schema.static.get("account", "")
    for record, date, posted_date in zip(shaped, dates, posted, strict=True):
        try:
            if date is None:
                if not columns.get(record, "date"):
                    raise BadValue("date is empty")
                continue  # its parse error is already reported
            amount_cents = _amount_cents(record, columns, layout)
            account_text = columns.get(record, "account") or static_account
            member_text = columns.get(record, "member")
            owner = owner_of(schema, household, context, member_text, account_text)
            shared_text = columns.get(record, "shared_amount")
            shared_cents = abs(read_amount_cents(shared_text, schema)) if shared_text else None
            balance_text = columns.get(record, "balance")
            balance_cents = read_amount_cents(balance_text, schema) if balance_text else None
        except BadValue as error:
            parsed.issues.append((record.line_number, str(error)))
            continue
        description = columns.get(record, "description") or schema.static.get("description", "")
        reference = columns.get(record, "reference")
        txn_id, legacy_txn_id, occurrence = identities.next(
            account_text, date, amount_cents, description, reference
        )
        parsed.rows.append(
            {
                "txn_id": txn_id,
                "legacy_txn_id": legacy_txn_id,
                "file_sha256": context.file_sha256,
                "file_path": context.file_path,
                "line_number": record.line_number,
                "raw_line": record.raw_line,
                "schema_id": schema.id,
                "source_kind": schema.source_kind,
                "inbox_member_id": context.inbox_member_id,
                "owner_member_id": owner,
                "member_text": columns.get(record, "member") or None,
                "purchased_by": columns.get(record, "purchased_by") or None,
                "institution": schema.static.get("institution"),
                "account_text": account_text,
                "account_last4": account_last4(account_text),
                "transaction_date": date,
                "posted_date": posted_date,
                "description": description,
                "merchant_text": columns.get(record, "merchant") or None,
                "category_text": columns.get(record, "category") or None,
                "reference": reference or None,
                "note": columns.get(record, "note") or None,
                "counterparty_text": columns.get(record, "counterparty") or None,
                "status_text": columns.get(record, "status") or None,
                "amount_cents": amount_cents,
                "balance_cents": balance_cents,
                "shared_amount_cents": shared_cents,
                "static_sharing": schema.static.get("sharing"),
                "static_policy": schema.static.get("policy"),
                "occurrence_index": occurrence,
                "loaded_at": context.loaded_at,
            }
        )
    parsed.issues.sort()
    return parsed
