"""Writing cells and Excel tables with xlsxwriter: formats, widths, and text that never runs.

A workbook may be opened in xlsxwriter's constant_memory mode: each row goes to disk as soon as
a later row is written, and text is stored in its cell instead of a shared-strings table. Every
sheet is then written top to bottom, a table's header row before its data rows; everything here
writes in that order, so it serves both modes. In that mode a table's data rows are written as
XML by exports/sheet_rows.py, several times faster than cell by cell.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from operator import is_not

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_range
from xlsxwriter.worksheet import Worksheet

from exports import sheet_rows
from exports.sheet_rows import FORMULA_TRIGGERS, excel_day_number

MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"
# Room for the filter button Excel draws in a table's header cells.
FILTER_BUTTON_WIDTH = 3
MAX_COLUMN_WIDTH = 60
DATE_WIDTH = len("yyyy-mm-dd")
# Longer text wraps in a column this wide: a sheet must print one page wide and stay legible.
WRAP_WIDTH = 30
# Neither Excel nor LibreOffice grows a row for wrapped text when it opens a file, so each row
# gets the lines its longest text needs, counted with room for words that do not fill a line.
WRAPPED_LINE_CHARACTERS = WRAP_WIDTH - 6
LINE_PIXELS = 20
MAX_ROW_LINES = 20
# The light fill of cells the user types into.
ANSWER_FILL = "#FFF2CC"

# Printing (every sheet): one page wide, as many pages down as it takes, header rows on each
# page. A sheet wider than a portrait page (A4 or Letter, whichever is narrower, less the
# margins) prints landscape. Column widths count characters of the default font, about 7
# pixels each plus 5 of padding; a page is 96 pixels an inch.
SIDE_MARGIN_INCHES = 0.4
TOP_MARGIN_INCHES = 0.6
PORTRAIT_PAGE_INCHES = 8.27  # A4's width; Letter's is 8.5
PIXELS_PER_INCH = 96
PIXELS_PER_CHARACTER = 7
COLUMN_PADDING_PIXELS = 5
DEFAULT_COLUMN_WIDTH = 8.43
PORTRAIT_PIXELS = (PORTRAIT_PAGE_INCHES - 2 * SIDE_MARGIN_INCHES) * PIXELS_PER_INCH
PAGE_FOOTER = "&L&A&Rpage &P of &N"  # the sheet's name, and where the page is in it


def chart_cache(values: Iterable) -> list[str | None]:
    """A chart series' cached figures for values written by Spreadsheet: numbers with Excel's
    16 significant digits, as xlsxwriter reads them from cells it holds; no value, no cell."""
    numbers = []
    for value in values:
        if isinstance(value, dt.date):
            value = excel_day_number(value)
        numbers.append(f"{float(value):.16g}")
    return numbers or [None]


class Spreadsheet:
    """One workbook's formats, and cell writing in which text that Excel would run stays text."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self._properties: dict[Format, dict] = {}  # each format's, to derive others from
        self.money = self._format({"num_format": MONEY_FORMAT})
        self.date = self._format({"num_format": "yyyy-mm-dd"})
        self.month = self._format({"num_format": "yyyy-mm", "align": "left"})  # a label
        self.quoted = self._format({"quote_prefix": True})
        self.title = self._format({"bold": True, "font_size": 14})
        self.bold = self._format({"bold": True})
        self.wrapped = self._format({"text_wrap": True})
        # Table headers wrap at their spaces, so a long header does not widen its column.
        self.header = self._format({"text_wrap": True, "bottom": 1})
        self.answer = self._format(
            {"bg_color": ANSWER_FILL, "border": 1, "border_color": "#BFBFBF"}
        )
        # A table with rows of several lines has every cell at the top of its row, so that
        # each row reads along one line. None stands for a cell of no format.
        table_styles = (None, self.money, self.date, self.month, self.quoted, self.wrapped)
        self._top_aligned: dict[Format | None, Format] = {
            style: self._format({**self._properties.get(style, {}), "valign": "top"})
            for style in (*table_styles, self.answer)
        }
        # Number the formats now, in this order, whichever cell comes to use one first.
        for style in self._properties:
            style._get_xf_index()
        self._column_widths: dict[str, dict[int, int]] = {}
        self._title_rows: dict[str, int] = {}  # a sheet's header row, printed on every page
        self._chart_edges: dict[str, list[float]] = {}  # a sheet's charts' right edges, pixels

    def _format(self, properties: dict) -> Format:
        style = self.book.add_format(properties)
        self._properties[style] = properties
        return style

    def cell(
        self,
        sheet: Worksheet,
        row: int,
        column: int,
        value,
        style: Format | None = None,
        quoted: Format | None = None,
    ):
        """One cell of any type; streamed tables render theirs in exports/sheet_rows.py.
        quoted: the format of text Excel would run (self.quoted unless given)."""
        if value is None:
            sheet.write_blank(row, column, None, style)
        elif isinstance(value, bool):
            sheet.write_boolean(row, column, value, style)
        elif isinstance(value, Decimal):
            sheet.write_number(row, column, float(value), style or self.money)
        elif isinstance(value, int | float):
            sheet.write_number(row, column, value, style)
        elif isinstance(value, dt.datetime):
            sheet.write_datetime(row, column, value, style or self.date)
        elif isinstance(value, dt.date):
            sheet.write_number(row, column, excel_day_number(value), style or self.date)
        else:
            self._write_text(sheet, row, column, str(value), style, quoted or self.quoted)

    def _write_text(
        self, sheet: Worksheet, row: int, column: int, text: str, style, quoted: Format
    ) -> None:
        _refuse_markup(sheet, text)
        # Formula injection: a leading = + - @ tab or CR is shown, never run;
        # write_string keeps the value as it is and the quote prefix tells Excel it is text.
        is_formula_like = text.startswith(FORMULA_TRIGGERS)
        sheet.write_string(row, column, text, quoted if is_formula_like else style)

    def facts(self, sheet: Worksheet, first_row: int, facts: Sequence[tuple[str, object]]) -> None:
        """Label and value pairs, one a row, in columns A and B."""
        for row, (label, value) in enumerate(facts, start=first_row):
            self.cell(sheet, row, 0, label)
            self.cell(sheet, row, 1, value)
        for column in (0, 1):
            self._widen(sheet, column, max((_shown_width(f[column]) for f in facts), default=0))

    def table(
        self,
        sheet: Worksheet,
        first_row: int,
        headers: Sequence[str],
        rows: Sequence[Sequence],
        name: str,
        styles: Mapping[str, Format] | None = None,
    ) -> int:
        """An Excel table (filters, banded rows) at first_row; returns the row after it.

        Each row holds one value per header; a column's writer is chosen by the type of its
        values (None aside), as a query's columns have one. styles maps a header to the format
        of its cells when the value's type is not enough (a date shown as a month). An empty
        table keeps one blank row, as Excel expects.
        """
        # A streamed sheet's rows above, and the cells buffered on the current row, are final.
        written_below = first_row < sheet.previous_row or (
            first_row == sheet.previous_row and sheet.table
        )
        if sheet.constant_memory and written_below:
            raise ValueError(f"table {name}: rows down to row {sheet.previous_row + 1} are written")
        last_row = first_row + max(len(rows), 1)
        if last_row >= sheet.xls_rowmax:
            raise ValueError(f"table {name}: {len(rows):,} rows do not fit in a sheet")
        _declare_table(sheet, first_row, last_row, headers, name, self.header)
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in headers]
        present = [list(filter(partial(is_not, None), values)) for values in columns]
        kinds = [_column_type(values) for values in present]
        column_styles = [(styles or {}).get(header) for header in headers]
        wrapped, header_lines = [], 1
        for index, header in enumerate(headers):
            widest = _widest(present[index], kinds[index])
            if kinds[index] is str and widest > WRAP_WIDTH:
                widest = WRAP_WIDTH
                column_styles[index] = column_styles[index] or self.wrapped
                wrapped.append(index)
            width = max(_header_width(header), widest)
            self._widen(sheet, index, width)
            wrapped_header = textwrap.wrap(header, width - FILTER_BUTTON_WIDTH)
            header_lines = max(header_lines, len(wrapped_header))
        heights = _wrapped_row_heights(rows, wrapped, first_row + 1)
        if header_lines > 1:
            heights[first_row] = header_lines * LINE_PIXELS
            sheet.set_row_pixels(first_row, heights[first_row])
        quoted = self.quoted
        if heights:
            defaults = {Decimal: self.money, dt.date: self.date}
            column_styles = [
                self._top_aligned.get(style or defaults.get(kind), style)
                if kind is not object
                else style  # mixed types: each value takes its own default format
                for kind, style in zip(kinds, column_styles, strict=True)
            ]
            quoted = self._top_aligned[self.quoted]
        renderable = all(map(sheet_rows.can_render, kinds, present))
        if sheet.constant_memory and renderable:
            self._stream_rows(
                sheet, first_row, last_row, headers, rows, kinds, column_styles, heights, quoted
            )
        else:
            self._write_rows(sheet, first_row, headers, rows, column_styles, heights, quoted)
        return last_row + 1

    def _write_rows(
        self, sheet: Worksheet, first_row: int, headers, rows, column_styles, heights, quoted
    ) -> None:
        """The rows below the header, a cell at a time through xlsxwriter."""
        for header in headers:  # written by _declare_table
            _refuse_markup(sheet, header)
        for row_index, values in enumerate(rows, start=first_row + 1):
            if row_index in heights:
                sheet.set_row_pixels(row_index, heights[row_index])
            for column, (value, style) in enumerate(zip(values, column_styles, strict=True)):
                self.cell(sheet, row_index, column, value, style, quoted)

    def comment(self, sheet: Worksheet, row: int, column: int, text: str, options=None) -> None:
        """A cell comment, also on a row a constant_memory sheet has written: comments are
        kept apart from the rows until the book is closed, but xlsxwriter refuses a cell of a
        written row, so the mode is off for the call."""
        streaming = sheet.constant_memory
        sheet.constant_memory = False
        try:
            status = sheet.write_comment(row, column, text, options)
        finally:
            sheet.constant_memory = streaming
        if status != 0:
            raise ValueError(f"{sheet.name}: xlsxwriter refused a comment ({status})")

    def _stream_rows(
        self,
        sheet: Worksheet,
        first_row: int,
        last_row: int,
        headers,
        rows,
        kinds,
        column_styles,
        heights,
        quoted,
    ) -> None:
        """The header and data rows of a constant_memory sheet's table, a row of XML at a time."""
        defaults = {Decimal: self.money, dt.date: self.date}
        cells = [
            sheet_rows.cell_xml(column, kind, style, defaults.get(kind), quoted)
            for column, (kind, style) in enumerate(zip(kinds, column_styles, strict=True))
        ]
        # The header cells wait in xlsxwriter's buffer of the current row (the rows above have
        # gone to the file when they were written): they are rendered here instead, as text.
        sheet.table.clear()
        header_cells = [
            sheet_rows.cell_xml(column, str, self.header, None, self.quoted)
            for column in range(len(kinds))
        ]
        sheet_rows.write_rows(sheet, first_row, [headers], header_cells, heights)
        last_with_cells = sheet_rows.write_rows(sheet, first_row + 1, rows, cells, heights)
        if last_with_cells > first_row:
            sheet._check_dimensions(last_with_cells, 0)  # the sheet's extent, for its XML
        # What is written below the table starts after it, as if xlsxwriter had written it.
        sheet.previous_row = last_row + 1

    def data_sheet(
        self,
        name: str,
        headers: Sequence[str],
        rows: Sequence[Sequence],
        table_name: str,
        styles: Mapping[str, Format] | None = None,
        frozen_columns: int = 0,
    ) -> Worksheet:
        """A sheet that is one table from A1, its header row frozen (with frozen_columns at
        the left) and printed at the top of every page."""
        sheet = self.book.add_worksheet(name)
        self.table(sheet, 0, headers, rows, table_name, styles)
        sheet.freeze_panes(1, frozen_columns)
        self._title_rows[sheet.name] = 0
        return sheet

    def insert_chart(self, sheet: Worksheet, row: int, column: int, chart, size: dict) -> None:
        """A chart of size (width and height in pixels) with its top left corner in a cell;
        its right edge counts in the sheet's width when the sheet's page is laid out."""
        chart.set_size(size)
        sheet.insert_chart(row, column, chart)
        left = sum(self._column_pixels(sheet, index) for index in range(column))
        self._chart_edges.setdefault(sheet.name, []).append(left + size["width"])

    def close(self) -> None:
        # Column widths go into the sheet's XML ahead of its rows only when the book is closed,
        # so they may be set last, from everything that was written; the page layout too.
        for sheet in self.book.worksheets():
            for column in self._column_widths.get(sheet.name, {}):
                sheet.set_column(column, column, self._shown_column_width(sheet, column))
            self._lay_out_pages(sheet)
        self.book.close()

    def _lay_out_pages(self, sheet: Worksheet) -> None:
        """Print one page wide, landscape when the sheet is wider than a portrait page."""
        if self._sheet_pixels(sheet) > PORTRAIT_PIXELS:
            sheet.set_landscape()
        else:
            sheet.set_portrait()
        sheet.fit_to_pages(1, 0)  # height 0: as many pages as the rows take
        sheet.set_margins(
            left=SIDE_MARGIN_INCHES,
            right=SIDE_MARGIN_INCHES,
            top=TOP_MARGIN_INCHES,
            bottom=TOP_MARGIN_INCHES,
        )
        sheet.set_footer(PAGE_FOOTER)
        if sheet.name in self._title_rows:
            sheet.repeat_rows(self._title_rows[sheet.name])

    def _shown_column_width(self, sheet: Worksheet, column: int) -> float:
        width = self._column_widths.get(sheet.name, {}).get(column)
        if width is None:
            return DEFAULT_COLUMN_WIDTH
        return min(width, MAX_COLUMN_WIDTH) + 1

    def _column_pixels(self, sheet: Worksheet, column: int) -> float:
        return (
            self._shown_column_width(sheet, column) * PIXELS_PER_CHARACTER + COLUMN_PADDING_PIXELS
        )

    def _sheet_pixels(self, sheet: Worksheet) -> float:
        """How wide the sheet's cells and charts are, as Excel shows them at 100 %."""
        used = self._column_widths.get(sheet.name, {})
        columns = max(used, default=-1) + 1
        cells = sum(self._column_pixels(sheet, column) for column in range(columns))
        return max([cells, *self._chart_edges.get(sheet.name, [])])

    def _widen(self, sheet: Worksheet, column: int, width: int) -> None:
        """Remember the widest value of each column; several tables may share a column."""
        widths = self._column_widths.setdefault(sheet.name, {})
        widths[column] = max(widths.get(column, 0), width)


