"""One purchase, counted once: account identity and duplicates across every source
(docs/rules.md#duplicates).

A household of Alex and Sam (equal weights) with the messy inbox real households have: a
Monarch export downloaded into both members' folders (the later one covers a few more days),
Rocket Money, card downloads that name no card, and accounts named differently by each source.
Each numbered case of the duplicates rules has its own accounts and amounts in it; each test
checks what its case adds to Alex's balance, worked out by hand, and the first test the total.
The shipped layouts are those of tests/fixtures.
"""

from __future__ import annotations

import shutil

import openpyxl
import pytest

from support import invoke, net_cents, put_in_inbox, query

MEMBERS = "member_id,display_name,aliases\nalex,Alex,alex\nsam,Sam,sam\n"
EQUAL_SPLIT = "policy,member_id,weight,effective_from\ndefault,alex,1,\ndefault,sam,1,\n"
SHARING_HEADER = (
    "rule_id,merchant,category,description,account,member,min_cost,max_cost,sharing,policy,"
    "payer_share_pct\n"
)
# Alex's shopping is shared, Sam's is his own; everything else is shared.
SHARING_RULES = (
    SHARING_HEADER
    + "alex_shopping,,^Shopping$,,,alex,,,shared,,\n"
    + "own_shopping,,^Shopping$,,,,,,personal,,\n"
    + "everything,,,,,,,,shared,,\n"
)
ACCOUNTS = (
    "account_pattern,member_id,account_label,file_pattern\n"
    "Quicksilver,alex,,\n"  # case 1: ends in 3850, like Sam's checking
    "WF CHECKING,sam,,\n"
    "4821,alex,,\n"  # case 2: Monarch's Sapphire; the Chase download names no card
    "7788,alex,Chase Freedom 7788,\n"  # a Chase download tied by its file name
    ",alex,Chase Freedom 7788,^Chase7788_\n"
    "2463,alex,Capital One Savor 2463,\n"  # cases 3 and 5: card file, Monarch, Rocket Money
    "6120,sam,,\n"  # case 4
    "Venture,sam,,\n"  # an owner but no label: the card file and Monarch stay two accounts
)
MONARCH = "Date,Merchant,Category,Account,Original Statement,Notes,Amount,Tags\n"
CAPITAL_ONE = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
CHASE_CARD = "Transaction Date,Post Date,Description,Category,Type,Amount,Memo\n"
ROCKET = (
    "Date,Original Date,Account Type,Account Name,Account Number,Institution Name,Name,"
    "Custom Name,Amount,Description,Category,Note,Ignored From,Tax Deductible\n"
)
MONARCH_ROWS = (
    # case 1: the same purchase amount, day and description on two accounts ending in 3850
    "2026-03-05,Amazon,Shopping,WF CHECKING (...3850),AMAZON MKTPLACE,,-40.00,\n"
    "2026-03-05,Amazon,Shopping,Quicksilver (...3850),AMAZON MKTPLACE,,-40.00,\n"
    # case 2: the card of Alex's Chase download
    "2026-03-08,Netflix,Streaming,Chase Sapphire (...4821),NETFLIX.COM,,-15.48,\n"
    "2026-03-05,Shell,Gas,Chase Sapphire (...4821),SHELL OIL 5741,,-45.10,\n"
    "2026-03-04,Wegmans,Groceries,Chase Sapphire (...4821),WEGMANS #88,,-71.36,\n"
    # the card of Alex's other Chase download
    "2026-03-09,Apple,Electronics,Chase Freedom (...7788),APPLE.COM/BILL,,-61.20,\n"
    # case 3: also in the card file and in Rocket Money
    "2026-03-04,Whole Foods,Groceries,CapitalOne Savor (...2463),WHOLE FOODS MARKET,,-92.14,\n"
    # case 5: four coffees, dated a day after the card's
    + "".join(
        f"2026-03-0{day},Blue Bottle,Coffee Shops,CapitalOne Savor (...2463),"
        "BLUE BOTTLE COFFEE,,-5.00,\n"
        for day in (2, 3, 4, 5)
    )
    # case 4: Sam's checking
    + "2026-03-04,Comcast,Internet,WF EVERYDAY CHECKING (...6120),COMCAST XFINITY,,-79.98,\n"
    # the card of Sam's own download, which Monarch names another way
    "2026-03-06,Costco,Groceries,Venture (...9911),COSTCO WHSE #0423,,-33.32,\n"
    "2026-03-07,Safeway,Groceries,Venture (...9911),SAFEWAY #1211,,-27.90,\n"
)
INBOX = {
    ("sam", "monarch_transactions_2026-03-10.csv"): MONARCH + MONARCH_ROWS,
    # case 4: the same export downloaded two days later, into Alex's folder
    ("alex", "monarch_transactions_2026-03-12.csv"): MONARCH
    + "2026-03-11,Trader Joe's,Groceries,WF EVERYDAY CHECKING (...6120),TRADER JOE S,,-30.00,\n"
    + MONARCH_ROWS,
    ("alex", "Chase_Activity_20260310.CSV"): CHASE_CARD
    + "03/07/2026,03/08/2026,NETFLIX.COM,Entertainment,Sale,-15.48,\n"
    + "03/05/2026,03/06/2026,SHELL OIL 5741,Gas,Sale,-45.10,\n"
    + "03/03/2026,03/04/2026,WEGMANS #88,Groceries,Sale,-71.36,\n",
    ("alex", "Chase7788_Activity_20260310.CSV"): CHASE_CARD
    + "03/09/2026,03/10/2026,APPLE.COM/BILL,Shopping,Sale,-61.20,\n",
    ("alex", "2026-03-31_transaction_download.csv"): CAPITAL_ONE
    + "2026-03-03,2026-03-04,2463,WHOLE FOODS MARKET,Groceries,92.14,\n"
    + "".join(
        f"2026-03-0{day},2026-03-0{day},2463,BLUE BOTTLE COFFEE,Dining,5.00,\n"
        for day in (1, 2, 3, 4)
    ),
    ("sam", "rocket.csv"): ROCKET
    + "2026-03-03,2026-03-03,Credit Card,Savor ...2463,2463,Capital One,Whole Foods,,92.14,"
    + "WHOLE FOODS MARKET,Groceries,,,\n",
    ("sam", "venture_2026-03.csv"): CAPITAL_ONE
    + "2026-03-06,2026-03-07,9911,COSTCO WHSE #0423,Groceries,33.32,\n"
    + "2026-03-07,2026-03-08,9911,SAFEWAY #1211,Groceries,27.90,\n",
}


