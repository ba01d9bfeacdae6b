"""One purchase, counted once: account identity and duplicates across every source (§9.3, §9.5).

Each test is a small household of Alex and Sam (equal weights) with real-looking exports, and the
balance worked out by hand in the test. The files use the shipped layouts of tests/fixtures.
"""

from __future__ import annotations

import openpyxl

from support import invoke, net_cents, put_in_inbox, query

MEMBERS = "member_id,display_name,aliases\nalex,Alex,alex\nsam,Sam,sam\n"
EQUAL_SPLIT = "policy,member_id,weight,effective_from\ndefault,alex,1,\ndefault,sam,1,\n"
SHARING_HEADER = (
    "rule_id,merchant,category,description,account,member,min_cost,max_cost,sharing,policy,"
    "payer_share_pct\n"
)
EVERYTHING_SHARED = SHARING_HEADER + "all,,,,,,,,shared,,\n"
MONARCH = "Date,Merchant,Category,Account,Original Statement,Notes,Amount,Tags\n"
CAPITAL_ONE = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
CHASE_CARD = "Transaction Date,Post Date,Description,Category,Type,Amount,Memo\n"
ROCKET = (
    "Date,Original Date,Account Type,Account Name,Account Number,Institution Name,Name,"
    "Custom Name,Amount,Description,Category,Note,Ignored From,Tax Deductible\n"
)


def household(root, accounts: str, sharing_rules: str = EVERYTHING_SHARED):
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


def counted(workspace) -> list[tuple]:
    """Every transaction that is not a duplicate: date, description, payer, cost, sharing."""
    return query(
        workspace,
        "select transaction_date::varchar, description, payer_member_id, cost::varchar, sharing "
        "from marts.fct_transactions where kind <> 'duplicate' "
        "order by transaction_date, description, payer_member_id",
    )


def test_two_accounts_ending_in_the_same_digits_are_two_accounts(tmp_path):
    # Alex's card and Sam's checking both end in 3850. The same day, each paid 40.00 at
    # Amazon. Only Alex's purchases are shared (a rule on the payer): Alex paid 40.00
    # shared, Sam owes half: 20.00. Keying by the last four digits made both rows one
    # transaction, and the first line (Sam's) hid Alex's purchase: "All settled up."
    workspace = household(
        tmp_path / "ws",
        "account_pattern,member_id,account_label\nCapitalOne,alex,\nWF CHECKING,sam,\n",
        SHARING_HEADER + "alex_buys,,,,,alex,,,shared,,\n",
    )
    put_in_inbox(
        workspace,
        "sam",
        "monarch.csv",
        (
            MONARCH
            + "2026-03-05,Amazon,Shopping,WF CHECKING (...3850),AMAZON MKTPLACE,,-40.00,\n"
            + "2026-03-05,Amazon,Shopping,CapitalOne (...3850),AMAZON MKTPLACE,,-40.00,\n"
        ).encode(),
    )

    assert run(workspace) == "Sam owes Alex $20.00"
    assert counted(workspace) == [
        ("2026-03-05", "AMAZON MKTPLACE", "alex", "40.00", "shared"),
        ("2026-03-05", "AMAZON MKTPLACE", "sam", "40.00", "pending"),
    ]
    ids = query(workspace, "select count(distinct txn_id), count(*) from raw.transactions")
    assert ids == [(2, 2)]


CHASE_SAPPHIRE = (
    CHASE_CARD
    + "03/07/2026,03/08/2026,NETFLIX.COM,Entertainment,Sale,-15.48,\n"
    + "03/05/2026,03/06/2026,SHELL OIL 5741,Gas,Sale,-45.10,\n"
    + "03/03/2026,03/04/2026,WHOLE FOODS MARKET,Groceries,Sale,-84.36,\n"
)
MONARCH_SAPPHIRE = (
    MONARCH
    + "2026-03-08,Netflix,Streaming,Chase Sapphire (...4821),NETFLIX.COM,,-15.48,\n"
    + "2026-03-05,Shell,Gas,Chase Sapphire (...4821),SHELL OIL 5741,,-45.10,\n"
    + "2026-03-04,Whole Foods,Groceries,Chase Sapphire (...4821),WHOLE FOODS MARKET,,-84.36,\n"
)
# Alex paid 84.36 + 45.10 + 15.48 = 144.94, all shared: Sam owes half, 72.47. Counting the
# card's download and Monarch's copy of the same card both made it 144.94.
SAPPHIRE_STATEMENT = "Sam owes Alex $72.47"


