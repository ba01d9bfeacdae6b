"""Reading exports as a person would (docs/schemas.md): encodings, line endings, delimiters,
title and total lines, records spanning lines, files without header, new schemas, dates.

Each file is written byte for byte here, so what is being sniffed is visible in the test.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from support import file_counts, ingest, make_workspace, put_in_inbox, query

CAPITAL_ONE_HEADER = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
# A workspace schema that leaves the date format to be inferred from the whole column.
BUDGET_APP_SCHEMA = """\
id: budget_app_export
description: Budget app export; Date, Payee, Amount; its date format is inferred.
match:
  headers: [Date, Payee, Amount]
columns:
  date: Date
  description: Payee
  amount: Amount
static:
  institution: Budget app
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "workspace")


def loaded(workspace: Path) -> list[tuple]:
    return query(
        workspace,
        "select line_number, transaction_date::varchar, amount_cents, description "
        "from raw.transactions order by line_number",
    )


def encoding_and_delimiter(workspace: Path) -> list[tuple]:
    return query(workspace, "select encoding, delimiter from raw.files")


def write_workspace_schema(workspace: Path, file_name: str, text: str) -> None:
    (workspace / "rules").mkdir(exist_ok=True)
    (workspace / "rules" / file_name).write_text(text)


# --- encodings -----------------------------------------------------------------------------------

CAFE_EXPORT = (
    CAPITAL_ONE_HEADER + "2026-03-02,2026-03-03,2463,Café de Flore,Dining,18.40,\n"
    "2026-03-05,2026-03-06,2463,Prix fixe 25€ refund,Dining,,25.00\n"
)
CAFE_ROWS = [
    (2, "2026-03-02", -1840, "Café de Flore"),
    (3, "2026-03-05", 2500, "Prix fixe 25€ refund"),
]


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (codecs.BOM_UTF8 + CAFE_EXPORT.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + CAFE_EXPORT.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + CAFE_EXPORT.encode("utf-16-be"), "utf-16"),
        (CAFE_EXPORT.encode("cp1252"), "cp1252"),
    ],
    ids=["utf-8 with BOM glued to the header", "utf-16 LE", "utf-16 BE", "cp1252"],
)
def test_an_encoding_is_detected_and_decoded(workspace, encoded, encoding):
    put_in_inbox(workspace, "alex", "savor.csv", encoded)
    ingest(workspace)
    assert loaded(workspace) == CAFE_ROWS
    assert encoding_and_delimiter(workspace) == [(encoding, ",")]


# --- line endings and records over several lines -------------------------------------------------


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r"], ids=["CRLF", "LF", "CR"])
def test_line_endings_read_alike_even_inside_a_quoted_field(workspace, ending):
    export = (
        CAPITAL_ONE_HEADER + '2026-03-02,2026-03-03,2463,"BLUE BOTTLE COFFEE\nOAKLAND CA",'
        "Dining,6.75,\n"
        "2026-03-05,2026-03-06,2463,SAFEWAY #1711,Groceries,61.20,\n"
    ).replace("\n", ending)
    put_in_inbox(workspace, "alex", "savor.csv", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-03-02", -675, f"BLUE BOTTLE COFFEE{ending}OAKLAND CA"),
        (4, "2026-03-05", -6120, "SAFEWAY #1711"),
    ]


def test_a_record_spanning_lines_is_numbered_by_its_first_line(workspace):
    export = (
        CAPITAL_ONE_HEADER + '2026-03-02,2026-03-03,2463,"BLUE BOTTLE COFFEE\n'
        'OAKLAND CA",Dining,6.75,\n'
        '2026-03-04,2026-03-05,2463,"PEET\'S\nCOFFEE\nBERKELEY CA",Dining,4.20,\n'
        "2026-03-05,2026-03-06,2463,SAFEWAY #1711,Groceries,61.20,\n"
    )
    put_in_inbox(workspace, "alex", "savor.csv", export.encode())
    ingest(workspace)
    assert query(
        workspace, "select line_number, raw_line from raw.transactions order by line_number"
    ) == [
        (2, '2026-03-02,2026-03-03,2463,"BLUE BOTTLE COFFEE\nOAKLAND CA",Dining,6.75,'),
        (4, '2026-03-04,2026-03-05,2463,"PEET\'S\nCOFFEE\nBERKELEY CA",Dining,4.20,'),
        (7, "2026-03-05,2026-03-06,2463,SAFEWAY #1711,Groceries,61.20,"),
    ]


