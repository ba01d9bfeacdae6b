"""Bank schema YAML files (docs/schemas.md): loading, validating and matching them to a header."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingest.encodings import decode

ROLES = (
    "date",
    "posted_date",
    "description",
    "category",
    "account",
    "amount",
    "debit",
    "credit",
    "merchant",
    "member",
    "reference",
    "balance",
    "status",
    "shared_amount",
    "note",
    "direction",
    "purchased_by",
    "counterparty",
)
TOP_LEVEL_KEYS = {
    "id",
    "description",
    "match",
    "file",
    "columns",
    "values",
    "amount",
    "pending",
    "skip_rows",
    "aggregator",
    "source_kind",
    "static",
}
SECTION_KEYS = {
    "match": {"headers", "filename"},
    "file": {
        "encoding",
        "delimiter",
        "header",
        "header_line",
        "skip_lines",
        "footer_lines",
        "extra_fields",
    },
    "values": {"date_format", "decimal", "thousands", "currency_text"},
    "amount": {"sign", "direction"},
    "pending": {"column", "values"},
    "static": {"member", "account", "institution", "description", "sharing", "policy"},
}
# Text roles whose value may come from several columns, joined (e.g. Venmo: Note, From, To;
# its counterparty: From, To, one of them the owner).
JOINABLE_ROLES = {"description", "note", "reference", "counterparty"}
JOINED_CELL_SEPARATOR = " · "
ENCODINGS = {"utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"}
SOURCE_KINDS = ("direct", "payment_app", "aggregator")
STATIC_SHARING = {"shared", "personal", "split", "settlement", "transfer", "ignore"}
# What a row's filled cells beyond the header's columns mean: a bad line, nothing, or the rest of
# the last column's text that the bank spilled over more fields (e.g. an unquoted delimiter).
EXTRA_FIELDS = ("error", "ignore", "join")
SCHEMA_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class SchemaError(ValueError):
    """A malformed schema file; the message names the file and the key."""


@dataclass(frozen=True)
class Schema:
    id: str
    path: Path
    description: str
    match_headers: tuple[str, ...]
    match_filename: re.Pattern | None
    encoding: str | None
    delimiter: str | None
    has_header: bool
    header_line: re.Pattern | None
    skip_lines: tuple[re.Pattern, ...]
    footer_lines: int
    extra_fields: str  # one of EXTRA_FIELDS
    columns: dict[str, tuple[str, ...]]  # role -> its column(s); text roles may join several
    date_formats: tuple[str, ...]
    decimal: str
    thousands: str
    currency_texts: tuple[str, ...]  # written around amounts, e.g. "Fr." or "kr"; removed
    negate: bool
    direction_out: frozenset[str]
    direction_in: frozenset[str]
    pending_column: str | None
    pending_values: frozenset[str]
    skip_rows: tuple[tuple[str, re.Pattern], ...]  # (column name, regex searched in its cell)
    source_kind: str
    static: dict[str, str] = field(default_factory=dict)

    @property
    def is_aggregator(self) -> bool:
        return self.source_kind == "aggregator"

    @functools.cached_property
    def normalized_match_headers(self) -> tuple[tuple[str, str], ...]:
        """Each match header beside its normalized form: computed once, compared per header line."""
        return tuple((header, normalize_header(header)) for header in self.match_headers)

    @functools.cached_property
    def distinct_match_header_count(self) -> int:
        return len({wanted for _, wanted in self.normalized_match_headers})

    def headers_missing(self, present: frozenset[str]) -> list[str]:
        """The match.headers not among `present`, the header's cells as normalize_header gives."""
        return [header for header, wanted in self.normalized_match_headers if wanted not in present]

    def has_match_headers(self, present: frozenset[str]) -> bool:
        return all(wanted in present for _, wanted in self.normalized_match_headers)

    def matches_filename(self, file_name: str) -> bool:
        return self.match_filename is None or bool(self.match_filename.search(file_name))


def normalize_header(cell: str) -> str:
    """Headers compare trimmed, BOM-stripped and case-folded (docs/schemas.md)."""
    return cell.replace("\ufeff", "").strip().casefold()


def _is_date_format(date_format: object) -> bool:
    """A strptime format that reads back a date it wrote (rejects typos such as %Q or %)."""
    if not isinstance(date_format, str) or "%" not in date_format:
        return False
    sample = dt.date(2024, 1, 31)
    try:
        dt.datetime.strptime(sample.strftime(date_format), date_format)
    except ValueError:
        return False
    return True


