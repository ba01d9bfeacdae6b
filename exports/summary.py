"""The facts `balance status` prints, read from the marts after a green build."""

from __future__ import annotations


def read_balance_summary(connection) -> dict:
    rows = connection.execute(
        """
        select member_id, cast(net_amount as varchar), statement, pending_review_count,
            cast(pending_amount as varchar)
        from marts.rpt_balance
        order by member_id
        """
    ).fetchall()
    files_loaded = connection.execute("select count(*) from marts.dim_files").fetchone()[0]
    duplicate_questions = connection.execute(
        "select count(*) from marts.rpt_review_queue where question = 'duplicate'"
    ).fetchone()[0]
    if not rows:
        return {
            "balance": {},
            "statement": "No members.",
            "pending_review": 0,
            "pending_amount": "0.00",
            "duplicate_questions": int(duplicate_questions),
            "files_loaded": files_loaded,
        }
    return {
        "balance": {member_id: net for member_id, net, *_ in rows},
        "statement": rows[0][2],
        "pending_review": int(rows[0][3]),
        "pending_amount": rows[0][4],
        "duplicate_questions": int(duplicate_questions),
        "files_loaded": int(files_loaded),
    }
