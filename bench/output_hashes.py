"""A fingerprint of everything a workspace's outputs hold: one hash per Parquet column and per
workbook sheet, so that two versions of the code can be shown to write the same outputs.

    python bench/output_hashes.py WORKSPACE > before.json
    ... change the code, build and export again ...
    python bench/output_hashes.py WORKSPACE --compare before.json

A Parquet file is read with its rows sorted on every column (DuckDB writes a table's rows in
whatever order its threads finish), then each column is hashed by its type and values; a sheet
by the value of every cell, row by row, as openpyxl reads it (formulas as written). Row counts
are kept beside the hashes, so a difference says where it is. `--compare` prints what differs
and exits 1 if anything does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import duckdb
import openpyxl
import pyarrow.parquet as pq

WORKBOOKS = ("output/balance_data.xlsx",)
PARQUET_FOLDERS = ("output/powerbi", "output")
BATCH_ROWS = 65_536


def _parquet_hashes(path: Path) -> dict[str, dict]:
    schema = pq.read_schema(path)
    digests = {field.name: hashlib.sha256(str(field.type).encode()) for field in schema}
    rows = 0
    with duckdb.connect() as connection:
        result = connection.execute("select * from read_parquet(?) order by all", [str(path)])
        while batch := result.fetchmany(BATCH_ROWS):
            rows += len(batch)
            for name, values in zip(schema.names, zip(*batch, strict=True), strict=True):
                digests[name].update(repr(values).encode())
    return {name: {"rows": rows, "sha256": digest.hexdigest()} for name, digest in digests.items()}


def _sheet_hashes(path: Path) -> dict[str, dict]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        hashes = {}
        for sheet in book.worksheets:
            digest = hashlib.sha256()
            rows = 0
            for values in sheet.iter_rows(values_only=True):
                rows += 1
                digest.update(repr(values).encode())
            hashes[sheet.title] = {"rows": rows, "sha256": digest.hexdigest()}
        return hashes
    finally:
        book.close()


def output_hashes(workspace: Path) -> dict[str, dict]:
    """{"<file>:<column or sheet>": {"rows": n, "sha256": …}} for every output of workspace."""
    hashes: dict[str, dict] = {}
    for folder in PARQUET_FOLDERS:
        for path in sorted((workspace / folder).glob("*.parquet")):
            shown = path.relative_to(workspace).as_posix()
            for column, facts in _parquet_hashes(path).items():
                hashes[f"{shown}:{column}"] = facts
    for workbook in WORKBOOKS:
        for sheet, facts in _sheet_hashes(workspace / workbook).items():
            hashes[f"{workbook}:{sheet}"] = facts
    return hashes


def differences(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            lines.append(f"gone:    {key}")
        elif key not in before:
            lines.append(f"new:     {key}")
        elif before[key] != after[key]:
            rows = f"{before[key]['rows']} → {after[key]['rows']} rows"
            lines.append(f"changed: {key} ({rows})")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--compare", type=Path, help="a JSON written before; exit 1 on any change")
    arguments = parser.parse_args()
    hashes = output_hashes(arguments.workspace)
    if arguments.compare is None:
        json.dump(hashes, sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    before = json.loads(arguments.compare.read_text(encoding="utf-8"))
    changed = differences(before, hashes)
    print("\n".join(changed) or f"identical: {len(hashes)} columns and sheets")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