def test_a_card_file_that_names_no_account_is_linked_by_its_mirrored_rows(tmp_path):
    workspace = household(tmp_path / "ws", "account_pattern,member_id,account_label\n4821,alex,\n")
    put_in_inbox(workspace, "alex", "Chase_Activity_20260310.CSV", CHASE_SAPPHIRE.encode())
    put_in_inbox(workspace, "sam", "monarch.csv", MONARCH_SAPPHIRE.encode())

    result = invoke("run", "--workspace", str(workspace))

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == SAPPHIRE_STATEMENT
    link = (
        "linked csv_inbox/alex/Chase_Activity_20260310.CSV to Monarch Money …4821 (alex): "
        "3 of its 3 rows mirror that account"
    )
    assert link in result.output
    assert net_cents(workspace) == {"alex": 7247, "sam": -7247}
    assert query(
        workspace,
        "select count(*) from marts.fct_transactions "
        "where kind = 'duplicate' and not is_suspected_duplicate",
    ) == [(3,)]
    status = invoke("status", "--workspace", str(workspace))
    assert link in status.output
    check = invoke("check", "--workspace", str(workspace))
    assert "Accounts linked by mirrored rows (1):" in check.output
    assert link in check.output
    book = openpyxl.load_workbook(workspace / "output/balance_data.xlsx", read_only=True)
    details = [row[-2] for row in book["Data_Quality"].iter_rows(values_only=True)]
    assert "3 of its 3 rows mirror Monarch Money …4821 (alex)" in details


def test_a_file_pattern_in_accounts_csv_ties_a_file_to_an_account(tmp_path):
    # One mirrored row is too few to link on its own; accounts.csv says which card it is.
    workspace = household(
        tmp_path / "ws",
        "account_pattern,member_id,account_label,file_pattern\n"
        "4821,alex,Chase Sapphire 4821,\n"
        ",alex,Chase Sapphire 4821,^Chase_Activity\n",
    )
    put_in_inbox(
        workspace,
        "alex",
        "Chase_Activity_20260310.CSV",
        (CHASE_CARD + "03/03/2026,03/04/2026,WHOLE FOODS MARKET,Groceries,Sale,-84.36,\n").encode(),
    )
    put_in_inbox(
        workspace,
        "sam",
        "monarch.csv",
        (
            MONARCH
            + "2026-03-04,Whole Foods,Groceries,Chase Sapphire (...4821),"
            + "WHOLE FOODS MARKET,,-84.36,\n"
        ).encode(),
    )

    assert run(workspace) == "Sam owes Alex $42.18"  # 84.36 / 2, once
    assert query(
        workspace,
        "select schema_id, account_label from marts.fct_transactions where kind = 'duplicate'",
    ) == [("monarch_money", "Chase Sapphire 4821")]


def test_a_purchase_seen_in_a_card_file_monarch_and_rocket_money_counts_once(tmp_path):
    # 84.36 shared, once: Sam owes 42.18. The card row could absorb only one aggregator copy,
    # so the other counted too: 84.36.
    workspace = household(
        tmp_path / "ws",
        "account_pattern,member_id,account_label\n2463,alex,Capital One Savor 2463\n",
    )
    put_in_inbox(
        workspace,
        "alex",
        "2026-03-31_transaction_download.csv",
        (CAPITAL_ONE + "2026-03-03,2026-03-04,2463,WHOLE FOODS MARKET,Groceries,84.36,\n").encode(),
    )
    put_in_inbox(
        workspace,
        "sam",
        "monarch.csv",
        (
            MONARCH
            + "2026-03-04,Whole Foods,Groceries,CapitalOne Savor (...2463),"
            + "WHOLE FOODS MARKET,,-84.36,\n"
        ).encode(),
    )
    put_in_inbox(
        workspace,
        "sam",
        "rocket.csv",
        (
            ROCKET
            + "2026-03-03,2026-03-03,Credit Card,Savor ...2463,2463,Capital One,Whole Foods,,84.36,"
            "WHOLE FOODS MARKET #10234,Groceries,,,\n"
        ).encode(),
    )

    assert run(workspace) == "Sam owes Alex $42.18"
    duplicates = query(
        workspace,
        "select schema_id, duplicate_of_txn_id = (select txn_id from "
        "marts.fct_transactions where schema_id = 'capital_one_card') "
        "from marts.fct_transactions where kind = 'duplicate' "
        "order by schema_id",
    )
    assert duplicates == [("monarch_money", True), ("rocket_money", True)]


