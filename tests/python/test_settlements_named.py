"""Settlements that mean what the members did (docs/rules.md#settlements): Alex, Sam and Jo
pay each other and people outside the household by Zelle and Venmo.

- Alex pays Sam 50.00 by Zelle on 03-10; Sam's bank shows it on 03-12. On 03-10 Jo receives
  50.00 by Zelle from a stranger. One settlement, Alex → Sam: Alex's leg names Sam, so it pairs
  only with Sam's leg, and Jo's leg names a non-member.
- Alex pays a stranger 30.00 by Zelle on 03-15, the day Sam cashes out 30.00 from Venmo: an
  expense of Alex's, not a settlement.
- Alex's checking pays Alex's card 200.00 (a transfer rule) on 03-20, the day Sam's card
  receives its own 200.00 autopay: two transfers, no settlement.
- Alex's Venmo: 18.50 to Sam (a settlement), 1,150.00 from Sam (a settlement), 45.00 to Riley
  Park with the note "dinner with sam and riley" (an expense: the note is not the counterparty).

By hand: Alex sent Sam 50.00 + 18.50 and received 1,150.00 from Sam; every expense waits for
review. net(Alex) = 5,000 + 1,850 − 115,000 = −108,150 cents; Sam +108,150; Jo 0.
"""

from __future__ import annotations

import pytest

from support import invoke, net_cents, put_in_inbox, query

MEMBERS = (
    "member_id,display_name,aliases\n"
    "alex,Alex,alex|a\\.? rivera\nsam,Sam,sam|s\\.? chen\njo,Jo,jo|j\\.? lee\n"
)
POLICIES = "policy,member_id,weight,effective_from\n" + "".join(
    f"default,{member},1,\n" for member in ("alex", "sam", "jo")
)
CHECKING = "Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #\n"
CARD = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
VENMO = (
    ",ID,Datetime,Type,Status,Note,From,To,Amount (total),Amount (tip),Amount (tax),"
    "Amount (fee),Tax Rate,Tax Exempt,Funding Source,Destination,Beginning Balance,"
    "Ending Balance,Statement Period Venmo Fees,Terms,Year to Date Venmo Fees,Disclaimer\n"
)
FILES = {
    ("alex", "alex_checking.csv"): CHECKING
    + "DEBIT,03/10/2026,Zelle payment to Sam Chen JPM99A1B2,-50.00,QUICKPAY_DEBIT,,,\n"
    + "DEBIT,03/15/2026,Zelle payment to Pat Stranger JPM99C3D4,-30.00,QUICKPAY_DEBIT,,,\n"
    + "DEBIT,03/20/2026,PAYMENT TO CHASE CARD ENDING IN 4821,-200.00,ACCT_XFER,,,\n",
    ("jo", "jo_checking.csv"): CHECKING
    + "CREDIT,03/10/2026,Zelle payment from PAT STRANGER 55500011122,50.00,QUICKPAY_CREDIT,,,\n",
    ("sam", "sam_checking.csv"): CHECKING
    + "CREDIT,03/12/2026,Zelle payment from ALEX RIVERA 55500011123,50.00,QUICKPAY_CREDIT,,,\n"
    + "CREDIT,03/15/2026,VENMO CASHOUT,30.00,ACH_CREDIT,,,\n",
    ("sam", "sam_card.csv"): CARD
    + "2026-03-20,2026-03-20,7730,AUTOPAY PAYMENT - THANK YOU,Payment/Credit,,200.00\n",
    ("alex", "venmo.csv"): VENMO
    + ",4113750123456789012,2026-03-03T19:42:11,Payment,Complete,pizza night,Alex Rivera,"
    "Sam Chen,- $18.50,,0,,0,,Venmo balance,,,,,Venmo,,\n"
    + ",4113750123456789013,2026-03-05T08:15:00,Payment,Complete,March utilities,Sam Chen,"
    'Alex Rivera,"+ $1,150.00",,0,,0,,,Venmo balance,,,,Venmo,,\n'
    + ",4113750123456789014,2026-03-08T12:01:59,Payment,Complete,dinner with sam and riley,"
    "Alex Rivera,Riley Park,- $45.00,,0,,0,,Venmo balance,,,,,Venmo,,\n",
}


@pytest.fixture(scope="module")
def household(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("payments") / "household"
    (workspace / "household").mkdir(parents=True)
    (workspace / "household/members.csv").write_text(MEMBERS)
    (workspace / "household/split_policies.csv").write_text(POLICIES)
    for (member, name), text in FILES.items():
        put_in_inbox(workspace, member, name, text.encode())
    result = invoke("run", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return workspace


def kind_of(workspace, description: str) -> str:
    rows = query(workspace, "select kind from marts.fct_transactions where description like ?",
                 [f"%{description}%"])  # fmt: skip
    assert len(rows) == 1, rows
    return rows[0][0]


def test_each_payment_between_members_is_one_settlement_between_the_members_it_names(household):
    settlements = query(household, "select from_member_id, to_member_id, amount_cents, "
                                   "identified_by from marts.fct_settlements "
                                   "order by settlement_date")  # fmt: skip
    assert settlements == [
        ("alex", "sam", 1850, "named_member"),
        ("sam", "alex", 115000, "named_member"),
        ("alex", "sam", 5000, "paired"),
    ]


@pytest.mark.parametrize(
    ("description", "kind"),
    [
        ("Zelle payment from PAT STRANGER", "income"),  # Jo's: not half of Alex's payment
        ("Zelle payment to Pat Stranger", "expense"),
        ("VENMO CASHOUT", "income"),
        ("PAYMENT TO CHASE CARD", "transfer"),
        ("AUTOPAY PAYMENT - THANK YOU", "transfer"),
        ("dinner with sam and riley", "expense"),
    ],
)
def test_payments_to_or_from_outsiders_are_never_settlements(household, description, kind):
    assert kind_of(household, description) == kind


def test_the_balance_counts_each_payment_once(household):
    assert net_cents(household) == {"alex": -108150, "sam": 108150, "jo": 0}


def test_a_payment_app_row_is_named_by_its_other_party_not_its_note(household):
    """Venmo's From and To: the one that does not name the owner is the merchant."""
    rows = query(
        household,
        "select description, merchant, merchant_source from marts.fct_transactions"
        " where schema_id = 'venmo_statement' order by transaction_date",
    )
    assert [row[1:] for row in rows] == [
        ("Sam Chen", "counterparty"),
        ("Sam Chen", "counterparty"),
        ("Riley Park", "counterparty"),
    ]
