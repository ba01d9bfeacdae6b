"""`balance explain`: every rule and decision, and every cent a transaction contributes."""

from __future__ import annotations

import re
from decimal import Decimal

from support import invoke, net_cents, query

SPLIT_PIZZA = "d1b8ca66df5de519"  # June's pizza, split by a review decision (S 30)


def explain(workspace, txn_id: str) -> str:
    result = invoke("explain", "--workspace", str(workspace), txn_id)
    assert result.exit_code == 0, result.output
    return result.output


def test_explain_shows_lineage_rules_shares_and_effect(built_demo):
    text = explain(built_demo, SPLIT_PIZZA[:8])
    lines = text.splitlines()
    assert lines[0] == f"Transaction {SPLIT_PIZZA}"
    assert lines[1] == (
        "  2026-06-12  SQ *JOES PIZZA  amount −36.20 (cost 36.20), paid by Alex "
        "from Capital One Savor …2463"
    )
    assert lines[3].startswith(
        "  file      csv_inbox/alex/capital_one_savor_2026-04_2026-09.csv, "
        "line 14 (schema capital_one_card, loaded "
    )
    assert lines[4] == "  raw line  2026-06-12,2026-06-13,2463,SQ *JOES PIZZA,Dining,36.20,"
    assert lines[5:] == [
        "Rules and decisions",
        "  merchant  Joe's Pizza / Restaurants (household/merchant_lookup.csv)",
        "  kind      expense (decided by review)",
        "  review    decided 2026-10-02 19:31 UTC: Alex had friends over; Sam covers 70 %",
        "  sharing   split, payer bears 30 %",
        "  policy    default (weights in force since 1900-01-01: Alex 1, Sam 1)",
        "  shares    Alex 10.86, Sam 25.34 (sum 36.20 = cost)",
        "Effect on the balance: Alex +25.34, Sam −25.34 (positive = owed more)",
    ]


def test_the_effects_of_all_transactions_add_up_to_the_balance(built_demo):
    """Explaining every demo transaction accounts for every cent of the final balance."""
    totals = {"Alex": 0, "Sam": 0}
    for (txn_id,) in query(built_demo, "select txn_id from marts.fct_transactions"):
        text = explain(built_demo, txn_id)
        if "counted once with its other leg" in text:
            continue
        effect = re.search(r"^Effect on the balance: (.*)$", text, re.MULTILINE).group(1)
        for name, amount in re.findall(r"(Alex|Sam) ([+−]?[\d,]+\.\d\d)", effect):
            cents = int(Decimal(amount.replace("−", "-").replace(",", "")) * 100)
            totals[name] += cents
    assert totals == {"Alex": net_cents(built_demo)["alex"], "Sam": net_cents(built_demo)["sam"]}
    assert totals == {"Alex": 682221, "Sam": -682221}


def test_an_unknown_transaction_is_a_one_line_error(built_demo):
    result = invoke("explain", "--workspace", str(built_demo), "nope")
    assert result.exit_code == 1
    assert result.output == (
        "balance: no transaction 'nope' (see the txn_id column of the workbook)\n"
    )


def test_explain_finds_a_transaction_by_the_txn_id_an_earlier_version_gave_it(built_demo):
    # The June pizza's txn_id before account identity joined it, as older journals name it.
    text = explain(built_demo, "60dc3dc0e4b32687")
    assert text.splitlines()[0] == f"Transaction {SPLIT_PIZZA}"
