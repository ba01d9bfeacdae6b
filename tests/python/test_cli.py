"""Every command explains itself, with an example."""

from __future__ import annotations

import click
import pytest

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
        "archive", "audit", "backup", "build", "check", "demo", "doctor", "explain", "export",
        "forget", "ingest", "restore", "review import", "run", "settle", "status",
    ]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"balance {' '.join(command)}" in result.output
    if command != ("demo",):
        assert "--workspace DIR" in result.output


def test_a_folder_that_is_not_a_workspace_is_a_one_line_error(tmp_path):
    result = invoke("run", "--workspace", str(tmp_path))
    assert result.exit_code == 1
    assert result.output == (
        f"balance: {tmp_path} is not a balance workspace (no household/ folder); "
        "see README.md, or try `balance demo`\n"
    )
