"""The household's configuration CSVs and the review journal: validated, typed, in file order.

They are loaded by ingest rather than as dbt seeds because dbt guesses seed column types (`0222`
becomes 222) and rewrites seed files given by absolute path.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import pyarrow as pa

from core.review import ANSWER_LETTERS
from ingest.encodings import decode
from ingest.values import BadValue, parse_amount_cents

SHARING_VALUES = ("shared", "personal", "split", "settlement", "transfer", "ignore")
REVIEW_SHARING_VALUES = ("shared", "personal", "split", "duplicate", "not_duplicate")
REVIEW_LETTERS = {letter.casefold(): sharing for letter, sharing in ANSWER_LETTERS.items()}
EARLIEST_DATE = dt.date(1900, 1, 1)


class HouseholdError(ValueError):
    """Invalid configuration; each line of the message is `file:row: reason`."""


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    required: bool = False
    kind: str = "text"  # text | regex | member | decimal | date | cents | sharing | pct | timestamp
    # Regexes ingest also runs in Python (owners, aliases) must compile in both dialects.
    read_by_python: bool = False


@dataclass(frozen=True)
class TableSpec:
    file_name: str
    table: str
    columns: tuple[Column, ...]
    required_file: bool = False


HOUSEHOLD_TABLES = (
    TableSpec(
        "members.csv",
        "household_members",
        (
            Column("member_id", "varchar", required=True),
            Column("display_name", "varchar", required=True),
            Column("aliases", "varchar", kind="regex", read_by_python=True),
        ),
        required_file=True,
    ),
    TableSpec(
        "accounts.csv",
        "household_accounts",
        (
            Column("account_pattern", "varchar", kind="regex", read_by_python=True),
            Column("member_id", "varchar", kind="member"),
            Column("account_label", "varchar"),
            # For files that name no account (Chase card, Wells Fargo downloads): a regex
            # searched in the file's name ties its rows to the account of this row.
            Column("file_pattern", "varchar", kind="regex", read_by_python=True),
        ),
    ),
    TableSpec(
        "split_policies.csv",
        "household_split_policies",
        (
            Column("policy", "varchar", required=True),
            Column("member_id", "varchar", required=True, kind="member"),
            Column("weight", "decimal(12,4)", required=True, kind="decimal"),
            Column("effective_from", "date", kind="date"),
        ),
        required_file=True,
    ),
    TableSpec(
        "merchant_lookup.csv",
        "household_merchant_lookup",
        (
            Column("pattern", "varchar", required=True, kind="regex"),
            Column("merchant", "varchar"),
            Column("category", "varchar"),
        ),
    ),
    TableSpec(
        "sharing_rules.csv",
        "household_sharing_rules",
        (
            Column("rule_id", "varchar", required=True),
            Column("merchant", "varchar", kind="regex"),
            Column("category", "varchar", kind="regex"),
            Column("description", "varchar", kind="regex"),
            Column("account", "varchar", kind="regex"),
            Column("member", "varchar", kind="regex"),
            Column("min_cost", "decimal(18,2)", kind="decimal"),
            Column("max_cost", "decimal(18,2)", kind="decimal"),
            Column("sharing", "varchar", required=True, kind="sharing"),
            Column("policy", "varchar"),
            Column("payer_share_pct", "decimal(5,2)", kind="pct"),
        ),
    ),
    TableSpec(
        "opening_balances.csv",
        "household_opening_balances",
        (
            Column("as_of", "date", required=True, kind="date"),
            Column("member_id", "varchar", required=True, kind="member"),
            Column("net_amount", "decimal(18,2)", required=True, kind="money"),
        ),
    ),
)

REVIEW_JOURNAL = TableSpec(
    "review_decisions.csv",
    "review_decisions",
    (
        Column("txn_id", "varchar", required=True),
        Column("sharing", "varchar", required=True, kind="review_sharing"),
        Column("payer_share_pct", "decimal(5,2)", kind="pct"),
        Column("policy", "varchar"),
        Column("note", "varchar"),
        Column("decided_at", "timestamp", kind="timestamp"),
    ),
)
REVIEW_JOURNAL_HEADER = [column.name for column in REVIEW_JOURNAL.columns]


@dataclass(frozen=True)
class Member:
    member_id: str
    display_name: str
    aliases: re.Pattern | None


@dataclass
class LoadedTable:
    spec: TableSpec
    rows: list[tuple]  # typed values in column order, then the 1-based data row number
    lines: list[int] = field(default_factory=list)  # the physical line of each row, for errors
    # The first cell of each row left out for a problem: a member whose aliases are wrong is
    # still a member when later files name them, so one mistake is reported once.
    refused_keys: set[str] = field(default_factory=set)


def _regex_checker() -> Callable[[str], str | None]:
    """Patterns run in DuckDB (RE2), so they are checked there, not with Python's re."""
    connection = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )

    def check(pattern: str) -> str | None:
        try:
            connection.execute("select regexp_matches('', ?)", [pattern])
        except duckdb.Error as error:
            return f"invalid regex {pattern!r} ({str(error).splitlines()[0]})"
        return None

    return check


