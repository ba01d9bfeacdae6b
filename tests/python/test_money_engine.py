"""The money engine on a household of three, built once: every rule of docs/rules.md with
exact cents.

Alex, Sam and Kim share a flat. Opening balances on 2026-02-01 wipe the slate; January does not
count. Utilities follow a policy that changes on 2026-03-01 (1/1/1, then 2/1/1).
"""

from __future__ import annotations

import hashlib
import shutil

import duckdb
import pytest

from balance.dbt import run_dbt
from core.workspace import Workspace

from support import invoke, put_in_inbox, query

HOUSEHOLD = {
    "members.csv": "member_id,display_name,aliases\nalex,Alex,alex\nsam,Sam,sam\nkim,Kim,kim\n",
    "accounts.csv": "account_pattern,member_id,account_label\n"
    "2463,alex,Alex card 2463\n3850,sam,Sam checking 3850\n7777,kim,Kim card 7777\n",
    "split_policies.csv": "policy,member_id,weight,effective_from\n"
    "default,alex,1,\ndefault,sam,1,\ndefault,kim,1,\n"
    "utilities,alex,1,2025-01-01\nutilities,sam,1,2025-01-01\nutilities,kim,1,2025-01-01\n"
    "utilities,alex,2,2026-03-01\nutilities,sam,1,2026-03-01\nutilities,kim,1,2026-03-01\n"
    "solo,alex,1,\n",
    "sharing_rules.csv": "rule_id,merchant,category,description,account,member,min_cost,"
    "max_cost,sharing,policy,payer_share_pct\n"
    "utilities,,^Utilities$,,,,,,shared,utilities,\ngroceries,,^Groceries$,,,,,,shared,,\n",
    "merchant_lookup.csv": "pattern,merchant,category\nwhole foods,Whole Foods (ours),Groceries\n",
    "opening_balances.csv": "as_of,member_id,net_amount\n"
    "2026-02-01,alex,10.00\n2026-02-01,sam,-4.00\n2026-02-01,kim,-6.00\n",
}
CARD_HEADER = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
FILES = {
    ("alex", "alex_card.csv"): CARD_HEADER
    + "2026-01-15,2026-01-16,2463,GROCERY OUTLET,Groceries,30.00,\n"  # before the clean slate
    + "2026-02-10,2026-02-11,2463,WHOLE FOODS MARKET,Groceries,100.00,\n"  # thirds: a tie
    + "2026-02-20,2026-02-21,2463,PG&E WEB ONLINE,Utilities,60.00,\n"  # 1/1/1
    + "2026-03-05,2026-03-06,2463,PG&E WEB ONLINE,Utilities,90.00,\n"  # 2/1/1
    + "2026-02-20,2026-02-21,2463,AMAZON MKTPLACE,Shopping,25.00,\n"
    + "2026-02-22,2026-02-23,2463,AMAZON MKTPLACE,Shopping,25.00,\n"
    + "2026-03-10,2026-03-11,2463,IKEA,Household,120.00,\n"
    + "2026-03-12,2026-03-13,2463,BOOKSHOP,Shopping,50.00,\n"
    + "2026-03-14,2026-03-15,2463,HARDWARE STORE,Household,40.00,\n",
    ("kim", "kim_card.csv"): CARD_HEADER
    + "2026-02-12,2026-02-13,7777,TRADER JOE S #552,Groceries,45.00,\n"
    + "2026-02-25,2026-02-26,7777,TRADER JOE S #552,Groceries,,9.00\n",
    ("kim", "ledger.csv"): "Name,Date of Purchase,Account,Merchant, Actual Amount , Allowed Amount "
    ",Description\nKim,2026-02-14,Cash,Farmers market,$80.00,$30.00,Flowers and shared veggies\n",
    ("sam", "monarch.csv"): "Date,Merchant,Category,Account,Original Statement,Notes,Amount,Tags\n"
    "2026-02-21,Amazon,Shopping,CapitalOne (...2463),AMAZON MKTPLACE,,-25.00,\n"
    "2026-02-15,Zelle,Transfer,WF CHECKING (...3850),ZELLE TO KIM PARK,,-20.00,\n"
    "2026-03-01,Globex,Paychecks,WF CHECKING (...3850),GLOBEX PAYROLL,,2000.00,\n"
    "2026-01-20,Zelle,Transfer,WF CHECKING (...3850),ZELLE TO ALEX,,-15.00,\n",
    ("sam", "chase_checking.csv"): "Details,Posting Date,Description,Amount,Type,Balance,"
    "Check or Slip #\nDEBIT,03/02/2026,COFFEE SHOP,-4.50,DEBIT_CARD,995.50,,\n"
    "CREDIT,03/01/2026,PAYROLL,1000.00,ACH_CREDIT,1000.00,,\n",
}


