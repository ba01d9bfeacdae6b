"""Clean files' rows computed in DuckDB a column at a time: the rows ingest.parse would load.

The careful path (ingest.parse) reads one record at a time in Python so that it can name every
bad line. Most files have none; for those, this path computes the same rows in SQL, for many
files of one layout at once (a query costs about as much for one file as for fifty). It leaves
out every file it is not certain of — a line it cannot split exactly as Python's csv module
would, a value a parser rejects, a line the careful path would report — and the caller reads
those on the careful path, whose `file:line: reason` messages stay the only ones.

Values keep Python's semantics: the distinct date, amount, direction, owner and account texts
(few, as files repeat them) are read by the careful path's own functions and joined back. Only
plain amounts ("-12.34") are read in SQL, to the same cents. Ids and occurrence indexes are
the SQL of ingest.parse's identity formulas, the very definition the careful path runs in
Python (docs/rules.md#identity).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingest.household import Household
from ingest.parse import (
    ID_FORMULAS,
    LOOKED_UP_FACTS,
    TXN_ID,
    Columns,
    FileContext,
    ParsedTable,
    account_last4,
    computed_facts_sql,
    fact_columns,
    formula_id_sql,
    looked_up_texts,
    occurrence_sql,
    owner_of,
    read_amount_cents,
    sql_text,
)
from ingest.reader import Located
from ingest.schemas import JOINED_CELL_SEPARATOR, ROLES, Schema, normalize_header
from ingest.values import (
    MAX_AMOUNT_WHOLE_DIGITS,
    BadValue,
    date_out_of_range,
    infer_date_format,
    parse_dates,
    reads_both_ways,
)
from ingest.warehouse import RAW_TRANSACTION_COLUMNS

# Python's str.strip() removes these besides space and tab; the SQL below trims exactly space
# and tab (DuckDB's trim() without characters would take some of these and leave tab), so a
# file holding any of them is left to the careful path.
WHITESPACE_PYTHON_STRIPS = re.compile(
    "[\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)
CELL_WHITESPACE = " \t"
FIELD_SIZE_LIMIT = 131072  # Python csv's default: a longer field is an error there
AMOUNT_ROLES = ("amount", "debit", "credit", "shared_amount", "balance")


@dataclass(frozen=True)
class CleanCandidate:
    """A located file and its lineage, offered to this path."""

    located: Located
    context: FileContext


@dataclass(frozen=True)
class _Group:
    """Candidates that share a schema, a delimiter and a header, hence every column position."""

    schema: Schema
    delimiter: str
    columns: Columns
    members: dict[int, CleanCandidate]  # file id -> candidate


def text_is_plain(text: str) -> bool:
    """Line ends and whitespace the SQL below reads exactly as the careful path does."""
    carriage_returns = text.count("\r")
    return (
        "\x00" not in text  # Python's csv rejects NUL characters
        # Lines end all with LF or all with CRLF: a lone CR ends a line only for Python.
        and (carriage_returns == 0 or carriage_returns == text.count("\r\n") == text.count("\n"))
        and WHITESPACE_PYTHON_STRIPS.search(text) is None
    )


def line_end(text: str) -> str:
    return "\r\n" if "\r" in text else "\n"


def quoted_line_sql(delimiter: str) -> tuple[str, str]:
    """SQL reading a line holding quotes from its pieces between quote characters, `segments`.

    Returns (is_split_exactly, text_of_cells). The pieces alternate outside and inside quotes.
    The line reads as Python's csv reads it when every quote opens a field (the piece before
    ends with the delimiter or starts the line), closes one (the piece after starts with the
    delimiter or ends the line), or doubles a quote inside one (an empty piece between two
    insides). The cells' text is then the line without its quotes, doubled quotes as one, and
    delimiters inside quotes held as the unit separator, which a plain text never contains.
    """
    d = sql_text(delimiter)
    last = "len(segments)"
    is_split_exactly = f"""
        len(segments) % 2 = 1
        and len(list_filter(
            list_transform(segments, (piece, i) -> case
                when i % 2 = 0 then true
                when i = 1 then piece = '' or ends_with(piece, {d})
                when i = {last} then piece = '' or starts_with(piece, {d})
                else piece = '' or (starts_with(piece, {d}) and ends_with(piece, {d}))
            end),
            fits -> not fits
        )) = 0"""
    text_of_cells = f"""
        array_to_string(
            list_transform(segments, (piece, i) -> case
                when i % 2 = 0 then replace(piece, {d}, chr(31))
                when piece = '' and i > 1 and i < {last} then '"'
                else piece
            end),
            ''
        )"""
    return is_split_exactly, text_of_cells


@dataclass(frozen=True)
class _CellText:
    """What the cells of a group's files may hold, so SQL does only the work they need."""

    delimiter: str
    has_quotes: bool  # then a quoted delimiter is held as the unit separator

    @classmethod
    def of(cls, delimiter: str, texts: list[str]) -> _CellText:
        return cls(delimiter, any('"' in text for text in texts))

    def strip_sql(self, expression: str) -> str:
        return f"trim(coalesce({expression}, ''), {sql_text(CELL_WHITESPACE)})"

    def cell_sql(self, index: int) -> str:
        """A stripped cell, its quoted delimiters given back."""
        cell = f"cells[{index + 1}]"
        if self.has_quotes:
            cell = f"replace({cell}, chr(31), {sql_text(self.delimiter)})"
        return self.strip_sql(cell)


