"""output/balance_data.xlsx: the statement, the review queue and the ledgers, for Excel."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from core.files import file_state, replace_atomically
from core.masking import masked_select
from core.review import ANSWER_HEADERS, ANSWER_LETTERS, EXPORT_RECORD_SHEET, QUEUE_SHEET
from exports.spreadsheet import Spreadsheet, chart_cache

SUMMARY_SHEET = "Summary"
TRANSACTIONS_SHEET = "Transactions"
LEDGER_SHEET = "Shared_Ledger"
MONTHLY_SHEET = "Monthly"
DATA_QUALITY_SHEET = "Data_Quality"
BALANCE_HISTORY_SHEET = "Balance_History"
# Beside answers that could not be used: why. They are written back as typed, never blanked.
KEPT_ANSWER_HEADER = "Not imported because"
# What the user types, at the left, filled and frozen with the header row: then what is asked,
# the transaction, and the suggestion. The import finds columns by name, never position.
QUEUE_HEADERS = (
    *ANSWER_HEADERS,
    "Question",
    "Date",
    "Payer",
    "Account",
    "Description",
    "Merchant",
    "Category",
    "Cost",  # positive = spent, as in the Shared_Ledger; Transactions show signed amounts
    "Suggestion",
    "txn_id",
    KEPT_ANSWER_HEADER,
)
QUEUE_ORDER = "order by transaction_date desc, txn_id"  # newest first
SHARED_CHOICES = list(ANSWER_LETTERS)
SHARING_QUESTION = "shared?"
# A suggestion is shown in a few words; the whole reason is in the cell's comment.
SUGGESTION_WIDTH = 32
SUGGESTION_COMMENT_SIZE = {"x_scale": 2.5, "y_scale": 1.2}
TRANSACTION_HEADERS = (
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
LEDGER_HEADERS = (
    "Date",
    "Entry",
    "txn_id",
    "Paid by",
    "Paid to",
    "Description",
    "Merchant",
    "Category",
    "Sharing",
    "Policy",
    "Cost",
)
MONTHLY_HEADERS = (
    "Month",
    "Member",
    "Category",
    "Share of shared",
    "Paid for shared",
    "Personal",
    "Expenses",
)
DATA_QUALITY_HEADERS = (
    "Check",
    "txn_id",
    "Related txn_id",
    "File",
    "Date",
    "Payer",
    "Description",
    "Amount",
    "Detail",
    "Bad lines",
)
# Excel keeps `~$name` beside a workbook it has open, LibreOffice `.~lock.name#`.
OWNER_FILE_NAMES = ("~${name}", ".~lock.{name}#")
# The Summary prints on one landscape page: the tables at the left, the charts stacked at the
# right, each chart in a band of rows (20 pixels each) that no page break crosses.
CHART_SIZE = {"width": 600, "height": 300}
CHART_ROWS = 16  # rows a chart of CHART_SIZE covers, and a gap

Members = list[tuple[str, str]]  # (member_id, display_name) in members.csv order


def _fetch(connection, query: str) -> list[tuple]:
    """The rows of query with long digit runs masked in every text column but the `_id`
    ones: ids are hashes and member ids, never account numbers."""
    return connection.execute(masked_select(connection, f"({query})")).fetchall()


def _fetch_in_batches(connection, query: str, batch_rows: int = 50_000) -> Iterator[tuple]:
    """The rows of query, masked as _fetch masks them, a batch at a time: rows that are only
    added up need not all be held in memory at once (no other query may run meanwhile)."""
    result = connection.execute(masked_select(connection, f"({query})"))
    while batch := result.fetchmany(batch_rows):
        yield from batch


def _members(connection) -> Members:
    return _fetch(
        connection, "select member_id, display_name from marts.dim_members order by member_order"
    )


def _by_member(rows, members: Members) -> list[tuple]:
    """(key, member_id, value) rows as one row per key, ascending, with a column per member."""
    values_by_key: dict = {}
    for key, member_id, value in rows:
        values_by_key.setdefault(key, {})[member_id] = value
    return [
        (key, *(values.get(member_id, Decimal(0)) for member_id, _name in members))
        for key, values in sorted(values_by_key.items())
    ]


def _write_summary(
    spreadsheet: Spreadsheet, connection, members: Members, history: list[tuple]
) -> None:
    """The statement in words, the balances, settle-up, and the charts."""
    sheet = spreadsheet.book.add_worksheet(SUMMARY_SHEET)
    state = _fetch(
        connection,
        "select statement, as_of_date, pending_review_count, pending_amount "
        "from marts.rpt_balance limit 1",  # every member's row carries the same figures
    )
    statement, as_of, pending_count, pending_amount = (
        state[0] if state else ("No members.", None, 0, Decimal(0))
    )
    sheet.write_string(0, 0, "Balance", spreadsheet.title)
    spreadsheet.cell(sheet, 1, 0, statement)
    spreadsheet.facts(
        sheet,
        2,
        [
            ("As of", as_of),
            ("Expenses waiting for review", pending_count),
            ("Their total cost", pending_amount),
        ],
    )

    balances = _fetch(
        connection,
        """
        select dim_members.display_name, rpt_balance.net_amount
        from marts.rpt_balance
        inner join marts.dim_members on rpt_balance.member_id = dim_members.member_id
        order by dim_members.member_order
        """,
    )
    next_row = spreadsheet.table(
        sheet, 6, ("Member", "Net balance (+ is owed)"), balances, "Balances"
    )

    settle_up = _fetch(
        connection,
        "select from_display_name, to_display_name, amount from marts.rpt_settle_up "
        "order by transfer_order",
    )
    sheet.write_string(next_row + 1, 0, "Settle up", spreadsheet.bold)
    next_row = spreadsheet.table(
        sheet, next_row + 2, ("From", "To", "Amount"), settle_up, "SettleUp"
    )

    monthly_shares = _by_member(
        _fetch(
            connection,
            "select month_start, member_id, sum(shared_amount) from marts.rpt_monthly "
            "group by month_start, member_id",
        ),
        members,
    )
    monthly_rows = [(month, *shares, sum(shares)) for month, *shares in monthly_shares]
    monthly_headers = ("Month", *(name for _id, name in members), "Total")
    sheet.write_string(next_row + 1, 0, "Monthly shared spending", spreadsheet.bold)
    monthly_top = next_row + 2
    spreadsheet.table(
        sheet,
        monthly_top,
        monthly_headers,
        monthly_rows,
        "MonthlyShared",
        styles={"Month": spreadsheet.month},
    )

    if not members:
        return  # a chart needs a series, and each member is one
    chart_column = len(monthly_headers) + 1
    balance_chart = _balance_chart(spreadsheet, members, history)
    spreadsheet.insert_chart(sheet, 1, chart_column, balance_chart, CHART_SIZE)
    monthly_chart = _monthly_chart(spreadsheet, members, monthly_top, monthly_rows)
    spreadsheet.insert_chart(sheet, 1 + CHART_ROWS, chart_column, monthly_chart, CHART_SIZE)
    charts_end = 1 + 2 * CHART_ROWS
    if monthly_top + len(monthly_rows) >= charts_end:
        # A long monthly table goes on below the charts' rows, on the next page.
        sheet.set_h_pagebreaks([charts_end])


def _balance_chart(spreadsheet: Spreadsheet, members: Members, history: list[tuple]):
    """The running balance from the Balance_History sheet. Two members' balances mirror each
    other, so one line says it all: what the one owes the other (the member owed at the end,
    else the first, is the one above zero). Any other household gets a line per member."""
    chart = spreadsheet.book.add_chart({"type": "line"})
    last_row = max(len(history), 1)
    days = chart_cache(row[0] for row in history)
    columns = {column: name for column, (_member_id, name) in enumerate(members, start=1)}
    if len(members) == 2:
        ends_owed = 2 if history and history[-1][2] > 0 else 1
        owed, owing = columns[ends_owed], columns[3 - ends_owed]
        columns = {ends_owed: owed}
        # Begins with words of its own: xlsxwriter reads a title starting with = as a formula.
        chart.set_title({"name": f"What {owing} owes {owed}"})
        chart.set_legend({"none": True})
    else:
        chart.set_title({"name": "Running balance (+ is owed)"})
    # Series names point at the header cells: a name typed as text could read as a formula.
    for column, name in columns.items():
        chart.add_series(
            {
                "name": [BALANCE_HISTORY_SHEET, 0, column],
                "categories": [BALANCE_HISTORY_SHEET, 1, 0, last_row, 0],
                "values": [BALANCE_HISTORY_SHEET, 1, column, last_row, column],
                **_series_cache(name, days, chart_cache(row[column] for row in history)),
            }
        )
    # The dates run along the bottom, below the lowest balance, not along the zero line.
    chart.set_x_axis(
        {
            "date_axis": True,
            "num_format": "yyyy-mm",
            "major_unit": 1,
            "major_unit_type": "months",
            "label_position": "low",
        }
    )
    chart.set_y_axis({"num_format": "#,##0", "crossing": "min"})
    return chart


def _monthly_chart(
    spreadsheet: Spreadsheet, members: Members, header_row: int, monthly_rows: list[tuple]
):
    """Shared spending per month, each member's share stacked, from the MonthlyShared table."""
    chart = spreadsheet.book.add_chart({"type": "column", "subtype": "stacked"})
    first_row, last_row = header_row + 1, header_row + max(len(monthly_rows), 1)
    months = chart_cache(row[0] for row in monthly_rows)
    for column, (_member_id, name) in enumerate(members, start=1):
        chart.add_series(
            {
                "name": [SUMMARY_SHEET, header_row, column],
                "categories": [SUMMARY_SHEET, first_row, 0, last_row, 0],
                "values": [SUMMARY_SHEET, first_row, column, last_row, column],
                **_series_cache(name, months, chart_cache(row[column] for row in monthly_rows)),
            }
        )
    chart.set_title({"name": "Monthly shared spending"})
    chart.set_x_axis({"num_format": "yyyy-mm"})
    chart.set_y_axis({"num_format": "#,##0"})
    return chart