def _refuse_markup(sheet: Worksheet, text: str) -> None:
    """xlsxwriter copies text shaped like its rich-string markup into a constant_memory sheet's
    XML as it is, where it could add cells, formulas among them; sheet_rows escapes it."""
    if sheet.constant_memory and text.startswith("<r>") and text.endswith("</r>"):
        raise ValueError(f"{sheet.name}: text shaped like xlsxwriter markup: {text[:40]!r}")


def _declare_table(
    sheet: Worksheet,
    first_row: int,
    last_row: int,
    headers: Sequence[str],
    name: str,
    header_style: Format,
) -> None:
    """Declare the table from first_row (its headers) to last_row and write the header row.

    xlsxwriter's add_table refuses a constant_memory sheet, because it writes the header cells
    itself, as shared strings, and a streamed row cannot be changed later. Nothing is written
    yet at or below first_row, so the table is declared with the mode off for the call, over the
    header and one data row (add_table also notes every cell of its range, a dictionary entry per
    cell), then widened to last_row; the header cells are written again as the mode requires.
    """
    streaming = sheet.constant_memory
    sheet.constant_memory = False
    try:
        status = sheet.add_table(
            first_row,
            0,
            first_row + 1,
            len(headers) - 1,
            {
                "name": name,
                "style": "Table Style Light 9",
                "columns": [
                    {"header": header, "header_format": header_style} for header in headers
                ],
            },
        )
    finally:
        sheet.constant_memory = streaming
    if status != 0:
        raise ValueError(f"xlsxwriter refused the table {name} ({status})")
    table = sheet.tables[-1]
    table["range"] = table["a_range"] = table["autofilter"] = xl_range(
        first_row, 0, last_row, len(headers) - 1
    )
    for column, header in enumerate(headers):
        sheet.write_string(first_row, column, header, header_style)