def role_sql(columns: Columns, role: str, cell_text: _CellText) -> str:
    """The role's stripped cell, or the non-empty cells of its columns joined (as Columns.get)."""
    indexes = columns.index.get(role)
    if indexes is None:
        return "''"
    if len(indexes) == 1:
        return cell_text.cell_sql(indexes[0])
    parts = ", ".join(f"nullif({cell_text.cell_sql(index)}, '')" for index in indexes)
    return f"concat_ws({sql_text(JOINED_CELL_SEPARATOR)}, {parts})"


def plain_amount_sql(text: str, schema: Schema) -> str:
    """SQL cents of a plain amount, NULL for any other text.

    Plain is "-1234.56" or, with the schema's grouping, "-1,234.56": the general grammar reads
    both to the digits without separators, negative with the leading minus.
    """
    decimal, thousands = schema.decimal, schema.thousands
    whole = f"[0-9]{{1,{MAX_AMOUNT_WHOLE_DIGITS}}}"
    if thousands:
        groups = MAX_AMOUNT_WHOLE_DIGITS // 3 - 1
        whole = f"(?:{whole}|[0-9]{{1,3}}(?:[{thousands}][0-9]{{3}}){{1,{groups}}})"
    pattern = f"-?{whole}[{decimal}][0-9][0-9]"
    digits = f"replace({text}, {sql_text(decimal)}, '')"
    if thousands:
        digits = f"replace({digits}, {sql_text(thousands)}, '')"
    return (
        f"case when regexp_full_match({text}, {sql_text(pattern)}) "
        f"then cast({digits} as bigint) end"
    )


def _first_data_line(located: Located) -> int | None:
    """The physical line data starts on, or None when the header spans lines."""
    header = located.header_record
    if header is None:
        return 1
    if "\n" in header.raw_line or "\r" in header.raw_line:
        return None
    return header.line_number + 1


def _groups(candidates: dict[int, CleanCandidate]) -> list[_Group]:
    """Candidates this path may read, grouped by everything that shapes their SQL."""
    groups: dict[tuple, _Group] = {}
    for file_id, candidate in candidates.items():
        located = candidate.located
        if located.delimiter == '"' or not text_is_plain(located.text):
            continue
        if _first_data_line(located) is None:
            continue
        header = located.header_record
        header_cells = header.cells if header is not None else []
        columns = Columns(located.schema, header_cells)
        if columns.missing:
            continue
        key = (
            located.schema.id,
            located.delimiter,
            tuple(normalize_header(cell) for cell in header_cells),
        )
        if key not in groups:
            groups[key] = _Group(located.schema, located.delimiter, columns, {})
        groups[key].members[file_id] = candidate
    return list(groups.values())