def test_one_monarch_export_in_both_members_folders_counts_once(tmp_path):
    # Alex paid 84.36, Sam 79.98 + 30.00 = 109.98, all shared: Alex is owed 42.18 and owes
    # 54.99, so Alex owes Sam 12.81. Counting the overlap twice gave Alex 168.72 / 2 = 84.36
    # and Sam (159.96 + 30.00) / 2 = 94.98: "Alex owes Sam $10.62".
    workspace = household(
        tmp_path / "ws", "account_pattern,member_id,account_label\n2463,alex,\n3850,sam,\n"
    )
    first_download = (
        "2026-03-04,Comcast,Internet,WF EVERYDAY CHECKING (...3850),COMCAST XFINITY,,-79.98,\n"
        "2026-03-02,Whole Foods,Groceries,CapitalOne Savor (...2463),WHOLE FOODS MARKET,,-84.36,\n"
    )
    put_in_inbox(
        workspace,
        "alex",
        "monarch_transactions_2026-03-10.csv",
        (MONARCH + first_download).encode(),
    )
    put_in_inbox(
        workspace,
        "sam",
        "monarch_transactions_2026-03-12.csv",
        (
            MONARCH
            + "2026-03-11,Trader Joe's,Groceries,WF EVERYDAY CHECKING (...3850),"
            + "TRADER JOE S,,-30.00,\n"
            + first_download
        ).encode(),
    )

    assert run(workspace) == "Alex owes Sam $12.81"
    assert net_cents(workspace) == {"alex": -1281, "sam": 1281}
    assert query(workspace, "select count(*), sum(loaded_copies) from marts.fct_transactions") == [
        (3, 5)
    ]


def test_four_daily_coffees_dated_a_day_later_by_the_aggregator_all_pair(tmp_path):
    # Four 5.00 coffees, shared: Sam owes 10.00. Nearest-first matching paired three at
    # zero days and left the first card row and the last Monarch row four days apart: five
    # coffees counted, 12.50.
    workspace = household(
        tmp_path / "ws",
        "account_pattern,member_id,account_label\n2463,alex,Capital One Savor 2463\n",
    )
    card = "".join(
        f"2026-03-0{day},2026-03-0{day},2463,BLUE BOTTLE COFFEE,Dining,5.00,\n"
        for day in (1, 2, 3, 4)
    )
    monarch = "".join(
        f"2026-03-0{day},Blue Bottle,Coffee Shops,CapitalOne Savor (...2463),"
        "BLUE BOTTLE COFFEE,,-5.00,\n"
        for day in (2, 3, 4, 5)
    )
    put_in_inbox(workspace, "alex", "savor.csv", (CAPITAL_ONE + card).encode())
    put_in_inbox(workspace, "sam", "monarch.csv", (MONARCH + monarch).encode())

    assert run(workspace) == "Sam owes Alex $10.00"
    assert query(
        workspace,
        "select count(*), count(*) filter (where is_suspected_duplicate), "
        "max(duplicate_reason) from marts.fct_transactions "
        "where kind = 'duplicate'",
    ) == [
        (4, 0, "same account and amount, 1 day(s) apart; aggregator row yields to capital_one_card")
    ]


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


def two_meals_after_a_monarch_answer(tmp_path):
    """Sam's Monarch shows a 12.50 meal on Alex's card, answered Y; then Alex's card file
    brings two 12.50 meals, one day before and one day after it: a tie."""
    workspace = household(
        tmp_path / "ws",
        "account_pattern,member_id,account_label\n2463,alex,Capital One Savor 2463\n",
        SHARING_HEADER,
    )
    put_in_inbox(workspace, "sam", "monarch.csv", CHIPOTLE_MONARCH.encode())
    run(workspace)
    row, monarch_meal = queue_row(workspace, "CHIPOTLE 1187", "shared")
    type_answer(workspace, row, "Y")
    assert run(workspace) == "Sam owes Alex $6.25"
    put_in_inbox(workspace, "alex", "savor.csv", CHIPOTLE_CARD.encode())
    return workspace, monarch_meal


