"""The Parquet star schema for Power BI: one file per exported mart, written atomically.

docs/powerbi.md documents every column of every file; a test holds the files to it.
"""

from __future__ import annotations

from pathlib import Path

from core.files import replace_atomically
from core.masking import masked_select

EXPORTED_MARTS = (
    "fct_transactions",
    "fct_shares",
    "fct_settlements",
    "fct_balances_daily",
    "dim_members",
    "dim_accounts",
    "dim_merchants",
    "dim_categories",
    "dim_dates",
    "rpt_balance",
    "rpt_settle_up",
    "rpt_monthly",
)
# rpt_monthly once more, beside the folder: one file for a quick report without the model.
MONTHLY_FILE = ("monthly_data.parquet", "rpt_monthly")
# What Power BI reads as it is. DuckDB widens silently (sum(BIGINT) is HUGEINT, now()
# is TIMESTAMPTZ); the marts' dbt contracts prevent that, and this check keeps a mart without
# one from reaching Power BI. TIMESTAMP is microseconds in Parquet.
POWER_BI_TYPES = frozenset(
    {"DATE", "TIMESTAMP", "BOOLEAN", "BIGINT", "VARCHAR", "DECIMAL(18,2)", "DECIMAL(5,2)"}
)


class UnsafeColumnType(ValueError):
    """A mart column whose type Power BI would misread."""


def _checked_select(connection, mart: str) -> str:
    relation = f"marts.{mart}"
    unsafe = [
        f"{name} {column_type}"
        for name, column_type, *_ in connection.execute(f"describe {relation}").fetchall()
        if column_type not in POWER_BI_TYPES
    ]
    if unsafe:
        raise UnsafeColumnType(
            f"{relation} has column types Power BI cannot take ({', '.join(unsafe)}); "
            f"cast them to one of {', '.join(sorted(POWER_BI_TYPES))} in the model"
        )
    return masked_select(connection, relation)


def _write_parquet(connection, query: str, target: Path) -> Path:
    def write(path: Path) -> None:
        quoted_path = str(path).replace("'", "''")
        connection.execute(f"copy ({query}) to '{quoted_path}' (format parquet)")

    return replace_atomically(target, write)


def export_parquet(connection, folder: Path) -> list[Path]:
    """Each exported mart as folder/<mart>.parquet (a mart with no rows is a file with no rows),
    and MONTHLY_FILE beside the folder. Every type is checked before any file is replaced."""
    queries = {mart: _checked_select(connection, mart) for mart in EXPORTED_MARTS}
    monthly_name, monthly_mart = MONTHLY_FILE
    targets = [(folder / f"{mart}.parquet", query) for mart, query in queries.items()]
    targets.append((folder.parent / monthly_name, queries[monthly_mart]))
    return [_write_parquet(connection, query, target) for target, query in targets]