def _read_lines(connection, group: _Group) -> tuple[set[int], dict[int, tuple[int, Counter]]]:
    """View `data_rows`: each file's lines from its first data line on, with role texts, skip
    reasons and the checks that make a file uncertain.

    Returns the files with a line not split with certainty, and per file its rows read and
    skipped rows by reason (as _select_records counts them).
    """
    schema, columns = group.schema, group.columns
    members = list(group.members.values())
    files = pa.table(
        {
            "file_id": pa.array(list(group.members), type=pa.int64()),
            "text": pa.array([c.located.text for c in members], type=pa.large_string()),
            "first_line": pa.array([_first_data_line(c.located) for c in members], pa.int64()),
            "line_end": pa.array([line_end(c.located.text) for c in members], pa.string()),
        }
    )
    d = sql_text(group.delimiter)
    is_split_exactly, text_of_cells = quoted_line_sql(group.delimiter)
    cell_text = _CellText.of(group.delimiter, [c.located.text for c in members])
    mapped = [role for role in ROLES if role in schema.columns]
    roles = ",\n".join(f"{role_sql(columns, role, cell_text)} as {role}_text" for role in mapped)
    account = role_sql(columns, "account", cell_text)
    static_account = sql_text(schema.static.get("account", ""))
    conditions = [column for column, _ in schema.skip_rows]
    if schema.pending_column:
        conditions.append(schema.pending_column)
    named = "".join(
        f", {cell_text.cell_sql(columns.position(column))} as condition_{number}"
        for number, column in enumerate(conditions)
    )
    width = columns.width
    stripped_extra = cell_text.strip_sql("c")
    # Without a header, fields after the last mapped one are the file's own columns. Filled
    # cells beyond the header are a bad line, ignored, or joined to the last column's text;
    # a joined row is left to the careful path, which rebuilds that text.
    extra_cells_filled = (
        f"len(list_filter(cells[{width + 1}:], c -> {stripped_extra} <> '')) > 0"
        if columns.has_header and schema.extra_fields != "ignore"
        else "false"
    )
    blank_characters = sql_text(CELL_WHITESPACE + group.delimiter)
    footer = (
        "when row_number() over (partition by file_id, is_blank order by line_number desc) "
        f"<= {schema.footer_lines} then 'footer_lines'"
        if schema.footer_lines
        else ""
    )
    connection.register("group_files", files)
    connection.execute(
        f"""
        create or replace temp table data_rows_stored as
        with physical as (
            select
                file_id,
                first_line,
                unnest(lines) as line,
                unnest(range(1, len(lines) + 1)) as line_number
            from (
                select file_id, first_line, string_split(text, line_end) as lines
                from group_files
            )
        ),
        data_lines as (
            select
                file_id,
                line_number,
                line as raw_line,
                contains(raw_line, '"') as has_quotes,
                case when has_quotes then string_split(raw_line, '"') end as segments
            from physical
            where line_number >= first_line
        ),
        read_lines as (
            select
                file_id,
                line_number,
                raw_line,
                case when has_quotes then {is_split_exactly} else true end as is_split_exactly,
                case when has_quotes then {text_of_cells} else raw_line end as text_of_cells
            from data_lines
        ),
        split_lines as (
            select
                file_id,
                line_number,
                raw_line,
                is_split_exactly and strlen(raw_line) <= {FIELD_SIZE_LIMIT} as is_certain,
                string_split(text_of_cells, {d}) as cells,
                -- Every cell is blank when the line holds only spaces, tabs and delimiters.
                ltrim(text_of_cells, {blank_characters}) = '' as is_blank
            from read_lines
        )
        select
            file_id,
            line_number,
            raw_line,
            is_certain,
            case when is_blank then 'blank' {footer} end as skip_reason,
            case
                when len(cells) < {width} then true
                when len(cells) = {width} then false
                else {extra_cells_filled}
            end as has_shape_problem,
            {roles},
            case when {account} <> '' then {account} else {static_account} end as account
            {named}
        from split_lines
        """
    )
    connection.unregister("group_files")
    # Roles the schema does not map read as empty text, stored in no row.
    unmapped = "".join(f", ''::varchar as {role}_text" for role in ROLES if role not in mapped)
    connection.execute(
        f"create or replace temp view data_rows as select *{unmapped} from data_rows_stored"
    )
    uncertain = connection.execute(
        "select distinct file_id from data_rows where not is_certain"
    ).fetchall()
    _mark_skips(connection, schema)
    counts = {file_id: (0, Counter()) for file_id in group.members}
    for file_id, reason, count in connection.execute(
        "select file_id, skip_reason, count(*) from data_rows group by all"
    ).fetchall():
        read, skipped = counts[file_id]
        if reason != "blank":
            counts[file_id] = (read + count, skipped)
        if reason not in (None, "blank"):
            skipped[reason] += count
    if schema.footer_lines:
        for _read, skipped in counts.values():
            skipped["footer_lines"] += 0  # the careful path names the reason even when 0
    return {row[0] for row in uncertain}, counts