def test_only_cr_and_lf_end_a_line(workspace):
    # A form feed or a Unicode line separator inside a cell is text, not a new record.
    export = (
        CAPITAL_ONE_HEADER + "2026-03-02,2026-03-03,2463,BLUE BOTTLE\u2028COFFEE,Dining,6.75,\n"
        "2026-03-04,2026-03-05,2463,PEETS\x0cCOFFEE,Dining,4.20,\n"
        "2026-03-05,2026-03-06,2463,SAFEWAY #1711,Groceries,61.20,\n"
    )
    put_in_inbox(workspace, "alex", "savor.csv", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-03-02", -675, "BLUE BOTTLE\u2028COFFEE"),
        (3, "2026-03-04", -420, "PEETS\x0cCOFFEE"),
        (4, "2026-03-05", -6120, "SAFEWAY #1711"),
    ]


# --- delimiters ----------------------------------------------------------------------------------


def test_a_tab_separated_export_is_read_with_commas_inside_cells(workspace):
    export = (
        "Transaction Date\tPosted Date\tCard No.\tDescription\tCategory\tDebit\tCredit\n"
        "2026-03-05\t2026-03-06\t2463\tBEST BUY, INC.\tMerchandise\t1,204.18\t\n"
        "2026-03-09\t2026-03-10\t2463\tBEST BUY, INC.\tMerchandise\t\t12.40\n"
    )
    put_in_inbox(workspace, "alex", "savor.tsv", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-03-05", -120418, "BEST BUY, INC."),
        (3, "2026-03-09", 1240, "BEST BUY, INC."),
    ]
    assert encoding_and_delimiter(workspace) == [("utf-8", "\t")]


def test_a_semicolon_export_with_decimal_commas_reads_with_its_workspace_schema(workspace):
    write_workspace_schema(
        workspace,
        "sparkasse_giro.yaml",
        """\
id: sparkasse_giro
description: Sparkasse current account (CSV-CAMT); semicolons, decimal commas, day first.
match:
  headers: [Buchungstag, Valutadatum, Verwendungszweck, Betrag, Waehrung]
columns:
  date: Buchungstag
  posted_date: Valutadatum
  description: Verwendungszweck
  amount: Betrag
values:
  date_format: '%d.%m.%Y'
  decimal: ','
static:
  institution: Sparkasse
""",
    )
    export = (
        "Buchungstag;Valutadatum;Buchungstext;Verwendungszweck;Betrag;Waehrung\n"
        "03.08.2026;03.08.2026;KARTENZAHLUNG;REWE SAGT DANKE;-23,45;EUR\n"
        "05.08.2026;05.08.2026;GUTSCHRIFT;GEHALT AUGUST;2.480,00;EUR\n"
        "12.08.2026;13.08.2026;GUTSCHRIFT;RUECKERSTATTUNG MEDIAMARKT;19,99;EUR\n"
    )
    put_in_inbox(workspace, "sam", "umsaetze.csv", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-08-03", -2345, "REWE SAGT DANKE"),
        (3, "2026-08-05", 248000, "GEHALT AUGUST"),
        (4, "2026-08-12", 1999, "RUECKERSTATTUNG MEDIAMARKT"),
    ]
    assert encoding_and_delimiter(workspace) == [("utf-8", ";")]
    assert file_counts(workspace) == [("sparkasse_giro", 3, 3, 0, "{}")]


# --- preamble, totals, no header -----------------------------------------------------------------


def test_title_lines_before_the_header_and_a_total_after_the_data_are_left_out(workspace):
    write_workspace_schema(
        workspace,
        "corner_credit_union.yaml",
        """\
id: corner_credit_union
description: Corner Credit Union activity; title lines first and a Total line at the end.
match:
  headers: [Date, Payee, Amount, Memo]
file:
  skip_lines: ['^Total,']
columns:
  date: Date
  description: Payee
  amount: Amount
  note: Memo
values:
  date_format: '%m/%d/%Y'
static:
  institution: Corner Credit Union
""",
    )
    export = (
        "Corner Credit Union\n"
        "Account activity for ****4410, 03/01/2026 - 03/31/2026\n"
        "\n"
        "Date,Payee,Amount,Memo\n"
        "03/02/2026,BLUE BOTTLE COFFEE,-4.50,\n"
        '03/06/2026,GLOBEX PAYROLL,"2,850.00",direct deposit\n'
        "03/09/2026,SAFEWAY,-61.20,\n"
        'Total,,"2,784.30",\n'
    )
    put_in_inbox(workspace, "alex", "corner.csv", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (5, "2026-03-02", -450, "BLUE BOTTLE COFFEE"),
        (6, "2026-03-06", 285000, "GLOBEX PAYROLL"),
        (7, "2026-03-09", -6120, "SAFEWAY"),
    ]
    assert file_counts(workspace) == [("corner_credit_union", 4, 3, 1, '{"skip_lines": 1}')]