def _convert(column: Column, text: str, member_ids: set[str], check_regex) -> object:
    """Typed value of one cell, or raise ValueError with the reason."""
    if text == "":
        if column.required:
            raise ValueError(f"{column.name} is required")
        return None
    if column.kind == "regex":
        problem = check_regex(text)
        if problem:
            raise ValueError(f"{column.name}: {problem}")
        if column.read_by_python:
            try:
                re.compile(text, re.IGNORECASE)
            except re.error as error:
                raise ValueError(
                    f"{column.name}: '{text}' is read while exports load, where {error} "
                    "(keep to plain syntax: no \\p{…} or [[:…:]] classes)"
                ) from None
        return text
    if column.kind == "member":
        if text.casefold() not in member_ids:
            raise ValueError(f"{column.name}: unknown member {text!r}")
        return text.casefold()
    if column.kind in {"decimal", "pct"}:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{column.name}: {text!r} is not a number") from None
        if column.kind == "pct" and not Decimal(0) <= number <= Decimal(100):
            raise ValueError(f"{column.name}: {text} is not between 0 and 100")
        if column.kind == "decimal" and number < 0:
            raise ValueError(f"{column.name}: {text} is negative")
        return number
    if column.kind == "money":
        try:
            return Decimal(parse_amount_cents(text)) / 100
        except BadValue as error:
            raise ValueError(f"{column.name}: {error}") from None
    if column.kind == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{column.name}: {text!r} is not a date (YYYY-MM-DD)") from None
    if column.kind == "timestamp":
        try:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            raise ValueError(f"{column.name}: {text!r} is not an ISO timestamp") from None
    if column.kind == "sharing":
        if text.casefold() not in SHARING_VALUES:
            raise ValueError(f"{column.name}: {text!r} is not one of {', '.join(SHARING_VALUES)}")
        return text.casefold()
    if column.kind == "review_sharing":
        value = REVIEW_LETTERS.get(text.casefold(), text.casefold())
        if value not in REVIEW_SHARING_VALUES:
            allowed = ", ".join(REVIEW_SHARING_VALUES)
            raise ValueError(f"{column.name}: {text!r} is not one of {allowed} (or Y/N/S/D)")
        return value
    return text


def read_table(
    path: Path, spec: TableSpec, shown_path: str, member_ids: set[str], check_regex
) -> tuple[LoadedTable, list[str]]:
    """Rows of one configuration CSV and the `file:row: reason` problems found in it."""
    rows: list[tuple] = []
    lines: list[int] = []
    refused_keys: set[str] = set()
    problems: list[str] = []
    if not path.exists():
        if spec.required_file:
            problems.append(f"{shown_path}: file is required")
        return LoadedTable(spec, rows), problems
    text, _encoding = decode(path.read_bytes())  # Excel saves "CSV" in the Windows code page
    with io.StringIO(text, newline="") as handle:
        reader = csv.reader(handle)
        header = [cell.strip().casefold() for cell in next(reader, [])]
        missing = [c.name for c in spec.columns if c.required and c.name not in header]
        if missing:
            problems.append(f"{shown_path}:1: missing column {', '.join(missing)}")
            return LoadedTable(spec, rows), problems
        positions = {name: index for index, name in enumerate(header)}
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            line = reader.line_num
            values: list[object] = []
            try:
                for column in spec.columns:
                    index = positions.get(column.name)
                    text = cells[index].strip() if index is not None and index < len(cells) else ""
                    values.append(_convert(column, text, member_ids, check_regex))
            except ValueError as error:
                problems.append(f"{shown_path}:{line}: {error}")
                key_position = positions.get(spec.columns[0].name)
                if key_position is not None and key_position < len(cells):
                    refused_keys.add(cells[key_position].strip().casefold())
                continue
            rows.append((*values, len(rows) + 1))
            lines.append(line)
    return LoadedTable(spec, rows, lines, refused_keys), problems


