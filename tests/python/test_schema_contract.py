"""A malformed schema is an error naming its file and key; nothing is loaded meanwhile."""

from __future__ import annotations

import pytest

from support import invoke, make_workspace, put_in_inbox, query

GOOD_SCHEMA = """\
id: credit_union_checking
match:
  headers: [Booked, Text, Value]
columns:
  date: Booked
  description: Text
  amount: Value
"""


@pytest.mark.parametrize(
    ("schema_text", "error"),
    [
        (GOOD_SCHEMA + "colums: {}\n", "colums: unknown key"),
        (GOOD_SCHEMA.replace("  amount: Value\n", ""),
         "columns.amount: missing role (or debit + credit)"),
        (GOOD_SCHEMA.replace("  date: Booked\n", ""), "columns.date: missing role"),
        (GOOD_SCHEMA + "  debit: Out\n  credit: In\n",
         "columns.amount: use either amount or debit + credit, not both"),
        (GOOD_SCHEMA + "  payee: Text\n", "columns.payee: unknown role"),
        (GOOD_SCHEMA + "file:\n  skip_lines: ['(unclosed']\n",
         "file.skip_lines: invalid regex (missing ), unterminated subpattern at position 0)"),
        (GOOD_SCHEMA + "values:\n  date_format: '%Y-%Q-%d'\n",
         "values.date_format: invalid date format '%Y-%Q-%d'"),
        (GOOD_SCHEMA + "values:\n  date_format: 'YYYY-MM-DD'\n",
         "values.date_format: invalid date format 'YYYY-MM-DD'"),
        (GOOD_SCHEMA + "amount:\n  sign: flip\n", "amount.sign: as_is or negate"),
        (GOOD_SCHEMA.replace("id: credit_union_checking", "id: Credit Union"),
         "id: required, snake_case"),
        (GOOD_SCHEMA + "file:\n  header: false\n",
         "match.filename: required when file.header is false"),
        ("id: [unclosed\n",
         "not valid YAML at line 2 (expected ',' or ']', but got '<stream end>')"),
    ],
    ids=[
        "unknown key", "missing amount", "missing date", "amount and debit", "unknown role",
        "invalid regex", "bad directive", "not a format", "bad sign", "bad id", "no filename",
        "yaml syntax",
    ],
)  # fmt: skip
def test_a_malformed_schema_names_its_file_and_key(tmp_path, schema_text, error):
    workspace = make_workspace(tmp_path)
    (workspace / "rules").mkdir()
    (workspace / "rules/credit_union.yaml").write_text(schema_text)
    put_in_inbox(workspace, "alex", "statement.csv", b"Booked,Text,Value\n2026-01-02,Cafe,-4.50\n")

    result = invoke("ingest", "--workspace", str(workspace))

    assert result.exit_code == 1
    assert result.output == f"balance: rules/credit_union.yaml: {error}\n"
    assert (workspace / "csv_inbox/alex/statement.csv").exists()
    assert not (workspace / "warehouse/balance.duckdb").exists()


def test_the_same_schema_without_the_mistake_loads(tmp_path):
    workspace = make_workspace(tmp_path)
    (workspace / "rules").mkdir()
    (workspace / "rules/credit_union.yaml").write_text(GOOD_SCHEMA)
    put_in_inbox(workspace, "alex", "statement.csv", b"Booked,Text,Value\n2026-01-02,Cafe,-4.50\n")

    result = invoke("ingest", "--workspace", str(workspace))

    assert result.exit_code == 0, result.output
    assert query(
        workspace, "select schema_id, transaction_date::varchar, amount_cents from raw.transactions"
    ) == [("credit_union_checking", "2026-01-02", -450)]