def load_schema(path: Path, shown_path: str | None = None) -> Schema:
    """One schema file; errors name it as shown_path (workspace-relative).

    The first mistake found is the error, so the order of the steps below decides which one a
    schema with several mistakes reports: keep it when editing, users and tests rely on it.
    """
    where = shown_path or path.as_posix()
    document = _read_document(path, where)
    _check_keys(document, where)
    schema_id = _schema_id(document, where)
    # A section left out or left empty reads as an empty mapping: each of its keys has a default.
    match = document.get("match") or {}
    file_options = document.get("file") or {}
    values = document.get("values") or {}
    amount = document.get("amount") or {}
    pending = document.get("pending") or {}
    static = document.get("static") or {}

    has_header = _has_header(file_options, where)
    match_headers, match_filename = _match(match, has_header, where)
    columns = _columns(document.get("columns") or {}, static, where)
    layout = _file_layout(file_options, where)
    number_format = _number_format(values, where)
    negate, direction = _amount(amount, columns, where)
    pending_column = _pending_column(pending, where)
    skip_rows = _skip_rows(document.get("skip_rows") or [], where)
    if not has_header:
        _check_positional_column_names(columns, skip_rows, pending_column, where)
    source_kind = _source_kind(document, where)
    static_values = _static(static, where)
    # Compiled last, once every other key has passed: moving this would change which error a
    # schema with several mistakes reports.
    skip_lines = _skip_line_patterns(file_options, where)

    return Schema(
        id=schema_id,
        path=path,
        description=str(document.get("description", "")),
        match_headers=match_headers,
        match_filename=match_filename,
        has_header=has_header,
        skip_lines=skip_lines,
        **layout,
        columns=columns,
        **number_format,
        negate=negate,
        direction_out=_casefolded(direction.get("out", [])),
        direction_in=_casefolded(direction.get("in", [])),
        pending_column=pending_column,
        pending_values=_casefolded(pending.get("values", [])),
        skip_rows=skip_rows,
        source_kind=source_kind,
        static=static_values,
    )


def _error(where: str, key: str, reason: str) -> SchemaError:
    return SchemaError(f"{where}: {key}: {reason}")


def _regex(where: str, key: str, pattern: object) -> re.Pattern:
    if not isinstance(pattern, str):
        raise _error(where, key, "must be a string")
    try:
        return re.compile(pattern)
    except re.error as error:
        raise _error(where, key, f"invalid regex ({error})") from error


def _read_document(path: Path, where: str) -> dict:
    try:
        document = yaml.safe_load(decode(path.read_bytes())[0])
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or error.__class__.__name__
        raise SchemaError(f"{where}: not valid YAML{line} ({problem})") from None
    if not isinstance(document, dict):
        raise SchemaError(f"{where}: a schema is a mapping of keys")
    return document


def _check_keys(document: dict, where: str) -> None:
    """Unknown keys, at the top or in a section, are errors: a misspelt key would do nothing."""
    unknown = sorted(set(document) - TOP_LEVEL_KEYS)
    if unknown:
        raise _error(where, unknown[0], "unknown key")
    for section, allowed in SECTION_KEYS.items():
        value = document.get(section)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise _error(where, section, "must be a mapping")
        extra = sorted(set(value) - allowed)
        if extra:
            raise _error(where, f"{section}.{extra[0]}", "unknown key")


def _schema_id(document: dict, where: str) -> str:
    schema_id = document.get("id")
    if not isinstance(schema_id, str) or not SCHEMA_ID.match(schema_id):
        raise _error(where, "id", "required, snake_case")
    return schema_id


def _has_header(file_options: dict, where: str) -> bool:
    """file.header, checked before match: it decides whether match needs headers or filename."""
    has_header = file_options.get("header", True)
    if not isinstance(has_header, bool):
        raise _error(where, "file.header", "must be true or false")
    return has_header


def _match(match: dict, has_header: bool, where: str) -> tuple[tuple[str, ...], re.Pattern | None]:
    """match.headers and match.filename: a file needs one of them to be recognised."""
    headers = match.get("headers") or []
    if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
        raise _error(where, "match.headers", "must be a list of column names")
    if has_header and not headers:
        raise _error(where, "match.headers", "required when the file has a header")
    filename = _regex(where, "match.filename", match["filename"]) if "filename" in match else None
    if not has_header and filename is None:
        raise _error(where, "match.filename", "required when file.header is false")
    return tuple(headers), filename