def _mark_skips(connection, schema: Schema) -> None:
    """Declared skips, in the careful path's order: skip_lines, then skip_rows, then pending."""
    if schema.skip_lines:
        lines = _distinct(connection, "raw_line")
        matched = [line for line in lines if any(p.search(line) for p in schema.skip_lines)]
        _mark_reason(connection, "skip_lines", "raw_line", matched)
    for number, (_column, pattern) in enumerate(schema.skip_rows):
        values = _distinct(connection, f"condition_{number}")
        matched = [value for value in values if pattern.search(value)]
        _mark_reason(connection, "skip_rows", f"condition_{number}", matched)
    if schema.pending_column:
        number = len(schema.skip_rows)
        values = _distinct(connection, f"condition_{number}")
        matched = [value for value in values if value.casefold() in schema.pending_values]
        _mark_reason(connection, "pending", f"condition_{number}", matched)


def _distinct(connection, expression: str, where: str = "true") -> list:
    """Distinct values of the rows read and not skipped (one-column results come unwrapped)."""
    rows = connection.execute(
        f"select distinct {expression} from data_rows where skip_reason is null and ({where})"
    ).fetchall()
    return [row[0] if len(row) == 1 else row for row in rows]


def _mark_reason(connection, reason: str, column: str, matched: list[str]) -> None:
    """Rows not yet skipped whose `column` is one of the `matched` values are skipped for
    `reason`."""
    if not matched:
        return
    connection.register("matched_values", pa.table({"value": pa.array(matched, pa.string())}))
    try:
        connection.execute(
            f"update data_rows_stored set skip_reason = {sql_text(reason)} "
            f"where skip_reason is null and {column} in (select value from matched_values)"
        )
    finally:
        connection.unregister("matched_values")


def _register_lookup(connection, name: str, entries: dict[tuple, tuple], types: dict) -> None:
    """A table `name` of key columns then result columns, from {key tuple: result tuple}."""
    columns = {}
    for position, (column, arrow_type) in enumerate(types.items()):
        values = [(*key, *result)[position] for key, result in entries.items()]
        columns[column] = pa.array(values, type=arrow_type)
    connection.register(name, pa.table(columns))


def _read_or_none(read: Callable[..., object], *arguments: object) -> object | None:
    """A careful-path reader's result, or None for a value it rejects: rows holding that value
    then have no reading, which makes their file uncertain."""
    try:
        return read(*arguments)
    except BadValue:
        return None


