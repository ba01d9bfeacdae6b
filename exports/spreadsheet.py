"""Writing cells and Excel tables with xlsxwriter: formats, widths, and text that never runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"
# Room for the filter button Excel draws in a table's header cells.
FILTER_BUTTON_WIDTH = 3
MAX_COLUMN_WIDTH = 60


class Spreadsheet:
    """One workbook's formats, and cell writing in which text that Excel would run stays text."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self.money = book.add_format({"num_format": MONEY_FORMAT})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.month = book.add_format({"num_format": "yyyy-mm"})
        self.quoted = book.add_format({"quote_prefix": True})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True})
        self._column_widths: dict[str, dict[int, int]] = {}

    def cell(self, sheet: Worksheet, row: int, column: int, value, style: Format | None = None):
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
            sheet.write_datetime(
                row, column, dt.datetime.combine(value, dt.time()), style or self.date
            )
        else:
            text = str(value)
            # Formula injection (§5, §9.24): a leading = + - @ tab or CR is shown, never run;
            # write_string keeps the value as it is and the quote prefix tells Excel it is text.
            quoted = text.startswith(FORMULA_TRIGGERS)
            sheet.write_string(row, column, text, self.quoted if quoted else style)

    def facts(self, sheet: Worksheet, first_row: int, facts: Sequence[tuple[str, object]]) -> None:
        """Label and value pairs, one a row, in columns A and B."""
        for row, (label, value) in enumerate(facts, start=first_row):
            self.cell(sheet, row, 0, label)
            self.cell(sheet, row, 1, value)
        self._fit_columns(sheet, ("", ""), facts)

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

        styles maps a header to the format of its cells when the value's type is not enough
        (a date shown as a month). An empty table keeps one blank row, as Excel expects.
        """
        column_styles = [(styles or {}).get(header) for header in headers]
        for row_index, values in enumerate(rows, start=first_row + 1):
            for column, value in enumerate(values):
                self.cell(sheet, row_index, column, value, column_styles[column])
        last_row = first_row + max(len(rows), 1)
        sheet.add_table(
            first_row,
            0,
            last_row,
            len(headers) - 1,
            {
                "name": name,
                "style": "Table Style Light 9",
                "columns": [{"header": header} for header in headers],
            },
        )
        self._fit_columns(sheet, headers, rows)
        return last_row + 1

    def data_sheet(
        self,
        name: str,
        headers: Sequence[str],
        rows: Sequence[Sequence],
        table_name: str,
        styles: Mapping[str, Format] | None = None,
    ) -> Worksheet:
        """A sheet that is one table from A1, its header row frozen."""
        sheet = self.book.add_worksheet(name)
        self.table(sheet, 0, headers, rows, table_name, styles)
        sheet.freeze_panes(1, 0)
        return sheet

    def close(self) -> None:
        for sheet in self.book.worksheets():
            for column, width in self._column_widths.get(sheet.name, {}).items():
                sheet.set_column(column, column, min(width, MAX_COLUMN_WIDTH) + 1)
        self.book.close()

    def _fit_columns(self, sheet: Worksheet, headers, rows) -> None:
        """Remember the widest value of each column; several tables may share a column."""
        widths = self._column_widths.setdefault(sheet.name, {})
        for column, header in enumerate(headers):
            widest = max((_shown_width(row[column]) for row in rows), default=0)
            needed = max(len(header) + FILTER_BUTTON_WIDTH if header else 0, widest)
            widths[column] = max(widths.get(column, 0), needed)


def _shown_width(value) -> int:
    """About how many characters the cell shows with the formats above."""
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    if isinstance(value, dt.date):
        return len("yyyy-mm-dd")
    return len(str(value))
