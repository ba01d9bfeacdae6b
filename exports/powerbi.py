"""The Parquet star schema for Power BI (§4): one file per exported mart, written atomically."""

from __future__ import annotations

from pathlib import Path

from exports.files import replace_atomically
from exports.masking import masked_select

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


def export_parquet(connection, folder: Path) -> list[Path]:
    written = []
    for mart in EXPORTED_MARTS:
        query = masked_select(connection, f"marts.{mart}")

        def write(path: Path, query: str = query) -> None:
            connection.execute(f"copy ({query}) to '{path}' (format parquet)")

        written.append(replace_atomically(folder / f"{mart}.parquet", write))
    return written