def _columns(columns: object, static: dict, where: str) -> dict[str, tuple[str, ...]]:
    """Each role's column(s), trimmed; a row needs a date, a description and an amount."""
    if not isinstance(columns, dict) or not columns:
        raise _error(where, "columns", "required: a mapping of role to column name")
    role_columns = {}
    for role, column in columns.items():
        if role not in ROLES:
            raise _error(where, f"columns.{role}", "unknown role")
        names = column if isinstance(column, list) and role in JOINABLE_ROLES else [column]
        if not names or not all(isinstance(name, str) and name.strip() for name in names):
            joinable = " (or a list of columns)" if role in JOINABLE_ROLES else ""
            raise _error(where, f"columns.{role}", f"must name a column{joinable}")
        role_columns[role] = tuple(name.strip() for name in names)
    if "date" not in columns:
        raise _error(where, "columns.date", "missing role")
    if "description" not in columns and not static.get("description"):
        raise _error(where, "columns.description", "missing role (or static.description)")
    has_debit_credit = "debit" in columns or "credit" in columns
    if "amount" in columns and has_debit_credit:
        raise _error(where, "columns.amount", "use either amount or debit + credit, not both")
    if "amount" not in columns and not ("debit" in columns and "credit" in columns):
        raise _error(where, "columns.amount", "missing role (or debit + credit)")
    return role_columns


def _file_layout(file_options: dict, where: str) -> dict[str, object]:
    """The file section, but header (checked first) and the skip_lines regexes (compiled last)."""
    encoding = file_options.get("encoding")
    if encoding is not None and encoding not in ENCODINGS:
        raise _error(where, "file.encoding", f"one of {', '.join(sorted(ENCODINGS))}")
    delimiter = file_options.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise _error(where, "file.delimiter", "a single character")
    header_line = (
        _regex(where, "file.header_line", file_options["header_line"])
        if "header_line" in file_options
        else None
    )
    if not isinstance(file_options.get("skip_lines") or [], list):
        raise _error(where, "file.skip_lines", "must be a list of regexes")
    footer_lines = file_options.get("footer_lines", 0)
    if not isinstance(footer_lines, int) or footer_lines < 0:
        raise _error(where, "file.footer_lines", "a whole number ≥ 0")
    extra_fields = file_options.get("extra_fields", "error")
    if extra_fields not in EXTRA_FIELDS:
        raise _error(where, "file.extra_fields", " | ".join(EXTRA_FIELDS))
    return {
        "encoding": encoding,
        "delimiter": delimiter,
        "header_line": header_line,
        "footer_lines": footer_lines,
        "extra_fields": extra_fields,
    }


def _skip_line_patterns(file_options: dict, where: str) -> tuple[re.Pattern, ...]:
    return tuple(
        _regex(where, "file.skip_lines", pattern)
        for pattern in file_options.get("skip_lines") or []
    )


def _number_format(values: dict, where: str) -> dict[str, object]:
    """The values section: how dates and amounts are written."""
    date_formats = values.get("date_format") or []
    if isinstance(date_formats, str):
        date_formats = [date_formats]
    for date_format in date_formats:
        if not _is_date_format(date_format):
            raise _error(where, "values.date_format", f"invalid date format {date_format!r}")
    decimal = values.get("decimal", ".")
    if decimal not in {".", ","}:
        raise _error(where, "values.decimal", "'.' or ','")
    thousands = values.get("thousands", "," if decimal == "." else ".")
    if thousands not in {",", ".", "'", " ", ""} or thousands == decimal:
        raise _error(
            where, "values.thousands", "one of ',' '.' \"'\" ' ' '' and not the decimal mark"
        )
    currency_texts = values.get("currency_text") or []
    if isinstance(currency_texts, str):
        currency_texts = [currency_texts]
    if not isinstance(currency_texts, list) or not all(
        isinstance(text, str) and text.strip() and not any(c.isdigit() for c in text)
        for text in currency_texts
    ):
        raise _error(
            where, "values.currency_text", "a text or a list of texts without digits, e.g. [Fr.]"
        )
    return {
        "date_formats": tuple(date_formats),
        "decimal": decimal,
        "thousands": thousands,
        # Longest first, so that "CHF" is removed whole before a shorter text inside it; texts
        # of one length in a fixed order, whatever the process's hash seed.
        "currency_texts": tuple(
            sorted({t.strip() for t in currency_texts}, key=lambda text: (-len(text), text))
        ),
    }


def _amount(amount: dict, columns: dict[str, tuple[str, ...]], where: str) -> tuple[bool, dict]:
    """Whether amounts are negated, and amount.direction: which columns.direction cells mean
    money out and which money in, for files whose amounts are unsigned."""
    sign = amount.get("sign", "as_is")
    if sign not in {"as_is", "negate"}:
        raise _error(where, "amount.sign", "as_is or negate")
    direction = amount.get("direction") or {}
    if direction and "direction" not in columns:
        raise _error(where, "amount.direction", "needs columns.direction")
    if "direction" in columns and not direction:
        raise _error(
            where, "amount.direction", "required with columns.direction: {out: [...], in: [...]}"
        )
    if direction and (set(direction) != {"out", "in"}):
        raise _error(where, "amount.direction", "needs exactly the keys out and in")
    return sign == "negate", direction


