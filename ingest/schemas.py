"""Bank schema YAML files (§4): loading, validating and matching them to a file's header."""

from __future__ import annotations

import datetime as dt
import functools
import re
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
    """Headers compare trimmed, BOM-stripped and case-folded (§9.15)."""
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
    """One schema file; errors name it as shown_path (workspace-relative, §9.17)."""
    where = shown_path or path.as_posix()
    try:
        document = yaml.safe_load(decode(path.read_bytes())[0])
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or error.__class__.__name__
        raise SchemaError(f"{where}: not valid YAML{line} ({problem})") from None
    if not isinstance(document, dict):
        raise SchemaError(f"{where}: a schema is a mapping of keys")

    def fail(key: str, reason: str) -> SchemaError:
        return SchemaError(f"{where}: {key}: {reason}")

    unknown = sorted(set(document) - TOP_LEVEL_KEYS)
    if unknown:
        raise fail(unknown[0], "unknown key")
    for section, allowed in SECTION_KEYS.items():
        value = document.get(section)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise fail(section, "must be a mapping")
        extra = sorted(set(value) - allowed)
        if extra:
            raise fail(f"{section}.{extra[0]}", "unknown key")

    schema_id = document.get("id")
    if not isinstance(schema_id, str) or not SCHEMA_ID.match(schema_id):
        raise fail("id", "required, snake_case")

    def regex(key: str, pattern: object) -> re.Pattern:
        if not isinstance(pattern, str):
            raise fail(key, "must be a string")
        try:
            return re.compile(pattern)
        except re.error as error:
            raise fail(key, f"invalid regex ({error})") from error

    match = document.get("match") or {}
    file_options = document.get("file") or {}
    columns = document.get("columns") or {}
    values = document.get("values") or {}
    amount = document.get("amount") or {}
    pending = document.get("pending") or {}
    static = document.get("static") or {}

    has_header = file_options.get("header", True)
    if not isinstance(has_header, bool):
        raise fail("file.header", "must be true or false")
    headers = match.get("headers") or []
    if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
        raise fail("match.headers", "must be a list of column names")
    if has_header and not headers:
        raise fail("match.headers", "required when the file has a header")
    filename = regex("match.filename", match["filename"]) if "filename" in match else None
    if not has_header and filename is None:
        raise fail("match.filename", "required when file.header is false")

    if not isinstance(columns, dict) or not columns:
        raise fail("columns", "required: a mapping of role to column name")
    for role, column in columns.items():
        if role not in ROLES:
            raise fail(f"columns.{role}", "unknown role")
        names = column if isinstance(column, list) and role in JOINABLE_ROLES else [column]
        if not names or not all(isinstance(name, str) and name.strip() for name in names):
            joinable = " (or a list of columns)" if role in JOINABLE_ROLES else ""
            raise fail(f"columns.{role}", f"must name a column{joinable}")
    if "date" not in columns:
        raise fail("columns.date", "missing role")
    if "description" not in columns and not (static or {}).get("description"):
        raise fail("columns.description", "missing role (or static.description)")
    has_debit_credit = "debit" in columns or "credit" in columns
    if "amount" in columns and has_debit_credit:
        raise fail("columns.amount", "use either amount or debit + credit, not both")
    if "amount" not in columns and not ("debit" in columns and "credit" in columns):
        raise fail("columns.amount", "missing role (or debit + credit)")

    encoding = file_options.get("encoding")
    if encoding is not None and encoding not in ENCODINGS:
        raise fail("file.encoding", f"one of {', '.join(sorted(ENCODINGS))}")
    delimiter = file_options.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise fail("file.delimiter", "a single character")
    header_line = (
        regex("file.header_line", file_options["header_line"])
        if "header_line" in file_options
        else None
    )
    skip_lines = file_options.get("skip_lines") or []
    if not isinstance(skip_lines, list):
        raise fail("file.skip_lines", "must be a list of regexes")
    footer_lines = file_options.get("footer_lines", 0)
    if not isinstance(footer_lines, int) or footer_lines < 0:
        raise fail("file.footer_lines", "a whole number ≥ 0")
    extra_fields = file_options.get("extra_fields", "error")
    if extra_fields not in EXTRA_FIELDS:
        raise fail("file.extra_fields", " | ".join(EXTRA_FIELDS))

    date_formats = values.get("date_format") or []
    if isinstance(date_formats, str):
        date_formats = [date_formats]
    for date_format in date_formats:
        if not _is_date_format(date_format):
            raise fail("values.date_format", f"invalid date format {date_format!r}")
    decimal = values.get("decimal", ".")
    if decimal not in {".", ","}:
        raise fail("values.decimal", "'.' or ','")
    thousands = values.get("thousands", "," if decimal == "." else ".")
    if thousands not in {",", ".", "'", " ", ""} or thousands == decimal:
        raise fail("values.thousands", "one of ',' '.' \"'\" ' ' '' and not the decimal mark")
    currency_texts = values.get("currency_text") or []
    if isinstance(currency_texts, str):
        currency_texts = [currency_texts]
    if not isinstance(currency_texts, list) or not all(
        isinstance(text, str) and text.strip() and not any(c.isdigit() for c in text)
        for text in currency_texts
    ):
        raise fail("values.currency_text", "a text or a list of texts without digits, e.g. [Fr.]")

    sign = amount.get("sign", "as_is")
    if sign not in {"as_is", "negate"}:
        raise fail("amount.sign", "as_is or negate")
    direction = amount.get("direction") or {}
    if direction and "direction" not in columns:
        raise fail("amount.direction", "needs columns.direction")
    if "direction" in columns and not direction:
        raise fail("amount.direction", "required with columns.direction: {out: [...], in: [...]}")
    if direction and (set(direction) != {"out", "in"}):
        raise fail("amount.direction", "needs exactly the keys out and in")

    if pending and ("column" not in pending or "values" not in pending):
        raise fail("pending", "needs column and values")

    skip_rows = document.get("skip_rows") or []
    if not isinstance(skip_rows, list) or not all(
        isinstance(rule, dict) and set(rule) == {"column", "matches"} for rule in skip_rows
    ):
        raise fail("skip_rows", "a list of {column: <name>, matches: <regex>}")
    skip_row_rules = tuple(
        (str(rule["column"]).strip(), regex("skip_rows.matches", rule["matches"]))
        for rule in skip_rows
    )
    if not has_header:
        named_columns = [
            (f"columns.{role}", name)
            for role, column in columns.items()
            for name in (column if isinstance(column, list) else [column])
        ]
        named_columns += [("skip_rows.column", column) for column, _ in skip_row_rules]
        if pending:
            named_columns.append(("pending.column", str(pending["column"])))
        for key, column in named_columns:
            if not re.fullmatch(r"column_[1-9][0-9]*", column.strip()):
                raise fail(key, "a file without header names columns column_N")

    aggregator = document.get("aggregator", False)
    if not isinstance(aggregator, bool):
        raise fail("aggregator", "must be true or false")
    source_kind = document.get("source_kind", "aggregator" if aggregator else "direct")
    if source_kind not in SOURCE_KINDS:
        raise fail("source_kind", f"one of {', '.join(SOURCE_KINDS)}")
    if static.get("sharing") is not None and static["sharing"] not in STATIC_SHARING:
        raise fail("static.sharing", f"one of {', '.join(sorted(STATIC_SHARING))}")

    return Schema(
        id=schema_id,
        path=path,
        description=str(document.get("description", "")),
        match_headers=tuple(headers),
        match_filename=filename,
        encoding=encoding,
        delimiter=delimiter,
        has_header=has_header,
        header_line=header_line,
        skip_lines=tuple(regex("file.skip_lines", p) for p in skip_lines),
        footer_lines=footer_lines,
        extra_fields=extra_fields,
        columns={
            role: tuple(name.strip() for name in (column if isinstance(column, list) else [column]))
            for role, column in columns.items()
        },
        date_formats=tuple(date_formats),
        decimal=decimal,
        thousands=thousands,
        # Longest first, so that "CHF" is removed whole before a shorter text inside it.
        currency_texts=tuple(sorted({t.strip() for t in currency_texts}, key=len, reverse=True)),
        negate=sign == "negate",
        direction_out=frozenset(str(v).casefold() for v in direction.get("out", [])),
        direction_in=frozenset(str(v).casefold() for v in direction.get("in", [])),
        pending_column=str(pending["column"]).strip() if pending else None,
        pending_values=frozenset(str(v).casefold() for v in pending.get("values", [])),
        skip_rows=skip_row_rules,
        source_kind=source_kind,
        static={key: str(value) for key, value in static.items() if value is not None},
    )


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
    # A workspace schema with a shipped id replaces the shipped one (§9.15).
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