def _series_cache(name: str, categories: list, values: list) -> dict:
    """What a chart shows until the spreadsheet program reads the cells again. xlsxwriter
    copies it from the cells it holds, which a constant_memory sheet has already written out,
    so it is given here: the same figures as the cells of the series' ranges."""
    return {"name_data": [name], "categories_data": categories, "values_data": values}


def queue_txn_ids(connection) -> list[str]:
    """The txn_ids of Queue_Review's rows, in the sheet's order."""
    query = f"select txn_id from marts.rpt_review_queue {QUEUE_ORDER}"
    return [txn_id for (txn_id,) in connection.execute(query).fetchall()]


KeptAnswers = dict[str, dict[str, str]]  # txn_id → the answer cells as typed, and "reason"


def _answer_cells(kept: KeptAnswers, txn_id: str) -> tuple[str | None, ...]:
    """The answer cells a queue row starts with: blank, or an answer that could not be used,
    as typed."""
    answer = kept.get(txn_id)
    if answer is None:
        return (None,) * len(ANSWER_HEADERS)
    return tuple(answer[header] or None for header in ANSWER_HEADERS)


def _question(kind: str, original_date, original_description, original_cost) -> str:
    """What a queue row asks, in plain words: shared? or whether it is a copy of another."""
    if kind != "duplicate":
        return SHARING_QUESTION
    if original_date is None:
        return "duplicate?"
    return f"duplicate of {original_date:%Y-%m-%d} {original_description} {original_cost:,.2f}?"