def test_a_file_without_header_is_read_by_position_with_its_delimiter_sniffed(workspace):
    write_workspace_schema(
        workspace,
        "pocket_ledger_app.yaml",
        """\
id: pocket_ledger_app
description: Pocket Ledger phone app export; no header row; date, signed amount, payee.
match:
  filename: '^pocket_ledger_.*[.]txt$'
file:
  header: false
columns:
  date: column_1
  amount: column_2
  description: column_3
values:
  date_format: '%Y-%m-%d'
static:
  institution: Pocket Ledger
""",
    )
    # Commas inside the payees make the tab the only delimiter giving regular columns.
    export = (
        "2026-03-02\t-4.50\tBLUE BOTTLE, OAKLAND\n"
        "2026-03-04\t-12.00\tCINEMA\n"
        "2026-03-07\t12.00\tREFUND, CINEMA\n"
    )
    put_in_inbox(workspace, "sam", "pocket_ledger_march.txt", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (1, "2026-03-02", -450, "BLUE BOTTLE, OAKLAND"),
        (2, "2026-03-04", -1200, "CINEMA"),
        (3, "2026-03-07", 1200, "REFUND, CINEMA"),
    ]
    assert encoding_and_delimiter(workspace) == [("utf-8", "\t")]
    assert file_counts(workspace) == [("pocket_ledger_app", 3, 3, 0, "{}")]


def test_a_file_without_header_may_have_more_fields_than_it_maps(workspace):
    """The width of a headerless file is its own: fields after the last mapped one are read
    past, whatever they hold."""
    write_workspace_schema(
        workspace,
        "kassen_export.yaml",
        """\
id: kassen_export
description: A savings bank's headerless export; date, text, amount, then fields not read.
match:
  filename: '^kassen_.*[.]csv$'
file:
  header: false
  delimiter: ';'
columns:
  date: column_1
  description: column_2
  amount: column_3
values:
  date_format: '%d.%m.%Y'
  decimal: ','
  thousands: '.'
""",
    )
    export = (
        "02.03.2026;BAECKEREI KORN;-4,50;EUR;DE02100100100006820101\n"
        "04.03.2026;GEHALT GLOBEX;2.850,00;EUR;DE02100100100006820101;Lohn Maerz\n"
        "13.03.2026;STADTWERKE;-61,20;EUR\n"
    )
    put_in_inbox(workspace, "alex", "kassen_2026_03.csv", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (1, "2026-03-02", -450, "BAECKEREI KORN"),
        (2, "2026-03-04", 285000, "GEHALT GLOBEX"),
        (3, "2026-03-13", -6120, "STADTWERKE"),
    ]
    assert file_counts(workspace) == [("kassen_export", 3, 3, 0, "{}")]


def test_an_empty_name_at_the_end_of_the_header_is_no_column(workspace):
    """`…,Credit Amount,Balance,`: the rows have one field fewer than the header names."""
    write_workspace_schema(
        workspace,
        "harbor_bank.yaml",
        """\
id: harbor_bank
description: Harbor Bank download; its header ends with a comma, its rows do not.
match:
  headers: [Posting Date, Description, Debit Amount, Credit Amount, Balance]
columns:
  date: Posting Date
  description: Description
  debit: Debit Amount
  credit: Credit Amount
  balance: Balance
values:
  date_format: '%m/%d/%Y'
""",
    )
    export = (
        "Posting Date,Description,Debit Amount,Credit Amount,Balance,\n"
        "03/02/2026,BLUE BOTTLE,4.50,,995.50\n"
        "03/06/2026,GLOBEX PAYROLL,,2850.00,3845.50\n"
    )
    put_in_inbox(workspace, "sam", "harbor_march.csv", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-03-02", -450, "BLUE BOTTLE"),
        (3, "2026-03-06", 285000, "GLOBEX PAYROLL"),
    ]
    assert file_counts(workspace) == [("harbor_bank", 2, 2, 0, "{}")]


