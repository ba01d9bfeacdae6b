"""Both ingest paths give every row the same ids, from their one definition in ingest.parse.

The careful path computes a row's txn_id, legacy_txn_id and occurrence index in Python, the
vectorised path in SQL, both from ingest.parse's identity formulas (docs/rules.md#identity).
Generated clean exports, in shipped layouts, must load the very same rows on both paths; and
each normalisation must give the same text in Python and in DuckDB.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_ingest_fast_path import FIXED_NOW, inbox_files, ingest_both_ways, workspace_path

from ingest import parse

from support import make_workspace, put_in_inbox

# Dates any layout reads as they are meant: after the earliest date a transaction may have,
# and not after the (fixed) day of the run.
FIRST_DATE = dt.date(2019, 1, 1)
LAST_DATE = FIXED_NOW.date()
# Few values, so that rows repeat each other's facts and their occurrence indexes count.
DESCRIPTIONS = [
    "CAFE",
    "Cafe",
    "CAFE, THE BEST",
    'SAY "HI"',
    "  PADDED  ",
    "\tTABBED",
    "RENT  MAY",
    "Café Déjà Vu",
    "",
]
# Texts of one account written several ways (one account identity, but numbered apart under the
# legacy_txn_id, which counts by account text), two accounts ending in the same digits, and none.
MONARCH_ACCOUNTS = [
    "CapitalOne Savor (...2463)",
    "capitalone  savor (...2463)",
    "CAPITALONE SAVOR (...2463) ",
    "WF Everyday Checking (...2463)",
    "Joint Savings",
    "joint savings",
    "",
]
CARD_NUMBERS = ["2463", "1234", "", "x1234"]
REFERENCES = ["", "1043", "1044"]

examples = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def cents_text(cents: int, grouped: bool = False) -> str:
    """Cents as the shipped schemas read them: "-1234.56", or "1,234.56" grouped."""
    whole, part = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    return f"{sign}{whole:,}.{part:02}" if grouped else f"{sign}{whole}.{part:02}"


def csv_text(header: list[str], rows: list[list[str]], quote_all: bool, extra_field: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(
        out, lineterminator="\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    )
    writer.writerow(header)
    for row in rows:
        writer.writerow([*row, ""] if extra_field else row)
    return out.getvalue()


@st.composite
def facts(draw, accounts: list[str], references: list[str]):
    """Rows' facts, (date, cents, description, account, reference), each drawn from a few
    values of the file's own, so that rows repeat each other and their occurrence indexes count
    (and one account written two ways, or two accounts ending alike, meet in a file)."""

    def few(values):
        return st.lists(values, min_size=1, max_size=3, unique=True).map(st.sampled_from)

    row = st.tuples(
        draw(few(st.dates(FIRST_DATE, LAST_DATE))),
        draw(few(st.integers(-300_000, 300_000) | st.sampled_from([0, 450, -450]))),
        draw(few(st.sampled_from(DESCRIPTIONS))),
        draw(few(st.sampled_from(accounts))),
        draw(few(st.sampled_from(references))),
    )
    return draw(st.lists(row, min_size=1, max_size=16))


@st.composite
def monarch_money(draw):
    """Signed amounts, an account column, either of the schema's date formats."""
    rows = []
    for date, cents, description, account, _ in draw(facts(MONARCH_ACCOUNTS, [""])):
        written = date.isoformat() if draw(st.booleans()) else f"{date:%m}/{date:%d}/{date:%Y}"
        amount = cents_text(cents, grouped=draw(st.booleans()))
        rows.append([written, "Merchant", "Category", account, description, "", amount, ""])
    header = ["Date", "Merchant", "Category", "Account", "Original Statement", "Notes"]
    header += ["Amount", "Tags"]
    return "monarch.csv", csv_text(header, rows, draw(st.booleans()), False), len(rows)


@st.composite
def capital_one_card(draw):
    """Unsigned debit and credit columns, a card number column and posted dates."""
    rows = []
    for date, cents, description, card, _ in draw(facts(CARD_NUMBERS, [""])):
        posted = min(date + dt.timedelta(days=draw(st.integers(0, 3))), LAST_DATE)
        amount = cents_text(abs(cents), grouped=draw(st.booleans()))
        debit, credit = (amount, "") if cents <= 0 else ("", amount)
        rows.append([date.isoformat(), posted.isoformat(), card, description, "Dining"])
        rows[-1] += [debit, credit]
    header = ["Transaction Date", "Posted Date", "Card No.", "Description", "Category"]
    header += ["Debit", "Credit"]
    return "capital_one.csv", csv_text(header, rows, draw(st.booleans()), False), len(rows)


@st.composite
def chase_checking(draw):
    """Signed amounts with a reference (check number) and a balance; one more, empty, field on
    every row than the header names."""
    rows = []
    for date, cents, description, _, reference in draw(facts([""], REFERENCES)):
        balance = cents_text(draw(st.integers(-100_000, 1_000_000)))
        rows.append(["DEBIT", f"{date:%m/%d/%Y}", description, cents_text(cents), "ACH"])
        rows[-1] += [balance, reference]
    header = ["Details", "Posting Date", "Description", "Amount", "Type", "Balance"]
    header += ["Check or Slip #"]
    return "chase_checking.csv", csv_text(header, rows, False, True), len(rows)