def _wrapped_row_heights(rows: Sequence[Sequence], wrapped: list[int], first_row: int) -> dict:
    """The height in pixels of each row (by sheet row) whose text in a wrapped column takes
    more than one line; the other rows keep the default height."""
    if not wrapped:
        return {}
    heights = {}
    for row_index, values in enumerate(rows, start=first_row):
        longest = max(len(values[column] or "") for column in wrapped)
        lines = min(-(-longest // WRAPPED_LINE_CHARACTERS), MAX_ROW_LINES)
        if lines > 1:
            heights[row_index] = lines * LINE_PIXELS
    return heights


def _header_width(header: str) -> int:
    """A header wraps at its spaces: its column needs room for its longest word and the
    filter button."""
    return max(map(len, header.split()), default=0) + FILTER_BUTTON_WIDTH


def _column_type(present: Sequence) -> type | None:
    """The type of a column's values (those not None): None when there are none, object when
    they differ."""
    types = set(map(type, present))
    if len(types) > 1:
        return object
    return types.pop() if types else None


def _widest(present: Sequence, kind: type | None) -> int:
    """The width of a column's widest value as shown (see _shown_width), measured per column:
    the length of a number as shown grows with its distance from zero on either side."""
    if not present:
        return 0
    if kind is str:
        return max(map(len, present))
    if kind is dt.date:
        return DATE_WIDTH
    if kind is Decimal or kind is int:
        return max(_shown_width(min(present)), _shown_width(max(present)))
    return max(map(_shown_width, present))


def _shown_width(value) -> int:
    """About how many characters the cell shows with the formats above."""
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    if isinstance(value, dt.date):
        return DATE_WIDTH
    return len(str(value))
