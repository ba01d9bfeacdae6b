"""A schema with several mistakes always reports the same one: the first in load_schema's order.

Users fix one error at a time and rerun; the error they see must not jump around between
sections when the loader is reorganised.
"""

from __future__ import annotations

import pytest
from test_schema_contract import GOOD_SCHEMA

from ingest.schemas import SchemaError, load_schema


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ("colums: {}\nstatic: {sharing: half}\n", "colums: unknown key"),
        ("  payee: Text\nfile: {encoding: ascii}\n", "columns.payee: unknown role"),
        ("file: {header: maybe, encoding: ascii}\n", "file.header: must be true or false"),
        ("file: {encoding: ascii}\nvalues: {decimal: ';'}\n",
         "file.encoding: one of cp1252, latin-1, utf-16, utf-8, utf-8-sig"),
        ("values: {decimal: ';'}\namount: {sign: flip}\n", "values.decimal: '.' or ','"),
        ("amount: {sign: flip}\npending: {column: Status}\n", "amount.sign: as_is or negate"),
        ("pending: {column: Status}\nskip_rows: {column: ID}\n",
         "pending: needs column and values"),
        ("skip_rows: {column: ID}\naggregator: yes please\n",
         "skip_rows: a list of {column: <name>, matches: <regex>}"),
        ("aggregator: yes please\nstatic: {sharing: half}\n",
         "aggregator: must be true or false"),
        # file.skip_lines' regexes are compiled after every other check.
        ("file: {skip_lines: ['(']}\nstatic: {sharing: half}\n",
         "static.sharing: one of ignore, personal, settlement, shared, split, transfer"),
    ],
    ids=[
        "unknown key first", "columns before file", "header before encoding", "file before values",
        "values before amount", "amount before pending", "pending before skip_rows",
        "skip_rows before aggregator", "aggregator before static", "skip_lines last",
    ],
)  # fmt: skip
def test_the_first_mistake_in_section_order_is_reported(tmp_path, extra, error):
    path = tmp_path / "credit_union.yaml"
    path.write_text(GOOD_SCHEMA + extra)

    with pytest.raises(SchemaError) as raised:
        load_schema(path, "rules/credit_union.yaml")

    assert str(raised.value) == f"rules/credit_union.yaml: {error}"


def test_a_file_without_header_names_every_column_by_position(tmp_path):
    path = tmp_path / "checking.yaml"
    path.write_text(
        "id: checking\nmatch: {filename: '^checking'}\nfile: {header: false}\n"
        "columns: {date: column_1, amount: column_2, description: column_5}\n"
        "pending: {column: Status, values: [Pending]}\n"
    )

    with pytest.raises(SchemaError) as raised:
        load_schema(path, "rules/checking.yaml")

    assert str(raised.value) == (
        "rules/checking.yaml: pending.column: a file without header names columns column_N"
    )


def test_a_single_value_written_without_brackets_is_a_list_of_one(tmp_path):
    path = tmp_path / "credit_union.yaml"
    path.write_text(
        GOOD_SCHEMA.replace("  amount: Value\n", "  amount: Value\n  direction: Type\n")
        + "amount: {direction: {out: DEBIT, in: Credit}}\n"
        + "pending: {column: Text, values: PENDING}\n"
    )

    schema = load_schema(path, "rules/credit_union.yaml")

    assert (schema.direction_out, schema.direction_in) == ({"debit"}, {"credit"})
    assert schema.pending_values == {"pending"}


def test_currency_texts_are_removed_longest_first_in_a_fixed_order(tmp_path):
    path = tmp_path / "credit_union.yaml"
    path.write_text(GOOD_SCHEMA + "values: {currency_text: [Fr., CHF, CH, kr, SFr.]}\n")

    schema = load_schema(path, "rules/credit_union.yaml")

    assert schema.currency_texts == ("SFr.", "CHF", "Fr.", "CH", "kr")
