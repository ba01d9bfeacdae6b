"""The demo household end to end: its hand-computed balance (examples/demo/README.md)."""

from __future__ import annotations

import datetime as dt
import json
import re

import openpyxl
import pyarrow.parquet as pq

from core.workspace import DEMO_WORKSPACE

from support import invoke, net_cents, query

HAND_COMPUTED_STATEMENT = "Sam owes Alex $6,822.21"


def test_demo_balance_matches_the_hand_computation(built_demo):
    assert net_cents(built_demo) == {"alex": 682221, "sam": -682221}
    status = json.loads(invoke("status", "--workspace", str(built_demo), "--json").output)
    assert status["balance"] == {"alex": "6822.21", "sam": "-6822.21"}
    assert status["statement"] == HAND_COMPUTED_STATEMENT
    assert status["pending_review"] == 5
    assert status["pending_amount"] == "226.40"
    assert status["files"] == {"loaded": 5, "quarantined": 1}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", status["last_run"])


def test_the_readme_states_the_same_balance():
    readme = (DEMO_WORKSPACE / "README.md").read_text(encoding="utf-8")
    assert f"**{HAND_COMPUTED_STATEMENT}**" in readme


def test_kinds_of_the_demo_transactions(built_demo):
    counts = dict(
        query(
            built_demo,
            """
        select kind || coalesce(':' || sharing, ''), count(*)
        from marts.fct_transactions group by all
    """,
        )
    )
    assert counts == {
        "duplicate": 8,  # Monarch's copies of the Capital One card, Aug–Sep
        "expense:pending": 5,
        "expense:personal": 1,
        "expense:shared": 53,
        "expense:split": 1,
        "ignored": 6,  # the rent withdrawals, counted through the rent schedule
        "income": 24,
        "settlement": 2,  # both legs of one Zelle payment
        "transfer": 24,  # card payments: 6 + 6 pairs
    }
    settlements = query(
        built_demo,
        """
        select from_member_id, to_member_id, amount_cents, settlement_date::varchar
        from marts.fct_settlements
    """,
    )
    assert settlements == [("sam", "alex", 60000, "2026-07-02")]


def test_identical_purchases_on_one_day_stay_two_transactions(built_demo):
    rows = query(
        built_demo,
        """
        select count(distinct txn_id), sum(amount_cents)
        from marts.fct_transactions
        where description = 'SATURDAY FARMERS MKT' and transaction_date = date '2026-05-16'
    """,
    )
    assert rows == [(2, -4800)]


def test_rent_is_split_43_57_to_the_cent(built_demo):
    shares = query(
        built_demo,
        """
        select fct_shares.member_id, fct_shares.share_cents
        from marts.fct_shares
        inner join marts.fct_transactions using (txn_id)
        where fct_transactions.policy = 'rent' and fct_transactions.transaction_date = '2026-04-01'
        order by fct_shares.member_id
    """,
    )
    assert shares == [("alex", 91148), ("sam", 120824)]


def test_the_refund_reduces_the_shared_cost(built_demo):
    shares = query(
        built_demo,
        """
        select fct_shares.member_id, fct_shares.share_cents
        from marts.fct_shares
        inner join marts.fct_transactions using (txn_id)
        where fct_transactions.amount_cents = 2600 order by fct_shares.member_id
    """,
    )
    assert shares == [("alex", -1300), ("sam", -1300)]


def test_the_unreadable_file_is_reported_and_everything_else_loads(built_demo):
    attempts = query(
        built_demo,
        """
        select file_path, status, reason from raw.file_attempts order by file_path
    """,
    )
    rejected = [row for row in attempts if row[1] == "rejected"]
    assert rejected == [
        (
            "csv_inbox/sam/sparkasse_umsaetze_2026.csv",
            "rejected",
            "no schema matches; none shares a header with line 1 "
            "(Buchungstag, Valuta, Verwendungszweck, Betrag, Waehrung)",
        )
    ]
    assert [row[0] for row in attempts if row[1] == "loaded"] == [
        "csv_inbox/alex/capital_one_savor_2026-04_2026-09.csv",
        "csv_inbox/alex/chase_checking_statement_2026.csv",
        "csv_inbox/alex/rent_schedule_2026.csv",
        "csv_inbox/sam/discover_it_2026.csv",
        "csv_inbox/sam/monarch_transactions_2026-10-01.csv",
    ]
    assert (built_demo / "csv_inbox/sam/sparkasse_umsaetze_2026.csv").exists()