def _short_suggestion(suggestion: str | None, merchant: str | None) -> str | None:
    """The suggested answer in a few words: the Merchant column already says where, and a
    suspect's account is the same as its original's by definition."""
    if suggestion is None:
        return None
    short = suggestion.split(";")[0].split(" (copy of ")[0]
    if merchant:
        short = short.replace(f" at {merchant}", "")
    short = short.replace("same account and amount, ", "same amount, ")
    if len(short) > SUGGESTION_WIDTH:
        short = short[: SUGGESTION_WIDTH - 1].rsplit(" ", 1)[0] + "…"
    return short


def _write_queue(spreadsheet: Spreadsheet, connection, kept: KeptAnswers) -> list[tuple]:
    """Every undecided expense and suspected duplicate, newest first, answers blank unless
    one could not be used (docs/rules.md#the-review-queue). Returns (txn_id, question kind)
    per row, in sheet order."""
    rows = _fetch(
        connection,
        f"""
        select *
        from (
            select queue.txn_id, queue.question, queue.transaction_date, queue.payer,
                queue.account, queue.description, queue.merchant, queue.category,
                queue.amount as cost, queue.suggestion,
                original.transaction_date as original_date,
                original.description as original_description,
                original.cost as original_cost
            from marts.rpt_review_queue as queue
            left join marts.fct_transactions as suspect on queue.txn_id = suspect.txn_id
            left join marts.fct_transactions as original
                on suspect.duplicate_of_txn_id = original.txn_id
        )
        {QUEUE_ORDER}
        """,
    )
    cells, comments = [], []
    for txn_id, kind, date, payer, account, description, merchant, category, cost, *rest in rows:
        suggestion, *original = rest
        short = _short_suggestion(suggestion, merchant)
        reason = kept[txn_id]["reason"] if txn_id in kept else None
        cells.append(
            (
                *_answer_cells(kept, txn_id),
                _question(kind, *original),
                *(date, payer, account, description, merchant, category, cost, short),
                txn_id,
                reason,
            )
        )
        comments.append((suggestion if suggestion != short else None, reason))
    sheet = spreadsheet.data_sheet(
        QUEUE_SHEET,
        QUEUE_HEADERS,
        cells,
        "QueueReview",
        styles=dict.fromkeys(ANSWER_HEADERS, spreadsheet.answer),
        frozen_columns=len(ANSWER_HEADERS),
    )
    # The whole reason behind a shortened suggestion, and why an answer could not be used
    # (its column is at the far right), as comments: hovering over the cell shows them.
    suggestion_column = QUEUE_HEADERS.index("Suggestion")
    for sheet_row, (suggestion, reason) in enumerate(comments, start=1):
        if suggestion:
            spreadsheet.comment(
                sheet, sheet_row, suggestion_column, suggestion, SUGGESTION_COMMENT_SIZE
            )
        if reason:
            spreadsheet.comment(sheet, sheet_row, 0, f"{KEPT_ANSWER_HEADER}: {reason}")
    policies = [
        policy
        for (policy,) in connection.execute(
            "select distinct policy from marts.dim_split_policies order by policy"
        ).fetchall()
    ]
    validations = {
        "Shared?": {
            "validate": "list",
            "source": SHARED_CHOICES,
            "input_title": "Shared?",
            "input_message": "Y shared, N personal, S split, D duplicate",
        },
        "Payer share %": {
            "validate": "decimal",
            "criteria": "between",
            "minimum": 0,
            "maximum": 100,
            "error_message": "A percentage from 0 to 100",
        },
        "Policy": {
            "validate": "list",
            "source": policies,
            "input_title": "Policy",
            "input_message": "Blank means default",
        },
    }
    last_row = max(len(rows), 1)
    for header, validation in validations.items():
        column = QUEUE_HEADERS.index(header)
        sheet.data_validation(1, column, last_row, column, validation)
    return [(txn_id, kind) for txn_id, kind, *_ in rows]


