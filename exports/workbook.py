"""output/balance_data.xlsx: the statement, the review queue and the ledger, for Excel (§4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from exports.files import replace_atomically
from exports.masking import masked_select

QUEUE_SHEET = "Queue_Review"
EXPORT_RECORD_SHEET = "_Export"  # hidden: what the export wrote, so the import sees only changes
QUEUE_HEADERS = (
    "txn_id",
    "Date",
    "Payer",
    "Account",
    "Description",
    "Merchant",
    "Category",
    "Amount",
    "Suggestion",
    "Shared?",
    "Payer share %",
    "Policy",
    "Note",
)
ANSWER_HEADERS = ("Shared?", "Payer share %", "Policy", "Note")
SHARED_CHOICES = ["Y", "N", "S", "D"]
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class _Writer:
    """Cell writing with the workbook's formats; text that Excel would run is kept as text."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self.money = book.add_format({"num_format": "#,##0.00;[Red]-#,##0.00"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.quoted = book.add_format({"quote_prefix": True})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True})

    def cell(self, sheet, row: int, column: int, value) -> None:
        if value is None:
            sheet.write_blank(row, column, None)
        elif isinstance(value, bool):
            sheet.write_boolean(row, column, value)
        elif isinstance(value, Decimal):
            sheet.write_number(row, column, float(value), self.money)
        elif isinstance(value, int | float):
            sheet.write_number(row, column, value)
        elif isinstance(value, dt.datetime):
            sheet.write_datetime(row, column, value, self.date)
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, column, dt.datetime.combine(value, dt.time()), self.date)
        else:
            text = str(value)
            # Formula injection (§5): a leading = + - @ is shown, never evaluated.
            style = self.quoted if text.startswith(FORMULA_TRIGGERS) else None
            sheet.write_string(row, column, text, style)

    def table(self, sheet, first_row: int, headers, rows, name: str, widths=None) -> None:
        for index, values in enumerate(rows, start=first_row + 1):
            for column, value in enumerate(values):
                self.cell(sheet, index, column, value)
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
        for column, width in enumerate(widths or [14] * len(headers)):
            sheet.set_column(column, column, width)
        sheet.freeze_panes(first_row + 1, 0)


def _queue_rows(connection) -> list[tuple]:
    query = masked_select(connection, "marts.rpt_review_queue")
    return connection.execute(
        f"""
        select txn_id, question, transaction_date, payer, account, description, merchant,
            category, amount, suggestion
        from ({query})
        order by transaction_date desc, txn_id
        """
    ).fetchall()


def _write_summary(writer: _Writer, connection) -> None:
    sheet = writer.book.add_worksheet("Summary")
    balances = connection.execute(
        "select display_name, net_amount, statement, pending_review_count, pending_amount, "
        "as_of_date from marts.rpt_balance order by member_id"
    ).fetchall()
    statement = balances[0][2] if balances else "No members."
    sheet.write_string(0, 0, "Balance", writer.title)
    writer.cell(sheet, 1, 0, statement)
    sheet.write_string(2, 0, "As of")
    writer.cell(sheet, 2, 1, balances[0][5] if balances else None)
    sheet.write_string(3, 0, "Pending review")
    writer.cell(sheet, 3, 1, int(balances[0][3]) if balances else 0)
    sheet.write_string(4, 0, "Pending amount")
    writer.cell(sheet, 4, 1, balances[0][4] if balances else Decimal(0))
    writer.table(
        sheet,
        6,
        ("Member", "Net balance (+ is owed)"),
        [(name, net) for name, net, *_ in balances],
        "Balances",
        widths=[28, 24],
    )
    settle = connection.execute(
        "select from_display_name, to_display_name, amount from marts.rpt_settle_up "
        "order by transfer_order"
    ).fetchall()
    sheet.write_string(8 + max(len(balances), 1), 0, "Settle up", writer.bold)
    first = 9 + max(len(balances), 1)
    sheet.write_row(first, 0, ["From", "To", "Amount"], writer.bold)
    for offset, values in enumerate(settle, start=1):
        for column, value in enumerate(values):
            writer.cell(sheet, first + offset, column, value)
    sheet.freeze_panes(0, 0)