def _map_dates(connection, group: _Group, role: str) -> None:
    """`{role}_map`: per file, each distinct date text with its date, read the way
    _dates reads them (a format inferred per file, from that file's column). Dates no
    transaction can have are left out, and so is every date of a file whose declared format
    reads both ways and that has posted dates: the careful path names those lines, or weighs
    the posting lags (without posted dates, its only evidence is a date left out here)."""
    texts_by_file: dict[int, list[str]] = {}
    for file_id, text in _distinct(connection, f"file_id, {role}_text", f"{role}_text <> ''"):
        texts_by_file.setdefault(file_id, []).append(text)
    entries: dict[tuple, tuple] = {}
    for file_id, texts in texts_by_file.items():
        run_date = group.members[file_id].context.loaded_at.date()
        formats = list(group.schema.date_formats)
        if "posted_date" in group.schema.columns and formats and reads_both_ways(texts, formats):
            continue
        if not formats:
            # The format inferred from the distinct texts is the one inferred from the column:
            # a format is kept only when it reads every value, whatever their order.
            inferred = _read_or_none(infer_date_format, texts)
            if inferred is None:
                continue  # no dates read: every row of the file is uncertain
            formats = [inferred]
        for text in texts:
            dates = _read_or_none(parse_dates, [text], formats)
            if dates is not None and date_out_of_range(dates[0], run_date) is None:
                entries[(file_id, text)] = (dates[0],)
    types = {"file_id": pa.int64(), "key": pa.string(), "date": pa.date32()}
    _register_lookup(connection, f"{role}_map", entries, types)


def _map_amounts(connection, group: _Group) -> list[str]:
    """`amount_map`: cents of each distinct amount text that is not plain; the roles read."""
    schema = group.schema
    roles = [role for role in AMOUNT_ROLES if role in schema.columns]
    texts: set[str] = set()
    for role in roles:
        column = f"{role}_text"
        plain = plain_amount_sql(column, schema)
        texts.update(_distinct(connection, column, f"{column} <> '' and ({plain}) is null"))
    entries: dict[tuple, tuple] = {}
    for text in sorted(texts):
        cents = _read_or_none(read_amount_cents, text, schema)
        if cents is not None:
            entries[(text,)] = (cents,)
    _register_lookup(connection, "amount_map", entries, {"key": pa.string(), "cents": pa.int64()})
    return roles


def _map_directions(connection, group: _Group) -> None:
    schema = group.schema
    texts = _distinct(connection, "direction_text") if "direction" in schema.columns else []
    entries: dict[tuple, tuple] = {}
    for text in texts:
        direction = text.casefold()
        if direction in schema.direction_out:
            entries[(text,)] = (-1,)
        elif direction in schema.direction_in:
            entries[(text,)] = (1,)
    _register_lookup(connection, "direction_map", entries, {"key": pa.string(), "sign": pa.int8()})


def _map_accounts(connection, group: _Group, household: Household) -> None:
    """`account_map` (per file and account text: last four digits and the texts of the
    looked-up identity facts, such as the account identity, which the file's inbox member gives
    when the text is empty) and `owner_map` (per file, member text and account → owner, as
    owner_of decides)."""
    schema_id = group.schema.id
    accounts = {
        (file_id, account): (
            account_last4(account),
            *looked_up_texts(schema_id, group.members[file_id].context.inbox_member_id, account),
        )
        for file_id, account in _distinct(connection, "file_id, account")
    }
    types = {
        "file_id": pa.int64(),
        "key": pa.string(),
        "last4": pa.string(),
        **{fact.column: pa.string() for fact in LOOKED_UP_FACTS},
    }
    _register_lookup(connection, "account_map", accounts, types)
    owners: dict[tuple, tuple] = {}
    for file_id, member_text, account in _distinct(connection, "file_id, member_text, account"):
        context = group.members[file_id].context
        owner = _read_or_none(owner_of, group.schema, household, context, member_text, account)
        if owner is not None:
            owners[(file_id, member_text, account)] = (owner,)
    types = {
        "file_id": pa.int64(),
        "member_text": pa.string(),
        "account": pa.string(),
        "owner": pa.string(),
    }
    _register_lookup(connection, "owner_map", owners, types)


def _register_file_context(connection, group: _Group) -> None:
    """`file_context`: each file's lineage, as the careful path writes it on every row."""
    contexts = [candidate.context for candidate in group.members.values()]
    table = {
        "file_id": pa.array(list(group.members), pa.int64()),
        "file_sha256": pa.array([context.file_sha256 for context in contexts], pa.string()),
        "file_path": pa.array([context.file_path for context in contexts], pa.string()),
        "inbox_member_id": pa.array([context.inbox_member_id for context in contexts], pa.string()),
        "loaded_at": pa.array([context.loaded_at for context in contexts], pa.timestamp("us")),
    }
    connection.register("file_context", pa.table(table))


