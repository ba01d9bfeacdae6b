"""The SQL user: a read-only snapshot of the warehouse that a shell may hold open while runs go
on, `balance shell` on it, and `balance docs` building the models' documentation site."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import invoke

DUCKDB_CLI = Path(sys.executable).with_name("duckdb")


def test_balance_shell_reads_the_snapshot_of_the_last_run(built_demo, capfd):
    result = invoke(
        "shell", "--workspace", str(built_demo), "-c", "select statement from marts.rpt_balance"
    )
    assert result.exit_code == 0, result.output
    assert "Sam owes Alex $6,822.21" in capfd.readouterr().out


def test_a_shell_left_open_on_the_snapshot_never_stops_a_run(demo_copy):
    snapshot = demo_copy / "output/warehouse_snapshot.duckdb"
    before = snapshot.stat().st_ino
    # A shell waiting for input holds the snapshot open, read-only, for the whole run.
    shell = subprocess.Popen(
        [str(DUCKDB_CLI), "-readonly", str(snapshot)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    try:
        result = invoke("run", "--workspace", str(demo_copy), "--force")
        assert shell.poll() is None  # still open
    finally:
        shell.communicate(b".quit\n", timeout=30)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Sam owes Alex $6,822.21"
    assert snapshot.stat().st_ino != before  # a new copy, renamed over the one in use


def test_balance_shell_without_a_run_says_what_to_do(tmp_path):
    (tmp_path / "household").mkdir()
    result = invoke("shell", "--workspace", str(tmp_path))
    assert result.exit_code == 1
    assert result.output == (
        "balance: no output/warehouse_snapshot.duckdb yet: run `balance run` first\n"
    )


def test_balance_docs_builds_the_site_into_the_workspace(demo_copy):
    result = invoke("docs", "--workspace", str(demo_copy))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == ("wrote output/docs/index.html: open it in a browser")
    page = (demo_copy / "output/docs/index.html").read_text(encoding="utf-8")
    assert "fct_transactions" in page and "rpt_balance" in page