@st.composite
def citi_card(draw):
    """Debit and credit columns, a credit sometimes written negative; pending rows are skipped
    before rows are numbered."""
    rows, loaded = [], 0
    for date, cents, description, _, _ in draw(facts([""], [""])):
        amount = cents_text(abs(cents))
        if cents > 0 and draw(st.booleans()):
            amount = "-" + amount
        debit, credit = (amount, "") if cents <= 0 else ("", amount)
        status = draw(st.sampled_from(["Cleared", "Cleared", "Pending"]))
        loaded += status == "Cleared"
        rows.append([status, f"{date:%m/%d/%Y}", description, debit, credit])
    header = ["Status", "Date", "Description", "Debit", "Credit"]
    return "citi.csv", csv_text(header, rows, draw(st.booleans()), False), loaded


@st.composite
def us_bank(draw):
    """A direction column (DEBIT or CREDIT) gives the sign; every field quoted."""
    rows = []
    for date, cents, description, _, _ in draw(facts([""], [""])):
        direction = "DEBIT" if cents < 0 else "CREDIT"
        amount = cents_text(cents if draw(st.booleans()) else abs(cents))
        rows.append([date.isoformat(), direction, description, "Download", amount])
    header = ["Date", "Transaction", "Name", "Memo", "Amount"]
    return "us_bank.csv", csv_text(header, rows, True, False), len(rows)


LAYOUTS = [monarch_money(), capital_one_card(), chase_checking(), citi_card(), us_bank()]
# Files of equal content would load once: each is unique.
exports = st.lists(
    st.tuples(st.sampled_from(["alex", "sam"]), st.one_of(LAYOUTS)),
    min_size=1,
    max_size=5,
    unique_by=lambda file: file[1][1],
)


# Always tried: one account written three ways, so that a row repeats another under the
# txn_id (one account identity) but not under the legacy_txn_id (counted by account text).
MONARCH_HEADER = "Date,Merchant,Category,Account,Original Statement,Notes,Amount,Tags\n"
ONE_ACCOUNT_THREE_WAYS = MONARCH_HEADER + "".join(
    f"2026-03-04,Cafe,Coffee,{account},CAFE,,-4.50,\n"
    for account in [*MONARCH_ACCOUNTS[:3], MONARCH_ACCOUNTS[0], "", ""]
)


@examples
@given(exports)
@example([("sam", ("monarch.csv", ONE_ACCOUNT_THREE_WAYS, 6))])
def test_generated_clean_exports_load_the_same_rows_and_ids_on_both_paths(files):
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as monkeypatch:
        root = Path(folder)
        workspace = make_workspace(root / "generated")
        expected_rows = 0
        for number, (member, (name, text, rows)) in enumerate(files):
            put_in_inbox(workspace, member, f"{number}_{name}", text.encode())
            expected_rows += rows

        every_file = [workspace_path(workspace, path) for path in inbox_files(workspace)]

        outcome = ingest_both_ways(workspace, root, monkeypatch)

    careful, fast = outcome["careful"], outcome["fast"]
    assert f"{len(files)} loaded, 0 rejected" in careful[1], careful[1]
    assert len(careful[0]["transactions"]) == expected_rows
    # Every column of every row: txn_id, legacy_txn_id and occurrence_index among them.
    assert fast[0]["transactions"] == careful[0]["transactions"]
    assert fast[0] == careful[0]
    assert fast[1] == careful[1]
    # The vectorised path read every file itself: none was left to the careful path.
    assert outcome["vouched"] == every_file


def test_the_whitespace_sql_strips_is_what_python_strips():
    python = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert python == parse.PYTHON_WHITESPACE


texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
identity_values = st.builds(
    parse.IdentityInputs,
    schema_id=texts,
    inbox_member=st.none() | texts,
    account_text=texts | st.sampled_from(MONARCH_ACCOUNTS),
    date=st.dates(),
    amount_cents=st.integers(-(2**63) + 1, 2**63 - 1),
    description=texts | st.sampled_from(DESCRIPTIONS),
    reference=texts,
)


SCRATCH_DUCKDB = duckdb.connect()
INPUT_TYPES = ["varchar", "varchar", "varchar", "date", "bigint", "varchar", "varchar"]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(identity_values, st.integers(0, 2**31))
def test_each_fact_and_each_id_is_the_same_text_in_python_and_sql(inputs, occurrence):
    """Built in SQL as the vectorised path builds them: input columns, looked-up texts joined,
    computed facts, then each fact's text and each id."""
    fields = parse.IdentityInputs._fields
    columns = {name: f"input_{name}" for name in fields}
    typed = zip(fields, INPUT_TYPES, strict=True)
    looked_up = parse.looked_up_texts(inputs.schema_id, inputs.inbox_member, inputs.account_text)
    values = [
        *(f"?::{sql_type} as input_{name}" for name, sql_type in typed),
        *(f"?::varchar as {fact.column}" for fact in parse.LOOKED_UP_FACTS),
    ]
    with_facts = parse.fact_columns(columns)
    ids = (parse.formula_id_sql(f, with_facts, str(occurrence)) for f in parse.ID_FORMULAS)
    row = SCRATCH_DUCKDB.execute(
        f"""
        with inputs as (select {", ".join(values)}),
        identity_facts as (select *, {parse.computed_facts_sql(columns)} from inputs)
        select
            {", ".join(fact.sql(with_facts) for fact in parse.IDENTITY_FACTS)},
            {", ".join(ids)}
        from identity_facts
        """,
        [*inputs, *looked_up],
    ).fetchone()

    texts = parse.fact_texts(inputs)
    assert row == (
        *texts,
        *(parse.formula_id(formula, texts, occurrence) for formula in parse.ID_FORMULAS),
    )
