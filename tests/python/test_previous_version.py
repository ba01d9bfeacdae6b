"""What the previous version left behind keeps working: its backup, warehouse and journal.

tests/fixtures/previous_version/ holds a backup written by the version whose txn_id keyed
accounts by their last four digits and the inbox member (see its README). Its journal names
those ids: Y on IKEA (120.00), S 30 on BOOKSHOP (50.00), N on Trader Joe's (60.00, shared by
the groceries rule otherwise), D on the Monarch copy of an Amazon purchase that had two equally
close card rows, Y on the Monarch copy of an Uber ride that also had two (which that version
read as "not a duplicate"), and Y on the Monarch copy of a Chipotle meal that is surely a
duplicate (the answer moves to the card's row).

By hand, Alex paid: Whole Foods 100.00 (groceries rule, shared) → owed 50.00; IKEA 120.00
shared → 60.00; BOOKSHOP 50.00 split, Alex bears 30 % → owed 35.00; Chipotle 12.50 shared →
6.25; the third Uber ride 18.00 shared → 9.00; total 160.25. Sam paid Costco 80.00 (groceries
rule, shared) → owed 40.00; Trader Joe's is personal. Alex's net: 160.25 − 40.00 = 120.25.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import invoke, net_cents, query

FIXTURE = Path(__file__).parents[1] / "fixtures/previous_version"
STATEMENT = "Sam owes Alex $120.25"
JOURNAL_IDS = {
    "9f83ac918e08f068": ("IKEA", "shared"),
    "44eeb551d40d24a7": ("BOOKSHOP", "split"),
    "f34ab11a2dd849fd": ("TRADER JOE S #552", "personal"),
    "ebdc5a4a6f5dfdbd": ("UBER TRIP", "shared"),
}


def restored_workspace(tmp_path) -> Path:
    workspace = tmp_path / "household"
    workspace.mkdir()
    shutil.copytree(FIXTURE / "csv_inbox", workspace / "csv_inbox")
    result = invoke(
        "restore", str(FIXTURE / "backup_with_answers.tar.gz"), "--workspace", str(workspace)
    )
    assert result.exit_code == 0, result.output
    return workspace


@pytest.mark.parametrize("keep_old_warehouse", [True, False])
def test_a_backup_of_the_previous_version_gives_the_same_balance(tmp_path, keep_old_warehouse):
    workspace = restored_workspace(tmp_path)
    if not keep_old_warehouse:
        shutil.rmtree(workspace / "warehouse")

    result = invoke("run", "--workspace", str(workspace))

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == STATEMENT
    assert net_cents(workspace) == {"alex": 12025, "sam": -12025}
    # Each journal line applies to the row it was written for, now under a new txn_id.
    decided = query(
        workspace,
        "select raw.legacy_txn_id, fact.description, fact.sharing, fact.decision_source "
        "from marts.fct_transactions as fact inner join raw.transactions as raw "
        "on fact.txn_id = raw.txn_id where raw.legacy_txn_id in (?, ?, ?, ?) "
        "order by raw.legacy_txn_id",
        list(JOURNAL_IDS),
    )
    assert decided == sorted(
        (legacy, description, sharing, "review")
        for legacy, (description, sharing) in JOURNAL_IDS.items()
    )
    assert query(
        workspace,
        "select count(*), count(*) filter (where txn_id = legacy_txn_id) from raw.transactions",
    ) == [(13, 0)]
    assert query(
        workspace, "select count(*) from intermediate.int_review_decisions_latest where is_orphan"
    ) == [(0,)]
