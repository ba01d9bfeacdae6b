"""OFX and QFX files: what each fixture reads to, the two readers agreeing, what is refused,
and OFX rows in the real ingest and run (docs/ofx.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.household import load_household
from ingest.ofx import amount_cents, read_ofx
from ingest.parse import FileContext
from ingest.values import BadValue

from support import invoke, make_workspace, net_cents, put_in_inbox, query

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ofx"
WELL_FORMED = [
    "checking_sgml.ofx",
    "card_xml.qfx",
    "two_periods.ofx",
    "two_accounts.ofx",
    "cp1252_payee.ofx",
    "one_line.qfx",
]
SGML_HEADER = (
    "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
    "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
)


@pytest.fixture(scope="module")
def household(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("ofx"))
    return load_household(root / "household", "household")


def read(household, data: bytes, name: str = "statement.ofx", use_ofxtools: bool = True):
    context = FileContext(f"csv_inbox/alex/{name}", "0" * 64, "alex", dt.datetime(2026, 12, 1))
    return read_ofx(data, household, context, use_ofxtools)


def fixture(household, name: str, use_ofxtools: bool = True):
    return read(household, (FIXTURES / name).read_bytes(), name, use_ofxtools)


def rows(reading) -> list[tuple]:
    """line, date, posted date, cents, account, description, reference, stated balance."""
    return [
        (
            row["line_number"],
            row["transaction_date"].isoformat(),
            row["posted_date"].isoformat(),
            row["amount_cents"],
            row["account_text"],
            row["description"],
            row["reference"],
            row["balance_cents"],
        )
        for row in reading.parsed.rows
    ]


def test_an_sgml_checking_statement(household):
    reading = fixture(household, "checking_sgml.ofx")

    assert (reading.version, reading.reader, reading.encoding) == (
        "1.x (SGML)",
        "ofxtools",
        "utf-8",
    )
    assert reading.rejection is None
    # DTUSER, when the bank writes it, is the transaction date; DTPOSTED the posted date. The
    # ledger balance (3,085.63 = 2,500.00 − 1,850.00 − 64.37 after an opening 2,500.00) sits
    # on the statement's last row.
    assert rows(reading) == [
        (43, "2026-03-02", "2026-03-02", 250000, "0012345678", "ACME CORP PAYROLL · DIRECT DEP",
         "202603020001", None),
        (51, "2026-03-05", "2026-03-05", -185000, "0012345678", "BRIDGEWATER APTS RENT",
         "202603050002", None),
        (58, "2026-03-07", "2026-03-09", -6437, "0012345678", "GREEN VALLEY GROCERY",
         "202603090003", 308563),
    ]  # fmt: skip
    first = reading.parsed.rows[0]
    assert first["raw_line"] == (
        "<STMTTRN>\r\n<TRNTYPE>CREDIT\r\n<DTPOSTED>20260302120000[-5:EST]\r\n<TRNAMT>2500.00\r\n"
        "<FITID>202603020001\r\n<NAME>ACME CORP PAYROLL\r\n<MEMO>DIRECT DEP\r\n</STMTTRN>"
    )
    assert {
        (row["schema_id"], row["source_kind"], row["institution"], row["account_last4"])
        for row in reading.parsed.rows
    } == {("ofx", "direct", "Lakeside Credit Union", "5678")}
    assert [(s.kind, s.line_number, s.rows) for s in reading.statements] == [("bank", 33, 3)]


def test_an_xml_credit_card_statement(household):
    reading = fixture(household, "card_xml.qfx")

    assert (reading.version, reading.reader) == ("2.x (XML)", "ofxtools")
    assert rows(reading) == [
        (24, "2026-03-03", "2026-03-04", -9214, "4000123412342463", "WHOLE FOODS MARKET",
         "2463-20260303-0001", None),
        (32, "2026-03-05", "2026-03-05", -500, "4000123412342463", "BLUE BOTTLE COFFEE",
         "2463-20260305-0002", None),
        (40, "2026-03-10", "2026-03-11", -2350, "4000123412342463", "BARNES & NOBLE #2291 · BOOKS",
         "2463-20260310-0003", -12064),
    ]  # fmt: skip
    assert [(s.kind, s.institution) for s in reading.statements] == [("credit card", "Capital One")]


def test_two_periods_of_one_account_state_each_ledger_balance(household):
    reading = fixture(household, "two_periods.ofx")

    assert reading.balances_stated
    assert [(row[0], row[3], row[7]) for row in rows(reading)] == [
        (43, -4000, None),
        (50, 10000, 106000),
        (80, -2550, None),
        (87, -1450, 102000),  # 1,060.00 − 25.50 − 14.50: the check follows them
    ]


def test_two_accounts_in_one_file_are_read_without_balances(household):
    reading = fixture(household, "two_accounts.ofx")

    # Chained across two accounts the statement check would only report noise.
    assert not reading.balances_stated
    assert rows(reading) == [
        (43, "2026-04-04", "2026-04-04", -3000, "0012345678", "FARMERS MARKET", "A1", None),
        (73, "2026-04-05", "2026-04-06", -4210, "4000555566669911", "HILLTOP BOOKS", "C1", None),
    ]
    assert [(s.kind, s.ledger_balance_cents) for s in reading.statements] == [
        ("bank", 97000),
        ("credit card", -4210),
    ]


def test_cp1252_payees(household):
    reading = fixture(household, "cp1252_payee.ofx")

    assert reading.encoding == "cp1252"
    assert [(row[0], row[3], row[5]) for row in rows(reading)] == [
        (43, -1875, "CAFÉ MÜNCHEN"),
        (50, -720, "ZOË’S DELI · € CARD PURCHASE"),
    ]


def test_a_file_on_one_line_with_an_impossible_time_and_a_trailing_nul(household):
    data = (FIXTURES / "one_line.qfx").read_bytes()
    assert data.count(b"\n") == 0 and data.endswith(b"\x00")

    reading = fixture(household, "one_line.qfx")

    # Every transaction starts on line 1; a line names one row, so lines are counted as the
    # file reads laid out one element per line. Minute 82 is dropped with the time.
    assert reading.laid_out
    assert rows(reading) == [
        (34, "2026-06-12", "2026-06-12", -999, "0012345678", "STREAMFLIX", "202606120001", None),
        (41, "2026-06-14", "2026-06-14", -999, "0012345678", "STREAMFLIX", "202606140002", 98002),
    ]
    assert not any("\x00" in row["raw_line"] for row in reading.parsed.rows)


def test_a_sloppy_file_is_read_by_the_tokenizer(household):
    # An unclosed <STMTTRN> and an empty <FITID>: ofxtools nests what follows inside them,
    # which the check of its tree catches. The header claims cp1252 over UTF-8 text, and an
    # amount has a decimal comma.
    reading = fixture(household, "sloppy.ofx")

    assert reading.reader == (
        "the lenient tokenizer (ofxtools: a <STMTTRN> outside a <BANKTRANLIST>: "
        "an aggregate is unclosed)"
    )
    assert reading.encoding == "utf-8"
    assert rows(reading) == [
        (43, "2026-07-02", "2026-07-02", -1250, "0012345678", "ZOË'S CAFÉ", "202607020001", None),
        (49, "2026-07-03", "2026-07-03", -325, "0012345678", "PARKING METER", None, 98425),
    ]
    assert reading.parsed.rows[0]["raw_line"].endswith("<NAME>ZOË'S CAFÉ")


@pytest.mark.parametrize("name", WELL_FORMED)
def test_ofxtools_and_the_tokenizer_read_the_same_rows(household, name):
    by_ofxtools = fixture(household, name)
    by_tokens = fixture(household, name, use_ofxtools=False)

    assert by_ofxtools.reader == "ofxtools"
    assert by_tokens.reader == "the lenient tokenizer"
    assert by_ofxtools.parsed.rows == by_tokens.parsed.rows
    assert by_ofxtools.parsed.rows


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("-12.34", -1234),
        ("+5", 500),
        ("5.", 500),
        ("-.50", -50),
        ("-12,34", -1234),
        ("1.234,56", 123456),
        ("1,234.56", 123456),
        ("12.340", 1234),
        (" -0.01 ", -1),
    ],
)
def test_amounts_become_exact_cents(text, cents):
    assert amount_cents("TRNAMT", text) == cents


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12.345", "TRNAMT '12.345' is not a whole number of cents"),
        ("1,234", "TRNAMT '1,234' is not a whole number of cents"),
        ("12.3.4", "TRNAMT '12.3.4' is not an amount"),
        ("1e5", "TRNAMT '1e5' is not an amount"),
        ("-", "TRNAMT '-' is not an amount"),
        ("", "TRNAMT is missing"),
    ],
)
def test_amounts_that_are_not_cents_are_refused(text, reason):
    with pytest.raises(BadValue) as error:
        amount_cents("TRNAMT", text)
    assert str(error.value) == reason


def statement(*transactions: str, acctid: str = "0012345678") -> bytes:
    return (
        SGML_HEADER
        + "<OFX>\n<BANKMSGSRSV1>\n<STMTTRNRS>\n<STMTRS>\n<CURDEF>USD\n<BANKACCTFROM>\n"
        + f"<BANKID>011000015\n<ACCTID>{acctid}\n</BANKACCTFROM>\n<BANKTRANLIST>\n"
        + "".join(transactions)
        + "</BANKTRANLIST>\n</STMTRS>\n</STMTTRNRS>\n</BANKMSGSRSV1>\n</OFX>\n"
    ).encode()


def transaction(posted: str, amount: str, fitid: str, name: str) -> str:
    return (
        f"<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>{posted}\n<TRNAMT>{amount}\n<FITID>{fitid}\n"
        f"<NAME>{name}\n</STMTTRN>\n"
    )


def test_bad_values_are_named_by_line(household):
    data = statement(
        transaction("20260305", "-4.50", "1", "CAFE"),  # line 21
        transaction("20260306", "12.3.4", "2", "CAFE"),  # line 28
        transaction("2026-03-07", "-1.00", "3", "CAFE"),  # line 35
        "<STMTTRN>\n<TRNTYPE>DEBIT\n<TRNAMT>-2.00\n<FITID>4\n<NAME>CAFE\n</STMTTRN>\n",  # 42
        transaction("99991231", "-1.00", "5", "CAFE"),  # line 48
        transaction("20260308", "-92233720368547758.07", "6", "CAFE"),  # line 55
    )

    rejection = read(household, data).rejection

    assert rejection.reason == "5 bad lines (schema ofx)"
    assert rejection.issues == [
        (28, "TRNAMT '12.3.4' is not an amount"),
        (35, "DTPOSTED '2026-03-07' is not a date (YYYYMMDD…)"),
        (42, "no date: DTPOSTED is missing"),
        (48, "date 9999-12-31 is more than 31 days after today (2026-12-01)"),
        (55, "TRNAMT '-92233720368547758.07' is too large: at most 999,999,999.99"),
    ]


def test_a_statement_without_owner_is_refused_at_its_line(household):
    reading = read(household, statement(transaction("20260305", "-4.50", "1", "CAFE")))
    reading_outside = read_ofx(
        statement(transaction("20260305", "-4.50", "1", "CAFE")),
        household,
        FileContext("elsewhere/x.ofx", "0" * 64, None, dt.datetime(2026, 12, 1)),
    )

    assert reading.rejection is None  # the inbox folder names the owner
    assert reading_outside.rejection.issues == [
        (
            14,
            "no owner: no member column, no accounts.csv row matches '0012345678' or the "
            "file's name, and the file is not in a member's inbox folder",
        )
    ]


@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        (b"<html><body>Session expired</body></html>", "not an OFX file: it has no <OFX> element"),
        (
            (SGML_HEADER + "<OFX>\n<SIGNONMSGSRSV1>\n</SIGNONMSGSRSV1>\n</OFX>\n").encode(),
            "it holds no bank or credit card statement (no STMTRS or CCSTMTRS)",
        ),
        (
            (SGML_HEADER + "<OFX><INVSTMTMSGSRSV1><INVSTMTTRNRS><INVSTMTRS>").encode(),
            "it holds an investment statement (INVSTMTRS), which is not read: download the bank "
            "or card account's statement instead",
        ),
    ],
)
def test_what_cannot_be_read_is_refused_with_one_reason(household, data, refusal):
    rejection = read(household, data).rejection
    assert (rejection.reason, rejection.issues) == (refusal, [])


# --- through the real ingest and run ------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "household")


def ingest_output(workspace: Path) -> str:
    result = invoke("ingest", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return result.output


def test_an_ofx_file_loads_with_its_lineage_and_reruns_unchanged(workspace):
    put_in_inbox(workspace, "alex", "checking.ofx", (FIXTURES / "checking_sgml.ofx").read_bytes())

    assert "1 loaded, 0 rejected, 0 unchanged" in ingest_output(workspace)

    assert query(
        workspace,
        "select file_path, line_number, schema_id, source_kind, owner_member_id, account_last4, "
        "transaction_date::varchar, amount_cents, reference, balance_cents, "
        "raw_line like '<STMTTRN>%</STMTTRN>' from raw.transactions order by line_number",
    ) == [
        ("csv_inbox/alex/checking.ofx", 43, "ofx", "direct", "alex", "5678", "2026-03-02",
         250000, "202603020001", None, True),
        ("csv_inbox/alex/checking.ofx", 51, "ofx", "direct", "alex", "5678", "2026-03-05",
         -185000, "202603050002", None, True),
        ("csv_inbox/alex/checking.ofx", 58, "ofx", "direct", "alex", "5678", "2026-03-07",
         -6437, "202603090003", 308563, True),
    ]  # fmt: skip
    assert query(
        workspace,
        "select schema_id, encoding, delimiter, rows_read, rows_loaded, amount_cents_total "
        "from raw.files",
    ) == [("ofx", "utf-8", None, 3, 3, 58563)]
    assert "0 loaded, 0 rejected, 1 unchanged" in ingest_output(workspace)


def test_a_rejected_ofx_does_not_wedge_the_next_run(workspace):
    bad = statement(transaction("20260306", "12.3.4", "2", "CAFE"))
    put_in_inbox(workspace, "alex", "bad.qfx", bad)
    put_in_inbox(workspace, "alex", "card.qfx", (FIXTURES / "card_xml.qfx").read_bytes())

    first = ingest_output(workspace)

    assert "1 loaded, 1 rejected, 0 unchanged" in first
    assert "rejected csv_inbox/alex/bad.qfx: 1 bad line (schema ofx)" in first
    assert "  csv_inbox/alex/bad.qfx:21: TRNAMT '12.3.4' is not an amount" in first
    assert query(workspace, "select line_number, reason from raw.file_issues") == [
        (21, "TRNAMT '12.3.4' is not an amount")
    ]
    assert "0 loaded, 1 rejected, 1 unchanged" in ingest_output(workspace)

    put_in_inbox(
        workspace, "alex", "bad.qfx", statement(transaction("20260306", "-12.34", "2", "CAFE"))
    )
    assert "1 loaded, 0 rejected, 1 unchanged" in ingest_output(workspace)
    assert query(
        workspace, "select amount_cents from raw.transactions where file_path like '%bad.qfx'"
    ) == [(-1234,)]


def test_doctor_explains_an_ofx_file(workspace):
    path = put_in_inbox(
        workspace, "alex", "periods.ofx", (FIXTURES / "two_periods.ofx").read_bytes()
    )

    result = invoke("doctor", "--workspace", str(workspace), str(path))

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "file       csv_inbox/alex/periods.ofx",
        "format     OFX 1.x (SGML), read by ofxtools",
        "encoding   utf-8",
        "statements 2",
        "  line 33: bank account …5678 (Lakeside Credit Union): 2 row(s), 2026-04-03 to "
        "2026-04-15, ledger balance 1,060.00 on 2026-04-30",
        "  line 70: bank account …5678 (Lakeside Credit Union): 2 row(s), 2026-05-02 to "
        "2026-05-06, ledger balance 1,020.00 on 2026-05-31",
        "verdict    schema ofx: 4 row(s) would load",
        "first rows as they would load (of 4):",
        "  line  date        amount      owner   account  description",
        "  43    2026-04-03      −40.00  alex    …5678    CITY WATER UTILITY",
        "  50    2026-04-15      100.00  alex    …5678    INTEREST PAYMENT",
        "  80    2026-05-02      −25.50  alex    …5678    CORNER HARDWARE",
        "  87    2026-05-06      −14.50  alex    …5678    CORNER HARDWARE",
    ]


def test_doctor_says_why_an_ofx_file_is_rejected(workspace):
    path = put_in_inbox(
        workspace, "alex", "bad.ofx", statement(transaction("20260306", "12.3.4", "2", "CAFE"))
    )

    result = invoke("doctor", "--workspace", str(workspace), str(path))

    assert result.exit_code == 1
    assert result.output.splitlines()[-3:] == [
        "verdict    not loadable: 1 bad line (schema ofx)",
        "  csv_inbox/alex/bad.ofx:21: TRNAMT '12.3.4' is not an amount",
        "balance: this file would be rejected (see the verdict above)",
    ]


CAPITAL_ONE = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
SAME_CARD_CSV = CAPITAL_ONE + (
    "2026-03-03,2026-03-04,2463,WHOLE FOODS MARKET,Groceries,92.14,\n"
    "2026-03-05,2026-03-05,2463,BLUE BOTTLE COFFEE,Dining,5.00,\n"
    "2026-03-10,2026-03-11,2463,BARNES & NOBLE #2291,Shopping,23.50,\n"
)


def test_an_ofx_and_a_csv_of_one_card_count_each_purchase_once(workspace):
    # accounts.csv gives the card one label, whichever file names it: the Capital One CSV
    # (Card No. 2463) and the QFX (ACCTID …2463). Alex's purchases are shared: 92.14 + 5.00 +
    # 23.50 = 120.64 once, Sam owes 60.32 (counted twice, it would be 120.64). Sam's
    # checking, in a file of two statements, moves nothing (his rows wait for review) and
    # its ledger balances follow its rows.
    (workspace / "household/sharing_rules.csv").write_text(
        "rule_id,merchant,category,description,account,member,min_cost,max_cost,sharing,policy,"
        "payer_share_pct\nalex_shares,,,,,alex,,,shared,,\n"
    )
    put_in_inbox(workspace, "alex", "card.qfx", (FIXTURES / "card_xml.qfx").read_bytes())
    put_in_inbox(workspace, "alex", "2026-03_transaction_download.csv", SAME_CARD_CSV.encode())
    put_in_inbox(workspace, "sam", "periods.ofx", (FIXTURES / "two_periods.ofx").read_bytes())

    result = invoke("run", "--workspace", str(workspace))

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "Sam owes Alex $60.32"
    assert net_cents(workspace) == {"alex": 6032, "sam": -6032}
    assert query(
        workspace,
        "select schema_id, kind, count(*) from marts.fct_transactions "
        "where account_label = 'Capital One Savor …2463' group by all order by all",
    ) == [("capital_one_card", "expense", 3), ("ofx", "duplicate", 3)]
    assert query(
        workspace,
        "select line_number, stated_balance_cents, is_matching "
        "from intermediate.int_statement_balances_checked "
        "where file_path = 'csv_inbox/sam/periods.ofx' order by line_number",
    ) == [(50, 106000, True), (87, 102000, True)]
