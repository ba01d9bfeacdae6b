"""Month-end housekeeping on the demo: archive, backup and restore, forget."""

from __future__ import annotations

import tarfile

from support import copy_demo_sources, invoke, net_cents, query

CAPITAL_ONE = "csv_inbox/alex/capital_one_savor_2026-04_2026-09.csv"


def test_archive_moves_only_loaded_files_and_is_safe_to_rerun(demo_copy):
    month = query(demo_copy, "select strftime(min(loaded_at), '%Y-%m') from raw.files")[0][0]

    first = invoke("archive", "--workspace", str(demo_copy))
    again = invoke("archive", "--workspace", str(demo_copy))

    assert first.exit_code == 0, first.output
    archived_to = f"data/_archive/{month}/alex/capital_one_savor_2026-04_2026-09.csv"
    assert f"archived {CAPITAL_ONE} -> {archived_to}" in first.output
    assert "kept csv_inbox/sam/sparkasse_umsaetze_2026.csv: not loaded" in first.output
    assert first.output.splitlines()[-1] == "5 file(s) archived, 1 kept in the inbox"
    assert again.output.splitlines()[-1] == "0 file(s) archived, 1 kept in the inbox"
    remaining = sorted(p.name for p in (demo_copy / "csv_inbox").rglob("*.csv"))
    assert remaining == ["sparkasse_umsaetze_2026.csv"]
    assert len(list((demo_copy / "data/_archive" / month).rglob("*.csv"))) == 5


def test_a_rebuild_from_scratch_reads_the_archive(demo_copy):
    assert invoke("archive", "--workspace", str(demo_copy)).exit_code == 0
    (demo_copy / "warehouse/balance.duckdb").unlink()
    result = invoke("run", "--workspace", str(demo_copy))
    assert result.exit_code == 0, result.output
    assert net_cents(demo_copy) == {"alex": 682221, "sam": -682221}


def test_backup_then_restore_brings_back_decisions_and_balance(demo_copy):
    result = invoke("backup", "--workspace", str(demo_copy))
    assert result.exit_code == 0, result.output
    backup = demo_copy / result.output.strip().removeprefix("backup written: ")
    with tarfile.open(backup) as archive:
        names = set(archive.getnames())
    assert {
        "household/members.csv",
        "decisions/review_decisions.csv",
        "warehouse/balance.duckdb",
        "output/balance_data.xlsx",
        "rules/rent_schedule.yaml",
    } <= names
    assert oct(backup.stat().st_mode & 0o777) == "0o600"

    journal = demo_copy / "decisions/review_decisions.csv"
    original_journal = journal.read_bytes()
    journal.write_text("txn_id,sharing,payer_share_pct,policy,note,decided_at\n")
    (demo_copy / "warehouse/balance.duckdb").unlink()

    restored = invoke("restore", "--workspace", str(demo_copy), str(backup))

    assert restored.exit_code == 0, restored.output
    assert "the replaced folders are saved in backups/balance-backup-" in restored.output
    assert journal.read_bytes() == original_journal
    assert net_cents(demo_copy) == {"alex": 682221, "sam": -682221}


def test_restore_refuses_a_file_that_is_not_a_backup(demo_copy, tmp_path):
    stray = tmp_path / "stray.tar.gz"
    with tarfile.open(stray, "w:gz") as archive:
        archive.add(demo_copy / "README.md", arcname="README.md")
    result = invoke("restore", "--workspace", str(demo_copy), str(stray))
    assert result.exit_code == 1
    assert result.output == f"balance: {stray}: not a balance backup (it holds README.md)\n"


def test_forget_removes_one_files_rows_and_sets_the_file_aside(demo_copy):
    result = invoke("forget", "--workspace", str(demo_copy), CAPITAL_ONE)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"forgot {CAPITAL_ONE}: 28 row(s) removed",
        "moved the file to data/_forgotten/capital_one_savor_2026-04_2026-09.csv",
    ]
    assert query(demo_copy, "select count(*) from raw.transactions") == [(96,)]
    rerun = invoke("run", "--workspace", str(demo_copy))
    assert rerun.exit_code == 0, rerun.output
    assert query(demo_copy, "select count(*) from raw.files") == [(4,)]


def test_forget_an_unknown_file_says_so(demo_copy):
    result = invoke("forget", "--workspace", str(demo_copy), "csv_inbox/alex/nothing.csv")
    assert result.exit_code == 1
    assert result.output == (
        "balance: csv_inbox/alex/nothing.csv: no loaded file has this path or content\n"
    )


def test_check_on_the_demo_names_the_rejected_file_and_what_to_do(demo_copy):
    result = invoke("check", "--workspace", str(demo_copy))

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Invariants: 11 of 11 hold",
        "Rejected files (1):",
        "  csv_inbox/sam/sparkasse_umsaetze_2026.csv: no schema matches; none shares a header "
        "with line 1 (Buchungstag, Valuta, Verwendungszweck, Betrag, Waehrung)",
        "    → balance doctor csv_inbox/sam/sparkasse_umsaetze_2026.csv",
        "balance: 1 finding(s) need attention",
    ]


def test_check_without_a_warehouse_says_what_to_do(tmp_path):
    workspace = copy_demo_sources(tmp_path / "household")
    result = invoke("check", "--workspace", str(workspace))
    assert result.exit_code == 1
    assert result.output == f"balance: no warehouse in {workspace} yet: run `balance run` first\n"
