"""Month-end housekeeping on the demo: archive, backup and restore, forget."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest

from balance import pipeline

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


def snapshot(workspace: Path) -> dict[str, bytes]:
    """Every file but the run logs (each command leaves one), byte for byte."""
    return {
        path.relative_to(workspace).as_posix(): path.read_bytes()
        for path in sorted(workspace.rglob("*"))
        if path.is_file() and path.relative_to(workspace).parts[0] != "logs"
    }


def write_backup(workspace: Path) -> Path:
    result = invoke("backup", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return workspace / result.output.splitlines()[-1].removeprefix("backup written: ")


def test_a_backup_holds_the_archive_and_what_links_point_to_but_no_excel_lock_file(
    demo_copy, tmp_path
):
    assert invoke("archive", "--workspace", str(demo_copy)).exit_code == 0
    archived = sorted(p for p in (demo_copy / "data/_archive").rglob("*.csv"))
    shared = tmp_path / "shared_lookup.csv"
    lookup = demo_copy / "household/merchant_lookup.csv"
    shutil.move(lookup, shared)
    lookup.symlink_to(shared)
    (demo_copy / "output/~$balance_data.xlsx").write_bytes(b"owner file of an open workbook")

    backup = write_backup(demo_copy)

    with tarfile.open(backup) as archive:
        members = {member.name: member for member in archive.getmembers()}
        linked = archive.extractfile("household/merchant_lookup.csv").read()
        first_archived = archive.extractfile(archived[0].relative_to(demo_copy).as_posix()).read()
    assert len(archived) == 5
    assert {p.relative_to(demo_copy).as_posix() for p in archived} <= set(members)
    assert first_archived == archived[0].read_bytes()
    assert members["household/merchant_lookup.csv"].isfile()
    assert linked == shared.read_bytes()
    assert not [name for name in members if "~$" in name or name.endswith(".balance.lock")]


def test_restore_refuses_a_file_that_is_not_a_backup(demo_copy, tmp_path):
    stray = tmp_path / "stray.tar.gz"
    with tarfile.open(stray, "w:gz") as archive:
        archive.add(demo_copy / "README.md", arcname="README.md")
    result = invoke("restore", "--workspace", str(demo_copy), str(stray))
    assert result.exit_code == 1
    assert result.output == f"balance: {stray}: not a balance backup (it holds README.md)\n"


def test_a_cut_short_or_foreign_backup_is_refused_and_the_workspace_is_unchanged(demo_copy):
    backup = write_backup(demo_copy)
    cut_short = demo_copy / "backups/cut_short.tar.gz"
    cut_short.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    checksum_lost = demo_copy / "backups/checksum_lost.tar.gz"
    checksum_lost.write_bytes(backup.read_bytes()[:-6])
    not_an_archive = demo_copy / "backups/notes.tar.gz"
    not_an_archive.write_text("member_id,display_name\n")
    before = snapshot(demo_copy)

    refused = {
        path: invoke("restore", "--workspace", str(demo_copy), str(path))
        for path in (cut_short, checksum_lost, not_an_archive)
    }

    cannot_read = "cannot be read to its end (cut short or damaged); nothing was restored"
    assert {path: (r.exit_code, r.output) for path, r in refused.items()} == {
        cut_short: (1, f"balance: {cut_short}: {cannot_read}\n"),
        checksum_lost: (1, f"balance: {checksum_lost}: {cannot_read}\n"),
        not_an_archive: (
            1,
            f"balance: {not_an_archive}: not a balance backup (not a .tar.gz file)\n",
        ),
    }
    assert snapshot(demo_copy) == before


def test_a_backup_whose_files_cannot_be_written_changes_nothing(demo_copy, tmp_path):
    # `household` as a file, then a file inside it: the second cannot be written.
    broken = tmp_path / "broken.tar.gz"
    with tarfile.open(broken, "w:gz") as archive:
        for name, content in (("decisions/review_decisions.csv", b"txn_id\n"),
                              ("household", b"x"), ("household/members.csv", b"y")):  # fmt: skip
            member = tarfile.TarInfo(name)
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content))
    before = snapshot(demo_copy)

    result = invoke("restore", "--workspace", str(demo_copy), str(broken))

    assert (result.exit_code, result.output) == (
        1,
        f"balance: {broken}: cannot be unpacked (household/members.csv: Not a directory); "
        "nothing was restored\n",
    )
    assert snapshot(demo_copy) == before
    assert not list(demo_copy.glob(".restore-*"))


def test_a_restore_that_fails_while_swapping_folders_puts_everything_back(demo_copy, monkeypatch):
    backup = write_backup(demo_copy)
    journal = demo_copy / "decisions/review_decisions.csv"
    journal.write_text("txn_id,sharing,payer_share_pct,policy,note,decided_at\n")
    before = snapshot(demo_copy)
    renames, rename = [], os.rename

    def disk_fails_on_the_third_folder(source, target):
        # Folders move in pairs (aside, then in): the 5th rename is the third folder's first.
        renames.append(Path(target).name)
        if len(renames) == 5:
            raise OSError(5, "Input/output error")
        rename(source, target)

    monkeypatch.setattr(os, "rename", disk_fails_on_the_third_folder)
    result = invoke("restore", "--workspace", str(demo_copy), str(backup))

    assert (result.exit_code, result.output) == (
        1,
        f"balance: {backup}: the restored folders could not take their places "
        "(Input/output error); the workspace is as it was\n",
    )
    assert len(renames) > 5  # it failed midway, and the folders that had moved moved back
    assert snapshot(demo_copy) == before
    assert not list(demo_copy.glob(".restore-*"))


def test_a_restore_round_trips_the_archive(demo_copy):
    assert invoke("archive", "--workspace", str(demo_copy)).exit_code == 0
    archived = {p: p.read_bytes() for p in (demo_copy / "data/_archive").rglob("*.csv")}
    backup = write_backup(demo_copy)
    shutil.rmtree(demo_copy / "data/_archive")
    (demo_copy / "household/members.csv").write_text("member_id,display_name\nalex,Alex\n")

    restored = invoke("restore", "--workspace", str(demo_copy), str(backup))

    assert restored.exit_code == 0, restored.output
    assert {p: p.read_bytes() for p in (demo_copy / "data/_archive").rglob("*.csv")} == archived
    assert (demo_copy / "household/members.csv").read_bytes() == (
        (Path(pipeline.PROJECT_ROOT) / "examples/demo/household/members.csv").read_bytes()
    )
    assert not list(demo_copy.glob(".restore-*"))


def test_workbook_temporary_files_stay_in_the_workspace_and_go_even_after_a_crash(
    demo_copy, monkeypatch
):
    left_by_a_killed_run = demo_copy / "logs/tmp/tmpk1lled"
    left_by_a_killed_run.parent.mkdir(parents=True)
    left_by_a_killed_run.write_bytes(b"part of a workbook")
    made, mkstemp = [], tempfile.mkstemp

    def recorded_mkstemp(*args, **kwargs):
        descriptor, name = mkstemp(*args, **kwargs)
        made.append(Path(name))
        return descriptor, name

    monkeypatch.setattr(tempfile, "mkstemp", recorded_mkstemp)
    exported = invoke("export", "--workspace", str(demo_copy))

    assert exported.exit_code == 0, exported.output
    assert made and all(p.parent == demo_copy / "logs/tmp" for p in made)  # xlsxwriter's parts
    assert not (demo_copy / "logs/tmp").exists()
    assert tempfile.gettempdir() != str(demo_copy / "logs/tmp")

    def export_that_crashes(connection, path, kept):
        tempfile.mkstemp()  # a part written, then the crash
        raise RuntimeError("killed")

    monkeypatch.setattr(pipeline, "export_workbook", export_that_crashes)
    with pytest.raises(RuntimeError, match="killed"):
        invoke("export", "--workspace", str(demo_copy))
    assert made[-1].parent == demo_copy / "logs/tmp"
    assert not (demo_copy / "logs/tmp").exists()


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
    # Once the user removes the file, it needs nothing more.
    (demo_copy / "csv_inbox/sam/sparkasse_umsaetze_2026.csv").unlink()
    after = invoke("check", "--workspace", str(demo_copy))
    assert after.exit_code == 0, after.output
    assert after.output.splitlines() == ["Invariants: 11 of 11 hold", "No findings."]


def test_check_without_a_warehouse_says_what_to_do(tmp_path):
    workspace = copy_demo_sources(tmp_path / "household")
    result = invoke("check", "--workspace", str(workspace))
    assert result.exit_code == 1
    assert result.output == f"balance: no warehouse in {workspace} yet: run `balance run` first\n"