def household(root, accounts: str = ACCOUNTS, sharing_rules: str = SHARING_RULES):
    (root / "household").mkdir(parents=True)
    (root / "household/members.csv").write_text(MEMBERS)
    (root / "household/split_policies.csv").write_text(EQUAL_SPLIT)
    (root / "household/accounts.csv").write_text(accounts)
    (root / "household/sharing_rules.csv").write_text(sharing_rules)
    return root


def run(workspace) -> str:
    """`balance run`; returns its last line, the statement."""
    result = invoke("run", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """The household after one `balance run`, and that run's output. Read it; never change it."""
    workspace = household(tmp_path_factory.mktemp("messy") / "household")
    for (member, name), text in INBOX.items():
        put_in_inbox(workspace, member, name, text.encode())
    result = invoke("run", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return workspace, result.output


def alex_gains(workspace, where: str) -> int:
    """What the expenses matching `where` add to Alex's balance, in cents."""
    return query(
        workspace,
        "select coalesce(sum(fct_shares.balance_effect_cents), 0)::bigint from marts.fct_shares "
        "inner join marts.fct_transactions using (txn_id) "
        f"where fct_shares.member_id = 'alex' and ({where})",
    )[0][0]


def counted(workspace, where: str) -> list[tuple]:
    """The transactions matching `where` that count: date, description, payer, cost, sharing."""
    return query(
        workspace,
        "select transaction_date::varchar, description, payer_member_id, cost::varchar, sharing "
        f"from marts.fct_transactions where kind <> 'duplicate' and ({where}) "
        "order by transaction_date, description, payer_member_id",
    )


def test_the_household_balance_is_the_sum_of_the_cases_worked_out_below(messy):
    workspace, output = messy
    # Alex: +20.00 (case 1) +65.97 (case 2) +30.60 (Freedom) +46.07 (case 3) +10.00 (case 5);
    # Sam: 54.99 (case 4) and 61.22 (his card, counted twice: 2 × 30.61) owed to him.
    # 2000 + 6597 + 3060 + 4607 + 1000 - 5499 - 6122 = 5643.
    assert output.strip().splitlines()[-1] == "Sam owes Alex $56.43"
    assert net_cents(workspace) == {"alex": 5643, "sam": -5643}
    assert query(
        workspace, "select count(*) from marts.fct_transactions where is_suspected_duplicate"
    ) == [(0,)]


def test_two_accounts_ending_in_the_same_digits_are_two_accounts(messy):
    # Alex's Quicksilver card and Sam's checking both end in 3850. The same day each paid 40.00
    # at Amazon; Alex's shopping is shared: Sam owes 20.00. Keyed by the last four digits,
    # both rows were one transaction and the first line (Sam's) hid Alex's purchase: 0.
    workspace, _ = messy
    where = "description = 'AMAZON MKTPLACE'"
    assert alex_gains(workspace, where) == 2000
    assert counted(workspace, where) == [
        ("2026-03-05", "AMAZON MKTPLACE", "alex", "40.00", "shared"),
        ("2026-03-05", "AMAZON MKTPLACE", "sam", "40.00", "personal"),
    ]
    assert query(
        workspace,
        "select count(distinct txn_id) from raw.transactions where description = 'AMAZON MKTPLACE'",
    ) == [(2,)]


def test_a_card_file_that_names_no_account_is_linked_by_its_mirrored_rows(messy):
    # 15.48 + 45.10 + 71.36 = 131.94 on the Sapphire card, shared once: Sam owes 65.97.
    # Unlinked, the Chase download and Monarch's rows both counted: 131.94.
    workspace, output = messy
    assert alex_gains(workspace, "account_label = 'Chase Sapphire …4821 (alex)'") == 6597
    link = (
        "linked csv_inbox/alex/Chase_Activity_20260310.CSV to Chase Sapphire …4821 (alex): "
        "3 of its 3 rows mirror that account"
    )
    assert link in output.splitlines()
    assert query(
        workspace,
        "select schema_id, count(*) from marts.fct_transactions "
        "where account_label = 'Chase Sapphire …4821 (alex)' and kind = 'duplicate' "
        "group by schema_id",
    ) == [("monarch_money", 3)]
    status = invoke("status", "--workspace", str(workspace))
    assert link in status.output.splitlines()
    check = invoke("check", "--workspace", str(workspace))
    assert f"Accounts linked by mirrored rows (1):\n  {link}\n" in check.output
    book = openpyxl.load_workbook(workspace / "output/balance_data.xlsx", read_only=True)
    quality = [row for row in book["Data_Quality"].iter_rows(values_only=True)]
    assert ("account linked", "3 of its 3 rows mirror Chase Sapphire …4821 (alex)") in [
        (row[0], row[-2]) for row in quality
    ]


def test_a_file_pattern_in_accounts_csv_ties_a_file_to_an_account(messy):
    # One mirrored row is too few to link on its own; accounts.csv says which card it is.
    # 61.20 shared once: Sam owes 30.60.
    workspace, _ = messy
    assert alex_gains(workspace, "account_label = 'Chase Freedom 7788'") == 3060
    assert query(
        workspace,
        "select schema_id, kind from marts.fct_transactions "
        "where account_label = 'Chase Freedom 7788' order by schema_id",
    ) == [
        ("chase_card", "expense"),
        ("monarch_money", "duplicate"),
    ]


def test_a_purchase_seen_in_a_card_file_monarch_and_rocket_money_counts_once(messy):
    # 92.14 shared, once: Sam owes 46.07. The card row could absorb only one aggregator
    # copy, so the other counted too: 92.14.
    workspace, _ = messy
    where = "description like 'WHOLE FOODS%'"
    assert alex_gains(workspace, where) == 4607
    duplicates = query(
        workspace,
        "select schema_id, duplicate_of_txn_id = (select txn_id from "
        "marts.fct_transactions where schema_id = 'capital_one_card' and "
        f"{where}) from marts.fct_transactions where kind = 'duplicate' and "
        f"{where} order by schema_id",
    )
    assert duplicates == [("monarch_money", True), ("rocket_money", True)]


def test_one_monarch_export_in_both_members_folders_counts_once(messy):
    # Sam paid 79.98 + 30.00 = 109.98 from the checking, shared: Alex owes 54.99. With the
    # inbox member in the identity, the rows both downloads hold counted twice: 94.98.
    workspace, _ = messy
    where = "account_label = 'WF EVERYDAY CHECKING …6120 (sam)'"
    assert alex_gains(workspace, where) == -5499
    assert counted(workspace, where) == [
        ("2026-03-04", "COMCAST XFINITY", "sam", "79.98", "shared"),
        ("2026-03-11", "TRADER JOE S", "sam", "30.00", "shared"),
    ]
    # Every Monarch row of the first download is also in the second, and counts once.
    assert query(
        workspace,
        "select loaded_copies, count(*) from marts.fct_transactions "
        "where schema_id = 'monarch_money' group by all order by all",
    ) == [(1, 1), (2, 14)]


def test_four_daily_coffees_dated_a_day_later_by_the_aggregator_all_pair(messy):
    # Four 5.00 coffees, shared: Sam owes 10.00. Nearest-first matching paired three at zero
    # days and left the first card row and the last Monarch row four days apart: five
    # coffees counted, 12.50.
    workspace, _ = messy
    where = "description = 'BLUE BOTTLE COFFEE'"
    assert alex_gains(workspace, where) == 1000
    assert query(
        workspace,
        "select count(*), count(*) filter (where is_suspected_duplicate), "
        f"max(duplicate_reason) from marts.fct_transactions where kind = 'duplicate' "
        f"and {where}",
    ) == [
        (4, 0, "same account and amount, 1 day(s) apart; aggregator row yields to capital_one_card")
    ]


MIRRORED_FINDING = (
    "Accounts that look like one account under two names (1):\n"
    "  Capital One …9911 (sam) and Venture …9911 (sam): 2 of the 2 rows of "
    "Capital One …9911 (sam) have an equal row in Venture …9911 (sam) within 3 days: "
    "one account under two names?\n"
    "    → give both one label in household/accounts.csv "
    "(the line 9911,sam,Capital One …9911 (sam)), then balance run\n"
)


def test_check_finds_two_accounts_that_mirror_each_other_and_prints_the_fix(messy, tmp_path):
    # accounts.csv gives Monarch's Venture rows an owner but no label: Sam's card download and
    # Monarch's copy are two accounts, and each purchase counts twice: (33.32 + 27.90) × 2 =
    # 122.44 shared, Alex owes 61.22. With the suggested line, once: 30.61.
    built, _ = messy
    where = "description in ('COSTCO WHSE #0423', 'SAFEWAY #1211')"
    assert alex_gains(built, where) == -6122
    workspace = shutil.copytree(built, tmp_path / "household")
    check = invoke("check", "--workspace", str(workspace))
    assert check.exit_code == 1
    assert MIRRORED_FINDING in check.output

    with (workspace / "household/accounts.csv").open("a", encoding="utf-8") as accounts:
        accounts.write("9911,sam,Capital One …9911 (sam),\n")

    assert run(workspace) == "Sam owes Alex $87.04"  # 56.43 + 30.61
    assert alex_gains(workspace, where) == -3061
    again = invoke("check", "--workspace", str(workspace))
    assert "one account under two names" not in again.output


def queue_row(workspace, description: str, question: str) -> tuple[int, str]:
    """The Queue_Review row asking `question` of a row with this description, and its txn_id."""
    book = openpyxl.load_workbook(workspace / "output/balance_data.xlsx", read_only=True)
    rows = list(book["Queue_Review"].iter_rows(values_only=True))
    header = list(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, row, strict=True))
        asks = "duplicate" if (cells["Suggestion"] or "").startswith("D:") else "shared"
        if cells["Description"] == description and asks == question:
            return number, cells["txn_id"]
    raise AssertionError(f"no {question!r} question for {description}")


def type_answer(workspace, row: int, shared: str) -> None:
    path = workspace / "output/balance_data.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book["Queue_Review"]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(row, header.index("Shared?") + 1).value = shared
    book.save(path)


CHIPOTLE_MONARCH = (
    MONARCH + "2026-03-05,Chipotle,Restaurants,CapitalOne Savor (...2463),CHIPOTLE 1187,,-12.50,\n"
)
CHIPOTLE_CARD = (
    CAPITAL_ONE
    + "2026-03-04,2026-03-05,2463,CHIPOTLE 1187,Dining,12.50,\n"
    + "2026-03-06,2026-03-07,2463,CHIPOTLE 1187,Dining,12.50,\n"
)


@pytest.fixture(scope="module")
def meal_tie(tmp_path_factory):
    """Sam's Monarch shows a 12.50 meal on Alex's card, answered Y; then Alex's card file
    brings two 12.50 meals, one day before and one day after it: a tie. After three runs: the
    workspace, the Monarch meal's txn_id and the last run's statement. Copy it to change it."""
    workspace = household(
        tmp_path_factory.mktemp("meal") / "household",
        "account_pattern,member_id,account_label\n2463,alex,Capital One Savor 2463\n",
        SHARING_HEADER,
    )
    put_in_inbox(workspace, "sam", "monarch.csv", CHIPOTLE_MONARCH.encode())
    run(workspace)
    row, monarch_meal = queue_row(workspace, "CHIPOTLE 1187", "shared")
    type_answer(workspace, row, "Y")
    assert run(workspace) == "Sam owes Alex $6.25"
    put_in_inbox(workspace, "alex", "savor.csv", CHIPOTLE_CARD.encode())
    return workspace, monarch_meal, run(workspace)


MEALS = "description = 'CHIPOTLE 1187'"


def test_an_answer_given_before_a_row_became_a_suspect_does_not_close_the_question(
    meal_tie, tmp_path
):
    # The Y said "shared", not "no copy of anything". Now the Monarch meal may be either card
    # meal: it waits for D, out of the balance, and the two card meals wait for Y/N/S. Reading
    # the old Y as "not a duplicate" counted three meals: 12.50 shared, "Sam owes Alex $6.25".
    built, monarch_meal, statement = meal_tie
    assert statement == "All settled up."
    assert queue_row(built, "CHIPOTLE 1187", "duplicate")[1] == monarch_meal
    assert query(built, "select count(*) from marts.fct_transactions where is_pending_review") == [
        (2,)
    ]
    # `status` counts the duplicate question apart from the two undecided card meals.
    status = invoke("status", "--workspace", str(built))
    assert (
        status.output.splitlines()[1] == "to review: 2 expense(s), $25.00; 1 duplicate question(s)"
    )

    # D confirms it; its Y moves to the card meal it copies: 12.50 shared, Sam owes 6.25.
    workspace = shutil.copytree(built, tmp_path / "household")
    type_answer(workspace, queue_row(workspace, "CHIPOTLE 1187", "duplicate")[0], "D")
    assert run(workspace) == "Sam owes Alex $6.25"
    assert counted(workspace, MEALS) == [
        ("2026-03-04", "CHIPOTLE 1187", "alex", "12.50", "shared"),
        ("2026-03-06", "CHIPOTLE 1187", "alex", "12.50", "pending"),
    ]


def test_y_typed_to_the_duplicate_question_means_not_a_duplicate(meal_tie, tmp_path):
    # Three meals after all: the Monarch one counts, shared (12.50 / 2 = 6.25), and the
    # journal says both things the Y meant.
    built, monarch_meal, _ = meal_tie
    workspace = shutil.copytree(built, tmp_path / "household")

    type_answer(workspace, queue_row(workspace, "CHIPOTLE 1187", "duplicate")[0], "Y")

    assert run(workspace) == "Sam owes Alex $6.25"
    journal = (workspace / "decisions/review_decisions.csv").read_text().splitlines()
    assert [line.split(",")[:2] for line in journal[-2:]] == [
        [monarch_meal, "not_duplicate"],
        [monarch_meal, "shared"],
    ]
    assert query(
        workspace,
        "select kind, sharing from marts.fct_transactions where txn_id = ?",
        [monarch_meal],
    ) == [("expense", "shared")]
