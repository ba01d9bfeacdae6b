"""Turning an identified file into canonical transaction rows, strictly, with their ids
(docs/rules.md#identity)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from types import SimpleNamespace
from typing import NamedTuple

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
    """Account numbers appear only as their last four digits; also part of the legacy identity
    (docs/rules.md#identity)."""
    digits = DIGITS.findall(account_text)
    return "".join(digits[-4:]) if len(digits) >= 4 else None


def account_identity(account_text: str, inbox_member: str | None) -> str:
    """The account a row belongs to, as its txn_id sees it (docs/rules.md#identity): the whole
    account text, trimmed, case-folded, runs of spaces collapsed, when the file names accounts;
    else the inbox member. Two accounts ending in the same four digits stay two accounts, and
    one aggregator export saved in two members' folders stays one set of transactions."""
    normalised = " ".join(account_text.split()).casefold()
    return f"account:{normalised}" if normalised else f"member:{inbox_member or ''}"


def legacy_account_key(account_text: str) -> str:
    """The account as the txn_id of earlier versions saw it: its last four digits, else its
    text."""
    return account_last4(account_text) or account_text.strip()


# A row's ids (docs/rules.md#identity) are defined once, below, and both ingest paths build
# them from that definition: the careful path (RowIdentities) runs its Python, the vectorised
# path (ingest.vectorised) its SQL. An id is the md5 of its facts' texts, in order, then the
# row's occurrence index, joined by ID_SEPARATOR, cut to ID_HEX_DIGITS hex digits; the
# occurrence index numbers, in file order, the rows of one file alike in the formula's
# `numbered_by` facts. Each fact is a Normalisation of some of the row's IdentityInputs.

ID_SEPARATOR = "\x1f"  # the unit separator, chr(31)
ID_HEX_DIGITS = 16
# What str.strip() removes: every character whose isspace() is true (a test checks the list).
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def sql_text(value: str | None) -> str:
    """A SQL string literal (or NULL) for a value fixed by a schema or a file."""
    if value is None:
        return "null"
    return "'" + value.replace("'", "''") + "'"


class IdentityInputs(NamedTuple):
    """A row's values as read, before any normalisation: what its ids are made of. The
    vectorised path names a SQL expression for each field."""

    schema_id: str
    inbox_member: str | None
    account_text: str
    date: dt.date
    amount_cents: int
    description: str
    reference: str


# Inputs that are one value per account text of a file: all a looked-up fact may read.
LOOKUP_INPUTS = ("schema_id", "inbox_member", "account_text")


@dataclass(frozen=True)
class Normalisation:
    """How values become the text an id hashes: `python` of the values, and `sql`, a template
    over the values' SQL expressions ({0}, {1}, …) giving the same text in DuckDB. `sql` is
    None where SQL has no exact equal (casefold): the vectorised path then runs `python` once
    per distinct values (see LOOKUP_INPUTS) and joins its text back, so it stays one function.
    `injective`: distinct values give distinct texts, so rows alike in the text are the rows
    alike in the value, which SQL compares faster (a date, not its ISO text)."""

    python: Callable[..., str]
    sql: str | None
    injective: bool = False


AS_IS = Normalisation(str, "{0}", injective=True)
EMPTY_IF_NONE = Normalisation(lambda value: value or "", "coalesce({0}, '')")
# DuckDB's trim() with these 29 characters costs a microsecond or more a row: it runs only on
# a text that starts or ends with one of them, which a regular expression finds much faster.
_EDGE_WHITESPACE = sql_text(f"^[{PYTHON_WHITESPACE}]|[{PYTHON_WHITESPACE}]$")
STRIPPED = Normalisation(
    str.strip,
    f"case when regexp_matches({{0}}, {_EDGE_WHITESPACE})"
    f" then trim({{0}}, {sql_text(PYTHON_WHITESPACE)}) else {{0}} end",
)
ISO_DATE = Normalisation(dt.date.isoformat, "strftime({0}, '%Y-%m-%d')", injective=True)
# Integers: cents, the occurrence index.
DECIMAL = Normalisation(str, "cast({0} as varchar)", injective=True)
ACCOUNT_IDENTITY = Normalisation(account_identity, None)
LEGACY_ACCOUNT_KEY = Normalisation(legacy_account_key, None)


@dataclass(frozen=True)
class IdentityFact:
    """One fact of an id: a normalisation of some of a row's IdentityInputs."""

    name: str  # also names its column in the vectorised path's SQL (identity_<name>)
    inputs: tuple[str, ...]
    normalisation: Normalisation

    def __post_init__(self) -> None:
        unknown = set(self.inputs) - set(IdentityInputs._fields)
        if unknown:
            raise ValueError(f"identity fact {self.name}: no input {sorted(unknown)}")
        if self.looked_up and not set(self.inputs) <= set(LOOKUP_INPUTS):
            raise ValueError(f"identity fact {self.name} is looked up: it reads {LOOKUP_INPUTS}")

    @property
    def looked_up(self) -> bool:
        return self.normalisation.sql is None

    @property
    def column(self) -> str:
        return f"identity_{self.name}"

    def text(self, inputs: object) -> str:
        """The fact's text, of any object with the IdentityInputs fields it reads."""
        return self.normalisation.python(*(getattr(inputs, name) for name in self.inputs))

    def sql(self, inputs: Mapping[str, str]) -> str:
        """The fact's text in SQL, given each input's SQL expression (by IdentityInputs field),
        or the fact's own column when `inputs` names it (by IdentityFact.column): a looked-up
        fact's, which the vectorised path joins from a table of texts, or one computed once."""
        if self.column in inputs:
            return inputs[self.column]
        if self.normalisation.sql is None:
            raise ValueError(f"identity fact {self.name} is looked up: no column {self.column}")
        return self.normalisation.sql.format(*(inputs[name] for name in self.inputs))

    def alike_sql(self, inputs: Mapping[str, str]) -> str:
        """SQL equal for two rows exactly when the fact's texts are: its input itself when the
        normalisation is injective, else its text."""
        if self.normalisation.injective and len(self.inputs) == 1:
            return inputs[self.inputs[0]]
        return self.sql(inputs)


SCHEMA = IdentityFact("schema", ("schema_id",), AS_IS)
INBOX_MEMBER = IdentityFact("inbox_member", ("inbox_member",), EMPTY_IF_NONE)
ACCOUNT = IdentityFact("account", ("account_text", "inbox_member"), ACCOUNT_IDENTITY)
LEGACY_ACCOUNT = IdentityFact("legacy_account", ("account_text",), LEGACY_ACCOUNT_KEY)
ACCOUNT_TEXT = IdentityFact("account_text", ("account_text",), AS_IS)
DATE = IdentityFact("date", ("date",), ISO_DATE)
CENTS = IdentityFact("cents", ("amount_cents",), DECIMAL)
DESCRIPTION = IdentityFact("description", ("description",), STRIPPED)
REFERENCE = IdentityFact("reference", ("reference",), STRIPPED)


@dataclass(frozen=True)
class IdentityFormula:
    """One id of a row: the md5 of its `hashed` facts' texts and its occurrence index among the
    rows of its file alike in the `numbered_by` facts (identical rows are told apart by their
    order)."""

    column: str  # the raw.transactions column
    hashed: tuple[IdentityFact, ...]
    numbered_by: tuple[IdentityFact, ...]


# The txn_id: the account identity, so that one account named two ways is one account.
TXN_ID = IdentityFormula(
    "txn_id",
    hashed=(SCHEMA, ACCOUNT, DATE, CENTS, DESCRIPTION, REFERENCE),
    numbered_by=(ACCOUNT, DATE, CENTS, DESCRIPTION, REFERENCE),
)
# The txn_id of earlier versions (inbox member and the account's last four digits), kept on
# every row so that review journals written by them keep applying. Its repeats are counted by
# account text, as those versions counted them.
LEGACY_TXN_ID = IdentityFormula(
    "legacy_txn_id",
    hashed=(SCHEMA, INBOX_MEMBER, LEGACY_ACCOUNT, DATE, CENTS, DESCRIPTION, REFERENCE),
    numbered_by=(ACCOUNT_TEXT, DATE, CENTS, DESCRIPTION, REFERENCE),
)
ID_FORMULAS = (TXN_ID, LEGACY_TXN_ID)
# Every fact of any formula, each computed once per row; a row's fact texts are a tuple in
# this order.
IDENTITY_FACTS = tuple(
    dict.fromkeys(
        fact for formula in ID_FORMULAS for fact in (*formula.hashed, *formula.numbered_by)
    )
)
LOOKED_UP_FACTS = tuple(fact for fact in IDENTITY_FACTS if fact.looked_up)
OCCURRENCE = DECIMAL


def _picker(facts: tuple[IdentityFact, ...]) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    """The texts of `facts`, in order, out of a row's fact texts."""
    positions = [IDENTITY_FACTS.index(fact) for fact in facts]
    if len(positions) == 1:
        return lambda texts: (texts[positions[0]],)
    return operator.itemgetter(*positions)


# By formula column (a formula's own hash would hash all of its facts, for every row).
HASHED_TEXTS = {formula.column: _picker(formula.hashed) for formula in ID_FORMULAS}
REPEAT_KEY = {formula.column: _picker(formula.numbered_by) for formula in ID_FORMULAS}


def _generated_row_fact_texts() -> Callable[..., tuple[str, ...]]:
    """A function of a row's IdentityInputs fields, in order, that gives its fact texts. It is
    generated from IDENTITY_FACTS as the code one would write by hand, since it runs for every
    row the careful path reads: `return (normalise_0(schema_id), normalise_1(...), ...)`."""
    namespace = {
        f"normalise_{number}": fact.normalisation.python
        for number, fact in enumerate(IDENTITY_FACTS)
    }
    calls = "".join(
        f"normalise_{number}({', '.join(fact.inputs)}), "
        for number, fact in enumerate(IDENTITY_FACTS)
    )
    source = f"def row_fact_texts({', '.join(IdentityInputs._fields)}):\n    return ({calls})\n"
    exec(source, namespace)
    return namespace["row_fact_texts"]


row_fact_texts = _generated_row_fact_texts()


def fact_texts(inputs: IdentityInputs, known: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """A row's fact texts, in IDENTITY_FACTS order; `known` gives looked-up facts' texts (by
    fact name) already computed."""
    texts = row_fact_texts(*inputs)
    if not known:
        return texts
    named = zip(IDENTITY_FACTS, texts, strict=True)
    return tuple(known.get(fact.name, text) for fact, text in named)


def looked_up_texts(schema_id: str, inbox_member: str | None, account_text: str) -> tuple:
    """The texts of LOOKED_UP_FACTS, in order, for one account text of a file."""
    inputs = SimpleNamespace(
        schema_id=schema_id, inbox_member=inbox_member, account_text=account_text
    )
    return tuple(fact.text(inputs) for fact in LOOKED_UP_FACTS)


def hashed_id(texts: Iterable[str], occurrence: int) -> str:
    """An id from its facts' texts, in order, and the row's occurrence index."""
    joined = ID_SEPARATOR.join((*texts, OCCURRENCE.python(occurrence)))
    return hashlib.md5(joined.encode("utf-8")).hexdigest()[:ID_HEX_DIGITS]


def formula_id(formula: IdentityFormula, texts: tuple[str, ...], occurrence: int) -> str:
    """The formula's id of a row, from its fact texts and its occurrence index."""
    return hashed_id(HASHED_TEXTS[formula.column](texts), occurrence)


def hashed_id_sql(texts: Iterable[str], occurrence: str) -> str:
    """hashed_id in SQL, from its facts' SQL texts and the occurrence index's SQL. concat_ws
    (faster than ||) would leave out a NULL: every fact's SQL is a text on every row that has
    the IdentityInputs (EMPTY_IF_NONE for the one that may be missing)."""
    joined = ", ".join((*texts, OCCURRENCE.sql.format(occurrence)))
    return f"left(md5(concat_ws(chr({ord(ID_SEPARATOR)}), {joined})), {ID_HEX_DIGITS})"


# The vectorised path computes ids in three steps: computed_facts_sql gives, once, the texts that
# number repeats but are not their inputs' values (a stripped description), then occurrence_sql
# numbers repeats, then formula_id_sql hashes; `inputs` then name those facts' columns and the
# looked-up facts' (fact_columns). Other facts are computed where they are used rather than
# carried through the windows' sorts.
COMPUTED_FACTS = tuple(
    fact
    for fact in IDENTITY_FACTS
    if not fact.looked_up
    and not fact.normalisation.injective
    and any(fact in formula.numbered_by for formula in ID_FORMULAS)
)


def computed_facts_sql(inputs: Mapping[str, str]) -> str:
    """The select list of COMPUTED_FACTS, each as its column, given each input's SQL."""
    return ", ".join(f"{fact.sql(inputs)} as {fact.column}" for fact in COMPUTED_FACTS)


def fact_columns(inputs: Mapping[str, str]) -> dict[str, str]:
    """`inputs` and the columns of the looked-up facts and of COMPUTED_FACTS."""
    return {**inputs, **{fact.column: fact.column for fact in (*LOOKED_UP_FACTS, *COMPUTED_FACTS)}}


def occurrence_sql(
    formula: IdentityFormula, inputs: Mapping[str, str], file: str, order: str
) -> str:
    """The formula's occurrence index in SQL: a window over rows, `file` telling files apart
    and `order` ordering a file's rows."""
    alike = ", ".join([file, *(fact.alike_sql(inputs) for fact in formula.numbered_by)])
    return f"row_number() over (partition by {alike} order by {order}) - 1"


def formula_id_sql(formula: IdentityFormula, inputs: Mapping[str, str], occurrence: str) -> str:
    """The formula's id in SQL, given the SQL of its row's occurrence index."""
    return hashed_id_sql((fact.sql(inputs) for fact in formula.hashed), occurrence)


def transaction_id(
    schema_id: str,
    identity: str,
    date: dt.date,
    amount_cents: int,
    description: str,
    reference: str,
    occurrence: int,
) -> str:
    """The txn_id of a row whose account identity (account_identity) is known."""
    inputs = IdentityInputs(schema_id, None, "", date, amount_cents, description, reference)
    return formula_id(TXN_ID, fact_texts(inputs, {ACCOUNT.name: identity}), occurrence)


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
    """The legacy_txn_id of a row (LEGACY_TXN_ID)."""
    inputs = IdentityInputs(
        schema_id, inbox_member, account_text, date, amount_cents, description, reference
    )
    return formula_id(LEGACY_TXN_ID, fact_texts(inputs), occurrence)


class Occurrences:
    """Occurrence indexes under one formula: the next index of rows alike in its facts."""

    def __init__(self, formula: IdentityFormula):
        self.repeat_key = REPEAT_KEY[formula.column]
        self.seen: Counter = Counter()

    def next(self, texts: tuple[str, ...], scope: tuple = ()) -> int:
        """The index of a row with these fact texts, counting rows of the same `scope` (one
        file, when the counter spans several)."""
        key = (*scope, *self.repeat_key(texts)) if scope else self.repeat_key(texts)
        occurrence = self.seen[key]
        self.seen[key] = occurrence + 1
        return occurrence


class RowIdentities:
    """The ids of one file's rows, read in file order (ID_FORMULAS). Both the CSV and the OFX
    readers number rows with it."""

    def __init__(self, schema_id: str, inbox_member: str | None):
        self.schema_id = schema_id
        self.inbox_member = inbox_member
        self.occurrences = Occurrences(TXN_ID)
        self.legacy_occurrences = Occurrences(LEGACY_TXN_ID)

    def next(
        self, account_text: str, date: dt.date, cents: int, description: str, reference: str
    ) -> tuple[str, str, int]:
        """(txn_id, legacy_txn_id, occurrence index) of the next row with these facts."""
        texts = row_fact_texts(
            self.schema_id, self.inbox_member, account_text, date, cents, description, reference
        )
        occurrence = self.occurrences.next(texts)
        legacy_occurrence = self.legacy_occurrences.next(texts)
        return (
            formula_id(TXN_ID, texts, occurrence),
            formula_id(LEGACY_TXN_ID, texts, legacy_occurrence),
            occurrence,
        )


def rekeyed_rows(rows: list[tuple]) -> pa.Table:
    """Today's txn_id and occurrence index of rows keyed by an earlier version, whose txn_id
    becomes their legacy_txn_id. Rows are (rowid, txn_id, file_sha256, schema_id, inbox member,
    account text, date, cents, description, reference), in file and line order."""
    occurrences = Occurrences(TXN_ID)
    row_ids, txn_ids, legacy_ids, occurrence_indexes = [], [], [], []
    for row_id, legacy_id, file_sha256, schema_id, inbox_member, account_text, *facts in rows:
        texts = row_fact_texts(schema_id, inbox_member, account_text or "", *facts)
        occurrence = occurrences.next(texts, scope=(file_sha256,))
        row_ids.append(row_id)
        legacy_ids.append(legacy_id)
        occurrence_indexes.append(occurrence)
        txn_ids.append(formula_id(TXN_ID, texts, occurrence))
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
    """Records after the header minus declared skips (counted by reason)."""
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
    """The mapped member column, else accounts.csv, else the inbox folder (docs/rules.md#owner)."""
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