def test_column_n_names_a_column_whose_header_cell_is_empty(workspace):
    """A `CR`/`DR` marker in a fourth column the header leaves unnamed."""
    write_workspace_schema(
        workspace,
        "marker_bank.yaml",
        """\
id: marker_bank
description: Marker Bank download; unsigned amounts, a nameless DR/CR column after them.
match:
  headers: [Date, Description, Amount]
columns:
  date: Date
  description: Description
  amount: Amount
  direction: column_4
amount:
  direction: {out: [DR], in: [CR]}
values:
  date_format: '%d/%m/%Y'
""",
    )
    export = (
        "Date,Description,Amount,\n"
        "02/03/2026,BLUE BOTTLE,4.50,DR\n"
        "06/03/2026,GLOBEX PAYROLL,2850.00,CR\n"
        "13/03/2026,CINEMA,12.00,DR\n"
    )
    put_in_inbox(workspace, "sam", "marker_march.csv", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-03-02", -450, "BLUE BOTTLE"),
        (3, "2026-03-06", 285000, "GLOBEX PAYROLL"),
        (4, "2026-03-13", -1200, "CINEMA"),
    ]
    assert file_counts(workspace) == [("marker_bank", 3, 3, 0, "{}")]


SPILLING_BANK_SCHEMA = """\
id: spilling_bank
description: Spilling Bank download; the booking text, last, holds unquoted semicolons.
match:
  headers: [Buchungstag, Betrag, Buchungstext]
file:
  extra_fields: {mode}
columns:
  date: Buchungstag
  amount: Betrag
  description: Buchungstext
values:
  date_format: '%d.%m.%Y'
  decimal: ','
"""
# The second row's booking text spilled over two more fields; the third ends with an empty one.
SPILLING_EXPORT = (
    "Buchungstag;Betrag;Buchungstext\n"
    "02.03.2026;-4,50;BLUE BOTTLE\n"
    "06.03.2026;2850,00;GLOBEX PAYROLL; REF 2026-03; SALARY\n"
    "13.03.2026;-12,00;CINEMA;\n"
)


@pytest.mark.parametrize(
    ("mode", "payroll_text"),
    [("join", "GLOBEX PAYROLL; REF 2026-03; SALARY"), ("ignore", "GLOBEX PAYROLL")],
)
def test_extra_fields_join_or_ignore_the_cells_beyond_the_header(workspace, mode, payroll_text):
    write_workspace_schema(workspace, "spilling_bank.yaml", SPILLING_BANK_SCHEMA.format(mode=mode))
    put_in_inbox(workspace, "sam", "spilling_march.csv", SPILLING_EXPORT.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-03-02", -450, "BLUE BOTTLE"),
        (3, "2026-03-06", 285000, payroll_text),
        (4, "2026-03-13", -1200, "CINEMA"),
    ]
    assert file_counts(workspace) == [("spilling_bank", 3, 3, 0, "{}")]


def test_extra_fields_are_a_bad_line_by_default_and_the_reason_names_the_key(workspace):
    schema = SPILLING_BANK_SCHEMA.format(mode="error").replace("file:\n  extra_fields: error\n", "")
    write_workspace_schema(workspace, "spilling_bank.yaml", schema)
    put_in_inbox(workspace, "sam", "spilling_march.csv", SPILLING_EXPORT.encode())
    output = ingest(workspace)
    assert "rejected csv_inbox/sam/spilling_march.csv: 1 bad line (schema spilling_bank)" in output
    assert (
        "  csv_inbox/sam/spilling_march.csv:3: expected 3 fields, found 5; cells beyond the"
        " header are filled (file.extra_fields: ignore or join accepts them)"
    ) in output