# Rows that must be unique in each file (the models key them so), as the models compare them.
UNIQUE_KEYS = {
    "household_members": (("member_id",), lambda row: (row[0].casefold(),)),
    "household_split_policies": (
        ("policy", "member_id", "effective_from"),
        lambda row: (row[0].casefold(), row[1], row[3]),
    ),
    "household_sharing_rules": (("rule_id",), lambda row: (row[0],)),
    "household_opening_balances": (("as_of", "member_id"), lambda row: (row[0], row[1])),
}


def _duplicate_rows(table: LoadedTable, shown_path: str) -> list[str]:
    if table.spec.table not in UNIQUE_KEYS:
        return []
    names, key_of = UNIQUE_KEYS[table.spec.table]
    first_line: dict[tuple, int] = {}
    problems = []
    for row, line in zip(table.rows, table.lines, strict=True):
        key = key_of(row)
        if key in first_line:
            shown_key = ", ".join(
                f"{name} {value or '(empty)'}" for name, value in zip(names, key, strict=True)
            )
            problems.append(f"{shown_path}:{line}: the same {shown_key} as line {first_line[key]}")
        else:
            first_line[key] = line
    return problems


def _validate_household(tables: dict[str, LoadedTable], shown: dict[str, str]) -> list[str]:
    problems: list[str] = []
    for name, table in tables.items():
        problems += _duplicate_rows(table, shown[name])
    accounts = tables["household_accounts"]
    for (account_pattern, _member, _label, file_pattern, _order), line in zip(
        accounts.rows, accounts.lines, strict=True
    ):
        if account_pattern is None and file_pattern is None:
            problems.append(
                f"{shown['household_accounts']}:{line}: account_pattern or file_pattern is required"
            )
    policies = tables["household_split_policies"]
    if tables["household_members"].rows and not any(
        row[0].casefold() == "default" for row in policies.rows
    ):
        problems.append(f"{shown['household_split_policies']}: policy 'default' is required")
    # The rows of one policy from one date are its weights then: all zero, nobody bears the
    # cost, and every expense under it would silently wait for a decision.
    weights: dict[tuple, list] = {}
    for (policy, _member, weight, effective_from, _order), line in zip(
        policies.rows, policies.lines, strict=True
    ):
        weights.setdefault((policy.casefold(), effective_from), []).append((weight, line))
    for (policy, effective_from), rows in weights.items():
        if sum(weight for weight, _ in rows) == 0:
            since = f"from {effective_from}" if effective_from else "(no effective_from)"
            problems.append(
                f"{shown['household_split_policies']}:{rows[0][1]}: the weights of policy"
                f" {policy!r} {since} sum to 0; give someone a weight above 0"
            )
    opening = tables["household_opening_balances"].rows
    if opening:
        latest = max(row[0] for row in opening)
        total = sum(row[2] for row in opening if row[0] == latest)
        if total != 0:
            problems.append(
                f"{shown['household_opening_balances']}: the rows of {latest} sum to {total}, not 0"
            )
    return problems


@dataclass
class AccountRule:
    """One accounts.csv row: its patterns (None matches anything) and what it says."""

    account_pattern: re.Pattern | None
    file_pattern: re.Pattern | None
    member_id: str | None

    def matches(self, account_text: str, file_name: str) -> bool:
        """Both patterns hold; an account pattern needs account text to be found in."""
        if self.account_pattern and not (
            account_text and self.account_pattern.search(account_text)
        ):
            return False
        return not self.file_pattern or bool(self.file_pattern.search(file_name))


