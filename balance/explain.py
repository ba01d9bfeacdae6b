"""`balance explain TXN_ID`: why a transaction counts the way it does, cent by cent."""

from __future__ import annotations

from core.masking import mask_digit_runs
from core.money import dollars, signed_dollars

MERCHANT_SOURCES = {
    "household_lookup": "household/merchant_lookup.csv",
    "shipped_lookup": "the shipped merchant lookup",
    "file": "the file's merchant column",
    "cleaned_description": "cleaned from the description",
}


class UnknownTransaction(LookupError):
    pass


def resolve_txn_id(connection, prefix: str) -> str:
    """A full txn_id, or a prefix of at least 6 characters naming exactly one transaction."""
    matches = [
        row[0]
        for row in connection.execute(
            "select txn_id from marts.fct_transactions where starts_with(txn_id, ?) "
            "order by 1 limit 3",
            [prefix.strip()],
        ).fetchall()
    ]
    if len(matches) == 1 and (len(prefix.strip()) >= 6 or matches[0] == prefix.strip()):
        return matches[0]
    if len(matches) > 1:
        raise UnknownTransaction(f"{prefix!r} names several transactions ({', '.join(matches)}…)")
    # Journals and notes written by earlier versions name the txn_id a row had then.
    renamed = connection.execute(
        "select txn_id from marts.dim_legacy_txn_ids where legacy_txn_id = ?",
        [prefix.strip()],
    ).fetchall()
    if len(renamed) == 1:
        return renamed[0][0]
    raise UnknownTransaction(f"no transaction {prefix!r} (see the txn_id column of the workbook)")


def _row(connection, sql: str, parameters: list) -> dict | None:
    cursor = connection.execute(sql, parameters)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([column[0] for column in cursor.description], row, strict=True))


def explain_transaction(connection, prefix: str) -> str:
    txn_id = resolve_txn_id(connection, prefix)
    fact = _row(connection, "select * from marts.fct_transactions where txn_id = ?", [txn_id])
    names = dict(
        connection.execute("select member_id, display_name from marts.dim_members").fetchall()
    )
    payer = names.get(fact["payer_member_id"], fact["payer_member_id"])
    amount_text = f"amount {dollars(fact['amount_cents'])} (cost {dollars(-fact['amount_cents'])})"
    lines = [
        f"Transaction {txn_id}",
        f"  {fact['transaction_date']}  {fact['description']}  {amount_text}, "
        f"paid by {payer} from {fact['account_label']}",
        "Source",
        f"  file      {fact['file_path']}, line {fact['line_number']} "
        f"(schema {fact['schema_id']}, loaded {fact['loaded_at']:%Y-%m-%d %H:%M} UTC)",
        f"  raw line  {fact['raw_line']}",
    ]
    if fact["loaded_copies"] > 1:
        lines.append(
            f"  copies    {fact['loaded_copies']} overlapping downloads hold this row; "
            "it counts once"
        )
    lines += [
        "Rules and decisions",
        f"  merchant  {fact['merchant']} / {fact['category']} "
        f"({MERCHANT_SOURCES.get(fact['merchant_source'], fact['merchant_source'])})",
        f"  kind      {fact['kind']} (decided by {fact['decision_source']})",
    ]
    if fact["duplicate_of_txn_id"]:
        state = "suspected duplicate" if fact["is_suspected_duplicate"] else "duplicate"
        lines.append(
            f"  duplicate {state} of {fact['duplicate_of_txn_id']}: {fact['duplicate_reason']}"
        )
    if fact["refund_of_txn_id"]:
        purchase = _row(
            connection,
            "select transaction_date, description, amount_cents from marts.fct_transactions "
            "where txn_id = ?",
            [fact["refund_of_txn_id"]],
        )
        lines.append(
            f"  refund    of {fact['refund_of_txn_id']} ({purchase['transaction_date']}  "
            f"{purchase['description']}  cost {dollars(-purchase['amount_cents'])}): shared as "
            f"that purchase was, with the weights in force on {purchase['transaction_date']}"
        )
    if fact["reviewed_at"] is not None:
        note = f": {fact['review_note']}" if fact["review_note"] else ""
        lines.append(f"  review    decided {fact['reviewed_at']:%Y-%m-%d %H:%M} UTC{note}")
    lines += _sharing_lines(connection, fact, names)
    lines += _effect_lines(connection, fact, names)
    return mask_digit_runs("\n".join(lines))


def _sharing_lines(connection, fact: dict, names: dict) -> list[str]:
    if fact["kind"] != "expense":
        return []
    if fact["sharing_issue"]:
        return [f"  sharing   undecided: {fact['sharing_issue']}"]
    if fact["sharing"] == "pending":
        return ["  sharing   undecided: waits in Queue_Review (not in the balance yet)"]
    if fact["sharing"] == "personal":
        return [f"  sharing   personal: {names[fact['payer_member_id']]} bears all of it"]
    split = (
        f", payer bears {fact['payer_share_pct'].normalize():f} %"
        if fact["sharing"] == "split"
        else ""
    )
    weights = connection.execute(
        """
        select member_id, weight, policy_effective_from from marts.fct_policy_weights
        where txn_id = ? order by member_id
        """,
        [fact["txn_id"]],
    ).fetchall()
    weight_text = ", ".join(f"{names[m]} {w.normalize():f}" for m, w, _ in weights)
    shares = connection.execute(
        "select member_id, share_cents from marts.fct_shares where txn_id = ? order by member_id",
        [fact["txn_id"]],
    ).fetchall()
    share_text = ", ".join(f"{names[m]} {dollars(cents)}" for m, cents in shares)
    total = sum(cents for _, cents in shares)
    return [
        f"  sharing   {fact['sharing']}{split}",
        f"  policy    {fact['policy']} (weights in force since {weights[0][2]}: {weight_text})",
        f"  shares    {share_text} (sum {dollars(total)} = cost)",
    ]


def _effect_lines(connection, fact: dict, names: dict) -> list[str]:
    if fact["kind"] == "settlement":
        movements = connection.execute(
            """
            select from_member_id, amount_cents from marts.fct_settlements where settlement_id = ?
            union all
            select to_member_id, -amount_cents from marts.fct_settlements where settlement_id = ?
            order by 1
            """,
            [fact["settlement_id"]] * 2,
        ).fetchall()
    else:
        movements = connection.execute(
            "select member_id, balance_effect_cents from marts.fct_shares where txn_id = ? "
            "order by member_id",
            [fact["txn_id"]],
        ).fetchall()
    if not movements or fact["is_before_clean_slate"]:
        reason = {
            "duplicate": "a duplicate: its survivor counts instead",
            "transfer": "a transfer between the payer's own accounts",
            "income": "income",
            "ignored": "ignored",
        }.get(fact["kind"], "not decided yet" if fact["is_pending_review"] else "personal")
        if fact["is_before_clean_slate"]:
            reason = "dated before the clean-slate date of household/opening_balances.csv"
        return [f"Effect on the balance: none ({reason})"]
    effect = ", ".join(f"{names[m]} {signed_dollars(cents)}" for m, cents in movements)
    lines = [f"Effect on the balance: {effect} (positive = owed more)"]
    if fact["settlement_id"] and fact["settlement_id"] != fact["txn_id"]:
        lines.append(f"  counted once with its other leg {fact['settlement_id']}")
    return lines
