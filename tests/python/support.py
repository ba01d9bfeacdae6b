"""Helpers for the tests: the CLI in-process, the warehouse read-only, demo copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from click.testing import CliRunner

from balance.cli import cli
from balance.workspace import DEMO_WORKSPACE

GENERATED_FOLDERS = ("warehouse", "output", "logs")


def invoke(*args: str):
    """Run the CLI in-process, as a user would type it; returns click's Result."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def copy_demo_sources(destination: Path) -> Path:
    shutil.copytree(DEMO_WORKSPACE, destination, ignore=shutil.ignore_patterns(*GENERATED_FOLDERS))
    return destination


def query(workspace: Path, sql: str, parameters=()) -> list[tuple]:
    connection = duckdb.connect(str(workspace / "warehouse" / "balance.duckdb"), read_only=True)
    try:
        return connection.execute(sql, list(parameters)).fetchall()
    finally:
        connection.close()


def net_cents(workspace: Path) -> dict[str, int]:
    return dict(query(workspace, "select member_id, net_cents from marts.rpt_balance"))
