"""Reading an export as a person would: its encoding, delimiter, preamble and header."""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.encodings import decode
from ingest.schemas import Schema, SchemaSet, normalize_header

DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_RECORDS = 60
HEAD_LINES = 4 * HEADER_SEARCH_RECORDS  # room for quoted fields that span lines
LINE_END = re.compile(r"\r\n|\r|\n")
MAX_LINE_CHARS = 131_072  # Python csv's field size limit


class IdentifyError(ValueError):
    """No schema, or several, match a file."""


@dataclass(frozen=True)
class Record:
    line_number: int  # 1-based physical line where the record starts
    raw_line: str
    cells: list[str]

    @functools.cached_property
    def header_names(self) -> frozenset[str]:
        """The cells as header names compare, computed once per record."""
        return frozenset(normalize_header(cell) for cell in self.cells)

    @property
    def is_blank(self) -> bool:
        return not any(cell.strip() for cell in self.cells)


@dataclass(frozen=True)
class Layout:
    schema: Schema
    encoding: str
    delimiter: str
    header_index: int | None  # index in records of the header; None when the file has none
    records: list[Record]

    @property
    def header_cells(self) -> list[str]:
        if self.header_index is None:
            return []
        return self.records[self.header_index].cells

    @property
    def data_records(self) -> list[Record]:
        start = 0 if self.header_index is None else self.header_index + 1
        return [record for record in self.records[start:] if not record.is_blank]


def split_records(text: str, delimiter: str) -> list[Record]:
    """CSV records with the physical line each starts on; quoted fields may span lines."""
    # Only CR, LF and CRLF end a line: str.splitlines would also split a description at a form
    # feed, U+0085 or U+2028 and shift every later line number.
    physical = io.StringIO(text, newline="").readlines()
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in physical:
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    records: list[Record] = []
    next_line = 1
    try:
        for cells in reader:
            raw = "".join(consumed).rstrip("\r\n")
            consumed.clear()
            records.append(Record(next_line, raw, cells))
            next_line = reader.line_num + 1
    except csv.Error as error:
        overlong = _overlong_line(consumed, next_line)
        if overlong:
            raise IdentifyError(overlong) from None
        raise IdentifyError(
            f"line {next_line}: the record cannot be split into fields ({error}); "
            "is a quote left open?"
        ) from None
    return records


def _overlong_line(lines: list[str], first_line_number: int) -> str | None:
    """The reason for the first line too long to be a bank export's, if any: Python's csv
    module refuses a longer field, and no export writes a line near that long."""
    for offset, line in enumerate(lines):
        if len(line.rstrip("\r\n")) > MAX_LINE_CHARS:
            length = len(line.rstrip("\r\n"))
            return (
                f"line {first_line_number + offset} is {length:,} characters long, more than"
                f" the {MAX_LINE_CHARS:,} a line of an export may hold; is this a bank export?"
            )
    return None


def head_lines(text: str, line_count: int) -> str:
    """The first physical lines of a text: enough to find the header without parsing it all."""
    end = 0
    for _ in range(line_count):
        match = LINE_END.search(text, end)
        if match is None:
            return text
        end = match.end()
    return text[:end]


def _matching_schemas(
    record: Record, file_name: str, candidates: tuple[Schema, ...], delimiter: str
) -> list[Schema]:
    return [
        schema
        for schema in candidates
        if schema.has_header
        # A record with fewer cells than the schema's distinct headers cannot hold them all.
        and schema.distinct_match_header_count <= len(record.cells)
        and schema.delimiter in (None, delimiter)
        and schema.matches_filename(file_name)
        and (schema.header_line is None or schema.header_line.search(record.raw_line))
        and schema.has_match_headers(record.header_names)
    ]


def _pick_winner(matches: list[Schema], file_name: str) -> Schema:
    """The schema naming the most headers wins; a tie is an error."""
    best = max(len(schema.match_headers) for schema in matches)
    winners = [schema for schema in matches if len(schema.match_headers) == best]
    if len(winners) > 1:
        names = ", ".join(schema.id for schema in winners)
        raise IdentifyError(
            f"several schemas match ({names}), each on {best} headers; "
            "make one more specific (more match.headers or match.filename)"
        )
    return winners[0]