def test_invisible_marks_and_currencies_in_letters_are_read_exactly(workspace):
    """A right-to-left mark before the sign, a no-break space and a narrow no-break space in
    the grouping, a zero-width space, and a currency written in letters before the number."""
    write_workspace_schema(
        workspace,
        "alpine_bank.yaml",
        """\
id: alpine_bank
description: Alpine Bank download; amounts written "Fr. -1 234.50".
match:
  headers: [Valuta, Text, Betrag]
columns:
  date: Valuta
  description: Text
  amount: Betrag
values:
  date_format: '%d.%m.%Y'
  thousands: ' '
  currency_text: [Fr., CHF]
""",
    )
    export = (
        "Valuta,Text,Betrag\n"
        "02.03.2026,MIGROS,\u200f-45.60\n"
        "06.03.2026,LOHN,Fr.\u00a012\u202f345.50\n"
        "09.03.2026,KIOSK,fr. -4\u200b.20\n"
        "11.03.2026,SBB,-1 234.00 CHF\n"
    )
    put_in_inbox(workspace, "sam", "alpine_march.csv", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-03-02", -4560, "MIGROS"),
        (3, "2026-03-06", 1234550, "LOHN"),
        (4, "2026-03-09", -420, "KIOSK"),
        (5, "2026-03-11", -123400, "SBB"),
    ]


def test_an_amount_with_three_decimals_is_refused_as_a_three_decimal_currency(workspace):
    write_workspace_schema(
        workspace,
        "gulf_bank.yaml",
        """\
id: gulf_bank
description: Gulf Bank download; amounts written "KD 4.750".
match:
  headers: [Date, Narrative, Amount]
columns:
  date: Date
  description: Narrative
  amount: Amount
values:
  date_format: '%Y-%m-%d'
  currency_text: KD
""",
    )
    export = "Date,Narrative,Amount\n2026-03-02,GROCER,KD -4.750\n2026-03-03,FUEL,KD -2.000\n"
    put_in_inbox(workspace, "sam", "gulf_march.csv", export.encode())
    output = ingest(workspace)
    assert "rejected csv_inbox/sam/gulf_march.csv: 2 bad lines (schema gulf_bank)" in output
    assert (
        "  csv_inbox/sam/gulf_march.csv:2: amount 'KD -4.750' has 3 decimals: amounts are kept"
        " in cents, so a currency with three decimals (e.g. KWD, BHD) cannot be loaded"
    ) in output


def test_lines_ended_by_cr_cr_lf_keep_their_line_numbers(workspace):
    write_workspace_schema(workspace, "budget_app_export.yaml", BUDGET_APP_SCHEMA)
    export = b"Date,Payee,Amount\r\r\n2026-03-02,BLUE BOTTLE,-4.50\r\r\n"
    export += b"2026-03-04,CINEMA,-12.00\r\r\n2026-03-06,GLOBEX PAYROLL,2850.00\r\r\n"
    put_in_inbox(workspace, "alex", "budget_march.csv", export)
    ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-03-02", -450, "BLUE BOTTLE"),
        (3, "2026-03-04", -1200, "CINEMA"),
        (4, "2026-03-06", 285000, "GLOBEX PAYROLL"),
    ]
    assert file_counts(workspace) == [("budget_app_export", 3, 3, 0, "{}")]


def test_an_export_with_no_transactions_loads_as_an_empty_file(workspace):
    # No dates to infer a format from is not an error: there is nothing to read.
    write_workspace_schema(workspace, "budget_app_export.yaml", BUDGET_APP_SCHEMA)
    put_in_inbox(workspace, "alex", "budget_quiet_month.csv", b"Date,Payee,Amount\n")
    output = ingest(workspace)
    assert "1 loaded, 0 rejected, 0 unchanged" in output
    assert file_counts(workspace) == [("budget_app_export", 0, 0, 0, "{}")]


# --- a layout the project has never seen ---------------------------------------------------------