def _cents_sql(role: str, schema: Schema) -> str:
    text = f"r.{role}_text"
    return (
        f"case when {text} = '' then null "
        f"else coalesce({plain_amount_sql(text, schema)}, {role}_amount.cents) end"
    )


def _signed_amount_sql(schema: Schema) -> tuple[str, str]:
    """The canonical amount and the condition that makes a row a bad line (as _amount_cents)."""
    if "amount" in schema.columns:
        if "direction" in schema.columns:
            value = "direction_sign * abs(amount_cents_read)"
            problem = "amount_cents_read is null or direction_sign is null"
        else:
            value = "-amount_cents_read" if schema.negate else "amount_cents_read"
            problem = "amount_cents_read is null"
        return value, problem
    value = (
        "case when coalesce(debit_cents_read, 0) <> 0 then -abs(debit_cents_read) "
        "else abs(coalesce(credit_cents_read, 0)) end"
    )
    problem = (
        "(debit_cents_read is null and credit_cents_read is null) or "
        "(coalesce(debit_cents_read, 0) <> 0 and coalesce(credit_cents_read, 0) <> 0)"
    )
    return value, problem


def _rows_sql(group: _Group, amount_roles: list[str]) -> str:
    """Every row read, signed and identified, with the raw.transactions columns, its file id and
    whether the careful path would call it a bad line; in file and line order."""
    schema = group.schema
    static = schema.static
    description = static.get("description", "")
    amount_joins = "".join(
        f" left join amount_map as {role}_amount on {role}_amount.key = r.{role}_text"
        for role in amount_roles
    )
    amounts_read = "".join(
        f", {_cents_sql(role, schema)} as {role}_cents_read" for role in amount_roles
    )
    absent = "".join(
        f", null::bigint as {role}_cents_read" for role in AMOUNT_ROLES if role not in amount_roles
    )
    # A non-empty amount cell without cents is a value the careful path would reject.
    unread = " or ".join(
        f"({role}_text <> '' and {role}_cents_read is null)" for role in amount_roles
    )
    value, problem = _signed_amount_sql(schema)
    schema_id = sql_text(schema.id)
    # The ids, as ingest.parse defines them: each IdentityInputs field is a column here.
    inputs = {
        "schema_id": schema_id,
        "inbox_member": "file_context.inbox_member_id",
        "account_text": "account",
        "date": "transaction_date",
        "amount_cents": "amount_cents",
        "description": "description",
        "reference": "reference_text",
    }
    identity_inputs = fact_columns(inputs)
    occurrences = ",\n".join(
        f"{occurrence_sql(formula, identity_inputs, 'file_id', 'line_number')}"
        f" as {formula.column}_occurrence"
        for formula in ID_FORMULAS
    )
    outputs = {
        **{
            formula.column: formula_id_sql(formula, identity_inputs, f"{formula.column}_occurrence")
            for formula in ID_FORMULAS
        },
        "file_sha256": "file_context.file_sha256",
        "file_path": "file_context.file_path",
        "line_number": "line_number",
        "raw_line": "raw_line",
        "schema_id": schema_id,
        "source_kind": sql_text(schema.source_kind),
        "inbox_member_id": "file_context.inbox_member_id",
        "owner_member_id": "owner_member_id",
        "member_text": "nullif(member_text, '')",
        "purchased_by": "nullif(purchased_by_text, '')",
        "institution": sql_text(static.get("institution")),
        "account_text": "account",
        "account_last4": "account_last4",
        "transaction_date": "transaction_date",
        "posted_date": "posted_date",
        "description": "description",
        "merchant_text": "nullif(merchant_text, '')",
        "category_text": "nullif(category_text, '')",
        "reference": "nullif(reference_text, '')",
        "note": "nullif(note_text, '')",
        "counterparty_text": "nullif(counterparty_text, '')",
        "status_text": "nullif(status_text, '')",
        "amount_cents": "amount_cents",
        "balance_cents": "balance_cents_read",
        "shared_amount_cents": "abs(shared_amount_cents_read)",
        "static_sharing": sql_text(static.get("sharing")),
        "static_policy": sql_text(static.get("policy")),
        "occurrence_index": f"{TXN_ID.column}_occurrence",
        "loaded_at": "file_context.loaded_at",
    }
    selected = ",\n".join(
        f"cast({outputs[name]} as {sql_type}) as {name}"
        for name, sql_type in RAW_TRANSACTION_COLUMNS.items()
    )
    looked_up = "".join(f"account_map.{fact.column},\n" for fact in LOOKED_UP_FACTS)
    return f"""
        with read_values as (
            select
                r.*,
                date_map.date as transaction_date,
                posted_date_map.date as posted_date,
                direction_map.sign as direction_sign,
                account_map.last4 as account_last4,
                {looked_up}
                owner_map.owner as owner_member_id,
                case when r.description_text <> '' then r.description_text
                    else {sql_text(description)} end as description
                {amounts_read}{absent}
            from data_rows as r
            left join date_map on date_map.file_id = r.file_id and date_map.key = r.date_text
            left join posted_date_map
                on posted_date_map.file_id = r.file_id
                and posted_date_map.key = r.posted_date_text
            left join direction_map on direction_map.key = r.direction_text
            left join account_map
                on account_map.file_id = r.file_id and account_map.key = r.account
            left join owner_map
                on owner_map.file_id = r.file_id
                and owner_map.member_text = r.member_text
                and owner_map.account = r.account
            {amount_joins}
            where r.skip_reason is null
        ),
        signed as (
            select
                *,
                {value} as amount_cents,
                has_shape_problem
                    or transaction_date is null
                    or (posted_date_text <> '' and posted_date is null)
                    or owner_member_id is null
                    or ({problem})
                    or ({unread or "false"}) as is_bad_line
            from read_values
        ),
        identity_facts as (
            select *, {computed_facts_sql(inputs)}
            from signed
        ),
        identified as (
            -- Identical facts in one file are told apart by their order, counted once under
            -- each formula (docs/rules.md#identity).
            select
                *,
                {occurrences}
            from identity_facts
        )
        select file_id, is_bad_line, {selected}
        from identified
        join file_context using (file_id)
        order by file_id, line_number
    """