@dataclass
class Household:
    members: list[Member]
    account_rules: list[AccountRule]
    tables: dict[str, LoadedTable]

    @property
    def member_ids(self) -> set[str]:
        return {member.member_id for member in self.members}

    def member_named(self, text: str) -> str | None:
        """A member_id or display name (trimmed, any case), else exactly one member's aliases."""
        wanted = text.strip().casefold()
        if not wanted:
            return None
        for member in self.members:
            if wanted in (member.member_id, member.display_name.strip().casefold()):
                return member.member_id
        by_alias = [m for m in self.members if m.aliases and m.aliases.search(text)]
        return by_alias[0].member_id if len(by_alias) == 1 else None

    def account_owner(self, account_text: str, file_name: str) -> str | None:
        """The member of the first accounts.csv row that matches the account text and the
        file's name (its base name: archiving moves the file, not its name)."""
        for rule in self.account_rules:
            if rule.matches(account_text, file_name):
                return rule.member_id
        return None


def load_household(household_dir: Path, shown_dir: str) -> Household:
    """Read and check every configuration file; raise HouseholdError listing every problem."""
    check_regex = _regex_checker()
    tables: dict[str, LoadedTable] = {}
    shown = {spec.table: f"{shown_dir}/{spec.file_name}" for spec in HOUSEHOLD_TABLES}
    problems: list[str] = []
    member_ids: set[str] = set()
    for spec in HOUSEHOLD_TABLES:
        table, found = read_table(
            household_dir / spec.file_name, spec, shown[spec.table], member_ids, check_regex
        )
        tables[spec.table] = table
        problems += found
        if spec.table == "household_members":
            member_ids = {row[0].casefold() for row in table.rows} | table.refused_keys
    problems += _validate_household(tables, shown)
    if problems:
        raise HouseholdError("\n".join(problems))
    members = [
        Member(row[0].casefold(), row[1], re.compile(row[2], re.IGNORECASE) if row[2] else None)
        for row in tables["household_members"].rows
    ]
    account_rules = [
        AccountRule(
            re.compile(account_pattern, re.IGNORECASE) if account_pattern else None,
            re.compile(file_pattern, re.IGNORECASE) if file_pattern else None,
            member_id,
        )
        for account_pattern, member_id, _label, file_pattern, _row in tables[
            "household_accounts"
        ].rows
    ]
    return Household(members, account_rules, tables)


def load_review_journal(path: Path, shown_path: str) -> tuple[LoadedTable, list[str]]:
    """The journal is user data: bad lines are reported and left out, never fatal
    (docs/rules.md#review-answers)."""
    return read_table(path, REVIEW_JOURNAL, shown_path, set(), lambda _pattern: None)


# How each configuration column travels to DuckDB as Arrow. Decimals travel as plain text
# (cast in SQL) so that every value keeps its digits, whatever its exponent.
ARROW_TYPES = {"varchar": pa.string(), "date": pa.date32(), "timestamp": pa.timestamp("us")}


def _arrow_column(column: Column, values: list) -> pa.Array:
    if column.sql_type.startswith("decimal"):
        return pa.array([None if v is None else format(v, "f") for v in values], pa.string())
    return pa.array(values, ARROW_TYPES[column.sql_type])


def replace_table(connection: duckdb.DuckDBPyConnection, table: LoadedTable) -> None:
    """Rewrite one raw configuration table with its rows in file order."""
    spec = table.spec
    columns = ", ".join(f"{c.name} {c.sql_type}" for c in spec.columns)
    connection.execute(f"create or replace table raw.{spec.table} ({columns}, row_number integer)")
    if not table.rows:
        return
    # One Arrow table rather than Python parameters: converting parameters one by one costs
    # far more than the rows (the review journal holds thousands of lines).
    by_column = list(zip(*table.rows, strict=True))
    incoming = pa.table(
        {
            **{
                column.name: _arrow_column(column, list(values))
                for column, values in zip(spec.columns, by_column, strict=False)
            },
            "row_number": pa.array(by_column[-1], pa.int32()),
        }
    )
    selected = ", ".join(f"cast({c.name} as {c.sql_type})" for c in spec.columns)
    connection.register("incoming_configuration", incoming)
    try:
        connection.execute(
            f"insert into raw.{spec.table} select {selected}, row_number "
            "from incoming_configuration"
        )
    finally:
        connection.unregister("incoming_configuration")
