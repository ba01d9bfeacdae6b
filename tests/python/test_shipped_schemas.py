"""Every shipped schema (rules/*.yaml) loads a fixture in its layout to exact canonical rows.

The fixtures in tests/fixtures/exports/<schema_id>/ are invented exports in each bank's layout
(purchases, a refund or credit, a payment, and the layout's quirks), named as the bank names
its downloads. Expected values are written out by hand: signed cents (negative = money out),
owners, accounts, physical line numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from core.workspace import SHIPPED_RULES_DIR
from ingest.reader import identify
from ingest.schemas import load_schemas

from support import file_counts, ingest, invoke, loaded_rows, make_workspace, put_in_inbox, query

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "exports"
JOINT_INBOX = ""  # files that mix members' accounts sit in csv_inbox/ itself


@dataclass(frozen=True)
class Case:
    fixture: str  # under tests/fixtures/exports/
    inbox: str  # the member folder under csv_inbox/ it is dropped in
    schema_id: str
    # (schema_id, rows_read, rows_loaded, rows_skipped, rows_skipped_by_reason) of raw.files
    counts: tuple
    # (line, date, amount_cents, owner, account_text, account_last4, description) per row
    rows: list[tuple]

    def __str__(self) -> str:
        return Path(self.fixture).stem


# fmt: off
CASES = [
    Case(
        "capital_one_card/2026-03-31_transaction_download.csv",
        "alex",
        "capital_one_card",
        ("capital_one_card", 4, 4, 0, "{}"),
        [
            (2, "2026-03-02", -675, "alex", "2463", "2463", "BLUE BOTTLE COFFEE"),
            (3, "2026-03-05", -120418, "alex", "2463", "2463", "BEST BUY 00012"),
            (4, "2026-03-09", 1240, "alex", "2463", "2463", "BEST BUY 00012"),
            (5, "2026-03-20", 25000, "alex", "2463", "2463", "CAPITAL ONE MOBILE PYMT"),
        ],
    ),
    Case(
        "chase_checking_statement/Chase_Total_Checking_2026-03.csv",
        "alex",
        "chase_checking_statement",
        ("chase_checking_statement", 5, 5, 0, "{}"),
        [
            (2, "2026-03-02", 320000, "alex", "Total Checking x6173", "6173",
             "ACME CORP PAYROLL PPD ID: 9876543210"),
            (3, "2026-03-04", -9642, "alex", "Total Checking x6173", "6173", "PG&E WEB ONLINE"),
            (4, "2026-03-10", -15000, "alex", "Total Checking x6173", "6173",
             "Zelle payment to Sam Chen JPM99ab12cd"),
            (5, "2026-03-18", 102050, "alex", "Total Checking x6173", "6173",
             "COSTCO WHSE #0143 REFUND"),
            (6, "2026-03-25", -25000, "alex", "Total Checking x6173", "6173",
             "CAPITAL ONE MOBILE PMT"),
        ],
    ),
    Case(
        "discover_card_statement/Discover-Statement-20260325.csv",
        "sam",
        "discover_card_statement",
        ("discover_card_statement", 4, 4, 0, "{}"),
        [
            (2, "2026-02-27", -6438, "sam", "Discover It Card x1544", "1544",
             "TRADER JOE S #552 OAKLAND CA"),
            (3, "2026-03-03", -7998, "sam", "Discover It Card x1544", "1544",
             "COMCAST XFINITY 800-266-2278"),
            (4, "2026-03-08", 1299, "sam", "Discover It Card x1544", "1544",
             "CASHBACK BONUS REDEMPTION"),
            (5, "2026-03-20", 19646, "sam", "Discover It Card x1544", "1544",
             "INTERNET PAYMENT - THANK YOU"),
        ],
    ),
    Case(
        "monarch_money/monarch_transactions_2026-04-01.csv",
        JOINT_INBOX,
        "monarch_money",
        ("monarch_money", 4, 4, 0, "{}"),
        [
            (2, "2026-03-28", -19646, "sam", "WF EVERYDAY CHECKING (...3850)", "3850",
             "DISCOVER E-PAYMENT 1544"),
            (3, "2026-03-21", -8436, "alex", "CapitalOne Savor (...2463)", "2463",
             "WHOLE FOODS MARKET #10234"),
            (4, "2026-03-15", 285000, "sam", "WF EVERYDAY CHECKING (...3850)", "3850",
             "GLOBEX CORP DIRECT DEP"),
            (5, "2026-03-12", 1999, "alex", "CapitalOne Savor (...2463)", "2463",
             "TARGET 00012345 REFUND"),
        ],
    ),
    Case(
        # M/D/YYYY with every day at most 12: read in US order, not rejected as ambiguous.
        "monarch_money/monarch_transactions_2026-03-10.csv",
        JOINT_INBOX,
        "monarch_money",
        ("monarch_money", 3, 3, 0, "{}"),
        [
            (2, "2026-03-09", -675, "alex", "CapitalOne Savor (...2463)", "2463",
             "BLUE BOTTLE COFFEE"),
            (3, "2026-03-04", -7998, "sam", "WF EVERYDAY CHECKING (...3850)", "3850",
             "COMCAST XFINITY 800-266-2278"),
            (4, "2026-03-02", 120824, "sam", "WF EVERYDAY CHECKING (...3850)", "3850",
             "ZELLE FROM RIVERA ALEX"),
        ],
    ),
    Case(
        "rent_schedule/rent_schedule_2026.csv",
        "alex",
        "rent_schedule",
        ("rent_schedule", 3, 3, 0, "{}"),
        [
            (2, "2026-01-01", -212160, "alex", "Rent schedule", None, "Rent"),
            (3, "2026-02-01", -211390, "alex", "Rent schedule", None, "Rent"),
            (4, "2026-03-01", -212685, "alex", "Rent schedule", None, "Rent"),
        ],
    ),
    Case(
        "wells_fargo_card_statement/WellsFargo_ActiveCash_2026-03.csv",
        "sam",
        "wells_fargo_card_statement",
        ("wells_fargo_card_statement", 5, 5, 0, "{}"),
        [
            (2, "2026-02-14", -5820, "sam", "Wells Fargo Active Cash Visa Card x4821", "4821",
             "SAFEWAY #1711 OAKLAND CA"),
            (3, "2026-02-20", -12999, "sam", "Wells Fargo Active Cash Visa Card x4821", "4821",
             "AMAZON MKTPLACE PMTS"),
            (4, "2026-02-25", 12999, "sam", "Wells Fargo Active Cash Visa Card x4821", "4821",
             "AMAZON MKTPLACE RETURN"),
            (5, "2026-03-01", 2500, "sam", "Wells Fargo Active Cash Visa Card x4821", "4821",
             "CASH REWARDS REDEMPTION"),
            (6, "2026-03-05", 30000, "sam", "Wells Fargo Active Cash Visa Card x4821", "4821",
             "ONLINE PAYMENT THANK YOU"),
        ],
    ),
    Case(
        # Line 5, the card payment, is excluded in Rocket Money (Ignored From: everything).
        "rocket_money/2026-04-01T08_12_33.118Z-transactions.csv",
        JOINT_INBOX,
        "rocket_money",
        ("rocket_money", 5, 4, 1, '{"skip_rows": 1}'),
        [
            (2, "2026-03-03", -8436, "alex", "Savor ...2463", "2463", "WHOLE FOODS MARKET #10234"),
            (3, "2026-03-05", 285000, "sam", "EVERYDAY CHECKING ...3850", "3850",
             "GLOBEX CORP DIRECT DEP"),
            (4, "2026-03-07", 1999, "alex", "Savor ...2463", "2463", "TARGET 00012345 REFUND"),
            (6, "2026-03-11", -525, "sam", "EVERYDAY CHECKING ...3850", "3850",
             "BLUE BOTTLE COFFEE"),
        ],
    ),
    Case(
        # A banner on line 1; payers named "Alex Expenses", "Sam " (alias, padded name).
        "manual_expense_ledger/Shared expenses - Sep 2026.csv",
        JOINT_INBOX,
        "manual_expense_ledger",
        ("manual_expense_ledger", 5, 5, 0, "{}"),
        [
            (3, "2026-09-09", -194600, "alex", "Savor card", None, "Sofa for the living room"),
            (4, "2026-09-12", -5000, "sam", "Discover", None, "Groceries and a personal snack"),
            (5, "2026-09-15", 923, "alex", "Savor card", None, "Returned lamp"),
            (6, "2026-09-20", -1800, "sam", "Cash", None, "Flowers for Sam"),
            (7, "2026-09-22", 0, "alex", "Savor card", None, "Validated parking"),
        ],
    ),
    Case(
        "manual_expense_ledger_detailed/Shared expenses - Oct 2026.csv",
        JOINT_INBOX,
        "manual_expense_ledger_detailed",
        ("manual_expense_ledger_detailed", 4, 4, 0, "{}"),
        [
            (3, "2026-10-02", -6240, "sam", "Discover", None, "Weekly groceries"),
            (4, "2026-10-04", -9642, "alex", "Savor card", None, "Electricity for September"),
            (5, "2026-10-08", -24000, "alex", "Savor card", None, "Hiking boots"),
            (6, "2026-10-11", 1200, "sam", "Discover", None, "Returned spoiled milk"),
        ],
    ),
    Case(
        # Newest first; the file names no card.
        "chase_card/Chase4321_Activity20260301_20260331_20260402.CSV",
        "alex",
        "chase_card",
        ("chase_card", 4, 4, 0, "{}"),
        [
            (2, "2026-03-15", 50000, "alex", "", None, "Payment Thank You-Mobile"),
            (3, "2026-03-06", 4217, "alex", "", None, "AMAZON.COM*2K4LM0QW3"),
            (4, "2026-03-04", -4217, "alex", "", None, "AMAZON.COM*2K4LM0QW3"),
            (5, "2026-03-02", -545, "alex", "", None, "STARBUCKS STORE 05521"),
        ],
    ),
    Case(
        # Every data row has one more, empty, field than the header.
        "chase_checking/Chase6173_Activity_20260401.CSV",
        "alex",
        "chase_checking",
        ("chase_checking", 5, 5, 0, "{}"),
        [
            (2, "2026-03-20", -50000, "alex", "", None,
             "CHASE CREDIT CRD AUTOPAY PPD ID: 4760039224"),
            (3, "2026-03-12", -12000, "alex", "", None, "CHECK 1043"),
            (4, "2026-03-10", 7500, "alex", "", None, "Zelle payment from SAM CHEN 24019987716"),
            (5, "2026-03-05", -4887, "alex", "", None, "TRADER JOE S #552 OAKLAND CA 03/05"),
            (6, "2026-03-02", 284800, "alex", "", None, "ACME CORP PAYROLL PPD ID: 9876543210"),
        ],
    ),
    Case(
        # No header row: recognised by the bank's file name.
        "wells_fargo_download/Checking1.csv",
        "sam",
        "wells_fargo_download",
        ("wells_fargo_download", 5, 5, 0, "{}"),
        [
            (1, "2026-03-02", -450, "sam", "", None, "BLUE BOTTLE COFFEE OAKLAND CA"),
            (2, "2026-03-03", 285000, "sam", "", None, "GLOBEX CORP DIRECT DEP"),
            (3, "2026-03-09", -19646, "sam", "", None, "DISCOVER E-PAYMENT 1544"),
            (4, "2026-03-12", 1999, "sam", "", None, "TARGET 00012345 REFUND"),
            (5, "2026-03-14", -7500, "sam", "", None,
             "ZELLE TO RIVERA ALEX ON 03/14 REF # WFCT0ABC1234"),
        ],
    ),
    Case(
        # Records 1 and 2 span three and two lines (line breaks inside quoted cells).
        "american_express_card/activity.csv",
        "alex",
        "american_express_card",
        ("american_express_card", 4, 4, 0, "{}"),
        [
            (2, "2026-03-03", -625, "alex", "-41005", "1005", "BLUE BOTTLE COFFEE"),
            (5, "2026-03-07", -11275, "alex", "-42007", "2007", "WHOLE FOODS MARKET"),
            (7, "2026-03-10", 2499, "alex", "-42007", "2007", "AMAZON MARKETPLACE REFUND"),
            (8, "2026-03-20", 50000, "alex", "-41005", "1005", "AUTOPAY PAYMENT - THANK YOU"),
        ],
    ),
    Case(
        "american_express_card_basic/activity.csv",
        "alex",
        "american_express_card_basic",
        ("american_express_card_basic", 4, 4, 0, "{}"),
        [
            (2, "2026-03-03", -625, "alex", "", None, "BLUE BOTTLE COFFEE"),
            (3, "2026-03-07", -11275, "alex", "", None, "WHOLE FOODS MARKET"),
            (4, "2026-03-10", 2499, "alex", "", None, "AMAZON MARKETPLACE REFUND"),
            (5, "2026-03-20", 50000, "alex", "", None, "AUTOPAY PAYMENT - THANK YOU"),
        ],
    ),
    Case(
        # Line 4's credit is written already negative; line 6 is pending.
        "citi_card/Citi_Custom_Cash_2026-03.csv",
        "sam",
        "citi_card",
        ("citi_card", 5, 4, 1, '{"pending": 1}'),
        [
            (2, "2026-03-02", -4510, "sam", "", None, "SHELL OIL 57444"),
            (3, "2026-03-06", -1549, "sam", "", None, "NETFLIX.COM"),
            (4, "2026-03-09", 1549, "sam", "", None, "NETFLIX.COM REFUND"),
            (5, "2026-03-18", 30000, "sam", "", None, "ONLINE PAYMENT THANK YOU"),
        ],
    ),
    Case(
        # The variant with a Member Name column.
        "citi_card/Citi_Double_Cash_members_2026-03.csv",
        "sam",
        "citi_card",
        ("citi_card", 3, 2, 1, '{"pending": 1}'),
        [
            (2, "2026-03-04", -3360, "sam", "", None, "SAFEWAY #1711"),
            (3, "2026-03-11", 499, "sam", "", None, "SAFEWAY #1711"),
        ],
    ),
    Case(
        # A summary block, a blank line, the header on line 7; line 8 is the beginning balance.
        "bank_of_america_checking/stmt.csv",
        "alex",
        "bank_of_america_checking",
        ("bank_of_america_checking", 5, 4, 1, '{"skip_lines": 1}'),
        [
            (9, "2026-03-02", 310000, "alex", "", None,
             "ACME CORP DES:PAYROLL ID:XXXXX12345 INDN:RIVERA,ALEX CO ID:XXXXX98765 PPD"),
            (10, "2026-03-05", -9642, "alex", "", None,
             "PG&E DES:WEB ONLINE ID:XXXXX45678 INDN:ALEX RIVERA CO ID:XXXXX11111 WEB"),
            (11, "2026-03-10", -120000, "alex", "", None, "Zelle payment to SAM CHEN Conf# 8Q3LX2"),
            (12, "2026-03-20", -8824, "alex", "", None,
             "BKOFAMERICA ATM 03/20 #000004321 WITHDRWL"),
        ],
    ),
    Case(
        "bank_of_america_card/March2026_1234.csv",
        "sam",
        "bank_of_america_card",
        ("bank_of_america_card", 4, 4, 0, "{}"),
        [
            (2, "2026-03-03", -5412, "sam", "", None, "TRADER JOE'S #552"),
            (3, "2026-03-08", -21000, "sam", "", None, "NORDSTROM #0427"),
            (4, "2026-03-12", 8999, "sam", "", None, "NORDSTROM #0427 RETURN"),
            (5, "2026-03-25", 35000, "sam", "", None, "PAYMENT - THANK YOU"),
        ],
    ),
    Case(
        "apple_card/Apple Card Transactions - March 2026.csv",
        "sam",
        "apple_card",
        ("apple_card", 4, 4, 0, "{}"),
        [
            (2, "2026-03-01", -2340, "sam", "", None, "UBER *EATS 8005928996 CA"),
            (3, "2026-03-04", -999, "sam", "", None,
             "APPLE.COM/BILL ONE APPLE PARK WAY 866-712-7753 CUPERTINO 95014 CA USA"),
            (4, "2026-03-09", 2340, "sam", "", None, "UBER *EATS 8005928996 CA"),
            (5, "2026-03-27", 15000, "sam", "", None,
             "ACH DEPOSIT INTERNET TRANSFER FROM ACCOUNT ENDING IN 3850"),
        ],
    ),
    Case(
        "us_bank/Checking - 7702_03-01-2026_03-31-2026.csv",
        "sam",
        "us_bank",
        ("us_bank", 4, 4, 0, "{}"),
        [
            (2, "2026-03-02", -4108, "sam", "", None, "SAFEWAY #1711"),
            (3, "2026-03-05", 285000, "sam", "", None, "GLOBEX CORP DIRECT DEP"),
            (4, "2026-03-09", 649, "sam", "", None, "SAFEWAY #1711 RETURN"),
            (5, "2026-03-15", -19646, "sam", "", None, "WEB AUTHORIZED PMT DISCOVER"),
        ],
    ),
    Case(
        # Two title lines; the beginning-balance row (line 4) and the summary (line 9) have
        # no ID. A transfer to the bank has no note, hence no description.
        "venmo_statement/VenmoStatement_March_2026.csv",
        "alex",
        "venmo_statement",
        ("venmo_statement", 6, 4, 2, '{"skip_rows": 2}'),
        [
            (5, "2026-03-03", -1850, "alex", "", None,
             "🍕 pizza night · Payment · Alex Rivera · Sam Chen"),
            (6, "2026-03-05", 115000, "alex", "", None,
             "March utilities · Payment · Sam Chen · Alex Rivera"),
            (7, "2026-03-08", -1200, "alex", "", None,
             "coffee · Payment · Alex Rivera · Riley Park"),
            (8, "2026-03-09", -100000, "alex", "", None, "Standard Transfer"),
        ],
    ),
    Case(
        # Newest first, every cell quoted, dates in EST then EDT; line 2, a failed payment, is
        # skipped. The notes start the description; the other party ends it.
        "cash_app/cash_app_report_1775034000000.csv",
        "alex",
        "cash_app",
        ("cash_app", 5, 4, 1, '{"skip_rows": 1}'),
        [
            (3, "2026-03-11", -1485, "alex", "", None, "SWEETGREEN OAKLAND · Cash Card Debit"),
            (4, "2026-03-10", -950, "alex", "", None, "lunch · Sent P2P · Riley Park"),
            (5, "2026-03-06", 2600, "alex", "", None, "internet bill · Received P2P · Sam Chen"),
            (6, "2026-03-04", -2200, "alex", "", None, "tacos · Sent P2P · Sam Chen"),
        ],
    ),
    Case(
        # Line 5 received 60.00 less a 2.58 fee: Net, 57.42, is what moved. Line 6, a pending
        # authorisation, does not touch the balance (Balance Impact: Memo).
        "paypal/Download.CSV",
        "alex",
        "paypal",
        ("paypal", 5, 4, 1, '{"skip_rows": 1}'),
        [
            (2, "2026-03-02", -3120, "alex", "", None, "groceries · General Payment · Sam Chen"),
            (3, "2026-03-04", 124000, "alex", "", None,
             "April rent share · General Payment · Sam Chen"),
            (4, "2026-03-07", -1500, "alex", "", None,
             "movie tickets · General Payment · Riley Park"),
            (5, "2026-03-10", 5742, "alex", "", None, "Desk lamp · General Payment · Jordan Lee"),
        ],
    ),
]
# fmt: on


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "workspace")


def load_case(workspace: Path, case: Case) -> None:
    fixture = FIXTURES / case.fixture
    put_in_inbox(workspace, case.inbox, fixture.name, fixture.read_bytes())
    ingest(workspace)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_shipped_schema_loads_its_fixture_exactly(workspace, case):
    load_case(workspace, case)
    assert file_counts(workspace) == [case.counts]
    assert loaded_rows(workspace) == case.rows


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_fixture_is_identified_as_its_own_schema_and_no_other(tmp_path, case):
    # identify() raises when several schemas tie on the most headers.
    schemas = load_schemas(tmp_path / "no_workspace_rules", SHIPPED_RULES_DIR)
    fixture = FIXTURES / case.fixture
    assert identify(fixture, fixture.read_bytes(), schemas).schema.id == case.schema_id


def test_every_shipped_schema_has_a_fixture(tmp_path):
    shipped = load_schemas(tmp_path / "no_workspace_rules", SHIPPED_RULES_DIR).shipped
    assert sorted(schema.id for schema in shipped) == sorted({case.schema_id for case in CASES})


def test_every_shipped_schema_names_its_institution_and_describes_itself(tmp_path):
    shipped = load_schemas(tmp_path / "no_workspace_rules", SHIPPED_RULES_DIR).shipped
    assert [s.id for s in shipped if not s.static.get("institution")] == []
    assert [s.id for s in shipped if len(s.description) < 40] == []


# Columns beyond the common ones that a layout fills, per fixture, in line order.
# fmt: off
LAYOUT_COLUMNS = [
    (
        "chase_checking_statement/Chase_Total_Checking_2026-03.csv",
        "alex",
        "reference, institution",
        [
            ("3411650794, 90753612981885", "Chase"),
            ("30000023757", "Chase"),
            ("30000031676", "Chase"),
            ("30000039595", "Chase"),
            ("30000047514", "Chase"),
        ],
    ),
    (
        "rocket_money/2026-04-01T08_12_33.118Z-transactions.csv",
        JOINT_INBOX,
        "source_kind, merchant_text, category_text, note",
        [
            ("aggregator", "Whole Foods", "Groceries", None),
            ("aggregator", "Globex", "Income", None),
            ("aggregator", "Target", "Shopping", "returned lamp"),
            ("aggregator", "Blue Bottle Coffee", "Dining & Drinks", None),
        ],
    ),
    (
        # Blank Allowed Amount = all of it shared (static sharing); $0.00 and "$ -" = personal.
        "manual_expense_ledger/Shared expenses - Sep 2026.csv",
        JOINT_INBOX,
        "member_text, merchant_text, shared_amount_cents, static_sharing",
        [
            ("Alex Expenses", "Costco", None, "shared"),
            ("Sam", "Trader Joe's", 2500, "shared"),
            ("Alex", "Target", None, "shared"),
            ("Sam", "Farmers market", 0, "shared"),
            ("Alex Expenses", "City parking", 0, "shared"),
        ],
    ),
    (
        "manual_expense_ledger_detailed/Shared expenses - Oct 2026.csv",
        JOINT_INBOX,
        "member_text, merchant_text, category_text, shared_amount_cents",
        [
            ("Sam", "Safeway", "Groceries", None),
            ("Alex Expenses", "PG&E", "Utilities", None),
            ("Alex", "REI", "Outdoors", 0),
            ("Sam", "Safeway", "Groceries", None),
        ],
    ),
    (
        "rent_schedule/rent_schedule_2026.csv",
        "alex",
        "static_sharing, static_policy, institution",
        [("shared", "rent", "Landlord")] * 3,
    ),
    (
        "chase_checking/Chase6173_Activity_20260401.CSV",
        "alex",
        "balance_cents, reference",
        [(225413, None), (275413, "1043"), (287413, None), (279913, None), (284800, None)],
    ),
    (
        "american_express_card/activity.csv",
        "alex",
        "purchased_by, reference, category_text",
        [
            ("ALEX RIVERA", "'320260620012345678'", "Restaurant-Restaurant"),
            ("SAM CHEN", "'320260660023456789'", "Merchandise & Supplies-Groceries"),
            ("SAM CHEN", "'320260690034567890'", "Merchandise & Supplies-Internet Purchase"),
            ("ALEX RIVERA", "'320260790045678901'", None),
        ],
    ),
    (
        "citi_card/Citi_Custom_Cash_2026-03.csv",
        "sam",
        "status_text",
        [("Cleared",)] * 4,
    ),
    (
        "bank_of_america_checking/stmt.csv",
        "alex",
        "balance_cents",
        [(435000,), (425358,), (305358,), (296534,)],
    ),
    (
        "apple_card/Apple Card Transactions - March 2026.csv",
        "sam",
        "purchased_by, merchant_text, posted_date::varchar",
        [
            ("Sam Chen", "Uber Eats", "2026-03-02"),
            ("Alex Rivera", "Apple Services", "2026-03-05"),
            ("Sam Chen", "Uber Eats", "2026-03-10"),
            ("Sam Chen", "Ach Deposit Internet Transfer From Account Ending In 3850", "2026-03-27"),
        ],
    ),
    (
        "us_bank/Checking - 7702_03-01-2026_03-31-2026.csv",
        "sam",
        "note",
        [
            ("Download from usbank.com. SAFEWAY #1711 OAKLAND CA",),
            ("Download from usbank.com. GLOBEX CORP",),
            ("Download from usbank.com.",),
            ("Download from usbank.com.",),
        ],
    ),
    (
        # The counterparty is From and To (one of them the owner), never the note.
        "venmo_statement/VenmoStatement_March_2026.csv",
        "alex",
        "source_kind, reference, institution, counterparty_text",
        [
            ("payment_app", "4113750123456789012", "Venmo", "Alex Rivera · Sam Chen"),
            ("payment_app", "4113750123456789013", "Venmo", "Sam Chen · Alex Rivera"),
            ("payment_app", "4113750123456789014", "Venmo", "Alex Rivera · Riley Park"),
            ("payment_app", "4113750123456789015", "Venmo", None),
        ],
    ),
    (
        # The counterparty is Name of sender/receiver; a Cash Card purchase has none, and the
        # notes (there, the merchant) are never it.
        "cash_app/cash_app_report_1775034000000.csv",
        "alex",
        "source_kind, institution, reference, status_text, counterparty_text",
        [
            ("payment_app", "Cash App", "q9m3taz", "CARD CHARGED", None),
            ("payment_app", "Cash App", "p2h7znx", "PAYMENT SENT", "Riley Park"),
            ("payment_app", "Cash App", "n6c1rbq", "PAYMENT DEPOSITED", "Sam Chen"),
            ("payment_app", "Cash App", "m3b5qev", "PAYMENT SENT", "Sam Chen"),
        ],
    ),
    (
        # Balance is the running balance after each row: 40.00 before the first, plus Net.
        "paypal/Download.CSV",
        "alex",
        "source_kind, institution, reference, status_text, balance_cents, counterparty_text",
        [
            ("payment_app", "PayPal", "2KT48391LM0562204", "Completed", 880, "Sam Chen"),
            ("payment_app", "PayPal", "5RW10927HX3318455", "Completed", 124880, "Sam Chen"),
            ("payment_app", "PayPal", "7DN55102QA4471930", "Completed", 123380, "Riley Park"),
            ("payment_app", "PayPal", "9GC30418TB2290617", "Completed", 129122, "Jordan Lee"),
        ],
    ),
]
# fmt: on


@pytest.mark.parametrize(
    ("fixture", "inbox", "columns", "expected"),
    LAYOUT_COLUMNS,
    ids=[Path(fixture).stem for fixture, *_ in LAYOUT_COLUMNS],
)
def test_a_layout_fills_its_own_columns(workspace, fixture, inbox, columns, expected):
    path = FIXTURES / fixture
    put_in_inbox(workspace, inbox, path.name, path.read_bytes())
    ingest(workspace)
    assert query(workspace, f"select {columns} from raw.transactions order by line_number") == (
        expected
    )


def test_date_description_amount_alone_is_not_taken_for_american_express(workspace):
    # Those three headers are common to many banks; guessing the Amex sign would be wrong.
    put_in_inbox(
        workspace,
        "alex",
        "credit_union_export.csv",
        b"Date,Description,Amount\n03/03/2026,BLUE BOTTLE COFFEE,-6.25\n",
    )
    output = ingest(workspace)
    assert (
        "rejected csv_inbox/alex/credit_union_export.csv: no schema matches; closest is "
        "american_express_card_basic (missing headers: none; file name does not match "
        "'(?i)amex|american.?express|^activity')"
    ) in output


def test_every_layout_goes_through_staging_and_the_invariants(tmp_path):
    """All fixtures in one household, built: rows and money reach staging exactly
    (docs/rules.md#invariants: 1, 2, 9)."""
    workspace = make_workspace(tmp_path / "all_layouts")
    for case in CASES:
        fixture = FIXTURES / case.fixture
        # A folder per schema inside the member's inbox: two banks both name files activity.csv.
        inbox = f"{case.inbox}/{case.schema_id}" if case.inbox else case.inbox
        put_in_inbox(workspace, inbox, fixture.name, fixture.read_bytes())

    result = invoke("run", "--workspace", str(workspace))

    assert result.exit_code == 0, result.output
    assert f"{len(CASES)} loaded, 0 rejected, 0 unchanged" in result.output
    per_file = query(
        workspace,
        """
        select files.schema_id, files.rows_loaded, files.amount_cents_total,
            count(staged.line_number), coalesce(sum(staged.amount_cents), 0)
        from staging.stg_ingest__files as files
        left join staging.stg_ingest__transactions as staged using (file_sha256)
        group by all order by all
    """,
    )
    expected = sorted(
        (case.schema_id, len(case.rows), sum(row[2] for row in case.rows), len(case.rows),
         sum(row[2] for row in case.rows))
        for case in CASES
    )  # fmt: skip
    assert per_file == expected
    checked = query(workspace, "select count(*), count(*) filter (where is_matching) "
                               "from intermediate.int_statement_balances_checked")  # fmt: skip
    assert checked[0][0] > 0 and checked[0][0] == checked[0][1]
