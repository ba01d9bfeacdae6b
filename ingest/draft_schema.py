"""`balance doctor FILE --draft-schema`: a starter schema for a layout no schema reads.

Everything a schema needs that the file itself can tell is sniffed: its delimiter, its header
line, the date format, which columns hold dates, amounts and the longest text. What it cannot
tell (the sign, the owner, the account) is left for the user, who checks the draft with
`balance doctor FILE`. Pure functions: the file's text and name in, YAML text out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from ingest.reader import (
    DELIMITERS,
    HEAD_LINES,
    HEADER_SEARCH_RECORDS,
    Record,
    head_lines,
    most_regular_delimiter,
    split_head,
)
from ingest.values import BadValue, infer_date_format, parse_amount_cents

SAMPLE_ROWS = 200
# Number styles tried in this order: the first that reads every amount cell wins.
NUMBER_STYLES = ({"decimal": ".", "thousands": ","}, {"decimal": ",", "thousands": "."})
DEBIT_NAMES = re.compile(r"debit|withdrawal|paid out|money out|\bout\b|soll", re.IGNORECASE)
CREDIT_NAMES = re.compile(r"credit|deposit|paid in|money in|\bin\b|haben", re.IGNORECASE)
BALANCE_NAMES = re.compile(r"balance|saldo|solde", re.IGNORECASE)


class DraftError(ValueError):
    """The file gives too little to draft from; the message says what is missing."""


@dataclass(frozen=True)
class _Column:
    name: str  # the header cell, or column_N without a header
    values: list[str]  # the non-empty cells of the sampled rows


def schema_id_for(file_name: str) -> str:
    """A snake_case id from the file's name, without its digits (dates, account numbers)."""
    stem = file_name.rsplit(".", 1)[0]
    words = re.findall(r"[a-z]+", stem.casefold())
    return "_".join(words)[:40].strip("_") or "my_bank"


def _reads_all(values: list[str], read) -> bool:
    try:
        for value in values:
            read(value)
    except BadValue:
        return False
    return bool(values)


def _is_data(record: Record) -> bool:
    """A record holding a date or an amount is a row, not a header."""
    cells = [cell.strip() for cell in record.cells if cell.strip()]
    return any(_date_format([cell]) or _is_amount_column([cell]) for cell in cells)


def _is_amount_column(values: list[str], decimal: str = ".", thousands: str = ",") -> bool:
    """Every value is an amount, and some have cents: a column of reference numbers has none."""
    has_cents = re.compile(rf"\{decimal}\d\d\b")
    return _reads_all(values, lambda value: parse_amount_cents(value, decimal, thousands)) and any(
        has_cents.search(value) for value in values
    )


def draft_schema(text: str, file_name: str) -> str:
    """The YAML of a starter schema for the file, with a comment saying what to check."""
    head = head_lines(text, HEAD_LINES)
    by_delimiter = {delimiter: split_head(head, delimiter) for delimiter in DELIMITERS}
    delimiter = most_regular_delimiter(by_delimiter)
    records = [r for r in by_delimiter[delimiter] if not r.is_blank]
    widths = [len(record.cells) for record in records]
    if not widths or max(widths) < 2:
        raise DraftError("no line of the file has two or more columns")
    width = max(set(widths), key=widths.count)
    wide = [record for record in records if len(record.cells) == width]
    header = next((r for r in wide[:HEADER_SEARCH_RECORDS] if not _is_data(r)), None)
    rows = [r for r in wide if r is not header and _is_data(r)][:SAMPLE_ROWS]
    if not rows:
        raise DraftError("no rows with a date or an amount follow the header")
    names = (
        [cell.strip() or f"column_{i + 1}" for i, cell in enumerate(header.cells)]
        if header
        else [f"column_{i + 1}" for i in range(width)]
    )
    columns = [
        _Column(name, [row.cells[i].strip() for row in rows if row.cells[i].strip()])
        for i, name in enumerate(names)
    ]
    document, notes = _roles(columns, file_name, header is not None)
    document["file"] = {"delimiter": delimiter}
    if header is None:
        document["file"]["header"] = False
        document["match"] = {"filename": re.escape(file_name.rsplit(".", 1)[0])}
    comment = (
        f"# Drafted by `balance doctor --draft-schema` from {file_name}. Check every line, then\n"
        "# run `balance doctor FILE` on the file: it shows the rows as they would load.\n"
        + "".join(f"# - {note}\n" for note in notes)
    )
    return comment + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def _roles(columns: list[_Column], file_name: str, has_header: bool) -> tuple[dict, list[str]]:
    """The schema's id, match, columns and values, and what the user must check."""
    notes: list[str] = []
    dated = [(column, _date_format(column.values)) for column in columns]
    date_columns = [(column, fmt) for column, fmt in dated if fmt]
    if not date_columns:
        raise DraftError("no column reads as dates in one format")
    style, amounts = _amount_columns(columns, {column.name for column, _ in date_columns})
    if not amounts:
        raise DraftError("no column reads as amounts")
    roles: dict[str, str] = {"date": date_columns[0][0].name}
    if len(date_columns) > 1:
        roles["posted_date"] = date_columns[1][0].name
        notes.append(f"posted_date: {date_columns[1][0].name} (the second date column)")
    balance = [column for column in amounts if BALANCE_NAMES.search(column.name)]
    signed = [column for column in amounts if column not in balance]
    debit = [column for column in signed if DEBIT_NAMES.search(column.name)]
    credit = [column for column in signed if CREDIT_NAMES.search(column.name)]
    if debit and credit:
        roles["debit"], roles["credit"] = debit[0].name, credit[0].name
    elif signed:
        roles["amount"] = signed[0].name
        notes.append(
            f"amount: {signed[0].name}, read as signed, money out negative; if money out is"
            " positive in this file, add `amount: {sign: negate}`"
        )
    else:
        raise DraftError("the only amount column is a balance")
    if balance:
        roles["balance"] = balance[0].name
    used = set(roles.values())
    texts = [column for column in columns if column.name not in used and column.values]
    if not texts:
        raise DraftError("no column is left for the description")
    described = max(texts, key=lambda column: sum(map(len, column.values)) / len(column.values))
    roles["description"] = described.name
    notes.append(f"description: {described.name} (the column with the longest texts)")
    notes.append("the owner: put the file in csv_inbox/<member>/, or map a member column")
    document: dict = {
        "id": schema_id_for(file_name),
        "description": f"Drafted from {file_name}",
    }
    if has_header:
        document["match"] = {
            "headers": [c.name for c in columns if not c.name.startswith("column_")]
        }
    document["columns"] = dict(_ordered(roles))
    document["values"] = {"date_format": date_columns[0][1], **style}
    return document, notes


def _ordered(roles: dict[str, str]) -> list[tuple[str, str]]:
    order = ["date", "posted_date", "description", "amount", "debit", "credit", "balance"]
    return sorted(roles.items(), key=lambda item: order.index(item[0]))


def _date_format(values: list[str]) -> str | None:
    if not values:
        return None
    try:
        return infer_date_format(values)
    except BadValue:
        return None


def _amount_columns(columns: list[_Column], dates: set[str]) -> tuple[dict, list[_Column]]:
    """The number style that reads the most columns as amounts, and those columns."""
    best: tuple[dict, list[_Column]] = (NUMBER_STYLES[0], [])
    for style in NUMBER_STYLES:
        read = [
            column
            for column in columns
            if column.name not in dates and _is_amount_column(column.values, **style)
        ]
        if len(read) > len(best[1]):
            best = (style, read)
    return best
