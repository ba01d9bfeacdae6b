"""Files read again when what their rows are derived with changes: the schemas, members.csv and
accounts.csv; and `forget` or `restore` followed by a run that does its work."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from core.workspace import PROJECT_ROOT

from support import ingest, invoke, make_workspace, net_cents, query

FIXTURES = PROJECT_ROOT / "tests/fixtures/exports"
CHASE_CARD = "Chase4321_Activity20260301_20260331_20260402.CSV"
CHASE_CARD_IN_INBOX = f"csv_inbox/alex/{CHASE_CARD}"
CAPITAL_ONE = "csv_inbox/alex/capital_one_savor_2026-04_2026-09.csv"
NOTHING_CHANGED = "Nothing changed since the last run; outputs are up to date."


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """Two members, a Chase card download in Alex's inbox (it names no card), and the shipped
    chase_card schema copied into the workspace's rules/, free to edit."""
    workspace = make_workspace(tmp_path / "household")
    (workspace / "csv_inbox/alex").mkdir(parents=True)
    shutil.copyfile(FIXTURES / "chase_card" / CHASE_CARD, workspace / CHASE_CARD_IN_INBOX)
    (workspace / "rules").mkdir()
    shutil.copyfile(PROJECT_ROOT / "rules/chase_card.yaml", workspace / "rules/chase_card.yaml")
    return workspace


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def file_state(workspace: Path) -> list[tuple]:
    return query(
        workspace,
        "select file_path, loaded_at, derivation_fingerprint from raw.files order by file_path",
    )


def test_a_schema_given_an_account_re_reads_its_file_at_the_next_run(workspace):
    ingest(workspace)
    assert query(workspace, "select distinct account_text from raw.transactions") == [("",)]
    edit(
        workspace / "rules/chase_card.yaml",
        "static:\n  institution: Chase\n",
        "static:\n  institution: Chase\n  account: Sapphire 4821\n",
    )

    rerun = invoke("run", "--workspace", str(workspace))
    again = invoke("run", "--workspace", str(workspace))

    assert rerun.exit_code == 0, rerun.output
    lines = rerun.output.splitlines()
    assert lines[:4] == [
        "file                                                             schema      owner  "
        "read  loaded  skipped  status",
        f"{CHASE_CARD_IN_INBOX}  chase_card  alex   4     4       0        re-read",
        "0 loaded, 1 re-read, 0 rejected, 0 unchanged",
        f"re-read {CHASE_CARD_IN_INBOX}: schema chase_card changed",
    ]
    assert query(
        workspace, "select account_text, account_last4, count(*) from raw.transactions group by all"
    ) == [("Sapphire 4821", "4821", 4)]
    assert query(workspace, "select count(*) from raw.files") == [(1,)]
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[0] == NOTHING_CHANGED


def test_accounts_csv_giving_an_account_to_another_member_moves_its_rows_and_the_balance(
    tmp_path,
):
    workspace = make_workspace(tmp_path / "household")
    (workspace / "household/sharing_rules.csv").write_text(
        "rule_id,merchant,category,description,account,member,min_cost,max_cost,sharing,policy,"
        "payer_share_pct\ngroceries_are_shared,,^Groceries$,,,,,,shared,,\n"
    )
    monarch = workspace / "csv_inbox/sam/monarch_transactions_2026-03-10.csv"
    monarch.parent.mkdir(parents=True)
    monarch.write_text(
        "Date,Merchant,Category,Account,Original Statement,Notes,Amount,Tags\n"
        "3/9/2026,Whole Foods Market,Groceries,CapitalOne Savor (...2463),"
        "WHOLE FOODS MARKET #10234,,-84.36,\n"
        "3/4/2026,Safeway,Groceries,WF EVERYDAY CHECKING (...3850),SAFEWAY #1711,,-61.20,\n"
    )
    owners = "select owner_member_id, count(*) from raw.transactions group by all order by 1"
    first = invoke("run", "--workspace", str(workspace))
    assert first.exit_code == 0, first.output
    assert query(workspace, owners) == [("alex", 1), ("sam", 1)]
    # Shared half and half: Alex paid 84.36 (Sam owes him 42.18), Sam paid 61.20 (Alex owes
    # her 30.60); 42.18 - 30.60 = 11.58 to Alex.
    assert net_cents(workspace) == {"alex": 1158, "sam": -1158}
    edit(
        workspace / "household/accounts.csv",
        "3850,sam,Wells Fargo Everyday Checking",
        "3850,alex,Wells Fargo Everyday Checking",
    )

    rerun = invoke("run", "--workspace", str(workspace))

    assert rerun.exit_code == 0, rerun.output
    lines = rerun.output.splitlines()
    assert lines[2:4] == [
        "0 loaded, 1 re-read, 0 rejected, 0 unchanged",
        "re-read csv_inbox/sam/monarch_transactions_2026-03-10.csv: "
        "household/accounts.csv or members.csv changed its owners",
    ]
    assert query(workspace, owners) == [("alex", 2)]
    # Alex paid both now: 42.18 + 30.60 = 72.78 to Alex.
    assert net_cents(workspace) == {"alex": 7278, "sam": -7278}