def test_an_answer_given_before_a_row_became_a_suspect_does_not_close_the_question(tmp_path):
    # The Y said "shared", not "no copy of anything". Now the Monarch meal may be either card
    # meal: it waits for D, out of the balance, and the two card meals wait for Y/N/S. Reading
    # the old Y as "not a duplicate" counted three meals: 12.50 shared, "Sam owes Alex $6.25".
    workspace, monarch_meal = two_meals_after_a_monarch_answer(tmp_path)

    assert run(workspace) == "All settled up."
    _, suspect = queue_row(workspace, "CHIPOTLE 1187", "duplicate")
    assert suspect == monarch_meal
    assert query(
        workspace, "select count(*) from marts.fct_transactions where is_pending_review"
    ) == [(2,)]

    # D confirms it; its Y moves to the card meal it copies: 12.50 shared, Sam owes 6.25.
    type_answer(workspace, queue_row(workspace, "CHIPOTLE 1187", "duplicate")[0], "D")
    assert run(workspace) == "Sam owes Alex $6.25"
    assert counted(workspace) == [
        ("2026-03-04", "CHIPOTLE 1187", "alex", "12.50", "shared"),
        ("2026-03-06", "CHIPOTLE 1187", "alex", "12.50", "pending"),
    ]


def test_y_typed_to_the_duplicate_question_means_not_a_duplicate(tmp_path):
    # Three meals after all: the Monarch one counts, shared (12.50 / 2 = 6.25), and the
    # journal says both things the Y meant.
    workspace, monarch_meal = two_meals_after_a_monarch_answer(tmp_path)
    run(workspace)

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


def test_check_finds_two_accounts_that_mirror_each_other_and_prints_the_fix(tmp_path):
    # accounts.csv gives Monarch's Savor rows an owner but no label: the card's download and
    # Monarch's copy are two accounts, and each purchase counts twice: (84.36 + 45.10) * 2 =
    # 258.92 shared, Sam owes 129.46. With the suggested line, once: 129.46 / 2 = 64.73.
    workspace = household(tmp_path / "ws", "account_pattern,member_id,account_label\nSavor,alex,\n")
    put_in_inbox(
        workspace,
        "alex",
        "2026-03-31_transaction_download.csv",
        (
            CAPITAL_ONE
            + "2026-03-03,2026-03-04,2463,WHOLE FOODS MARKET,Groceries,84.36,\n"
            + "2026-03-05,2026-03-06,2463,SHELL OIL 5741,Gas,45.10,\n"
        ).encode(),
    )
    put_in_inbox(
        workspace,
        "sam",
        "monarch.csv",
        (
            MONARCH
            + "2026-03-04,Whole Foods,Groceries,CapitalOne Savor (...2463),"
            + "WHOLE FOODS MARKET,,-84.36,\n"
            + "2026-03-05,Shell,Gas,CapitalOne Savor (...2463),SHELL OIL 5741,,-45.10,\n"
        ).encode(),
    )
    assert run(workspace) == "Sam owes Alex $129.46"

    check = invoke("check", "--workspace", str(workspace))

    assert check.exit_code == 1
    assert (
        "Accounts that look like one account under two names (1):\n"
        "  Capital One …2463 (alex) and Monarch Money …2463 (alex): 2 of the 2 rows of "
        "Capital One …2463 (alex) have an equal row in Monarch Money …2463 (alex) within 3 days: "
        "one account under two names?\n"
        "    → give both one label in household/accounts.csv "
        "(the line 2463,alex,Capital One …2463 (alex)), then balance run\n"
    ) in check.output

    with (workspace / "household/accounts.csv").open("a", encoding="utf-8") as accounts:
        accounts.write("2463,alex,Capital One …2463 (alex)\n")
    assert run(workspace) == "Sam owes Alex $64.73"
    assert (
        "one account under two names" not in invoke("check", "--workspace", str(workspace)).output
    )
