"""Load the workspace's exports into the raw tables: `python ingest/load.py [--workspace DIR]`.

The ingest step on its own, beside `dbt build`: what `balance ingest` does, without the rest of
the command line (no run log, no record of the run for `balance status`).
"""

from __future__ import annotations

import argparse
import sys

from core.locking import WorkspaceBusy, workspace_lock
from core.workspace import resolve_workspace
from ingest.household import HouseholdError
from ingest.inbox import format_report, ingest_workspace, print_progress
from ingest.schemas import SchemaError
from ingest.warehouse import WarehouseLocked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python ingest/load.py",
        description="Load the exports of csv_inbox/ into the warehouse's raw tables.",
        epilog="example: BALANCE_WORKSPACE=examples/demo python ingest/load.py",
    )
    parser.add_argument(
        "--workspace", help="the household's folder (default: $BALANCE_WORKSPACE, else here)"
    )
    arguments = parser.parse_args(argv)
    workspace = resolve_workspace(arguments.workspace)
    if not workspace.household.is_dir():
        print(f"ingest: {workspace.root} is not a balance workspace (no household/ folder)",
              file=sys.stderr)  # fmt: skip
        return 1
    try:
        with workspace_lock(workspace):
            result = ingest_workspace(workspace, progress=print_progress)
    except (SchemaError, HouseholdError, WarehouseLocked, WorkspaceBusy) as error:
        print(f"ingest: {error}", file=sys.stderr)
        return 1
    print(format_report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
