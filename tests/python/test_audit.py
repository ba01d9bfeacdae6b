"""`balance audit`: the full audit trail as CSV and Parquet."""

from __future__ import annotations

import csv

import duckdb
import pyarrow.parquet as pq

from support import invoke

SPLIT_PIZZA = "d1b8ca66df5de519"


def test_the_audit_trail_holds_every_transaction_with_its_trail(demo_copy):
    connection = duckdb.connect(str(demo_copy / "warehouse/balance.duckdb"))
    connection.execute(
        "update marts.fct_transactions set description = '=1+2' "
        "where description = 'PG&E WEB ONLINE' and transaction_date = '2026-04-18'"
    )
    connection.close()

    result = invoke("audit", "--workspace", str(demo_copy))

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "written: output/audit/audit_trail.csv",
        "written: output/audit/audit_trail.parquet",
    ]
    with (demo_copy / "output/audit/audit_trail.csv").open(encoding="utf-8") as handle:
        rows = {row["txn_id"]: row for row in csv.DictReader(handle)}
    assert len(rows) == 124
    pizza = rows[SPLIT_PIZZA]
    assert {key: pizza[key] for key in (
        "kind", "sharing", "payer_share_pct", "decision_source", "merchant_source",
        "review_note", "balance_effect_cents_by_member", "file_path", "line_number", "raw_line",
    )} == {
        "kind": "expense", "sharing": "split", "payer_share_pct": "30.00",
        "decision_source": "review", "merchant_source": "household_lookup",
        "review_note": "Alex had friends over; Sam covers 70 %",
        "balance_effect_cents_by_member": "alex 2534; sam -2534",
        "file_path": "csv_inbox/alex/capital_one_savor_2026-04_2026-09.csv", "line_number": "14",
        "raw_line": "2026-06-12,2026-06-13,2463,SQ *JOES PIZZA,Dining,36.20,",
    }  # fmt: skip
    formula_like = [row["description"] for row in rows.values() if "1+2" in row["description"]]
    assert formula_like == ["'=1+2"]
    table = pq.read_table(demo_copy / "output/audit/audit_trail.parquet")
    assert table.num_rows == 124
    assert "=1+2" in table.column("description").to_pylist()
    assert not any("9876543210" in line for line in table.column("raw_line").to_pylist())