def test_outputs_are_written_with_the_review_queue(built_demo):
    book = openpyxl.load_workbook(built_demo / "output/balance_data.xlsx")
    assert book.sheetnames[:2] == ["Summary", "Queue_Review"]
    assert book["Summary"]["A2"].value == HAND_COMPUTED_STATEMENT
    queue = book["Queue_Review"]
    header = [cell.value for cell in queue[1]]
    # The answers first, then what is asked and about which expense (docs/rules.md#review-answers).
    assert header == [
        "Shared?",
        "Payer share %",
        "Policy",
        "Note",
        "Question",
        "Date",
        "Payer",
        "Account",
        "Description",
        "Merchant",
        "Category",
        "Cost",
        "Suggestion",
        "txn_id",
        "Not imported because",
    ]
    descriptions = [row[8] for row in queue.iter_rows(min_row=2, values_only=True)]
    assert descriptions == [
        "SQ *JOES PIZZA",
        "TST* NOODLE BAR OAKLAND",
        "SQ *JOES PIZZA",
        "SQ *JOES PIZZA",
        "SQ *JOES PIZZA",
    ]
    validations = {str(v.sqref): v.formula1 for v in queue.data_validations.dataValidation}
    assert validations["A2:A6"] == '"Y,N,S,D"'
    assert validations["C2:C6"] == '"default,rent"'
    parquet = sorted(p.name for p in (built_demo / "output/powerbi").glob("*.parquet"))
    assert parquet == [
        "dim_accounts.parquet", "dim_categories.parquet", "dim_dates.parquet",
        "dim_members.parquet", "dim_merchants.parquet", "fct_balances_daily.parquet",
        "fct_settlements.parquet", "fct_shares.parquet", "fct_transactions.parquet",
        "rpt_balance.parquet", "rpt_monthly.parquet", "rpt_settle_up.parquet",
    ]  # fmt: skip
    balance = pq.read_table(built_demo / "output/powerbi/rpt_balance.parquet").to_pylist()
    assert {row["member_id"]: str(row["net_amount"]) for row in balance} == {
        "alex": "6822.21",
        "sam": "-6822.21",
    }


def test_long_digit_runs_are_masked_in_outputs(built_demo):
    table = pq.read_table(built_demo / "output/powerbi/fct_transactions.parquet")
    descriptions = set(table.column("description").to_pylist())
    assert "ACME CORP PAYROLL PPD ID: ****3210" in descriptions
    assert not any("9876543210" in text for text in descriptions)
    kept = query(
        built_demo,
        "select count(*) from marts.fct_transactions where description like '%9876543210%'",
    )
    assert kept == [(12,)]


def test_status_shows_files_counts_and_warnings(built_demo):
    result = invoke("status", "--workspace", str(built_demo))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # What waits for review is said beside the total; files use the words of `status --json`.
    assert lines[:3] == [
        f"{HAND_COMPUTED_STATEMENT}; 5 expense(s) for $226.40 still to review (not in the balance)",
        "to review: 5 expense(s), $226.40; 0 duplicate question(s)",
        "files: 5 loaded, 1 quarantined",
    ]
    assert lines[4].startswith("last build: passed at ")
    days = (dt.date.today() - dt.date(2026, 9, 28)).days  # the demo's last day
    assert lines[5:] == [
        "quarantined: csv_inbox/sam/sparkasse_umsaetze_2026.csv "
        "(`balance doctor csv_inbox/sam/sparkasse_umsaetze_2026.csv` says why)",
        "transactions: 124 (8 duplicate, 60 expense, 6 ignored, 24 income, 2 settlement, "
        "24 transfer)",
        f"warning: no new data for {days + 2} days: Capital One Savor …2463 (last 2026-09-26)",
        f"warning: no new data for {days + 2} days: Chase Total Checking …6173 (last 2026-09-26)",
        f"warning: no new data for {days + 1} days: Discover It …1544 (last 2026-09-27)",
        f"warning: no new data for {days + 27} days: Landlord (alex) (last 2026-09-01)",
        f"warning: no new data for {days} days: Wells Fargo Everyday Checking …3850 "
        "(last 2026-09-28)",
    ]