def test_a_new_yaml_schema_in_the_workspace_loads_a_new_layout_exactly(workspace):
    write_workspace_schema(
        workspace,
        "lakeside_credit_union.yaml",
        """\
id: lakeside_credit_union
description: >
  Lakeside Credit Union share-draft history: two title lines, pipe-separated, Withdrawal and
  Deposit columns with ' as thousands separator, a Totals line at the end.
match:
  headers: [Posted, Effective, Memo, Withdrawal, Deposit, Balance, Trace]
  filename: '(?i)lakeside'
file:
  delimiter: '|'
  footer_lines: 1
columns:
  date: Effective
  posted_date: Posted
  description: Memo
  debit: Withdrawal
  credit: Deposit
  balance: Balance
  reference: Trace
values:
  date_format: '%Y/%m/%d'
  thousands: "'"
static:
  account: Share Draft 4410
  institution: Lakeside Credit Union
""",
    )
    export = (
        "Lakeside Credit Union - account history\n"
        "Member A. Rivera | Share Draft ****4410\n"
        "Posted|Effective|Memo|Withdrawal|Deposit|Balance|Trace\n"
        "2026/03/02|2026/03/01|POS BLUE BOTTLE COFFEE|4.50||1'245.50|T0001\n"
        "2026/03/03|2026/03/03|ACH GLOBEX PAYROLL||2'850.00|4'095.50|T0002\n"
        "2026/03/05|2026/03/04|POS SAFEWAY RETURN||12.40|4'107.90|T0003\n"
        "2026/03/10|2026/03/10|CARD PAYMENT CAPITAL ONE|1'250.00||2'857.90|T0004\n"
        "Totals|||1'254.50|2'862.40||\n"
    )
    put_in_inbox(workspace, "alex", "Lakeside_history_2026-03.csv", export.encode())
    ingest(workspace)
    assert query(
        workspace,
        "select line_number, transaction_date::varchar, posted_date::varchar, amount_cents, "
        "owner_member_id, account_text, account_last4, description, balance_cents, reference, "
        "institution from raw.transactions order by line_number",
    ) == [
        (4, "2026-03-01", "2026-03-02", -450, "alex", "Share Draft 4410", "4410",
         "POS BLUE BOTTLE COFFEE", 124550, "T0001", "Lakeside Credit Union"),
        (5, "2026-03-03", "2026-03-03", 285000, "alex", "Share Draft 4410", "4410",
         "ACH GLOBEX PAYROLL", 409550, "T0002", "Lakeside Credit Union"),
        (6, "2026-03-04", "2026-03-05", 1240, "alex", "Share Draft 4410", "4410",
         "POS SAFEWAY RETURN", 410790, "T0003", "Lakeside Credit Union"),
        (7, "2026-03-10", "2026-03-10", -125000, "alex", "Share Draft 4410", "4410",
         "CARD PAYMENT CAPITAL ONE", 285790, "T0004", "Lakeside Credit Union"),
    ]  # fmt: skip
    assert encoding_and_delimiter(workspace) == [("utf-8", "|")]
    assert file_counts(workspace) == [("lakeside_credit_union", 5, 4, 1, '{"footer_lines": 1}')]


def test_a_row_condition_on_a_column_the_file_lacks_rejects_the_file(workspace):
    # Otherwise a misspelt pending or skip_rows column would silently never drop a row.
    write_workspace_schema(
        workspace,
        "budget_app_export.yaml",
        BUDGET_APP_SCHEMA
        + "pending: {column: State, values: [Pending]}\n"
        + "skip_rows:\n  - {column: Hidden, matches: '.'}\n",
    )
    put_in_inbox(
        workspace, "alex", "budget.csv", b"Date,Payee,Amount,Status\n2026-03-02,CINEMA,-12.00,\n"
    )
    output = ingest(workspace)
    assert "  csv_inbox/alex/budget.csv:1: columns not in the file: Hidden, State" in output


# --- dates ---------------------------------------------------------------------------------------


def test_a_date_column_that_reads_both_ways_rejects_the_file_naming_the_ambiguity(workspace):
    write_workspace_schema(workspace, "budget_app_export.yaml", BUDGET_APP_SCHEMA)
    export = (
        "Budget app export\n"
        "Date,Payee,Amount\n"
        "03/04/2026,BLUE BOTTLE,-4.50\n"
        "04/05/2026,BLUE BOTTLE,-4.50\n"
        "12/01/2026,BLUE BOTTLE,-4.50\n"
    )
    put_in_inbox(workspace, "alex", "budget.csv", export.encode())
    output = ingest(workspace)
    # Named on the line of the first value that reads both ways, not on the title line.
    reason = (
        "Date: ambiguous day/month order: '03/04/2026' reads as 2026-03-04 with %m/%d/%Y "
        "and 2026-04-03 with %d/%m/%Y; set values.date_format"
    )
    assert "rejected csv_inbox/alex/budget.csv: 1 bad line (schema budget_app_export)" in output
    assert f"  csv_inbox/alex/budget.csv:3: {reason}" in output
    assert query(workspace, "select line_number, reason from raw.file_issues") == [(3, reason)]
    assert query(workspace, "select count(*) from raw.transactions") == [(0,)]


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["03/04/2026", "03/14/2026"], ["2026-03-04", "2026-03-14"]),
        (["03/04/2026", "14/04/2026"], ["2026-04-03", "2026-04-14"]),
    ],
    ids=["month first", "day first"],
)
def test_one_day_above_12_settles_the_order_of_the_whole_column(workspace, dates, expected):
    write_workspace_schema(workspace, "budget_app_export.yaml", BUDGET_APP_SCHEMA)
    export = "Date,Payee,Amount\n" + "".join(f"{date},BLUE BOTTLE,-4.50\n" for date in dates)
    put_in_inbox(workspace, "alex", "budget.csv", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (2, expected[0], -450, "BLUE BOTTLE"),
        (3, expected[1], -450, "BLUE BOTTLE"),
    ]


