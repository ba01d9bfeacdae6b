"""Helpers for the tests: the CLI in-process, the warehouse read-only, demo copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from click.testing import CliRunner

from balance.cli import cli
from core.workspace import DEMO_WORKSPACE

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


def make_workspace(root: Path) -> Path:
    """Two members; accounts.csv names the owners of the aggregators' accounts."""
    (root / "household").mkdir(parents=True)
    (root / "household/members.csv").write_text(
        "member_id,display_name,aliases\nalex,Alex,alex|a\\.? rivera\nsam,Sam,sam|s\\.? chen\n"
    )
    (root / "household/split_policies.csv").write_text(
        "policy,member_id,weight,effective_from\ndefault,alex,1,\ndefault,sam,1,\n"
    )
    (root / "household/accounts.csv").write_text(
        "account_pattern,member_id,account_label\n"
        "2463,alex,Capital One Savor …2463\n"
        "3850,sam,Wells Fargo Everyday Checking …3850\n"
    )
    return root


def ingest(workspace: Path) -> str:
    result = invoke("ingest", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return result.output


def put_in_inbox(workspace: Path, inbox: str, name: str, content: bytes) -> Path:
    folder = workspace / "csv_inbox" / inbox
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return folder / name


def loaded_rows(workspace: Path) -> list[tuple]:
    return query(
        workspace,
        "select line_number, transaction_date::varchar, amount_cents, owner_member_id, "
        "account_text, account_last4, description from raw.transactions order by line_number",
    )


def file_counts(workspace: Path) -> list[tuple]:
    return query(
        workspace,
        "select schema_id, rows_read, rows_loaded, rows_skipped, rows_skipped_by_reason "
        "from raw.files",
    )
