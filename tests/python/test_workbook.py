"""output/balance_data.xlsx read back: sheets, tables, dropdowns, figures, safety."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from xlsxwriter.utility import _datetime_to_excel_datetime

from core import files
from exports import sheet_rows, workbook
from exports.sheet_rows import excel_day_number
from exports.spreadsheet import Spreadsheet
from exports.workbook import export_workbook

from support import invoke, query

MONEY = "#,##0.00;[Red]-#,##0.00"
SHEETS_AND_TABLES = {
    "Summary": {"Balances": "A7:B9", "SettleUp": "A12:C13", "MonthlyShared": "A16:D22"},
    "Queue_Review": {"QueueReview": "A1:O6"},
    "Transactions": {"Transactions": "A1:P125"},
    "Shared_Ledger": {"SharedLedger": "A1:O56"},
    "Monthly": {"Monthly": "A1:G44"},
    "Data_Quality": {"DataQuality": "A1:J10"},
    "Balance_History": {"BalanceHistory": "A1:C182"},
    "_Export": {},
}
TABLE_HEADERS = {
    "Balances": ["Member", "Net balance (+ is owed)"],
    "SettleUp": ["From", "To", "Amount"],
    "MonthlyShared": ["Month", "Alex", "Sam", "Total"],
    "QueueReview": [
        "Shared?", "Payer share %", "Policy", "Note", "Question", "Date", "Payer", "Account",
        "Description", "Merchant", "Category", "Cost", "Suggestion", "txn_id",
        "Not imported because",
    ],
    "Transactions": [
        "txn_id", "Date", "Payer", "Account", "Description", "Merchant", "Category", "Amount",
        "Kind", "Sharing", "Policy", "Payer share %", "Decided by", "Duplicate of", "File", "Line",
    ],
    "SharedLedger": [
        "Date", "Entry", "txn_id", "Paid by", "Paid to", "Description", "Merchant", "Category",
        "Sharing", "Policy", "Cost", "Alex share", "Sam share", "Alex balance", "Sam balance",
    ],
    "Monthly": [
        "Month", "Member", "Category", "Share of shared", "Paid for shared", "Personal",
        "Expenses",
    ],
    "DataQuality": [
        "Check", "txn_id", "Related txn_id", "File", "Date", "Payer", "Description", "Amount",
        "Detail", "Bad lines",
    ],
    "BalanceHistory": ["Date", "Alex", "Sam"],
}  # fmt: skip
DATA_SHEETS = ("Queue_Review", "Transactions", "Shared_Ledger", "Monthly", "Data_Quality")
# Wider than a portrait page; the others print portrait.
LANDSCAPE_SHEETS = ("Summary", "Queue_Review", "Transactions", "Shared_Ledger", "Data_Quality")
HOSTILE_DESCRIPTIONS = {  # debit → description, in a Capital One download of Alex's
    "11.11": '=HYPERLINK("x")',
    "12.12": "+1",
    "13.13": "@SUM(A1)",
    "14.14": "-2",
}
ORPHAN_TXN_ID = "00000000feedbeef"


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def rows_of(sheet, first_row: int = 2) -> list[tuple]:
    return list(sheet.iter_rows(min_row=first_row, values_only=True))


def money(value: float) -> str:
    return f"{value:.2f}"


@pytest.fixture(scope="module")
def book(built_demo):
    return openpyxl.load_workbook(built_demo / "output/balance_data.xlsx")


def test_sheets_tables_and_headers(book):
    assert book.sheetnames == list(SHEETS_AND_TABLES)
    assert book["_Export"].sheet_state == "hidden"
    for name, tables in SHEETS_AND_TABLES.items():
        sheet = book[name]
        assert dict(sheet.tables.items()) == tables, name
        for table_name, cells in tables.items():
            table = sheet.tables[table_name]
            assert table.autoFilter.ref == cells  # filter buttons on every header
            header_row = sheet[cells.split(":")[0]].row
            headers = [cell.value for cell in sheet[header_row]][: len(TABLE_HEADERS[table_name])]
            assert headers == TABLE_HEADERS[table_name], table_name
    for name in (*DATA_SHEETS, "Balance_History"):
        sheet = book[name]
        # Queue_Review keeps its answer columns in view with the header row.
        assert sheet.freeze_panes == ("E2" if name == "Queue_Review" else "A2"), name
        widths = [sheet.column_dimensions[letter].width for letter in "ABC"]
        assert all(8 <= width <= 61 for width in widths), (name, widths)


def test_money_and_date_formats(book):
    transactions = book["Transactions"]
    assert (transactions["B2"].number_format, transactions["H2"].number_format) == (
        "yyyy-mm-dd",
        MONEY,
    )
    monthly = book["Monthly"]
    assert [cell.number_format for cell in monthly[2]] == [
        "yyyy-mm", "General", "General", MONEY, MONEY, MONEY, "General",
    ]  # fmt: skip
    assert rows_of(monthly)[0] == (day("2026-09-01"), "Alex", "Groceries", 154.72, 193.28, 0, 2)
    assert len(rows_of(monthly)) == 43
    assert book["Summary"]["A17"].number_format == "yyyy-mm"


def test_queue_review_is_newest_first_with_dropdowns(book):
    queue = book["Queue_Review"]
    rows = rows_of(queue)
    # Question, Date, Description and Cost (positive: spent)
    assert [(row[4], row[5], row[8], row[11]) for row in rows] == [
        ("shared?", day("2026-09-12"), "SQ *JOES PIZZA", 41.3),
        ("shared?", day("2026-08-21"), "TST* NOODLE BAR OAKLAND", 57.4),
        ("shared?", day("2026-08-12"), "SQ *JOES PIZZA", 39.85),
        ("shared?", day("2026-07-12"), "SQ *JOES PIZZA", 45.1),
        ("shared?", day("2026-05-12"), "SQ *JOES PIZZA", 42.75),
    ]
    # The suggestion in a few words (the Merchant column says where), the reason in a comment.
    assert rows[0][12] == "Y: 1 of 2 earlier were shared"
    assert queue["M2"].comment.text == "Y: 1 of 2 earlier at Joe's Pizza were shared"
    assert rows[1][12] is None and queue["M3"].comment is None
    assert all(row[:4] == (None,) * 4 and row[14] is None for row in rows)
    # The answer cells are filled; the cells the export writes are not.
    for row in range(2, 7):
        fills = [queue.cell(row, column).fill.fgColor.rgb for column in range(1, 16)]
        assert fills[:4] == ["FFFFF2CC"] * 4, row
        assert "FFFFF2CC" not in fills[4:], row
    validations = {
        str(v.sqref): (v.type, v.operator, v.formula1, v.formula2)
        for v in queue.data_validations.dataValidation
    }
    assert validations == {
        "A2:A6": ("list", None, '"Y,N,S,D"', None),
        "B2:B6": ("decimal", None, "0", "100"),  # no operator: between
        "C2:C6": ("list", None, '"default,rent"', None),
    }


@pytest.fixture
def suspect_in_queue(built_demo, tmp_path) -> duckdb.DuckDBPyConnection:
    """A copy of the demo warehouse in which the newest pizza of the queue is a suspected
    duplicate of the pizza a month before: what a tie of two candidates leaves
    (docs/rules.md#review-answers)."""
    copy = tmp_path / "balance.duckdb"
    shutil.copyfile(built_demo / "warehouse/balance.duckdb", copy)
    connection = duckdb.connect(str(copy))
    suspect, original = "c0c8a72b202d34d4", "0645081d3ff5e21e"  # 2026-09-12, 2026-08-12
    connection.execute(
        "update marts.rpt_review_queue set question = 'duplicate', "
        "suggestion = 'D: same account and amount, 31 day(s) apart; direct export wins "
        "(copy of ' || ? || ')' where txn_id = ?",
        [original, suspect],
    )
    connection.execute(
        "update marts.fct_transactions set duplicate_of_txn_id = ? where txn_id = ?",
        [original, suspect],
    )
    yield connection
    connection.close()


def test_queue_review_asks_whether_a_suspect_is_a_copy_of_its_original(suspect_in_queue, tmp_path):
    written = export_workbook(suspect_in_queue, tmp_path / "balance_data.xlsx")

    book = openpyxl.load_workbook(written)
    queue = book["Queue_Review"]
    header = [cell.value for cell in queue[1]]
    rows = [dict(zip(header, row, strict=True)) for row in rows_of(queue)]
    assert (rows[0]["txn_id"], rows[0]["Question"]) == (
        "c0c8a72b202d34d4",
        "duplicate of 2026-08-12 SQ *JOES PIZZA 39.85?",
    )
    assert rows[0]["Suggestion"] == "D: same amount, 31 day(s) apart"
    assert queue["M2"].comment.text.startswith("D: same account and amount, 31 day(s) apart;")
    assert [row["Question"] for row in rows[1:]] == ["shared?"] * 4
    # The export record keeps the question the import checks D answers against.
    record = list(book["_Export"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert record[0][:2] == ("c0c8a72b202d34d4", "duplicate")


def test_summary_states_the_balance_settle_up_and_charts(book):
    summary = book["Summary"]
    assert [summary[cell].value for cell in ("A1", "A2", "A3", "B3", "A4", "B4", "A5", "B5")] == [
        "Balance",
        "Sam owes Alex $6,822.21",
        "As of",
        day("2026-09-28"),
        "Expenses waiting for review",
        5,
        "Their total cost",
        226.4,
    ]
    assert rows_of(summary, 8)[:2] == [("Alex", 6822.21, None, None), ("Sam", -6822.21, None, None)]
    assert rows_of(summary, 13)[0] == ("Sam", "Alex", 6822.21, None)
    monthly = rows_of(summary, 17)
    assert monthly[0] == (day("2026-04-01"), 1208.56, 1505.32, 2713.88)
    assert monthly[-1] == (day("2026-09-01"), 1187.14, 1484.22, 2671.36)
    line, columns = summary._charts
    assert (line.tagname, columns.tagname, columns.grouping) == ("lineChart", "barChart", "stacked")
    # Two members' balances mirror each other: one line, what Sam owes Alex, says it all.
    assert [(s.tx.strRef.f, s.cat.numRef.f, s.val.numRef.f) for s in line.series] == [
        ("Balance_History!$B$1", "Balance_History!$A$2:$A$182", "Balance_History!$B$2:$B$182"),
    ]
    assert [(s.tx.strRef.f, s.val.numRef.f) for s in columns.series] == [
        ("Summary!$B$16", "Summary!$B$17:$B$22"),
        ("Summary!$C$16", "Summary!$C$17:$C$22"),
    ]


def test_every_sheet_prints_one_page_wide_with_its_header_row_on_every_page(book):
    for sheet in book.worksheets:
        setup = sheet.page_setup
        expected = "landscape" if sheet.title in LANDSCAPE_SHEETS else "portrait"
        assert setup.orientation == expected, sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        # One page wide (an absent fitToWidth is 1), as many pages down as the rows take.
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), sheet.title
        if sheet.title in (*DATA_SHEETS, "Balance_History"):
            assert sheet.print_title_rows == "$1:$1", sheet.title
        assert sheet.oddFooter.left.text == "&A"  # the sheet's name on each page


def test_summary_charts_stay_on_the_first_page_with_dates_along_the_bottom(book, built_demo):
    summary = book["Summary"]
    first_break = min((brk.id for brk in summary.row_breaks.brk), default=None)
    charts_end = 1 + 2 * workbook.CHART_ROWS
    assert first_break in (None, charts_end)  # a long monthly table goes on below them
    assert all(chart.anchor.to.row < charts_end for chart in summary._charts)
    with zipfile.ZipFile(built_demo / "output/balance_data.xlsx") as package:
        line_chart = package.read("xl/charts/chart1.xml").decode()
    date_axis = re.search(r"<c:dateAx>.*</c:dateAx>", line_chart).group()
    # The date axis crosses the value axis at its minimum, its labels low: not on zero.
    assert '<c:crosses val="min"/>' in date_axis
    assert '<c:tickLblPos val="low"/>' in date_axis
    assert "<c:legend>" not in line_chart  # one line, named by the title
    assert "What Sam owes Alex" in line_chart


def test_shared_ledger_runs_to_the_daily_balances(book, built_demo):
    ledger = rows_of(book["Shared_Ledger"])
    assert len(ledger) == 55
    settlement = next(row for row in ledger if row[1] == "settlement")
    assert settlement == (
        day("2026-07-02"), "settlement", "0b6b9c8f35f37208", "Sam", "Alex",
        "ZELLE TO ALEX RIVERA ON 07/02 REF # WFCT0XYZ123", None, None, None, None,
        600, None, None, 4352.46, -4352.46,
    )  # fmt: skip
    refund = next(row for row in ledger if row[1] == "refund")
    assert refund[5:13] == (
        "TARGET ****2345",
        "Target",
        "Household",
        "shared",
        "default",
        -26,
        -13,
        -13,
    )
    for row in ledger:
        if row[1] in ("expense", "refund"):
            assert money(row[11] + row[12]) == money(row[10]), row  # shares sum to the cost
    after_each_day = {row[0].date(): (money(row[13]), money(row[14])) for row in ledger}
    daily = dict(
        query(
            built_demo,
            "select balance_date, list(net_amount::varchar order by member_id) "
            "from marts.fct_balances_daily group by balance_date",
        )
    )
    assert after_each_day == {date: tuple(daily[date]) for date in after_each_day}


def test_summary_ledger_parquet_and_status_agree_to_the_cent(book, built_demo):
    summary = {name: money(net) for name, net, *_ in rows_of(book["Summary"], 8)[:2]}
    last_entry = rows_of(book["Shared_Ledger"])[-1]
    ledger = {"Alex": money(last_entry[13]), "Sam": money(last_entry[14])}
    balances = pq.read_table(built_demo / "output/powerbi/rpt_balance.parquet").to_pylist()
    parquet = {row["display_name"]: str(row["net_amount"]) for row in balances}
    daily = pq.read_table(built_demo / "output/powerbi/fct_balances_daily.parquet").to_pylist()
    last_day = max(row["balance_date"] for row in daily)
    parquet_daily = {
        row["member_id"]: str(row["net_amount"]) for row in daily if row["balance_date"] == last_day
    }
    status = json.loads(invoke("status", "--workspace", str(built_demo), "--json").output)

    expected = {"Alex": "6822.21", "Sam": "-6822.21"}
    assert summary == ledger == parquet == expected
    assert parquet_daily == status["balance"] == {"alex": "6822.21", "sam": "-6822.21"}


def test_data_quality_lists_rejected_files_and_duplicates(book):
    rows = rows_of(book["Data_Quality"])
    rejected = rows[0]
    assert rejected[:4] == (
        "rejected file",
        None,
        None,
        "csv_inbox/sam/sparkasse_umsaetze_2026.csv",
    )
    assert isinstance(rejected[4], dt.datetime)  # the day of the latest attempt
    assert rejected[5:] == (
        None,
        None,
        None,
        "no schema matches; none shares a header with line 1 "
        "(Buchungstag, Valuta, Verwendungszweck, Betrag, Waehrung)",
        0,
    )
    assert [row[0] for row in rows[1:]] == ["duplicate"] * 8
    assert rows[1] == (
        "duplicate", "09eb5118751a1a30", "0b3371c07c066961",
        "csv_inbox/sam/monarch_transactions_2026-10-01.csv", day("2026-09-26"), "Alex",
        "CAPITAL ONE MOBILE PYMT", 234.58,
        "same account and amount, 1 day(s) apart; aggregator row yields to capital_one_card",
        None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def hostile(built_demo, tmp_path_factory) -> Path:
    """The demo plus descriptions that Excel would run, a file with a bad line, and a review
    decision that names no transaction; after one `balance run`."""
    workspace = Path(shutil.copytree(built_demo, tmp_path_factory.mktemp("hostile") / "demo"))
    with (workspace / "csv_inbox/alex/capital_one_savor_2026-09_extra.csv").open("w") as file:
        file.write("Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n")
        capital_one = csv.writer(file, lineterminator="\n")
        for debit, text in HOSTILE_DESCRIPTIONS.items():
            capital_one.writerow(["2026-09-27", "2026-09-28", "2463", text, "Dining", debit, ""])
    (workspace / "csv_inbox/sam/discover_it_2026-10.csv").write_text(
        "Name,Institution,Card Type,Statement Period,Date,Post Date,Description,"
        "Reference Number,Amount,Category\n"
        'Sam Chen,Discover,Discover It Card x1544,"October 1, 2026 through October 28, 2026",'
        "10/2/2026,10/3/2026,CORNER STORE,4100999,not-a-number,Supermarkets\n"
    )
    with (workspace / "decisions/review_decisions.csv").open("a") as journal:
        journal.write(f"{ORPHAN_TXN_ID},shared,,,typed by hand,2026-10-03T08:00:00Z\n")
    result = invoke("run", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return workspace


def test_text_excel_would_run_is_written_as_quoted_text(hostile):
    book = openpyxl.load_workbook(hostile / "output/balance_data.xlsx")
    queue = book["Queue_Review"]
    cells = {queue.cell(row, 12).value: queue.cell(row, 9) for row in range(2, queue.max_row + 1)}
    transactions = book["Transactions"]
    in_transactions = {
        transactions.cell(row, 5).value: transactions.cell(row, 5)
        for row in range(2, transactions.max_row + 1)
    }
    for debit, text in HOSTILE_DESCRIPTIONS.items():
        for cell in (cells[float(debit)], in_transactions[text]):
            assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)
    newest_first = {queue.cell(row, 9).value for row in range(2, 6)}
    assert newest_first == set(HOSTILE_DESCRIPTIONS.values())
    assert queue["F2"].quotePrefix is False
    assert query(hostile, "select pending_review_count from marts.rpt_balance limit 1") == [(9,)]


def test_every_trigger_character_is_quoted(tmp_path):
    triggers = ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "plain", "1-2"]
    path = tmp_path / "quoted.xlsx"
    spreadsheet = Spreadsheet(xlsxwriter.Workbook(str(path)))
    sheet = spreadsheet.book.add_worksheet("Cells")
    for row, text in enumerate(triggers):
        spreadsheet.cell(sheet, row, 0, text)
    spreadsheet.close()

    cells = openpyxl.load_workbook(path)["Cells"]["A"]
    assert [(c.value, c.data_type, c.quotePrefix) for c in cells] == [
        # xlsx stores a CR as the escape _x000D_, which Excel shows as CR and openpyxl leaves
        (text.replace("\r", "_x000D_"), "s", text[0] in "=+-@\t\r")
        for text in triggers
    ]


def test_data_quality_names_bad_lines_and_orphan_decisions(hostile):
    rows = rows_of(openpyxl.load_workbook(hostile / "output/balance_data.xlsx")["Data_Quality"])
    checks = [(row[0], row[1], row[3], row[6], row[8], row[9]) for row in rows[:3]]
    assert checks == [
        (
            "rejected file",
            None,
            "csv_inbox/sam/discover_it_2026-10.csv",
            None,
            "1 bad line (schema discover_card_statement)",
            1,
        ),
        (
            "rejected file",
            None,
            "csv_inbox/sam/sparkasse_umsaetze_2026.csv",
            None,
            "no schema matches; none shares a header with line 1 "
            "(Buchungstag, Valuta, Verwendungszweck, Betrag, Waehrung)",
            0,
        ),
        (
            "orphan review decision",
            ORPHAN_TXN_ID,
            None,
            "typed by hand",
            "the shared decision names no transaction; it stays in the journal",
            None,
        ),
    ]
    assert rows[2][4] == day("2026-10-03")
    assert [row[0] for row in rows[3:]] == ["duplicate"] * 8


def test_an_open_workbook_is_kept_and_the_new_one_written_beside_it(demo_copy):
    workbook = demo_copy / "output/balance_data.xlsx"
    before = workbook.read_bytes()
    (demo_copy / "output/~$balance_data.xlsx").write_bytes(b"owner")

    result = invoke("export", "--workspace", str(demo_copy))

    assert result.exit_code == 0, result.output
    written = re.search(r"output/balance_data \(new \d{4}-\d\d-\d\d \d{6}\)\.xlsx", result.output)
    assert written, result.output
    assert workbook.read_bytes() == before
    new_book = openpyxl.load_workbook(demo_copy / written.group())
    assert new_book["Summary"]["A2"].value == "Sam owes Alex $6,822.21"
    assert oct((demo_copy / written.group()).stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("lock", [".~lock.balance_data.xlsx#", "refused rename"])
def test_a_locked_workbook_is_kept(built_demo, tmp_path, monkeypatch, lock):
    target = tmp_path / "balance_data.xlsx"
    target.write_bytes(b"the user's open workbook")
    if lock == "refused rename":
        real_replace = os.replace

        def replace(source, destination):
            if Path(destination) == target:
                raise PermissionError(13, "The process cannot access the file", str(target))
            real_replace(source, destination)

        monkeypatch.setattr(os, "replace", replace)
    else:
        (tmp_path / lock).write_bytes(b"")
    warehouse = built_demo / "warehouse/balance.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        written = export_workbook(connection, target)

    assert target.read_bytes() == b"the user's open workbook"
    assert re.fullmatch(r"balance_data \(new \d{4}-\d\d-\d\d \d{6}\)\.xlsx", written.name)
    assert written.parent == tmp_path
    assert openpyxl.load_workbook(written).sheetnames[0] == "Summary"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


@pytest.mark.parametrize("change", ["opened in Excel", "saved with answers"])
def test_a_workbook_opened_or_saved_while_the_new_one_is_written_is_kept(
    built_demo, tmp_path, monkeypatch, change
):
    """The moment between writing the new workbook and renaming it over the old one."""
    target = tmp_path / "balance_data.xlsx"
    target.write_bytes(b"the user's workbook")

    def meanwhile(path: Path) -> None:
        if path != target:
            return
        if change == "opened in Excel":
            (tmp_path / "~$balance_data.xlsx").write_bytes(b"owner")
        else:
            target.write_bytes(b"the user's workbook, with answers typed and saved")

    monkeypatch.setattr(files, "before_final_rename", [meanwhile])
    with duckdb.connect(str(built_demo / "warehouse/balance.duckdb"), read_only=True) as connection:
        written = export_workbook(connection, target)

    assert target.read_bytes().startswith(b"the user's workbook")
    assert re.fullmatch(r"balance_data \(new \d{4}-\d\d-\d\d \d{6}\)\.xlsx", written.name)
    assert openpyxl.load_workbook(written).sheetnames[0] == "Summary"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


@pytest.fixture
def emptied_warehouse(built_demo, tmp_path) -> duckdb.DuckDBPyConnection:
    """A copy of the demo warehouse with no rows in any exported table: nobody, nothing."""
    copy = tmp_path / "balance.duckdb"
    shutil.copyfile(built_demo / "warehouse/balance.duckdb", copy)
    connection = duckdb.connect(str(copy))
    tables = connection.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_schema in ('marts', 'intermediate', 'raw')"
    ).fetchall()
    for (table,) in tables:
        connection.execute(f"delete from {table}")
    yield connection
    connection.close()


def test_an_empty_warehouse_gives_empty_tables(emptied_warehouse, tmp_path):
    written = export_workbook(emptied_warehouse, tmp_path / "out/balance_data.xlsx")

    book = openpyxl.load_workbook(written)
    assert book["Summary"]["A2"].value == "No members."
    assert dict(book["Queue_Review"].tables.items()) == {"QueueReview": "A1:O2"}
    assert dict(book["Shared_Ledger"].tables.items()) == {"SharedLedger": "A1:K2"}
    assert dict(book["Data_Quality"].tables.items()) == {"DataQuality": "A1:J2"}
    assert rows_of(book["Data_Quality"]) == []  # the table's one row is blank
    assert book["Summary"]._charts == []


def soffice_converts(workbooks: list[Path], folder: Path) -> list[Path]:
    """LibreOffice opens each workbook and prints it to PDF; it exits 0 even when it cannot
    load a file, so its output is checked too."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail(
            "LibreOffice is not installed (no `soffice`): scripts/test.sh installs it, or run "
            "`apt-get install -y libreoffice-calc-nogui`"
        )
    result = subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            *map(str, workbooks),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stdout + result.stderr, result.stdout + result.stderr
    return [folder / f"{workbook.stem}.pdf" for workbook in workbooks]


def poppler(tool: str, *arguments: str) -> str:
    """The output of a poppler-utils tool (pdfinfo, pdftotext)."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"`{tool}` is missing: run `apt-get install -y poppler-utils`")
    return subprocess.run(
        [path, *arguments], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def printed_pages(pdf: Path) -> list[tuple[str, bool, str]]:
    """Each page of a workbook printed to PDF: its sheet (named in the page's footer),
    whether it is landscape, and its text."""
    count = int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", str(pdf)), re.M).group(1))
    sizes = re.findall(
        r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)",
        poppler("pdfinfo", "-f", "1", "-l", str(count), str(pdf)),
        re.M,
    )
    pages = []
    for number, (width, height) in enumerate(sizes, start=1):
        text = poppler("pdftotext", "-layout", "-f", str(number), "-l", str(number), str(pdf), "-")
        footer = [line for line in text.splitlines() if f"page {number} of {count}" in line]
        pages.append((footer[0].split()[0], float(width) > float(height), text))
    return pages


@pytest.mark.system
def test_libreoffice_opens_and_prints_the_workbooks(built_demo, emptied_warehouse, tmp_path):
    empty = export_workbook(emptied_warehouse, tmp_path / "empty/balance_data_empty.xlsx")
    pdfs = soffice_converts([built_demo / "output/balance_data.xlsx", empty], tmp_path / "pdf")
    for pdf in pdfs:
        assert pdf.read_bytes().startswith(b"%PDF"), pdf

    pages = printed_pages(pdfs[0])
    sheets = [sheet for sheet, _landscape, _text in pages]
    # Every visible sheet, in order, one page wide: a handful of pages, not dozens.
    assert list(dict.fromkeys(sheets)) == [name for name in SHEETS_AND_TABLES if name != "_Export"]
    assert len(pages) <= 16, sheets
    assert sheets.count("Summary") == sheets.count("Queue_Review") == 1, sheets
    assert sheets.count("Transactions") >= 2, sheets  # so that its header shows repeated
    for sheet, landscape, text in pages:
        assert landscape == (sheet in LANDSCAPE_SHEETS), sheet
        header_words = {
            "Summary": ["Sam owes Alex $6,822.21", "What Sam owes Alex", "Monthly shared spending"],
            "Queue_Review": ["Shared?", "Policy", "Question", "Suggestion", "txn_id"],
            "Transactions": ["txn_id", "Description", "Amount", "File", "Line"],
        }.get(sheet, [])
        assert all(word in text for word in header_words), (sheet, text[:400])


def test_a_very_large_warehouse_shows_recent_months_and_a_carried_forward_line(
    built_demo, tmp_path, monkeypatch
):
    """The thresholds lowered so the demo counts as very large: two months shown."""
    monkeypatch.setattr(workbook, "FULL_HISTORY_TRANSACTIONS", 100)
    monkeypatch.setattr(workbook, "RECENT_MONTHS", 2)
    connection = duckdb.connect(str(built_demo / "warehouse/balance.duckdb"), read_only=True)
    try:
        target = workbook.export_workbook(connection, tmp_path / "balance_data.xlsx")
        july_end = dict(connection.execute(
            "select member_id, net_amount from marts.fct_balances_daily "
            "where balance_date = '2026-07-31'").fetchall())  # fmt: skip
    finally:
        connection.close()
    book = openpyxl.load_workbook(target)
    dates = [row[1] for row in book["Transactions"].iter_rows(min_row=2, values_only=True)]
    assert min(dates).date().isoformat() == "2026-08-01"
    recent = "select count(*) from marts.fct_transactions where transaction_date >= '2026-08-01'"
    assert len(dates) == query(built_demo, recent)[0][0]
    ledger = list(book["Shared_Ledger"].iter_rows(values_only=True))
    header, first = ledger[0], ledger[1]
    assert first[:2] == (dt.datetime(2026, 7, 31), "carried forward")
    balances = dict(zip(header[-2:], first[-2:], strict=True))
    assert balances == {"Alex balance": float(july_end["alex"]),
                        "Sam balance": float(july_end["sam"])}  # fmt: skip
    assert ledger[-1][-2:] == (6822.21, -6822.21)


TRICKY_TEXT = [
    "plain", " leading space", "trailing space ", "tab\tinside", "\tleading tab", "line\nbreak",
    "ends with newline\n", "carriage\rreturn", "\x01control", "_x0041_ looks like an escape",
    "a & b < c > d", 'double "quotes"', "non\ufffecharacter", "=1+1", "+1", "-1", "@A1",
    "ünïcödé and 🎉", "", "plain", "=1+1",
    "x" * 32_766 + "🎉 more than a cell holds", "=" + "y" * 40_000,
]  # fmt: skip


def written_sheets(path: Path, stream_rows: bool, monkeypatch) -> dict[str, bytes]:
    """A constant_memory workbook with a table below other cells and a data sheet, written
    with the row XML of exports/sheet_rows.py or, with stream_rows False, cell by cell by
    xlsxwriter; returns its sheets' XML."""
    if not stream_rows:
        monkeypatch.setattr(sheet_rows, "can_render", lambda kind, values: False)
    spreadsheet = Spreadsheet(xlsxwriter.Workbook(str(path), {"constant_memory": True}))
    rows = [
        (text, Decimal(index) / 7, index - 9,
         None if index == 5 else dt.date(2026, 1, 1) + dt.timedelta(days=index),
         None if index % 3 else f"note {index}", 10 ** (index % 20) / 3)
        for index, text in enumerate(TRICKY_TEXT)
    ]  # fmt: skip
    headers = ("Text", "Money", "Count", "Day", "Note", "Ratio")
    summary = spreadsheet.book.add_worksheet("Summary")
    spreadsheet.facts(summary, 0, [("As of", dt.date(2026, 10, 1)), ("Rows", len(rows))])
    after = spreadsheet.table(summary, 3, headers, rows, "Tricky", {"Day": spreadsheet.month})
    summary.write_string(after + 1, 0, "Below the table", spreadsheet.bold)
    spreadsheet.data_sheet("Data", headers, rows, "TrickyData")
    spreadsheet.data_sheet("Empty", ("Nothing",), [], "Empty")
    spreadsheet.close()
    with zipfile.ZipFile(path) as package:
        return {
            name: package.read(name)
            for name in package.namelist()
            if name.startswith(("xl/worksheets/", "xl/tables/", "xl/styles"))
        }


def test_streamed_rows_are_the_xml_xlsxwriter_writes(tmp_path, monkeypatch):
    streamed = written_sheets(tmp_path / "streamed.xlsx", True, monkeypatch)
    by_cell = written_sheets(tmp_path / "by_cell.xlsx", False, monkeypatch)

    assert streamed.keys() == by_cell.keys()
    for name, xml in by_cell.items():
        assert streamed[name] == xml, name
    book = openpyxl.load_workbook(tmp_path / "streamed.xlsx")
    data = [row[0].value for row in book["Data"].iter_rows(min_row=2)]
    # Excel reads _xHHHH_ as the character it stands for; openpyxl leaves it as it is.
    escaped = {
        "carriage\rreturn": "carriage_x000D_return",
        "\x01control": "_x0001_control",
        "_x0041_ looks like an escape": "_x005F_x0041_ looks like an escape",
        "non\ufffecharacter": "non_xFFFE_character",
    }
    # A cell holds 32,767 UTF-16 units; the emoji would take two where one is left.
    escaped |= {TRICKY_TEXT[-2]: "x" * 32_766, TRICKY_TEXT[-1]: TRICKY_TEXT[-1][:32_767]}
    assert data == [escaped.get(text, text) for text in TRICKY_TEXT]
    assert book["Summary"][f"A{6 + len(TRICKY_TEXT)}"].value == "Below the table"


def test_text_shaped_like_xlsxwriter_markup_stays_text(tmp_path):
    spreadsheet = Spreadsheet(
        xlsxwriter.Workbook(str(tmp_path / "markup.xlsx"), {"constant_memory": True})
    )
    # xlsxwriter copies text like this into a constant_memory sheet as XML: here, a formula
    markup = '<r><t>x</t></r></is></c><c r="B2"><f>1+1</f></c><c r="C2"><is><r><t>y</t></r>'
    long_markup = markup.replace("x", "x" * 20_000)  # beyond half a cell's 32,767 units
    header = "<r><t>Description</t></r>"  # a household's display name can be a header
    spreadsheet.data_sheet("Data", (header,), [(markup,), (long_markup,)], "Data")
    spreadsheet.close()

    cells = list(openpyxl.load_workbook(tmp_path / "markup.xlsx")["Data"].iter_rows())
    assert [[(cell.value, cell.data_type) for cell in row] for row in cells] == [
        [(header, "s")],
        [(markup, "s")],
        [(long_markup, "s")],
    ]


def test_markup_shaped_text_that_cannot_be_escaped_is_refused(tmp_path):
    spreadsheet = Spreadsheet(
        xlsxwriter.Workbook(str(tmp_path / "mixed.xlsx"), {"constant_memory": True})
    )
    rows = [("<r><t>x</t></r>",), (1,)]  # a column of mixed types is written cell by cell
    with pytest.raises(ValueError, match="Data: text shaped like xlsxwriter markup"):
        spreadsheet.data_sheet("Data", ("Mixed",), rows, "Data")


@pytest.mark.parametrize(
    "day", ["1899-12-31", "1900-01-01", "1900-02-28", "1900-03-01", "1970-01-01", "2026-09-28"]
)
def test_excel_day_numbers_are_xlsxwriters(day):
    date = dt.date.fromisoformat(day)
    expected = _datetime_to_excel_datetime(date, date_1904=False, remove_timezone=True)
    assert excel_day_number(date) == expected
