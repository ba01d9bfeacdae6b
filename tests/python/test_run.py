"""`balance run` as a whole: re-runs, standalone steps, no network, stable identities."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from balance import dbt
from core.workspace import PROJECT_ROOT

from support import copy_demo_sources, invoke, net_cents, query


def snapshot(workspace: Path) -> dict[str, str]:
    """Content hash of every output and of the warehouse's raw rows."""
    files = sorted((workspace / "output").rglob("*.*"))
    state = {
        p.relative_to(workspace).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in files
    }
    state["raw rows"] = str(query(workspace, "select count(*) from raw.transactions"))
    state["files"] = str(query(workspace, "select count(*) from raw.files"))
    return state


def test_running_twice_changes_nothing(demo_copy):
    first = invoke("run", "--workspace", str(demo_copy))
    assert first.exit_code == 0, first.output  # the copy moved, so this run rebuilds once
    before = snapshot(demo_copy)

    again = invoke("run", "--workspace", str(demo_copy))

    assert again.exit_code == 0, again.output
    assert "Nothing changed since the last run; outputs are up to date." in again.output
    assert again.output.strip().endswith("Sam owes Alex $6,822.21")
    assert snapshot(demo_copy) == before


def test_ingest_twice_loads_nothing_new(demo_copy):
    result = invoke("ingest", "--workspace", str(demo_copy))
    assert result.exit_code == 0, result.output
    assert "0 loaded, 1 rejected, 5 unchanged" in result.output
    assert query(demo_copy, "select count(*) from raw.transactions") == [(124,)]