def test_editing_what_ingest_does_not_read_re_reads_nothing(workspace):
    ingest(workspace)
    before = file_state(workspace)
    household = workspace / "household"
    (household / "merchant_lookup.csv").write_text(
        "pattern,merchant,category\nstarbucks,Starbucks,Coffee\n"
    )
    (household / "sharing_rules.csv").write_text(
        "rule_id,merchant,category,description,account,member,min_cost,max_cost,sharing,policy,"
        "payer_share_pct\ncoffee_is_personal,,^Coffee$,,,,,,personal,,\n"
    )
    edit(household / "split_policies.csv", "default,sam,1,", "default,sam,2,")
    [(txn_id,)] = query(workspace, "select txn_id from raw.transactions where line_number = 5")
    journal = workspace / "decisions/review_decisions.csv"
    journal.parent.mkdir()
    journal.write_text(
        "txn_id,sharing,payer_share_pct,policy,note,decided_at\n"
        f"{txn_id},shared,,,,2026-12-01T18:00:00Z\n"
    )

    output = ingest(workspace)

    assert output == "0 loaded, 0 rejected, 1 unchanged\n"
    assert file_state(workspace) == before
    assert before[0][2] is not None  # the fingerprint it was loaded with, kept


def test_a_file_read_again_to_the_same_rows_only_gets_the_new_fingerprint(workspace):
    ingest(workspace)
    [(path, loaded_at, fingerprint)] = file_state(workspace)
    rows = query(workspace, "select * from raw.transactions order by line_number")
    edit(workspace / "household/accounts.csv", "Capital One Savor", "Capital One SavorOne")

    output = ingest(workspace)

    assert output == "0 loaded, 0 rejected, 1 unchanged\n"
    [(path_after, loaded_at_after, fingerprint_after)] = file_state(workspace)
    assert (path_after, loaded_at_after) == (path, loaded_at)
    assert fingerprint_after not in (fingerprint, None)
    assert query(workspace, "select * from raw.transactions order by line_number") == rows
    assert ingest(workspace) == "0 loaded, 0 rejected, 1 unchanged\n"


def test_a_file_now_matched_by_another_schema_is_read_again_once_for_both_copies(workspace):
    archived = workspace / "data/_archive/2026-04/alex" / CHASE_CARD
    archived.parent.mkdir(parents=True)
    shutil.copyfile(workspace / CHASE_CARD_IN_INBOX, archived)
    assert ingest(workspace).splitlines()[-1] == "1 loaded, 0 rejected, 1 unchanged"
    schema = workspace / "rules/chase_card.yaml"
    schema.rename(schema.with_name("sapphire.yaml"))
    edit(schema.with_name("sapphire.yaml"), "id: chase_card", "id: chase_sapphire")

    output = ingest(workspace)

    assert output.splitlines()[2:] == [
        "0 loaded, 1 re-read, 0 rejected, 1 unchanged",
        f"re-read {CHASE_CARD_IN_INBOX}: now read with schema chase_sapphire (was chase_card)",
    ]
    assert query(workspace, "select schema_id, count(*) from raw.transactions group by all") == [
        ("chase_sapphire", 4)
    ]
    assert query(workspace, "select file_path, schema_id from raw.files") == [
        (CHASE_CARD_IN_INBOX, "chase_sapphire")
    ]


