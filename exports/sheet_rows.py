"""A table's data rows written as sheet XML, a row at a time, into a constant_memory sheet.

xlsxwriter spends about a dozen Python calls on each cell (bounds, a cell record, then the
reference, the format, three regular expressions and a file write), which at 100,000
transactions is most of the export. A table's columns each hold values of one type, so each
column gets a function that renders its cells' XML, and a row is one write into the file where
xlsxwriter keeps a constant_memory sheet's rows until the book is closed. The XML is what
xlsxwriter writes for the same cells (tests/python/test_workbook.py compares the two), except
that text is always escaped as text.

This leans on xlsxwriter's internals (the row file `row_data_fh`, the row buffer `table`,
`previous_row`, `_check_dimensions`, `Format._get_xf_index`): the comparison test is what
tells when a new xlsxwriter version changes them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

# Text starting with one of these is a formula to Excel.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Excel's day numbers count from 1899-12-31 (day 0) and include a 29 February 1900 that never
# was, so every later day is one more than the calendar count (as xlsxwriter computes them).
EXCEL_DAY_ZERO = dt.date(1899, 12, 31).toordinal()
EXCEL_PHANTOM_LEAP_DAY = 60
RENDERED_TYPES = frozenset({str, Decimal, int, float, dt.date})
# A cell holds at most 32,767 UTF-16 units: at most one per character, two above U+FFFF.
CELL_TEXT_UNITS = 32_767
# Text that needs more than <t>text</t>: XML's & < >, control characters and what reads as
# Excel's _xHHHH_ escape of one, non-characters, and spaces at either end (a superset).
NEEDS_ESCAPING = re.compile(r"[\x00-\x1f&<>\ufffe\uffff]|_x|^\s|\s$")
EXCEL_ESCAPE_LOOKALIKE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f]")
SPACE_AT_AN_END = re.compile(r"^\s|\s$")

# Rendered text kept per column for values that repeat; unique ids and descriptions just pass.
RENDERED_TEXTS_KEPT = 10_000

CellXml = Callable[[int, object], str]  # (1-based row number, value) → <c> element or ""


def excel_day_number(day: dt.date) -> int:
    """The number Excel stores for a date, the same as xlsxwriter's write_datetime."""
    number = day.toordinal() - EXCEL_DAY_ZERO
    return number + 1 if number >= EXCEL_PHANTOM_LEAP_DAY else number


def can_render(kind: type | None, values: Sequence) -> bool:
    """Whether a column of values of type kind (None: all blank) can be rendered here."""
    return kind is None or kind in RENDERED_TYPES


def cell_xml(
    column: int, kind: type | None, style: Format | None, default: Format | None, quoted: Format
) -> CellXml:
    """The renderer of one column's cells: style is the column's format, default the format
    a value of kind takes without one (money, date), quoted that of text Excel would run."""
    letters = xl_col_to_name(column)
    shown_as = style or default
    style_attribute = f' s="{shown_as._get_xf_index()}"' if shown_as else ""
    blank = _blank_cell(letters, f' s="{style._get_xf_index()}"' if style else "")
    if kind is str:
        return _text_cells(letters, style_attribute, f' s="{quoted._get_xf_index()}"', blank)
    if kind is Decimal:
        return _number_cells(letters, style_attribute, float, blank)
    if kind is dt.date:
        return _number_cells(letters, style_attribute, excel_day_number, blank)
    if kind is int or kind is float:
        return _number_cells(letters, style_attribute, None, blank)
    return blank


def write_rows(
    sheet: Worksheet,
    first_row: int,
    rows: Sequence[Sequence],
    cells: list,
    heights: dict[int, int] | None = None,
) -> int:
    """Write rows from first_row (0-based) into the sheet's row file; returns the last row
    that has a cell, or first_row - 1. A row without cells is left out, as xlsxwriter does.
    heights: pixels of the rows (0-based) taller than the default, as set_row_pixels sets."""
    heights = heights or {}
    write = sheet.row_data_fh.write
    last_with_cells = first_row - 1
    for row_index, values in enumerate(rows, start=first_row):
        number = row_index + 1
        rendered = zip(cells, values, strict=True)
        row_xml = "".join([render(number, value) for render, value in rendered])
        if row_xml:
            height = heights.get(row_index)
            if height is None:
                write(f'<row r="{number}">{row_xml}</row>')
            else:
                points = f"{height * 0.75:.16g}"
                write(f'<row r="{number}" ht="{points}" customHeight="1">{row_xml}</row>')
            last_with_cells = row_index
    return last_with_cells


def _blank_cell(letters: str, style_attribute: str) -> CellXml:
    """A None: no cell, or an empty one when the column has a format of its own."""
    if not style_attribute:
        return lambda number, value: ""
    return lambda number, value: f'<c r="{letters}{number}"{style_attribute}/>'


def _number_cells(letters: str, style_attribute: str, to_number, blank: CellXml) -> CellXml:
    def render(number: int, value) -> str:
        if value is None:
            return blank(number, value)
        shown = to_number(value) if to_number else value
        return f'<c r="{letters}{number}"{style_attribute}><v>{shown:.16G}</v></c>'

    return render


def _text_cells(letters: str, style_attribute: str, quoted: str, blank: CellXml) -> CellXml:
    # Most text columns repeat a few values (payer, category, kind): each is rendered once.
    rendered: dict[str, str] = {}

    def render(number: int, value) -> str:
        if value is None:
            return blank(number, value)
        rest = rendered.get(value)
        if rest is None:
            rest = _text_cell_rest(value, style_attribute, quoted)
            if len(rendered) < RENDERED_TEXTS_KEPT:
                rendered[value] = rest
        return f'<c r="{letters}{number}"{rest}'

    return render


def _text_cell_rest(text: str, style_attribute: str, quoted: str) -> str:
    """A text cell's element after its reference."""
    if len(text) > CELL_TEXT_UNITS // 2:
        text = _cut_to_cell_size(text)
    # Formula injection: text Excel would run gets the quote prefix.
    attributes = quoted if text.startswith(FORMULA_TRIGGERS) else style_attribute
    if NEEDS_ESCAPING.search(text):
        return f'{attributes} t="inlineStr">{_escaped(text)}</c>'
    return f'{attributes} t="inlineStr"><is><t>{text}</t></is></c>'


def _cut_to_cell_size(text: str) -> str:
    """The text, or as much of it as a cell holds, never cut inside a character (as xlsxwriter
    cuts it)."""
    units = 0
    for index, character in enumerate(text):
        units += 2 if ord(character) > 0xFFFF else 1
        if units > CELL_TEXT_UNITS:
            return text[:index]
    return text


def _escaped(text: str) -> str:
    """<is><t>text</t></is> with the escapes of an xlsx cell: Excel's _xHHHH_ for control
    characters (and _x005F before text that would read as one), XML's for & < >."""
    shown = EXCEL_ESCAPE_LOOKALIKE.sub(r"_x005F\1", text)
    shown = CONTROL_CHARACTER.sub(lambda match: f"_x{ord(match.group()):04X}_", shown)
    shown = shown.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    space = ' xml:space="preserve"' if SPACE_AT_AN_END.search(shown) else ""
    shown = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<is><t{space}>{shown}</t></is>"