def test_ingest_script_and_dbt_build_work_on_their_own(tmp_path):
    workspace = copy_demo_sources(tmp_path / "household")
    environment = dict(os.environ, BALANCE_WORKSPACE=str(workspace))
    bin_dir = Path(sys.executable).parent

    ingest = subprocess.run(
        [sys.executable, "ingest/load.py"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    build = subprocess.run(
        [
            str(bin_dir / "dbt"),
            "build",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert ingest.returncode == 0, ingest.stderr
    assert "5 loaded, 1 rejected, 0 unchanged" in ingest.stdout
    assert build.returncode == 0, build.stdout[-2000:]
    assert net_cents(workspace) == {"alex": 682221, "sam": -682221}


def test_a_new_workspace_reuses_the_parse_of_the_project(built_demo, tmp_path, monkeypatch):
    """dbt's parse (~3 s) is shared: a new workspace's first build starts from the last one
    kept, and dbt itself confirms that nothing needed parsing again."""
    shared = tmp_path / "cache/partial_parse.msgpack"
    shared.parent.mkdir()
    shutil.copyfile(built_demo / "logs/dbt/target/partial_parse.msgpack", shared)
    monkeypatch.setattr(dbt, "SHARED_PARSE_CACHE", shared)
    workspace = copy_demo_sources(tmp_path / "household")

    result = invoke("run", "--workspace", str(workspace), "--debug")

    assert result.exit_code == 0, result.output
    dbt_log = (workspace / "logs/dbt/dbt.log").read_text(encoding="utf-8")
    assert "Partial parsing enabled, no changes found, skipping parsing" in dbt_log
    assert "Unable to do partial parsing" not in dbt_log


def test_dbt_logs_each_statement_only_with_debug(built_demo):
    """Logging every statement costs ~15 % of a household's build: dbt.log has dbt's summary
    lines by default, and each statement with --debug (the test above)."""
    dbt_log = (built_demo / "logs/dbt/dbt.log").read_text(encoding="utf-8")
    assert "OK created sql table model marts.fct_transactions" in dbt_log
    assert "Completed successfully" in dbt_log
    assert "SQL status: OK" not in dbt_log


@pytest.mark.system
def test_the_demo_runs_with_no_network(tmp_path):
    assert shutil.which("unshare"), "unshare (util-linux) is needed to cut the network"
    workspace = copy_demo_sources(tmp_path / "household")
    command = [
        "unshare",
        "-n",
        str(Path(sys.executable).with_name("balance")),
        "run",
        "--workspace",
        str(workspace),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("Sam owes Alex $6,822.21")


def test_transaction_ids_are_stable_across_rebuilds(demo_copy, built_demo):
    shutil.rmtree(demo_copy / "warehouse")
    assert invoke("run", "--workspace", str(demo_copy), "--force").exit_code == 0
    sql = "select txn_id from marts.fct_transactions order by txn_id"
    assert query(demo_copy, sql) == query(built_demo, sql)


def test_status_before_any_run_says_what_to_do(tmp_path):
    workspace = copy_demo_sources(tmp_path / "household")
    result = invoke("status", "--workspace", str(workspace))
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"balance: no completed run in {workspace} yet: run `balance run` first"
    )


def test_created_files_are_private(built_demo):
    for path in [
        built_demo / "warehouse/balance.duckdb",
        built_demo / "output/balance_data.xlsx",
        built_demo / "logs/last_run.json",
    ]:
        assert oct(path.stat().st_mode & 0o777) == "0o600", path
    for folder in ["warehouse", "output", "output/powerbi", "logs"]:
        assert oct((built_demo / folder).stat().st_mode & 0o777) == "0o700", folder


def test_a_warehouse_held_by_another_program_is_a_one_line_error(demo_copy):
    warehouse = demo_copy / "warehouse/balance.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(60)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        balance = str(Path(sys.executable).with_name("balance"))
        completed = subprocess.run(
            [balance, "ingest", "--workspace", str(demo_copy)],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        holder.kill()
        holder.wait()
    assert completed.returncode == 1
    assert completed.stderr == (
        f"balance: the warehouse {warehouse} is locked by another program "
        "(close the DuckDB shell or the other balance run, then try again)\n"
    )


def test_a_failing_invariant_exits_2_and_keeps_the_previous_outputs(demo_copy):
    before = snapshot(demo_copy)
    connection = duckdb.connect(str(demo_copy / "warehouse/balance.duckdb"))
    connection.execute("update raw.files set rows_read = rows_read + 1 "
                       "where file_path like '%rent_schedule%'")  # fmt: skip
    connection.close()

    result = invoke("run", "--workspace", str(demo_copy), "--force")

    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "balance: dbt build failed: assert_rows_conserved_per_file: Got 1 result, configured to "
        "fail if != 0; exports skipped, the previous outputs are unchanged"
    )
    after = snapshot(demo_copy)
    assert {k: v for k, v in after.items() if k.startswith("output/")} == {
        k: v for k, v in before.items() if k.startswith("output/")
    }
    status = invoke("status", "--workspace", str(demo_copy))
    assert (
        "last build FAILED: assert_rows_conserved_per_file: Got 1 result, configured to fail "
        "if != 0"
    ) in status.output


def test_two_commands_cannot_work_in_one_workspace_at_once(demo_copy):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from core.locking import workspace_lock; "
         "from core.workspace import Workspace; from pathlib import Path\n"
         "with workspace_lock(Workspace(Path(sys.argv[1]))):\n"
         "    print('locked', flush=True); time.sleep(60)", str(demo_copy)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = invoke("ingest", "--workspace", str(demo_copy))
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert result.output.startswith(
        f"balance: another balance command is working in this workspace (pid {holder.pid} since "
    )
    assert result.output.endswith(" UTC); wait for it to finish\n")


def test_each_writing_command_leaves_a_private_log(demo_copy):
    result = invoke("ingest", "--workspace", str(demo_copy), "--debug")
    assert result.exit_code == 0, result.output
    logs = sorted((demo_copy / "logs").glob("ingest-*.log"))
    assert len(logs) == 1
    assert oct(logs[0].stat().st_mode & 0o777) == "0o600"
    text = logs[0].read_text()
    assert "0 loaded, 1 rejected, 5 unchanged" in text
    assert "rejected csv_inbox/sam/sparkasse_umsaetze_2026.csv: no schema matches" in text
