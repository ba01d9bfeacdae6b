"""`balance settle`: the month-end statement of the demo household."""

from __future__ import annotations

from decimal import Decimal

import openpyxl

from support import invoke

JULY_STATEMENT = """\
Settlement statement 2026-07-01 to 2026-07-31

Opening balance (+ is owed)
  Alex            +3,740.91
  Sam             −3,740.91

Shared spending
  Groceries        paid by Alex         200.96   shares: Alex 100.48, Sam 100.48
  Groceries        paid by Sam          122.94   shares: Alex 61.47, Sam 61.47
  Rent             paid by Alex       2,125.53   shares: Alex 913.98, Sam 1,211.55
  Utilities        paid by Alex         118.54   shares: Alex 59.27, Sam 59.27
  Utilities        paid by Sam          149.10   shares: Alex 74.55, Sam 74.55

Settlements
  2026-07-02  Sam paid Alex 600.00

Closing balance (+ is owed)
  Alex            +4,376.19
  Sam             −4,376.19

To settle: Sam owes Alex $4,376.19
Not in these figures: 2 expense(s) for $87.85 still to review (answer them in Queue_Review, \
then balance run)
written: output/settlement_2026-07-31.xlsx
"""
# The two Joe's Pizza bills of May and July (42.75 + 45.10) wait for an answer.


def test_the_july_statement_adds_up(demo_copy):
    # Opening + Alex's half of what he paid − Sam's half of what she paid + Sam's rent share
    # − the Zelle payment = closing: 3,740.91 + 100.48 + 59.27 − 61.47 − 74.55 + 1,211.55 − 600.
    result = invoke("settle", "--workspace", str(demo_copy), "--as-of", "2026-07-31")

    assert result.exit_code == 0, result.output
    assert result.output == JULY_STATEMENT
    sheet = openpyxl.load_workbook(demo_copy / "output/settlement_2026-07-31.xlsx")["Statement"]
    assert sheet["B2"].value == "Sam owes Alex $4,376.19"
    balances = [[cell.value for cell in row] for row in sheet["A4:C6"]]
    assert balances == [["Member", "Opening balance", "Closing balance"],
                        ["Alex", 3740.91, 4376.19], ["Sam", -3740.91, -4376.19]]  # fmt: skip
    assert Decimal(str(sheet["C5"].value)) == Decimal("4376.19")


def test_the_latest_statement_matches_the_balance(demo_copy):
    result = invoke("settle", "--workspace", str(demo_copy))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Settlement statement 2026-09-01 to 2026-09-28"
    assert "To settle: Sam owes Alex $6,822.21" in result.output


def test_before_any_data_everyone_is_settled(demo_copy):
    result = invoke("settle", "--workspace", str(demo_copy), "--as-of", "2026-03-31")
    assert result.exit_code == 0, result.output
    assert "To settle: All settled up." in result.output
    assert "Shared spending\n  none\n" in result.output