def _pending_column(pending: dict, where: str) -> str | None:
    if pending and ("column" not in pending or "values" not in pending):
        raise _error(where, "pending", "needs column and values")
    return str(pending["column"]).strip() if pending else None


def _skip_rows(skip_rows: object, where: str) -> tuple[tuple[str, re.Pattern], ...]:
    """(column name, regex searched in its cell) for each rule."""
    if not isinstance(skip_rows, list) or not all(
        isinstance(rule, dict) and set(rule) == {"column", "matches"} for rule in skip_rows
    ):
        raise _error(where, "skip_rows", "a list of {column: <name>, matches: <regex>}")
    return tuple(
        (str(rule["column"]).strip(), _regex(where, "skip_rows.matches", rule["matches"]))
        for rule in skip_rows
    )


def _check_positional_column_names(
    columns: dict[str, tuple[str, ...]],
    skip_rows: tuple[tuple[str, re.Pattern], ...],
    pending_column: str | None,
    where: str,
) -> None:
    """A file without a header has no names: every column the schema names is column_N."""
    named_columns = [(f"columns.{role}", name) for role, names in columns.items() for name in names]
    named_columns += [("skip_rows.column", column) for column, _ in skip_rows]
    if pending_column is not None:
        named_columns.append(("pending.column", pending_column))
    for key, column in named_columns:
        if not re.fullmatch(r"column_[1-9][0-9]*", column):
            raise _error(where, key, "a file without header names columns column_N")


def _source_kind(document: dict, where: str) -> str:
    """source_kind; without it, aggregator: true means aggregator, and otherwise direct."""
    aggregator = document.get("aggregator", False)
    if not isinstance(aggregator, bool):
        raise _error(where, "aggregator", "must be true or false")
    source_kind = document.get("source_kind", "aggregator" if aggregator else "direct")
    if source_kind not in SOURCE_KINDS:
        raise _error(where, "source_kind", f"one of {', '.join(SOURCE_KINDS)}")
    return source_kind


def _static(static: dict, where: str) -> dict[str, str]:
    """The values every row of the file shares; a key left empty is left out."""
    if static.get("sharing") is not None and static["sharing"] not in STATIC_SHARING:
        raise _error(where, "static.sharing", f"one of {', '.join(sorted(STATIC_SHARING))}")
    return {key: str(value) for key, value in static.items() if value is not None}


def _casefolded(values: Iterable[object] | str | int | float) -> frozenset[str]:
    """The values of a list key in any case; a single value written without brackets
    (`out: DEBIT`) is the list of that one value."""
    if isinstance(values, str | int | float):
        values = [values]
    return frozenset(str(value).casefold() for value in values)


@dataclass(frozen=True)
class SchemaSet:
    """The workspace's schemas are tried first; shipped ones only when none of those match."""

    workspace: tuple[Schema, ...]
    shipped: tuple[Schema, ...]

    @property
    def tiers(self) -> tuple[tuple[Schema, ...], ...]:
        return (self.workspace, self.shipped)

    def all(self) -> tuple[Schema, ...]:
        return self.workspace + self.shipped


def load_schemas(workspace_rules: Path, shipped_rules: Path) -> SchemaSet:
    def load_dir(directory: Path) -> list[Schema]:
        if not directory.is_dir():
            return []
        # Named from the folder above rules/: the workspace, or this project for shipped ones.
        return [
            load_schema(p, p.relative_to(directory.parent).as_posix())
            for p in sorted(directory.glob("*.yaml"))
        ]

    same_dir = workspace_rules.resolve() == shipped_rules.resolve()
    workspace = [] if same_dir else load_dir(workspace_rules)
    workspace_ids = {schema.id for schema in workspace}
    # A workspace schema with a shipped id replaces the shipped one (docs/schemas.md).
    shipped = [s for s in load_dir(shipped_rules) if s.id not in workspace_ids]
    seen: dict[str, Path] = {}
    for schema in workspace + shipped:
        if schema.id in seen:
            raise SchemaError(
                f"{schema.path.as_posix()}: id: '{schema.id}' is already used by "
                f"{seen[schema.id].as_posix()}"
            )
        seen[schema.id] = schema.path
    return SchemaSet(tuple(workspace), tuple(shipped))