def _write_export_record(spreadsheet: Spreadsheet, rows: list[tuple], kept: KeptAnswers) -> None:
    """What this export wrote in each answer cell, and each row's question."""
    sheet = spreadsheet.book.add_worksheet(EXPORT_RECORD_SHEET)
    sheet.write_row(0, 0, ["txn_id", "question", *ANSWER_HEADERS])
    for index, row in enumerate(rows, start=1):
        sheet.write_string(index, 0, row[0])
        sheet.write_string(index, 1, row[1])
        for column, cell in enumerate(_answer_cells(kept, row[0]), 2):
            if cell:
                sheet.write_string(index, column, cell)
    sheet.hide()


def _write_transactions(spreadsheet: Spreadsheet, connection, window_start) -> None:
    rows = _fetch(
        connection,
        f"""
        select fct_transactions.txn_id, fct_transactions.transaction_date,
            dim_members.display_name, fct_transactions.account_label,
            fct_transactions.description, fct_transactions.merchant, fct_transactions.category,
            fct_transactions.amount, fct_transactions.kind, fct_transactions.sharing,
            fct_transactions.policy, fct_transactions.payer_share_pct,
            fct_transactions.decision_source, fct_transactions.duplicate_of_txn_id,
            fct_transactions.file_path, fct_transactions.line_number
        from marts.fct_transactions
        left join marts.dim_members on fct_transactions.payer_member_id = dim_members.member_id
        where fct_transactions.transaction_date >= {_date_literal(window_start)}
        order by fct_transactions.transaction_date desc, fct_transactions.txn_id
        """,
    )
    spreadsheet.data_sheet(TRANSACTIONS_SHEET, TRANSACTION_HEADERS, rows, "Transactions")


def _date_literal(day: dt.date | None) -> str:
    return f"date '{day or dt.date.min}'"