def txn_id_of(workspace, description: str, date: str) -> str:
    rows = query(workspace, "select txn_id from raw.transactions where description = ? "
                            "and transaction_date = ? and schema_id <> 'monarch_money'",
                 [description, date])  # fmt: skip
    assert len(rows) == 1, (description, date, rows)
    return rows[0][0]


def ingest_household(workspace, files: dict) -> None:
    """The household of three with these files in its inbox, ingested."""
    (workspace / "household").mkdir(parents=True)
    for name, text in HOUSEHOLD.items():
        (workspace / "household" / name).write_text(text)
    for (member, name), text in files.items():
        put_in_inbox(workspace, member, name, text.encode())
    assert invoke("ingest", "--workspace", str(workspace)).exit_code == 0


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
    """The household of three after ingest, review decisions, and one `balance run`."""
    workspace = tmp_path_factory.mktemp("flat") / "flat"
    ingest_household(workspace, FILES)
    decisions = [
        (txn_id_of(workspace, "IKEA", "2026-03-10"), "split", "0", ""),
        (txn_id_of(workspace, "BOOKSHOP", "2026-03-12"), "split", "50", "solo"),
        (txn_id_of(workspace, "HARDWARE STORE", "2026-03-14"), "shared", "", "nope"),
        ("0000000000000000", "shared", "", ""),  # an orphan: no such transaction
    ]
    (workspace / "decisions").mkdir()
    (workspace / "decisions/review_decisions.csv").write_text(
        "txn_id,sharing,payer_share_pct,policy,note,decided_at\n"
        + "".join(f"{t},{s},{p},{pol},,2026-03-20T10:00:00Z\n" for t, s, p, pol in decisions)
    )
    result = invoke("run", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return workspace


def tie_winner(txn_id: str, members=("alex", "kim", "sam")) -> str:
    """The member who gets a leftover cent between equal remainders
    (docs/rules.md#the-leftover-cent)."""
    return max(members, key=lambda m: hashlib.md5(f"{txn_id}:{m}".encode()).hexdigest())


def test_thirds_go_to_the_larger_hash_and_sum_to_the_cost(flat):
    whole_foods = txn_id_of(flat, "WHOLE FOODS MARKET", "2026-02-10")
    shares = dict(query(flat, "select member_id, share_cents from marts.fct_shares "
                              "where txn_id = ?", [whole_foods]))  # fmt: skip
    expected = {"alex": 3333, "kim": 3333, "sam": 3333}
    expected[tie_winner(whole_foods)] += 1
    assert shares == expected


@pytest.mark.parametrize(
    ("description", "date", "expected"),
    [
        ("PG&E WEB ONLINE", "2026-02-20", {"alex": 2000, "kim": 2000, "sam": 2000}),  # 1/1/1
        ("PG&E WEB ONLINE", "2026-03-05", {"alex": 4500, "kim": 2250, "sam": 2250}),  # 2/1/1
        ("IKEA", "2026-03-10", {"alex": 0, "kim": 6000, "sam": 6000}),  # split, payer 0 %
        ("TRADER JOE S #552", "2026-02-25", {"alex": -300, "kim": -300, "sam": -300}),  # refund
        ("Flowers and shared veggies", "2026-02-14", {"alex": 1000, "kim": 6000, "sam": 1000}),
    ],
    ids=["policy before", "policy after", "payer share 0", "refund", "ledger shared part"],
)
def test_shares_follow_policies_splits_refunds_and_ledgers(flat, description, date, expected):
    txn_id = txn_id_of(flat, description, date)
    shares = dict(query(flat, "select member_id, share_cents from marts.fct_shares "
                              "where txn_id = ?", [txn_id]))  # fmt: skip
    assert shares == expected


def test_three_members_balance_and_settle_up(flat):
    extra = tie_winner(txn_id_of(flat, "WHOLE FOODS MARKET", "2026-02-10"))
    expected = {"alex": 29300 - 3333, "sam": -10850 - 3333, "kim": -8450 - 3333}
    expected[extra] -= 1
    balances = dict(query(flat, "select member_id, net_cents from marts.rpt_balance"))
    assert balances == expected
    transfers = query(flat, "select from_member_id, to_member_id, amount_cents "
                            "from marts.rpt_settle_up order by transfer_order")  # fmt: skip
    assert transfers == [("sam", "alex", -expected["sam"]), ("kim", "alex", -expected["kim"])]
    statement = query(flat, "select statement from marts.rpt_balance limit 1")[0][0]
    assert statement == (
        f"Sam owes Alex ${-expected['sam'] / 100:,.2f}; "
        f"Kim owes Alex ${-expected['kim'] / 100:,.2f}"
    )


def test_the_household_merchant_lookup_comes_before_the_shipped_one(flat):
    merchants = query(flat, "select distinct description, merchant, category, merchant_source "
                            "from marts.fct_transactions where description in "
                            "('WHOLE FOODS MARKET', 'TRADER JOE S #552') order by 1")  # fmt: skip
    assert merchants == [
        ("TRADER JOE S #552", "Trader Joe's", "Groceries", "shipped_lookup"),
        ("WHOLE FOODS MARKET", "Whole Foods (ours)", "Groceries", "household_lookup"),
    ]


def test_the_clean_slate_keeps_january_out(flat):
    rows = query(
        flat,
        """
        select description, kind, is_before_clean_slate, is_pending_review
        from marts.fct_transactions where transaction_date < '2026-02-01' order by description
    """,
    )
    assert rows == [("GROCERY OUTLET", "expense", True, False),
                    ("ZELLE TO ALEX", "settlement", True, False)]  # fmt: skip
    first_day = query(flat, "select member_id, net_cents from marts.fct_balances_daily "
                            "where balance_date = '2026-02-01' order by member_id")  # fmt: skip
    assert first_day == [("alex", 1000), ("kim", -600), ("sam", -400)]


def test_undecided_invalid_and_suspected_rows_wait_for_review(flat):
    queue = query(flat, "select description, question, suggestion from marts.rpt_review_queue "
                        "order by transaction_date, description")  # fmt: skip
    assert queue == [
        ("AMAZON MKTPLACE", "sharing", None),
        ("AMAZON MKTPLACE", "duplicate", queue[1][2]),
        ("AMAZON MKTPLACE", "sharing", None),
        ("COFFEE SHOP", "sharing", None),
        (
            "BOOKSHOP",
            "sharing",
            "fix: split leaves 50.00 % to other members, but policy solo weighs none of them",
        ),
        ("HARDWARE STORE", "sharing", "fix: policy nope has no rows in force on 2026-03-14"),
    ]
    assert queue[1][2].startswith(
        "D: same account and amount, 1 day(s) apart; aggregator row "
        "yields to capital_one_card (several equally close candidates"
    )
    pending = query(flat, "select pending_review_count, pending_amount::varchar "
                          "from marts.rpt_balance limit 1")  # fmt: skip
    assert pending == [(5, "144.50")]


def test_settlements_from_a_named_member_and_before_the_slate(flat):
    settlements = query(flat, "select from_member_id, to_member_id, amount_cents, identified_by "
                              "from marts.fct_settlements order by settlement_date")  # fmt: skip
    assert settlements == [("sam", "alex", 1500, "named_member"),
                           ("sam", "kim", 2000, "named_member")]  # fmt: skip


ERROR_INVARIANTS = {
    "assert_rows_conserved_per_file": "update raw.files set rows_read = rows_read + 1 "
    "where file_path like '%alex_card%'",
    "assert_money_conserved_per_file": "update raw.files set amount_cents_total = "
    "amount_cents_total + 1 where file_path like '%kim_card%'",
    "assert_txn_ids_unique_and_present": "insert into marts.fct_transactions "
    "select * from marts.fct_transactions where description = 'GLOBEX PAYROLL'",
    "assert_duplicates_point_to_survivors": "update marts.fct_transactions "
    "set duplicate_of_txn_id = 'gone' where kind = 'duplicate'",
    "assert_shares_sum_to_cost": "update marts.fct_shares set share_cents = share_cents + 1 "
    "where member_id = 'alex' and cost_cents = 6000",
    "assert_net_sums_to_zero_every_day": "update marts.fct_balances_daily "
    "set net_cents = net_cents + 1 where member_id = 'alex' and balance_date = '2026-02-15'",
    "assert_final_balance_recomputed": "update marts.rpt_balance set net_cents = net_cents + 5 "
    "where member_id = 'kim'",
    "assert_settlements_counted_once": "update marts.fct_transactions set settlement_id = 'gone' "
    "where description = 'ZELLE TO KIM PARK'",
    "assert_decision_values_accepted": "update marts.fct_transactions set payer_share_pct = 150 "
    "where description = 'IKEA'",
}
# Invariants that warn: a finding per file, never a block (docs/rules.md#statement-balances).
WARNING_INVARIANTS = {
    "assert_statement_balances_match": "update intermediate.int_statement_balances_checked "
    "set stated_balance_cents = stated_balance_cents + 100 where statement_date = '2026-03-02'",
}


def test_every_invariant_holds_on_the_household(flat):
    result = run_dbt(Workspace(flat), "test", ["--select", "path:tests/invariants"])
    assert {name: result.statuses[name] for name in ERROR_INVARIANTS} == dict.fromkeys(
        ERROR_INVARIANTS, "pass"
    )
    assert result.statuses["assert_statement_balances_match"] == "pass"
    assert result.statuses["assert_review_decisions_refer_to_transactions"] == "warn"


def broken_copy(flat, tmp_path, *statements: str):
    """A copy of the household's warehouse with some facts broken."""
    # Same file name: dbt's compiled SQL names the database (catalog) after it.
    warehouse = shutil.copy(flat / "warehouse/balance.duckdb", tmp_path / "balance.duckdb")
    connection = duckdb.connect(str(warehouse))
    for statement in statements:
        connection.execute(statement)
    return connection


def failing_invariants(flat, connection) -> set[str]:
    """Run the invariants as dbt compiled them for this household's build."""
    compiled = flat / "logs/dbt/target/compiled/balance/tests/invariants"
    return {
        path.stem
        for path in compiled.glob("assert_*.sql")
        if path.stem in ERROR_INVARIANTS | WARNING_INVARIANTS
        and connection.execute(path.read_text()).fetchall()
    }


@pytest.mark.parametrize("invariant", ERROR_INVARIANTS | WARNING_INVARIANTS)
def test_each_invariant_fires_alone_on_data_that_breaks_it(flat, tmp_path, invariant):
    connection = broken_copy(flat, tmp_path, (ERROR_INVARIANTS | WARNING_INVARIANTS)[invariant])
    try:
        assert failing_invariants(flat, connection) == {invariant}
    finally:
        connection.close()


# Further ways to break invariants 4, 5 and 8 (docs/rules.md#invariants), each caught by that
# invariant alone.
MORE_BREAKS = [
    pytest.param(
        "assert_duplicates_point_to_survivors",
        "update raw.transactions set txn_id = (select txn_id from raw.transactions "
        "where description = 'PG&E WEB ONLINE' and transaction_date = '2026-02-20') "
        "where description = 'PG&E WEB ONLINE' and transaction_date = '2026-03-05'",
        id="two rows of one file share a txn_id",
    ),
    pytest.param(
        "assert_duplicates_point_to_survivors",
        "update marts.fct_transactions set kind = 'expense', sharing = 'pending', "
        "is_suspected_duplicate = false where kind = 'duplicate'",
        id="an aggregator copy counted beside the card row it copies",
    ),
    pytest.param(
        "assert_shares_sum_to_cost",
        "update marts.fct_shares set share_cents = share_cents + case member_id "
        "when 'alex' then 100 when 'sam' then -100 else 0 end "
        "where txn_id = (select txn_id from marts.fct_transactions "
        "where description = 'WHOLE FOODS MARKET')",
        id="shares that sum to the cost but not as decided",
    ),
    pytest.param(
        "assert_shares_sum_to_cost",
        "update marts.fct_shares set share_cents = 6667 - share_cents "
        "where txn_id = (select txn_id from marts.fct_transactions "
        "where description = 'WHOLE FOODS MARKET') and member_id in ("
        "select member_id from marts.fct_shares where txn_id = (select txn_id "
        "from marts.fct_transactions where description = 'WHOLE FOODS MARKET') "
        "order by share_cents desc, member_id limit 2)",
        id="the leftover cent of equal thirds given to the smaller hash",
    ),
    pytest.param(
        "assert_settlements_counted_once",
        "update marts.fct_settlements set from_member_id = 'kim' where amount_cents = 1500",
        id="a settlement naming a member whose account the leg is not in",
    ),
    pytest.param(
        "assert_settlements_counted_once",
        "update intermediate.int_counterparties_named set counterparty_member_id = 'alex' "
        "where counterparty_text like 'KIM PARK%'",
        id="a settlement leg whose own bank line names another member",
    ),
]


@pytest.mark.parametrize(("invariant", "statement"), MORE_BREAKS)
def test_each_revised_invariant_fires_alone_on_more_ways_to_break_it(
    flat, tmp_path, invariant, statement
):
    connection = broken_copy(flat, tmp_path, statement)
    try:
        assert failing_invariants(flat, connection) == {invariant}
    finally:
        connection.close()


def test_dbt_fails_on_every_broken_invariant(flat, tmp_path):
    broken = shutil.copytree(flat, tmp_path / "broken")
    connection = duckdb.connect(str(broken / "warehouse/balance.duckdb"))
    for statement in (ERROR_INVARIANTS | WARNING_INVARIANTS).values():
        connection.execute(statement)
    connection.close()

    result = run_dbt(Workspace(broken), "test", ["--select", "path:tests/invariants"])

    assert not result.succeeded
    assert {name: result.statuses[name] for name in ERROR_INVARIANTS} == dict.fromkeys(
        ERROR_INVARIANTS, "fail"
    )
    assert result.statuses["assert_statement_balances_match"] == "warn"


def test_the_dbt_unit_tests_pass(flat):
    """Cent allocation, merchant cleaning and the refund check (models/**/_*__models.yml)."""
    result = run_dbt(Workspace(flat), "test", ["--select", "test_type:unit"])
    assert result.succeeded, result.failures
    assert sorted(result.statuses.items()) == [
        ("merchants_cleaned_when_no_lookup_knows_them", "pass"),
        ("refunds_match_a_purchase_of_at_least_that_much_within_120_days", "pass"),
        ("shares_ledger_shared_part", "pass"),
        ("shares_one_cent_goes_to_the_larger_hash", "pass"),
        ("shares_refund_is_allocated_like_a_purchase", "pass"),
        ("shares_rent_43_57", "pass"),
        ("shares_split_payer_zero_and_hundred_percent", "pass"),
        ("shares_thirds_among_three", "pass"),
    ]


def test_answering_d_confirms_the_suspected_duplicate(flat, tmp_path):
    workspace = shutil.copytree(flat, tmp_path / "flat")
    suspect = query(workspace, "select txn_id from marts.fct_transactions "
                               "where is_suspected_duplicate")[0][0]  # fmt: skip
    with (workspace / "decisions/review_decisions.csv").open("a") as journal:
        journal.write(f"{suspect},duplicate,,,,2026-03-21T09:00:00Z\n")

    result = invoke("run", "--workspace", str(workspace))

    assert result.exit_code == 0, result.output
    assert query(workspace, "select kind, is_suspected_duplicate from marts.fct_transactions "
                            "where txn_id = ?", [suspect]) == [("duplicate", False)]  # fmt: skip
    assert query(workspace, "select count(*) from marts.rpt_review_queue "
                            "where question = 'duplicate'") == [(0,)]  # fmt: skip


def test_check_lists_each_finding_with_the_command_that_shows_more(flat):
    result = invoke("check", "--workspace", str(flat))

    assert result.exit_code == 1
    suspect = query(flat, "select txn_id, duplicate_of_txn_id from marts.fct_transactions "
                          "where is_suspected_duplicate")[0]  # fmt: skip
    bookshop = txn_id_of(flat, "BOOKSHOP", "2026-03-12")
    hardware = txn_id_of(flat, "HARDWARE STORE", "2026-03-14")
    issues = sorted([
        f"  {bookshop}: split leaves 50.00 % to other members, but policy solo weighs none of them",
        f"    → balance explain {bookshop}  (fix household/split_policies.csv or the decision)",
        f"  {hardware}: policy nope has no rows in force on 2026-03-14",
        f"    → balance explain {hardware}  (fix household/split_policies.csv or the decision)",
    ][i:i + 2] for i in (0, 2))  # fmt: skip
    assert result.output.splitlines() == [
        "Invariants: 10 of 10 hold; 1 warning(s), listed below",
        "Review decisions for transactions that do not exist (1):",
        "  0000000000000000: a review decision (shared) names no existing transaction",
        "    → check decisions/review_decisions.csv (was the file forgotten or re-downloaded?)",
        "Expenses whose sharing cannot be applied (2):",
        *issues[0],
        *issues[1],
        "Possible duplicates (1):",
        f"  {suspect[0]}: possible copy of {suspect[1]}: same account and amount, 1 day(s) apart; "
        "aggregator row yields to capital_one_card (several equally close candidates: confirm "
        "with D)",
        f"    → balance explain {suspect[0]}  (answer D, or Y/N/S, in Queue_Review)",
        "Uncategorised merchants (2):",
        "  Coffee Shop: 1 expense(s) at Coffee Shop have no category",
        "    → add a row for it to household/merchant_lookup.csv",
        "  Farmers market: 1 expense(s) at Farmers market have no category",
        "    → add a row for it to household/merchant_lookup.csv",
        "balance: 6 finding(s) need attention",
    ]


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("null", "null kind"),  # a `not_null` column
        (
            "'gift'",  # an `accepted_values` column
            "kind not one of expense, income, transfer, settlement, duplicate, ignored: gift",
        ),
    ],
)
def test_a_key_test_also_names_what_its_columns_do_not_allow(flat, tmp_path, kind, problem):
    """One primary_key test per model also checks its `not_null` and `accepted_values`
    columns (fewer dbt nodes)."""
    connection = broken_copy(
        flat,
        tmp_path,
        f"update marts.fct_transactions set kind = {kind} where description = 'IKEA'",
    )
    compiled = flat / "logs/dbt/target/compiled/balance/models/marts/core/_core__models.yml"
    (test_sql,) = compiled.glob("primary_key_fct_transactions_*.sql")
    try:
        ikea = connection.execute(
            "select txn_id from marts.fct_transactions where description = 'IKEA'"
        ).fetchone()[0]
        assert connection.execute(test_sql.read_text()).fetchall() == [(problem, ikea, 1)]
    finally:
        connection.close()