CHASE_CARD_HEADER = "Transaction Date,Post Date,Description,Category,Type,Amount,Memo\n"


def test_a_day_first_resave_of_a_month_first_file_is_refused_naming_the_cause(workspace):
    """A Chase card download opened and saved by a spreadsheet set to day-first dates: every
    day is 12 or less, so each date also reads month-first; the posting lags give it away."""
    export = (
        CHASE_CARD_HEADER + "02/11/2026,04/11/2026,BLUE BOTTLE,Food & Drink,Sale,-4.50,\n"
        "05/11/2026,06/11/2026,CINEMA,Entertainment,Sale,-12.00,\n"
        "09/11/2026,10/11/2026,BOOKSHOP,Shopping,Sale,-23.10,\n"
    )
    put_in_inbox(workspace, "alex", "Chase4821_Activity.CSV", export.encode())
    output = ingest(workspace)
    reason = (
        "dates look day-first; the schema reads %m/%d/%Y: posted 2026-04-11 is 59 days after"
        " the transaction date 2026-02-11"
    )
    assert (
        "rejected csv_inbox/alex/Chase4821_Activity.CSV: 1 bad line (schema chase_card)" in output
    )
    assert f"  csv_inbox/alex/Chase4821_Activity.CSV:2: {reason}" in output
    assert query(workspace, "select line_number, reason from raw.file_issues") == [(2, reason)]
    assert query(workspace, "select count(*) from raw.transactions") == [(0,)]


def test_a_month_first_file_whose_days_are_all_12_or_less_loads_when_its_dates_agree(workspace):
    export = (
        CHASE_CARD_HEADER + "11/02/2026,11/04/2026,BLUE BOTTLE,Food & Drink,Sale,-4.50,\n"
        "11/05/2026,11/06/2026,CINEMA,Entertainment,Sale,-12.00,\n"
    )
    put_in_inbox(workspace, "alex", "Chase4821_Activity.CSV", export.encode())
    ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-11-02", -450, "BLUE BOTTLE"),
        (3, "2026-11-05", -1200, "CINEMA"),
    ]


def test_dates_no_transaction_can_have_are_bad_values(workspace):
    """Year 9999 would stretch every calendar over the dates to millions of days."""
    export = (
        CAPITAL_ONE_HEADER + "2026-03-02,2026-03-03,2463,BLUE BOTTLE,Dining,4.50,\n"
        "9999-12-31,9999-12-31,2463,TYPO,Dining,4.50,\n"
        "1989-12-31,2026-03-03,2463,OLD,Dining,4.50,\n"
    )
    put_in_inbox(workspace, "alex", "savor.csv", export.encode())
    output = ingest(workspace)
    assert "rejected csv_inbox/alex/savor.csv: 2 bad lines (schema capital_one_card)" in output
    assert (
        "  csv_inbox/alex/savor.csv:3: date 9999-12-31 is more than 31 days after today (" in output
    )
    assert "  csv_inbox/alex/savor.csv:4: date 1989-12-31 is before 1990-01-01" in output
    assert query(workspace, "select count(*) from raw.transactions") == [(0,)]
    # The next run is not wedged: the corrected file loads.
    put_in_inbox(
        workspace,
        "alex",
        "savor.csv",
        export.replace("9999-12-31", "2026-03-09").replace("1989", "2025").encode(),
    )
    assert "1 loaded, 0 rejected" in ingest(workspace)
    assert query(workspace, "select count(*) from raw.transactions") == [(3,)]