def _write_shared_ledger(
    spreadsheet: Spreadsheet, connection, members: Members, window_start: dt.date | None
) -> None:
    """Every entry of rpt_shared_ledger, oldest first, one row each: its shares, and each
    member's balance after it, counted on from fct_balances_daily's the day before the sheet
    starts."""
    names = dict(members)
    # Everything before the window counts only through the balances it leaves
    # (docs/rules.md#the-balance).
    balance_cents = dict.fromkeys(names, 0) | _balances_before(connection, window_start)
    rows = []
    if window_start is not None:
        rows.append(_carried_forward_row(window_start, names, balance_cents))
    ledger = _fetch_in_batches(
        connection,
        f"""
        select entry_id, entry_date, entry, txn_id, paid_by_member_id, paid_to_member_id,
            description, merchant, category, sharing, policy, cost,
            member_id, share_amount, movement_cents
        from marts.rpt_shared_ledger
        where entry_date >= {_date_literal(window_start)}
        order by entry_date, not is_opening_balance, entry_id
        """,
    )
    for _entry_id, entry_rows in itertools.groupby(ledger, key=lambda row: row[0]):
        entry_rows = list(entry_rows)
        _, date, entry, txn_id, paid_by, paid_to, *details, cost = entry_rows[0][:12]
        shares = {}
        for *_entry, member_id, share, cents in entry_rows:
            shares[member_id] = share
            balance_cents[member_id] += cents
        rows.append(
            (
                date,
                entry,
                txn_id,
                names.get(paid_by),
                names.get(paid_to),
                *details,
                cost,
                *(shares.get(member_id) for member_id in names),
                *(Decimal(balance_cents[member_id]).scaleb(-2) for member_id in names),
            )
        )
    headers = (
        *LEDGER_HEADERS,
        *(f"{name} share" for name in names.values()),
        *(f"{name} balance" for name in names.values()),
    )
    spreadsheet.data_sheet(LEDGER_SHEET, headers, rows, "SharedLedger")


def _balances_before(connection, window_start: dt.date | None) -> dict[str, int]:
    """Each member's balance in cents the day before window_start (none without a window)."""
    if window_start is None:
        return {}
    return dict(
        connection.execute(
            "select member_id, arg_max(net_cents, balance_date) from marts.fct_balances_daily "
            "where balance_date < ? group by member_id",
            [window_start],
        ).fetchall()
    )


def _carried_forward_row(window_start: dt.date, names: dict, balance_cents: dict) -> tuple:
    """One line standing for everything before the window: each member's balance then."""
    empty_details = (None,) * (len(LEDGER_HEADERS) - 2)
    return (
        window_start - dt.timedelta(days=1),
        "carried forward",
        *empty_details,
        *(None for _ in names),
        *(Decimal(balance_cents[member_id]).scaleb(-2) for member_id in names),
    )


def _write_monthly(spreadsheet: Spreadsheet, connection) -> None:
    rows = _fetch(
        connection,
        """
        select rpt_monthly.month_start, dim_members.display_name, rpt_monthly.category,
            rpt_monthly.shared_amount, rpt_monthly.paid_shared_amount,
            rpt_monthly.personal_amount, rpt_monthly.transaction_count
        from marts.rpt_monthly
        left join marts.dim_members on rpt_monthly.member_id = dim_members.member_id
        order by rpt_monthly.month_start desc, dim_members.member_order, rpt_monthly.category
        """,
    )
    spreadsheet.data_sheet(
        MONTHLY_SHEET, MONTHLY_HEADERS, rows, "Monthly", styles={"Month": spreadsheet.month}
    )


def _write_data_quality(spreadsheet: Spreadsheet, connection) -> None:
    """The rows of rpt_data_quality the sheet shows, most pressing first: rejected files, open
    duplicate questions, expenses whose sharing cannot be applied, review decisions that name
    no transaction; then, for the record, the duplicates set aside, accounts that look like
    one under two names, and files linked to an account by their mirrored rows."""
    rows = _fetch(
        connection,
        """
        select
            rpt_data_quality.sheet_check as check_name,
            rpt_data_quality.txn_id,
            rpt_data_quality.related_txn_id,
            rpt_data_quality.file_path,
            rpt_data_quality.finding_date as check_date,
            dim_members.display_name as payer,
            rpt_data_quality.description,
            rpt_data_quality.amount,
            rpt_data_quality.sheet_detail as detail,
            rpt_data_quality.bad_line_count
        from marts.rpt_data_quality
        left join marts.dim_members on rpt_data_quality.payer_member_id = dim_members.member_id
        where rpt_data_quality.sheet_order is not null
        order by
            rpt_data_quality.sheet_order,
            rpt_data_quality.finding_date desc,
            rpt_data_quality.txn_id,
            rpt_data_quality.file_path,
            rpt_data_quality.subject
        """,
    )
    spreadsheet.data_sheet(DATA_QUALITY_SHEET, DATA_QUALITY_HEADERS, rows, "DataQuality")