def test_after_forget_or_restore_the_next_run_loads_what_the_warehouse_lacks(demo_copy):
    capital_one_rows = "select count(*) from raw.transactions where file_path = ?"
    assert invoke("forget", "--workspace", str(demo_copy), CAPITAL_ONE).exit_code == 0
    backup = invoke("backup", "--workspace", str(demo_copy))  # a backup without the file
    assert backup.exit_code == 0, backup.output
    backup_file = demo_copy / backup.output.strip().removeprefix("backup written: ")
    forgotten = demo_copy / "data/_forgotten/capital_one_savor_2026-04_2026-09.csv"
    shutil.copyfile(forgotten, demo_copy / CAPITAL_ONE)  # the inbox is as at the last run

    after_forget = invoke("run", "--workspace", str(demo_copy))

    assert after_forget.exit_code == 0, after_forget.output
    assert "1 loaded, 1 rejected, 4 unchanged" in after_forget.output.splitlines()
    assert query(demo_copy, capital_one_rows, [CAPITAL_ONE]) == [(28,)]
    assert query(demo_copy, "select count(*) from raw.transactions") == [(124,)]
    assert net_cents(demo_copy) == {"alex": 682221, "sam": -682221}
    restored = invoke("restore", "--workspace", str(demo_copy), str(backup_file))
    assert restored.exit_code == 0, restored.output
    assert query(demo_copy, capital_one_rows, [CAPITAL_ONE]) == [(0,)]

    after_restore = invoke("run", "--workspace", str(demo_copy))

    assert after_restore.exit_code == 0, after_restore.output
    assert "1 loaded, 1 rejected, 4 unchanged" in after_restore.output.splitlines()
    assert query(demo_copy, capital_one_rows, [CAPITAL_ONE]) == [(28,)]
    assert net_cents(demo_copy) == {"alex": 682221, "sam": -682221}


def test_files_loaded_by_an_earlier_version_are_read_again(demo_copy):
    connection = duckdb.connect(str(demo_copy / "warehouse/balance.duckdb"))
    # As an earlier version left them: no fingerprint, and one file's rows without the last
    # four digits of their card.
    connection.execute("update raw.files set derivation_fingerprint = null")
    connection.execute(
        "update raw.transactions set account_last4 = null where file_path = ?", [CAPITAL_ONE]
    )
    connection.close()

    output = ingest(demo_copy)

    assert output.splitlines()[3:5] == [
        "0 loaded, 1 re-read, 1 rejected, 4 unchanged",
        f"re-read {CAPITAL_ONE}: loaded by an earlier version",
    ]
    assert query(demo_copy, "select count(*) from raw.transactions") == [(124,)]
    assert query(
        demo_copy,
        "select account_last4, count(*) from raw.transactions where file_path = ? group by all",
        [CAPITAL_ONE],
    ) == [("2463", 28)]
    assert query(
        demo_copy, "select count(*) from raw.files where derivation_fingerprint is null"
    ) == [(0,)]
    assert ingest(demo_copy).splitlines()[-2] == "0 loaded, 1 rejected, 5 unchanged"


def test_a_file_the_changed_schema_no_longer_reads_is_rejected_until_the_schema_is_fixed(
    workspace,
):
    ingest(workspace)
    schema = workspace / "rules/chase_card.yaml"
    edit(schema, "date_format: '%m/%d/%Y'", "date_format: '%d.%m.%Y'")

    output = ingest(workspace)

    assert output.splitlines()[2:5] == [
        "0 loaded, 1 rejected, 0 unchanged",
        f"rejected {CHASE_CARD_IN_INBOX}: 8 bad lines (schema chase_card); "
        "the rows it loaded before are removed",
        f"  {CHASE_CARD_IN_INBOX}:2: date '03/15/2026' does not match %d.%m.%Y",
    ]
    assert query(workspace, "select count(*) from raw.transactions") == [(0,)]
    assert query(workspace, "select count(*) from raw.files") == [(0,)]
    assert (workspace / CHASE_CARD_IN_INBOX).exists()
    edit(schema, "date_format: '%d.%m.%Y'", "date_format: '%m/%d/%Y'")

    fixed = ingest(workspace)

    assert fixed.splitlines()[-1] == "1 loaded, 0 rejected, 0 unchanged"
    assert query(workspace, "select count(*) from raw.transactions") == [(4,)]
