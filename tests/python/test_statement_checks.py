"""Stated balances that do not follow the rows (docs/rules.md#statement-balances): a finding
per file, never a block.

Alex's checking download lists newest first. From 1,000.00: parking −1.00 (999.00), bakery
−2.00 (997.00), lunch −10.00 (987.00), grocer −20.00 (the file says 972.00; it is 967.00),
coffee −5.00 (the file says 962.00). Read bottom up, the balances follow the rows up to the
grocer's line, line 3: the first line that disagrees.
"""

from __future__ import annotations

from support import invoke, put_in_inbox, query

CHECKING = (
    "Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #\n"
    "DEBIT,03/05/2026,COFFEE,-5.00,DEBIT_CARD,962.00,,\n"
    "DEBIT,03/04/2026,GROCER,-20.00,DEBIT_CARD,972.00,,\n"
    "DEBIT,03/03/2026,LUNCH,-10.00,DEBIT_CARD,987.00,,\n"
    "DEBIT,03/02/2026,BAKERY,-2.00,DEBIT_CARD,997.00,,\n"
    "DEBIT,03/01/2026,PARKING,-1.00,DEBIT_CARD,999.00,,\n"
)
FINDING = (
    "csv_inbox/alex/checking.csv:3: the file states 972.00 on 2026-03-04, the balance before it "
    "and the amounts since give 967.00"
)


def test_a_file_whose_balances_do_not_follow_its_rows_is_a_finding_not_a_block(tmp_path):
    workspace = tmp_path / "household"
    (workspace / "household").mkdir(parents=True)
    (workspace / "household/members.csv").write_text(
        "member_id,display_name,aliases\nalex,Alex,alex\nsam,Sam,sam\n"
    )
    (workspace / "household/split_policies.csv").write_text(
        "policy,member_id,weight,effective_from\ndefault,alex,1,\ndefault,sam,1,\n"
    )
    put_in_inbox(workspace, "alex", "checking.csv", CHECKING.encode())

    result = invoke("run", "--workspace", str(workspace))

    assert result.exit_code == 0, result.output
    assert (workspace / "output/balance_data.xlsx").exists()
    checked = query(
        workspace,
        "select line_number, is_matching from intermediate.int_statement_balances_checked "
        "order by line_number",
    )
    assert checked == [(2, False), (3, False), (4, True), (5, True), (6, True)]
    status = invoke("status", "--workspace", str(workspace)).output
    assert f"warning: stated balances do not follow the rows at {FINDING}" in status
    check = invoke("check", "--workspace", str(workspace))
    assert f"Statement balances that do not match (1):\n  {FINDING}\n" in check.output
