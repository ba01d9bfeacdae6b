"""Decisions that mean what the user meant (docs/rules.md#review-answers): the flat of three from
test_money_engine, with a hand-edited journal.

- HARDWARE STORE (Alex, 40.00): answered N on 2026-03-30, then a line added below it by hand
  says Y with an earlier decided_at. The last line in the file wins: shared by thirds.
- IKEA (Alex, 120.00): Y, then a hand-added N below it with decided_at left blank: N wins.
- BOOKSHOP (Alex, 50.00): S 100 under policy `solo`, which weighs Alex alone. Valid, no effect.
- Kim's ledger line (80.00, Allowed Amount 30.00): answered Y. The answer outranks the row's
  shared part: all 80.00 shared by thirds.
- A PG&E refund of 60.00 on 2026-03-08, after utilities went from 1/1/1 to 2/1/1 on
  2026-03-01: it is linked to the 60.00 PG&E bill of 2026-02-20 (the exact amount wins over the
  later 90.00 bill) and undoes it by thirds, not by the new weights (docs/rules.md#refunds).
"""

from __future__ import annotations

import hashlib

import pytest
from test_money_engine import FILES, ingest_household, txn_id_of

from support import invoke, net_cents, query


def thirds(txn_id: str, cost_cents: int) -> dict[str, int]:
    """Equal shares of three, the leftover cents to the larger md5(txn_id:member)
    (docs/rules.md#the-leftover-cent)."""
    members = sorted(
        ["alex", "kim", "sam"], key=lambda m: hashlib.md5(f"{txn_id}:{m}".encode()).hexdigest()
    )
    shares = dict.fromkeys(members, cost_cents // 3)
    for member in members[::-1][: cost_cents % 3]:
        shares[member] += 1
    return shares


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("decided") / "flat"
    files = dict(FILES)
    files[("alex", "alex_card.csv")] += (
        "2026-03-08,2026-03-09,2463,PG&E WEB ONLINE,Utilities,,60.00\n"
    )
    ingest_household(workspace, files)
    hardware = txn_id_of(workspace, "HARDWARE STORE", "2026-03-14")
    ikea = txn_id_of(workspace, "IKEA", "2026-03-10")
    bookshop = txn_id_of(workspace, "BOOKSHOP", "2026-03-12")
    ledger = txn_id_of(workspace, "Flowers and shared veggies", "2026-02-14")
    (workspace / "decisions").mkdir()
    (workspace / "decisions/review_decisions.csv").write_text(
        "txn_id,sharing,payer_share_pct,policy,note,decided_at\n"
        f"{hardware},personal,,,,2026-03-30T10:00:00Z\n"
        f"{hardware},shared,,,typed in later,2026-03-01T10:00:00Z\n"
        f"{ikea},shared,,,,2026-03-20T10:00:00Z\n"
        f"{ikea},personal,,,,\n"
        f"{bookshop},split,100,solo,,2026-03-20T10:00:00Z\n"
        f"{ledger},shared,,,,2026-03-20T10:00:00Z\n"
    )
    result = invoke("run", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return workspace


def shares_of(workspace, txn_id: str) -> dict[str, int]:
    return dict(
        query(
            workspace,
            "select member_id, share_cents from marts.fct_shares where txn_id = ?",
            [txn_id],
        )
    )


def test_the_last_journal_line_wins_whatever_its_decided_at(flat):
    hardware = txn_id_of(flat, "HARDWARE STORE", "2026-03-14")
    ikea = txn_id_of(flat, "IKEA", "2026-03-10")
    decided = dict(query(flat, "select txn_id, sharing from marts.fct_transactions "
                               "where txn_id in (?, ?)", [hardware, ikea]))  # fmt: skip
    assert decided == {hardware: "shared", ikea: "personal"}
    assert shares_of(flat, hardware) == thirds(hardware, 4000)


def test_a_split_at_100_percent_under_a_payer_only_policy_is_valid_and_moves_nothing(flat):
    bookshop = txn_id_of(flat, "BOOKSHOP", "2026-03-12")
    assert query(flat, "select sharing, payer_share_pct::varchar from marts.fct_transactions "
                       "where txn_id = ?", [bookshop]) == [("split", "100.00")]  # fmt: skip
    assert shares_of(flat, bookshop) == {"alex": 5000, "kim": 0, "sam": 0}


def test_a_review_answer_outranks_a_ledger_rows_shared_part(flat):
    ledger = txn_id_of(flat, "Flowers and shared veggies", "2026-02-14")
    assert shares_of(flat, ledger) == thirds(ledger, 8000)


def test_the_balance_follows_the_decisions_as_meant(flat):
    whole_foods = txn_id_of(flat, "WHOLE FOODS MARKET", "2026-02-10")
    hardware = thirds(txn_id_of(flat, "HARDWARE STORE", "2026-03-14"), 4000)
    ledger = thirds(txn_id_of(flat, "Flowers and shared veggies", "2026-02-14"), 8000)
    groceries = thirds(whole_foods, 10000)
    # By hand, per member: what they paid for shared expenses, less their shares, plus the
    # opening balance and settlements (as in test_money_engine's figure):
    # - paid: Alex Whole Foods 100.00, PG&E 60.00 and 90.00, Hardware 40.00; Kim Trader Joe's
    #   45.00 less its 9.00 refund, the ledger line 80.00;
    # - shares: thirds of Whole Foods, PG&E 20/20/20 then 45/22.50/22.50, Trader Joe's 15/15/15
    #   less 3/3/3, thirds of Hardware and of the ledger line; Bookshop and IKEA move nothing;
    # - the PG&E refund: Alex paid −60.00, shares −20.00 each;
    # - opening 10.00 / −4.00 / −6.00; Sam sent Kim 20.00 (Zelle).
    expected = {
        "alex": 1000
        + 10000
        + 6000
        + 9000
        + 4000
        - 6000
        - groceries["alex"]
        - 2000
        - 4500
        - 1200
        - hardware["alex"]
        - ledger["alex"]
        + 2000,
        "kim": -600
        + 3600
        + 8000
        - groceries["kim"]
        - 2000
        - 2250
        - 1200
        - hardware["kim"]
        - ledger["kim"]
        + 2000
        - 2000,
        "sam": -400
        - groceries["sam"]
        - 2000
        - 2250
        - 1200
        - hardware["sam"]
        - ledger["sam"]
        + 2000
        + 2000,
    }
    assert sum(expected.values()) == 0
    assert net_cents(flat) == expected


def test_a_refund_after_a_policy_change_undoes_its_purchase_as_it_was_split(flat):
    bill = txn_id_of(flat, "PG&E WEB ONLINE", "2026-02-20")
    refund = query(flat, "select txn_id from raw.transactions where description = "
                         "'PG&E WEB ONLINE' and amount_cents = 6000")[0][0]  # fmt: skip
    decision = query(flat, "select kind, sharing, policy, refund_of_txn_id "
                           "from marts.fct_transactions where txn_id = ?", [refund])  # fmt: skip
    assert decision == [("expense", "shared", "utilities", bill)]
    assert shares_of(flat, refund) == {"alex": -2000, "kim": -2000, "sam": -2000}

    result = invoke("explain", refund, "--workspace", str(flat))

    assert result.exit_code == 0, result.output
    assert (
        f"  refund    of {bill} (2026-02-20  PG&E WEB ONLINE  cost 60.00): shared as that "
        "purchase was, with the weights in force on 2026-02-20"
    ) in result.output
    assert "weights in force since 2025-01-01: Alex 1, Kim 1, Sam 1" in result.output
