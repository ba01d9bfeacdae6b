"""`balance settle`: the month-end statement, printed and written as a dated workbook."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from core.files import replace_atomically
from core.masking import mask_digit_runs
from core.money import dollars, signed_dollars
from exports.spreadsheet import Spreadsheet

LAST_DAY_ON_OR_BEFORE = (
    "(select max(balance_date) from marts.fct_balances_daily where balance_date <= ?)"
)


@dataclass
class Statement:
    period_start: dt.date
    as_of: dt.date
    names: dict[str, str]  # member_id -> display name, in members.csv order
    opening: dict[str, int]
    closing: dict[str, int]
    spending: list[tuple]  # category, payer_member_id, cost_cents, then a share per member
    settlements: list[tuple]  # date, from_member_id, to_member_id, amount_cents
    transfers: list[tuple]  # from_member_id, to_member_id, amount_cents: the settle-up
    pending: tuple[int, int] = (0, 0)  # expenses up to as_of waiting for review: count, cents

    def name(self, member_id: str) -> str:
        return self.names.get(member_id, member_id)


def _balances_on(connection, day: dt.date, names: dict[str, str]) -> dict[str, int]:
    """Each member's running net at the end of `day` (the last day with data on or before it)."""
    rows = dict(connection.execute(
        "select member_id, net_cents from marts.fct_balances_daily "
        f"where balance_date = {LAST_DAY_ON_OR_BEFORE}",
        [day],
    ).fetchall())  # fmt: skip
    return {member: rows.get(member, 0) for member in names}


def read_statement(connection, as_of: dt.date | None = None) -> Statement:
    """The month of `as_of` (default: the latest day with data), up to and including it."""
    if as_of is None:
        latest = connection.execute("select max(balance_date) from marts.fct_balances_daily")
        as_of = latest.fetchone()[0] or dt.date.today()
    period_start = as_of.replace(day=1)
    names = dict(connection.execute(
        "select member_id, display_name from marts.dim_members order by member_order"
    ).fetchall())  # fmt: skip
    share_columns = ", ".join(
        f"sum(share_cents) filter (where member_id = '{member}')" for member in names
    )
    spending = connection.execute(
        f"""
        select fct_transactions.category, fct_transactions.payer_member_id,
            sum(fct_shares.cost_cents) filter (where fct_shares.is_payer), {share_columns}
        from marts.fct_shares
        inner join marts.fct_transactions using (txn_id)
        where fct_transactions.transaction_date between ? and ?
            and not fct_transactions.is_before_clean_slate
        group by all order by all
        """,
        [period_start, as_of],
    ).fetchall()
    settlements = connection.execute(
        "select settlement_date, from_member_id, to_member_id, amount_cents "
        "from marts.fct_settlements where settlement_date between ? and ? order by all",
        [period_start, as_of],
    ).fetchall()
    # Not in these figures until answered: said beside every total.
    pending = connection.execute(
        "select count(*), coalesce(sum(-amount_cents), 0) from marts.fct_transactions"
        " where is_pending_review and transaction_date <= ?",
        [as_of],
    ).fetchone()
    transfers = connection.execute(
        "select from_member_id, to_member_id, amount_cents from marts.rpt_settle_up_daily "
        f"where as_of_date = {LAST_DAY_ON_OR_BEFORE} order by transfer_order",
        [as_of],
    ).fetchall()
    return Statement(
        period_start=period_start,
        as_of=as_of,
        names=names,
        opening=_balances_on(connection, period_start - dt.timedelta(days=1), names),
        closing=_balances_on(connection, as_of, names),
        spending=[tuple(int(v or 0) if i >= 2 else v for i, v in enumerate(row))
                  for row in spending],
        settlements=settlements,
        transfers=transfers,
        pending=(int(pending[0]), int(pending[1])),
    )  # fmt: skip


def settle_up_text(statement: Statement) -> str:
    if not statement.transfers:
        return "All settled up."
    return "; ".join(
        f"{statement.name(payer)} owes {statement.name(payee)} ${dollars(cents)}"
        for payer, payee, cents in statement.transfers
    )


def format_statement(statement: Statement) -> str:
    members = list(statement.names)
    lines = [
        f"Settlement statement {statement.period_start} to {statement.as_of}",
        "",
        "Opening balance (+ is owed)",
        *(f"  {statement.name(m):<12} {signed_dollars(statement.opening[m]):>12}" for m in members),
        "",
        "Shared spending",
    ]
    if not statement.spending:
        lines.append("  none")
    for category, payer, cost, *shares in statement.spending:
        share_text = ", ".join(
            f"{statement.name(m)} {dollars(share)}"
            for m, share in zip(members, shares, strict=True)
        )
        lines.append(f"  {category:<16} paid by {statement.name(payer):<8} {dollars(cost):>10}"
                     f"   shares: {share_text}")  # fmt: skip
    lines += ["", "Settlements"]
    if not statement.settlements:
        lines.append("  none")
    for day, payer, payee, cents in statement.settlements:
        lines.append(f"  {day}  {statement.name(payer)} paid {statement.name(payee)} "
                     f"{dollars(cents)}")  # fmt: skip
    lines += [
        "",
        "Closing balance (+ is owed)",
        *(f"  {statement.name(m):<12} {signed_dollars(statement.closing[m]):>12}" for m in members),
        "",
        f"To settle: {settle_up_text(statement)}",
    ]
    if statement.pending[0]:
        count, cents = statement.pending
        lines.append(
            f"Not in these figures: {count} expense(s) for ${dollars(cents)} still to review"
            " (answer them in Queue_Review, then balance run)"
        )
    return mask_digit_runs("\n".join(lines))


def _amount(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def write_statement_workbook(statement: Statement, output: Path) -> Path:
    """output/settlement_<as-of>.xlsx, written atomically."""
    members = list(statement.names)
    target = output / f"settlement_{statement.as_of}.xlsx"

    def write(path: Path) -> None:
        book = xlsxwriter.Workbook(str(path))
        spreadsheet = Spreadsheet(book)
        sheet = book.add_worksheet("Statement")
        sheet.write_string(0, 0, f"Settlement statement {statement.period_start} to "
                                 f"{statement.as_of}", spreadsheet.title)  # fmt: skip
        spreadsheet.facts(sheet, 1, [("To settle", settle_up_text(statement))])
        row = spreadsheet.table(
            sheet, 3, ["Member", "Opening balance", "Closing balance"],
            [(statement.name(m), _amount(statement.opening[m]), _amount(statement.closing[m]))
             for m in members],
            "Balances",
        )  # fmt: skip
        row = spreadsheet.table(
            sheet, row + 1, ["Category", "Paid by", "Cost", *(f"{statement.name(m)} share"
                                                            for m in members)],
            [(category, statement.name(payer), _amount(cost), *map(_amount, shares))
             for category, payer, cost, *shares in statement.spending],
            "SharedSpending",
        )  # fmt: skip
        spreadsheet.table(
            sheet, row + 1, ["Date", "From", "To", "Amount"],
            [(day, statement.name(payer), statement.name(payee), _amount(cents))
             for day, payer, payee, cents in statement.settlements],
            "Settlements",
        )  # fmt: skip
        spreadsheet.close()

    return replace_atomically(target, write)
