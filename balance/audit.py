"""`balance audit`: every transaction with its lineage and every rule and decision applied."""

from __future__ import annotations

from pathlib import Path

from core.files import replace_atomically
from core.masking import masked_select

AUDIT_TRAIL_SQL = """
create or replace temp view audit_trail as
with effects as (
    -- What each transaction does to each member's balance, as one readable cell.
    select txn_id, string_agg(member_id || ' ' || balance_effect_cents, '; ' order by member_id)
        as balance_effect_cents_by_member
    from marts.fct_shares
    where not is_before_clean_slate
    group by txn_id
)
select
    fct_transactions.txn_id,
    fct_transactions.transaction_date,
    fct_transactions.posted_date,
    fct_transactions.payer_member_id,
    fct_transactions.account_label,
    fct_transactions.description,
    fct_transactions.amount,
    fct_transactions.kind,
    fct_transactions.decision_source,
    fct_transactions.merchant,
    fct_transactions.merchant_source,
    fct_transactions.category,
    fct_transactions.sharing,
    fct_transactions.policy,
    fct_transactions.payer_share_pct,
    fct_transactions.sharing_issue,
    fct_transactions.review_note,
    fct_transactions.reviewed_at,
    fct_transactions.duplicate_of_txn_id,
    fct_transactions.duplicate_reason,
    fct_transactions.settlement_id,
    fct_transactions.counterparty_member_id,
    fct_transactions.is_before_clean_slate,
    fct_transactions.is_pending_review,
    effects.balance_effect_cents_by_member,
    fct_transactions.schema_id,
    fct_transactions.file_path,
    fct_transactions.line_number,
    fct_transactions.raw_line,
    fct_transactions.loaded_copies,
    fct_transactions.loaded_at
from marts.fct_transactions
left join effects using (txn_id)
"""


def _csv_safe(select_sql: str, connection) -> str:
    """Text a spreadsheet would run as a formula gets a leading ' in CSV outputs."""
    columns = connection.execute("describe audit_trail").fetchall()
    expressions = [
        f"""case when regexp_matches("{name}", '^[=+\\-@\\t\\r]') then '''' || "{name}" """
        f'else "{name}" end as "{name}"'
        if column_type == "VARCHAR"
        else f'"{name}"'
        for name, column_type, *_ in columns
    ]
    return f"select {', '.join(expressions)} from ({select_sql})"


def export_audit_trail(connection, folder: Path) -> list[Path]:
    """output/audit/audit_trail.csv and .parquet, ordered by date and txn_id, written atomically."""
    connection.execute(AUDIT_TRAIL_SQL)
    masked = masked_select(connection, "audit_trail") + " order by transaction_date, txn_id"
    outputs = {
        "audit_trail.csv": (_csv_safe(masked, connection), "(header, delimiter ',')"),
        "audit_trail.parquet": (masked, "(format parquet)"),
    }
    written = []
    for name, (query, options) in outputs.items():

        def write(path: Path, query: str = query, options: str = options) -> None:
            connection.execute(f"copy ({query}) to '{path}' {options}")

        written.append(replace_atomically(folder / name, write))
    return written