def _write_queue(writer: _Writer, connection) -> list[tuple]:
    sheet = writer.book.add_worksheet(QUEUE_SHEET)
    rows = _queue_rows(connection)
    # The sheet shows every column of the queue but the question; the answers start blank.
    unanswered = (None,) * len(ANSWER_HEADERS)
    sheet_rows = [(row[0], *row[2:], *unanswered) for row in rows]
    writer.table(
        sheet,
        0,
        QUEUE_HEADERS,
        sheet_rows,
        "QueueReview",
        widths=[18, 11, 10, 26, 36, 20, 14, 11, 44, 9, 13, 11, 24],
    )
    last_row = max(len(rows), 1)
    shared_column = QUEUE_HEADERS.index("Shared?")
    policies = [
        row[0]
        for row in connection.execute(
            "select distinct policy from staging.stg_household__split_policies order by policy"
        ).fetchall()
    ]
    sheet.data_validation(
        1,
        shared_column,
        last_row,
        shared_column,
        {
            "validate": "list",
            "source": SHARED_CHOICES,
            "input_title": "Shared?",
            "input_message": "Y shared, N personal, S split, D duplicate",
        },
    )
    pct_column = QUEUE_HEADERS.index("Payer share %")
    sheet.data_validation(
        1,
        pct_column,
        last_row,
        pct_column,
        {
            "validate": "decimal",
            "criteria": "between",
            "minimum": 0,
            "maximum": 100,
            "error_message": "A percentage from 0 to 100",
        },
    )
    policy_column = QUEUE_HEADERS.index("Policy")
    if policies:
        sheet.data_validation(
            1,
            policy_column,
            last_row,
            policy_column,
            {
                "validate": "list",
                "source": policies,
            },
        )
    return rows


def _write_export_record(writer: _Writer, rows: list[tuple]) -> None:
    """What this export wrote in each answer cell (all blank), and each row's question."""
    sheet = writer.book.add_worksheet(EXPORT_RECORD_SHEET)
    sheet.write_row(0, 0, ["txn_id", "question", *ANSWER_HEADERS])
    for index, row in enumerate(rows, start=1):
        sheet.write_string(index, 0, row[0])
        sheet.write_string(index, 1, row[1])
    sheet.hide()


def _write_transactions(writer: _Writer, connection) -> None:
    sheet = writer.book.add_worksheet("Transactions")
    query = masked_select(connection, "marts.fct_transactions")
    headers = (
        "txn_id",
        "Date",
        "Payer",
        "Account",
        "Description",
        "Merchant",
        "Category",
        "Amount",
        "Kind",
        "Sharing",
        "Policy",
        "Payer share %",
        "Decided by",
        "Duplicate of",
        "File",
        "Line",
    )
    rows = connection.execute(
        f"""
        select txn_id, transaction_date, payer_member_id, account_label, description, merchant,
            category, amount, kind, sharing, policy, payer_share_pct, decision_source,
            duplicate_of_txn_id, file_path, line_number
        from ({query})
        order by transaction_date desc, txn_id
        """
    ).fetchall()
    writer.table(
        sheet,
        0,
        headers,
        rows,
        "Transactions",
        widths=[18, 11, 8, 26, 36, 20, 14, 11, 10, 9, 8, 8, 28, 18, 40, 6],
    )


def export_workbook(connection, target: Path) -> Path:
    def write(path: Path) -> None:
        book = xlsxwriter.Workbook(str(path), {"remove_timezone": True})
        writer = _Writer(book)
        _write_summary(writer, connection)
        queue_rows = _write_queue(writer, connection)
        _write_transactions(writer, connection)
        _write_export_record(writer, queue_rows)
        book.close()

    return replace_atomically(target, write)