def _closest_schema_reason(
    records_by_delimiter: dict[str, list[Record]], schemas: SchemaSet, file_name: str
) -> str:
    """The error for a file no schema matches: the closest schema and what differed."""
    best: tuple[tuple[float, int], Schema, list[str], list[str]] | None = None
    widest: Record | None = None
    for records in records_by_delimiter.values():
        for record in records[:HEADER_SEARCH_RECORDS]:
            if record.is_blank or len(record.cells) < 2:
                continue
            if widest is None or len(record.cells) > len(widest.cells):
                widest = record
            for schema in schemas.all():
                if not schema.has_header:
                    continue
                missing = schema.headers_missing(record.header_names)
                share_found = 1 - len(missing) / len(schema.match_headers)
                wanted = {normalized for _, normalized in schema.normalized_match_headers}
                extra = [c.strip() for c in record.cells if normalize_header(c) not in wanted]
                score = (share_found, -len(extra))
                if best is None or score > best[0]:
                    best = (score, schema, missing, extra)
    if best is None or best[0][0] == 0:
        if widest is None:
            return "no schema matches: the file has no line with two or more columns"
        cells = ", ".join(cell.strip() for cell in widest.cells)
        return f"no schema matches; none shares a header with line {widest.line_number} ({cells})"
    _, schema, missing, extra = best
    detail = f"missing headers: {', '.join(missing) or 'none'}"
    if extra:
        detail += f"; extra: {', '.join(extra)}"
    if not schema.matches_filename(file_name):
        detail += f"; file name does not match {schema.match_filename.pattern!r}"
    return f"no schema matches; closest is {schema.id} ({detail})"


def split_head(head: str, delimiter: str) -> list[Record]:
    """Records of the head under one candidate delimiter; none when it cannot split them."""
    try:
        return split_records(head, delimiter)
    except IdentifyError:
        return []


@dataclass(frozen=True)
class Located:
    """A file's schema, encoding, delimiter and header, found from its first lines only."""

    schema: Schema
    encoding: str
    delimiter: str
    header_index: int | None  # index in head_records of the header; None when the file has none
    text: str  # the whole file, decoded as the schema says
    head_records: list[Record]

    @property
    def header_record(self) -> Record | None:
        return None if self.header_index is None else self.head_records[self.header_index]

    def layout(self) -> Layout:
        """The whole file split into records (raises IdentifyError for a quote left open)."""
        records = split_records(self.text, self.delimiter)
        return Layout(self.schema, self.encoding, self.delimiter, self.header_index, records)


def identify(path: Path, data: bytes, schemas: SchemaSet) -> Layout:
    """Find the one schema, delimiter and header line of a file (raises IdentifyError)."""
    return locate(path, data, schemas).layout()


def locate(path: Path, data: bytes, schemas: SchemaSet) -> Located:
    """Find the one schema, delimiter and header line of a file without splitting all of it."""
    text, encoding = decode(data)
    if not text.strip():
        raise IdentifyError("empty file" if not data else "the file holds only blank lines")
    file_name = path.name
    head = head_lines(text, HEAD_LINES)
    heads_by_delimiter = {d: split_head(head, d) for d in DELIMITERS}
    for tier in schemas.tiers:
        found: list[tuple[int, str, list[Schema]]] = []
        for delimiter, records in heads_by_delimiter.items():
            for index, record in enumerate(records[:HEADER_SEARCH_RECORDS]):
                if record.is_blank:
                    continue
                matches = _matching_schemas(record, file_name, tier, delimiter)
                if matches:
                    found.append((index, delimiter, matches))
                    break
        if found:
            # The earliest header line wins; the same line under two delimiters is one verdict.
            index, delimiter, matches = min(found, key=lambda item: item[0])
            schema = _pick_winner(matches, file_name)
            return _located(schema, data, text, encoding, delimiter, index, heads_by_delimiter)
        headerless = [s for s in tier if not s.has_header and s.matches_filename(file_name)]
        if headerless:
            schema = _pick_winner(headerless, file_name)
            delimiter = schema.delimiter or most_regular_delimiter(heads_by_delimiter)
            return _located(schema, data, text, encoding, delimiter, None, heads_by_delimiter)
    overlong = _overlong_line(io.StringIO(head, newline="").readlines(), 1)
    raise IdentifyError(overlong or _closest_schema_reason(heads_by_delimiter, schemas, file_name))


def _located(
    schema: Schema,
    data: bytes,
    text: str,
    encoding: str,
    delimiter: str,
    header_index: int | None,
    heads_by_delimiter: dict[str, list[Record]],
) -> Located:
    """The verdict, with the file re-read first when its schema declares another encoding."""
    head_records = heads_by_delimiter.get(delimiter)  # absent for a schema's own delimiter
    if schema.encoding and schema.encoding.replace("-sig", "") != encoding.replace("-sig", ""):
        text, encoding = decode(data, schema.encoding)
        head_records = None
    if head_records is None:
        head_records = split_head(head_lines(text, HEAD_LINES), delimiter)
    return Located(schema, encoding, delimiter, header_index, text, head_records)


def most_regular_delimiter(records_by_delimiter: dict[str, list[Record]]) -> str:
    """For files without a header: the delimiter giving the most, and most constant, columns."""

    def score(delimiter: str) -> tuple[int, int]:
        widths = [len(r.cells) for r in records_by_delimiter[delimiter][:50] if not r.is_blank]
        if not widths:
            return (0, 0)
        most_common = max(set(widths), key=widths.count)
        return (widths.count(most_common) if most_common > 1 else 0, most_common)

    return max(DELIMITERS, key=score)