def _balance_history(connection, members: Members) -> list[tuple]:
    return _by_member(
        _fetch(
            connection, "select balance_date, member_id, net_amount from marts.fct_balances_daily"
        ),
        members,
    )


def _write_balance_history(
    spreadsheet: Spreadsheet, members: Members, history: list[tuple]
) -> None:
    """Each member's net at the end of every day: the data of the Summary's line chart."""
    headers = ("Date", *(name for _id, name in members))
    spreadsheet.data_sheet(BALANCE_HISTORY_SHEET, headers, history, "BalanceHistory")


# Above this many transactions the Transactions and Shared_Ledger sheets hold the last
# 13 months (Excel stops at 1,048,576 rows, and writing a million rows takes minutes); the
# ledger starts with a carried-forward line, and Parquet and the warehouse keep everything.
FULL_HISTORY_TRANSACTIONS = 50_000
RECENT_MONTHS = 13


def workbook_window_start(connection) -> dt.date | None:
    """The first day the big sheets show, or None when they show everything."""
    count, last_date = connection.execute(
        "select count(*), max(transaction_date) from marts.fct_transactions"
    ).fetchone()
    if count <= FULL_HISTORY_TRANSACTIONS or last_date is None:
        return None
    month = last_date.year * 12 + last_date.month - 1 - (RECENT_MONTHS - 1)
    return dt.date(month // 12, month % 12 + 1, 1)


def export_workbook(connection, target: Path, kept: KeptAnswers | None = None) -> Path:
    """Write the workbook; returns where it went, which is beside target when target is open.
    `kept`: answers that could not be used, shown again on their rows with the reason."""
    kept = kept or {}

    def write(path: Path) -> None:
        # constant_memory: each row goes to disk when the next is written, text inline; the
        # sheets below are therefore written top to bottom, one after the other.
        options = {"remove_timezone": True, "constant_memory": True}
        spreadsheet = Spreadsheet(xlsxwriter.Workbook(str(path), options))
        members = _members(connection)
        history = _balance_history(connection, members)
        window_start = workbook_window_start(connection)
        _write_summary(spreadsheet, connection, members, history)
        queue_rows = _write_queue(spreadsheet, connection, kept)
        _write_transactions(spreadsheet, connection, window_start)
        _write_shared_ledger(spreadsheet, connection, members, window_start)
        _write_monthly(spreadsheet, connection)
        _write_data_quality(spreadsheet, connection)
        _write_balance_history(spreadsheet, members, history)
        _write_export_record(spreadsheet, queue_rows, kept)
        spreadsheet.close()

    return _replace_unless_open(target, write)


def _is_open_elsewhere(target: Path) -> bool:
    return any(
        (target.parent / pattern.format(name=target.name)).exists() for pattern in OWNER_FILE_NAMES
    )


def _sibling_for_open_file(target: Path, now: dt.datetime) -> Path:
    """`balance_data (new 2026-10-02 193000).xlsx`, beside the open file."""
    return target.with_name(f"{target.stem} (new {now:%Y-%m-%d %H%M%S}){target.suffix}")


def _replace_unless_open(target: Path, write: Callable[[Path], None]) -> Path:
    """Replace target, unless a spreadsheet program has it open: then keep it intact (the
    user may be typing answers into it) and write a new file beside it. Writing takes a while,
    so both are checked again at the last moment: a program that opened the file, or a save
    made, while the new one was written also keeps it."""
    sibling = _sibling_for_open_file(target, dt.datetime.now())
    if _is_open_elsewhere(target):
        return replace_atomically(sibling, write)
    state_before = file_state(target)

    def divert() -> Path | None:
        if _is_open_elsewhere(target) or file_state(target) != state_before:
            return sibling
        return None

    try:
        return replace_atomically(target, write, divert)
    except PermissionError:
        pass  # Windows refuses to rename over a file another program holds open
    return replace_atomically(sibling, write)
