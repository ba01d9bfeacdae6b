"""The facts `balance status` shows beyond the balance: row counts, warnings, account links."""

from __future__ import annotations

import datetime as dt

STALE_AFTER_DAYS = 40


def read_health(connection, today: dt.date | None = None) -> dict:
    """Counts of transactions by kind, and warnings a person can act on."""
    today = today or dt.date.today()
    kinds = dict(connection.execute(
        "select kind, count(*) from marts.fct_transactions group by kind order by kind"
    ).fetchall())  # fmt: skip
    stale_accounts = connection.execute(
        """
        select dim_accounts.account_label, max(fct_transactions.transaction_date) as last_date
        from marts.dim_accounts
        inner join marts.fct_transactions using (account_id)
        group by dim_accounts.account_label
        having max(fct_transactions.transaction_date) < ?
        order by dim_accounts.account_label
        """,
        [today - dt.timedelta(days=STALE_AFTER_DAYS)],
    ).fetchall()
    members_without_files = [row[0] for row in connection.execute(
        """
        select display_name from marts.dim_members
        where member_id not in (select payer_member_id from marts.fct_transactions)
        order by member_order
        """
    ).fetchall()]  # fmt: skip
    warnings = [
        f"no new data for {(today - last_date).days} days: {label} (last {last_date})"
        for label, last_date in stale_accounts
    ]
    warnings += [f"no files for {name}: drop their exports in csv_inbox/<member_id>/"
                 for name in members_without_files]  # fmt: skip
    # A bank's stated balances that do not follow its rows: a finding per file, never a block.
    warnings += [f"stated balances do not follow the rows at {subject}: {detail}"
                 for subject, detail in connection.execute(
                     "select subject, detail from marts.rpt_data_quality "
                     "where check_name = 'statement_balance_mismatch' order by subject"
                 ).fetchall()]  # fmt: skip
    return {
        "transactions_by_kind": kinds,
        "warnings": warnings,
        "account_links": read_account_links(connection),
    }


def read_account_links(connection) -> list[str]:
    """Files that name no account, tied to one by their mirrored rows, in words."""
    return [
        f"linked {file_path} to {account_label}: {mirrored} of its {rows} rows mirror that account"
        for file_path, account_label, mirrored, rows in connection.execute(
            "select file_path, account_label, mirrored_rows, file_rows "
            "from marts.rpt_account_links order by file_path, owner_member_id"
        ).fetchall()
    ]
