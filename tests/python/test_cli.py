"""Every command explains itself, with an example, and fails with one line and its exit code."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager

import click
import pytest

from balance import operations
from balance.cli import cli

from support import invoke


def all_commands(group: click.Group, prefix=()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, click.Group):
            found += all_commands(command, path)
        else:
            found.append(path)
    return found


COMMANDS = all_commands(cli)


def test_the_commands_of_the_brief_exist():
    assert sorted(" ".join(c) for c in COMMANDS) == [
        "archive", "audit", "backup", "build", "check", "demo", "docs", "doctor", "explain",
        "export", "forget", "ingest", "init", "restore", "review import", "run", "settle",
        "shell", "status",
    ]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"balance {' '.join(command)}" in result.output
    if command != ("demo",):
        assert "--workspace DIR" in result.output


def test_a_group_of_commands_has_help_with_an_example_too():
    result = invoke("review", "--help")
    assert result.exit_code == 0
    assert "Example:\n    balance review import\n" in result.output


def test_a_folder_that_is_not_a_workspace_is_a_one_line_error(tmp_path):
    result = invoke("run", "--workspace", str(tmp_path))
    assert result.exit_code == 1
    assert result.output == (
        f"balance: {tmp_path} is not a complete balance workspace: missing "
        "household/members.csv, household/split_policies.csv; make them with "
        f"`balance init {tmp_path} --members alex,sam` (your members' ids)\n"
    )


def test_a_mistyped_command_line_exits_1_not_2(tmp_path):
    # 2 means a failing invariant: "fix the data" (docs/rules.md#invariants).
    for arguments in (("explain",), ("run", "--no-such-option"), ("no-such-command",)):
        assert invoke(*arguments).exit_code == 1


# Every command that writes (and so takes the workspace lock), with what it needs to start.
WRITING_COMMANDS = [
    ("run", "--force"), ("ingest",), ("build",), ("export",), ("review", "import"), ("check",),
    ("settle",), ("audit",), ("archive",), ("backup",), ("restore", "backups/none.tar.gz"),
    ("forget", "csv_inbox/alex/capital_one_savor_2026-04_2026-09.csv"),
]  # fmt: skip


@contextmanager
def held_by_another_process(code: str, workspace):
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(workspace)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_workspace_held_by_another_command_is_exit_1_for_every_command(demo_copy):
    code = (
        "import sys, time; from pathlib import Path; from core.locking import workspace_lock; "
        "from core.workspace import Workspace\n"
        "with workspace_lock(Workspace(Path(sys.argv[1]))):\n"
        "    print('held', flush=True); time.sleep(60)"
    )
    with held_by_another_process(code, demo_copy) as holder:
        results = {c: invoke(*c, "--workspace", str(demo_copy)) for c in WRITING_COMMANDS}
    busy = f"balance: another balance command is working in this workspace (pid {holder.pid} "
    for command, result in results.items():
        assert result.exit_code == 1, (command, result.output)
        assert result.output.startswith(busy), (command, result.output)
        assert result.output.endswith(" UTC); wait for it to finish\n"), (command, result.output)
        assert result.output.count("\n") == 1, (command, result.output)


def test_a_warehouse_held_by_a_shell_is_exit_1_for_every_command_that_opens_it(
    demo_copy, monkeypatch
):
    warehouse = demo_copy / "warehouse/balance.duckdb"
    backup = invoke("backup", "--workspace", str(demo_copy)).output.split(": ")[-1].strip()
    code = (
        "import sys, time, duckdb\n"
        "connection = duckdb.connect(sys.argv[1] + '/warehouse/balance.duckdb')\n"
        "print('held', flush=True); time.sleep(60)"
    )
    commands = [c for c in WRITING_COMMANDS if c[0] not in {"restore", "review"}]
    commands += [("restore", backup), ("explain", "60dc3dc0e4b3")]
    with held_by_another_process(code, demo_copy):
        results = {c: invoke(*c, "--workspace", str(demo_copy)) for c in commands}
        # dbt itself meeting the lock (taken between the check and dbt's start) is no
        # failing invariant either.
        original, calls = operations.require_unlocked_warehouse, []

        def first_check_too_early(workspace):
            calls.append(workspace)
            if len(calls) > 1:
                original(workspace)

        monkeypatch.setattr(operations, "require_unlocked_warehouse", first_check_too_early)
        build = invoke("build", "--workspace", str(demo_copy))
    locked = (
        f"balance: the warehouse {warehouse} is locked by another program (close the DuckDB "
        "shell or the other balance run, then try again)\n"
    )
    for command, result in {**results, ("build", "(dbt)"): build}.items():
        assert (result.exit_code, result.output) == (1, locked), command
    assert (demo_copy / backup).is_file()