def _read_group(connection, group: _Group, household: Household) -> dict[int, ParsedTable]:
    uncertain, counts = _read_lines(connection, group)
    _map_dates(connection, group, "date")
    _map_dates(connection, group, "posted_date")
    amount_roles = _map_amounts(connection, group)
    _map_directions(connection, group)
    _map_accounts(connection, group, household)
    _register_file_context(connection, group)
    table = connection.execute(_rows_sql(group, amount_roles)).to_arrow_table()
    uncertain |= set(pc.unique(pc.filter(table["file_id"], table["is_bad_line"])).to_pylist())
    # The rows come ordered by file: each file's rows are one slice.
    rows_per_file = {
        entry["values"].as_py(): entry["counts"].as_py()
        for entry in pc.value_counts(table["file_id"])
    }
    table = table.drop_columns(["file_id", "is_bad_line"])
    parsed: dict[int, ParsedTable] = {}
    start = 0
    for file_id in sorted(group.members):
        length = rows_per_file.get(file_id, 0)
        if file_id not in uncertain:
            rows_read, skipped = counts[file_id]
            parsed[file_id] = ParsedTable(table.slice(start, length), rows_read, skipped)
        start += length
    return parsed


def parse_clean_files(
    candidates: dict[int, CleanCandidate],
    household: Household,
    connection: duckdb.DuckDBPyConnection,
) -> dict[int, ParsedTable]:
    """The rows of each candidate this path is certain of, as the careful path would load them.

    Keys are the caller's file ids (ascending); a candidate missing from the result is for the
    careful path. `connection` is a scratch in-memory DuckDB whose temporary tables each call
    replaces.
    """
    parsed: dict[int, ParsedTable] = {}
    for group in _groups(dict(sorted(candidates.items()))):
        try:
            parsed.update(_read_group(connection, group, household))
        except duckdb.Error:
            continue  # a value SQL cannot read: the careful path will say which line holds it
    return parsed
